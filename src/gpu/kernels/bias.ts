// Bias add (forward) and bias gradient (column sums, backward): see shaders/bias.wgsl.
import source from '../../../shaders/bias.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';

/** A matrix that may be a column block of a bigger buffer: element (r, c) at offset + r * ld + c. */
export interface MatrixBlock {
  buffer: GPUBuffer;
  /** Elements; default 0. */
  offset?: number;
  /** Row stride in elements (>= cols). */
  ld: number;
}

/** A vector at an element offset of a buffer. */
export interface VectorBlock {
  buffer: GPUBuffer;
  /** Elements; default 0. */
  offset?: number;
}

export interface BiasAddArgs {
  label: string;
  /** [rows, cols] updated in place: y[r, c] += bias[c]. */
  y: MatrixBlock;
  /** [cols]. */
  bias: VectorBlock;
  rows: number;
  cols: number;
}

export interface BiasGradArgs {
  label: string;
  /** [rows, cols]. */
  dy: MatrixBlock;
  rows: number;
  cols: number;
  /** [cols] out: sum over rows of dy. */
  db: VectorBlock;
  /** Add to db instead of overwriting it (default false). */
  accumulate?: boolean;
}

/** The shader's workgroup overrides: `add` runs WG invocations of PER_THREAD elements, `grad` TX x (WG / TX). */
const WORKGROUP = { WG: 256, PER_THREAD: 4 } as const;
const ADD_ELEMENTS_PER_WORKGROUP = WORKGROUP.WG * WORKGROUP.PER_THREAD;
/** Column-block widths of `grad` (the override TX). */
const GRAD_WIDTHS = [1, 2, 4, 8, 16, 32, 64] as const;

export const BIAS_PARAMS = wgslStruct('bias.wgsl', 'Params', {
  rows: 'u32',
  cols: 'u32',
  matOffset: 'u32',
  ld: 'u32',
  vecOffset: 'u32',
  accumulate: 'u32',
});

/**
 * Columns per `grad` workgroup: no wider than the layer (narrow layers would idle lanes), and narrower
 * than 64 while that leaves fewer than 256 workgroups, down to 16 (64-byte coalesced rows), so that a
 * few-hundred-wide layer still spreads its rows over many lanes and workgroups.
 */
export function biasGradColumnsPerWorkgroup(cols: number): number {
  let tx = 64;
  while (tx > 1 && tx / 2 >= cols) tx /= 2;
  while (tx > 16 && Math.ceil(cols / tx) < 256) tx /= 2;
  return tx;
}

export class BiasKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly addPipeline: GPUComputePipeline,
    private readonly gradPipelines: ReadonlyMap<number, GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<BiasKernel> {
    const spec = { family: 'Bias', source };
    const [add, ...grads] = await Promise.all([
      computePipeline(gpu.device, { ...spec, entryPoint: 'add', constants: WORKGROUP }),
      ...GRAD_WIDTHS.map((tx) => computePipeline(gpu.device, { ...spec, entryPoint: 'grad', constants: { ...WORKGROUP, TX: tx } })),
    ]);
    const gradPipelines = new Map(GRAD_WIDTHS.map((tx, i) => [tx as number, grads[i]]));
    return new BiasKernel(gpu.device, add, gradPipelines, options.maxWorkgroupsPerDimension);
  }

  /** y[r, c] += bias[c] for r < rows, c < cols. */
  prepareAdd(a: BiasAddArgs): Dispatch {
    checkShape(a.label, a.rows, a.cols, a.y.ld, a.y.offset ?? 0);
    const params = this.params(a.label, a.rows, a.cols, a.y, a.bias, false);
    return prepareDispatch(this.device, {
      label: a.label,
      pipeline: this.addPipeline,
      buffers: [params, a.y.buffer, a.bias.buffer],
      workgroups: Math.ceil((a.rows * a.cols) / ADD_ELEMENTS_PER_WORKGROUP),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  /** db[c] = sum_r dy[r, c] (or db[c] += ... with accumulate). */
  prepareGrad(a: BiasGradArgs): Dispatch {
    checkShape(a.label, a.rows, a.cols, a.dy.ld, a.dy.offset ?? 0);
    const tx = biasGradColumnsPerWorkgroup(a.cols);
    const params = this.params(a.label, a.rows, a.cols, a.dy, a.db, a.accumulate ?? false);
    return prepareDispatch(this.device, {
      label: a.label,
      pipeline: this.gradPipelines.get(tx)!,
      buffers: [params, null, null, a.dy.buffer, a.db.buffer],
      workgroups: Math.ceil(a.cols / tx),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  private params(label: string, rows: number, cols: number, m: MatrixBlock, v: VectorBlock, accumulate: boolean): GPUBuffer {
    return createUniform(this.device, `${label}.params`, BIAS_PARAMS, {
      rows,
      cols,
      matOffset: m.offset ?? 0,
      ld: m.ld,
      vecOffset: v.offset ?? 0,
      accumulate: accumulate ? 1 : 0,
    });
  }
}

function checkShape(label: string, rows: number, cols: number, ld: number, offset: number): void {
  if (!(Number.isInteger(rows) && Number.isInteger(cols) && rows >= 0 && cols >= 1)) {
    throw new RangeError(`${label}: bad shape ${rows} x ${cols}`);
  }
  if (ld < cols) throw new RangeError(`${label}: ld ${ld} < cols ${cols}`);
  // Element indices are u32 in the shader.
  if (rows * cols > 0xffffffff - ADD_ELEMENTS_PER_WORKGROUP || offset + rows * ld > 0xffffffff) {
    throw new RangeError(`${label}: ${rows} x ${ld} elements overflow 32-bit indexing`);
  }
}
