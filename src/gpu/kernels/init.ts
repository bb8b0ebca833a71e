// Parameter initialisation on the GPU (shaders/init.wgsl) from the Philox stream the caller keys with
// rngKey(seed, 'initWeights' | 'initBias', layer). The RNG index of an element is its global position,
// so initialising a matrix block by block (column shards, row ranges) gives the same numbers as one pass.
import source from '../../../shaders/init.wgsl?raw';
import { initDraw, type InitScheme } from '../../spec/init-schemes.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';

/** The shader's workgroup override: invocations per workgroup. */
const WORKGROUP = { WG: 256 } as const;
const U32_MAX = 0xffffffff;
const DISTRIBUTION = { uniform: 0, normal: 1, constant: 2 } as const;

export const INIT_PARAMS = wgslStruct('init.wgsl', 'InitParams', {
  rows: 'u32',
  cols: 'u32',
  globalCols: 'u32',
  rowOffset: 'u32',
  colOffset: 'u32',
  offset: 'u32',
  ld: 'u32',
  key0: 'u32',
  key1: 'u32',
  kind: 'u32',
  scale: 'f32',
  value: 'f32',
});

export interface InitArgs {
  label: string;
  scheme: InitScheme;
  key: readonly [number, number];
  /** Inputs of the layer (rows of W): He and Xavier read it. */
  fanIn: number;
  /** Outputs of the layer (columns of W): Xavier reads it. */
  fanOut: number;
  /** The block written: element (r, c) at offset + r * ld + c. */
  target: { buffer: GPUBuffer; offset?: number; ld: number };
  rows: number;
  cols: number;
  /** Columns of the whole matrix. */
  globalCols: number;
  /** Position of this block in the whole matrix. */
  rowOffset?: number;
  colOffset?: number;
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

export class InitKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<InitKernel> {
    const pipeline = await computePipeline(gpu.device, { family: 'Init', source, entryPoint: 'init', usesInitDraw: true, constants: WORKGROUP });
    return new InitKernel(gpu.device, pipeline, options.maxWorkgroupsPerDimension);
  }

  prepare(args: InitArgs): Dispatch {
    const { label, rows, cols, globalCols, rowOffset = 0, colOffset = 0, target } = args;
    const offset = target.offset ?? 0;
    for (const [name, v] of Object.entries({ rows, cols, globalCols, rowOffset, colOffset, offset, ld: target.ld })) checkU32(`${label}: ${name}`, v);
    checkU32(`${label}: key[0]`, args.key[0]);
    checkU32(`${label}: key[1]`, args.key[1]);
    if (colOffset + cols > globalCols) throw new RangeError(`${label}: colOffset + cols = ${colOffset + cols} exceeds globalCols = ${globalCols}`);
    if (target.ld < cols) throw new RangeError(`${label}: target.ld = ${target.ld} is less than cols = ${cols}`);
    // The RNG index is a u32: a matrix beyond 2^32 elements would repeat numbers.
    if ((rowOffset + rows) * globalCols > U32_MAX + 1) throw new RangeError(`${label}: matrix of ${rowOffset + rows} x ${globalCols} exceeds 2^32 elements`);
    if (rows * cols > U32_MAX) throw new RangeError(`${label}: block of ${rows} x ${cols} is too large for one dispatch`);
    const needed = rows === 0 || cols === 0 ? 0 : offset + (rows - 1) * target.ld + cols;
    if (needed * 4 > target.buffer.size) throw new RangeError(`${label}: target needs ${needed} elements but its buffer holds ${target.buffer.size / 4}`);
    let draw;
    try {
      draw = initDraw(args.scheme, args.fanIn, args.fanOut);
    } catch (error) {
      throw new RangeError(`${label}: ${(error as Error).message}`);
    }
    const params = createUniform(this.device, `${label}.params`, INIT_PARAMS, {
      rows,
      cols,
      globalCols,
      rowOffset,
      colOffset,
      offset,
      ld: target.ld,
      key0: args.key[0],
      key1: args.key[1],
      kind: DISTRIBUTION[draw.distribution],
      scale: draw.distribution === 'constant' ? 0 : draw.scale,
      value: draw.distribution === 'constant' ? draw.scale : 0,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipeline,
      buffers: [params, target.buffer],
      workgroups: Math.ceil((rows * cols) / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
