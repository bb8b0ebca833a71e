// Batched forward pass and dead verdict for born-dead trials: see shaders/borndead.wgsl.
// The weights and probe inputs come from the init kernel (one dispatch per trial and layer, each with the
// trial's own Philox key), the activations from the activation kernel; this kernel does the rest.
import source from '../../../shaders/borndead.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';

const WORKGROUP_SIZE = 64;
const U32_MAX = 0xffffffff;

export interface BornDeadShape {
  trials: number;
  rows: number;
  fanIn: number;
  fanOut: number;
  /** Elements between consecutive trials' slices (at least rows * fanIn, fanIn * fanOut, rows * fanOut). */
  xStride: number;
  wStride: number;
  preStride: number;
}

export interface BornDeadForwardArgs extends BornDeadShape {
  label: string;
  /** [trials, rows, fanIn] inputs of the layer. */
  x: GPUBuffer;
  /** [trials, fanIn, fanOut] weights. */
  w: GPUBuffer;
  /** Out: [trials, rows, fanOut] pre-activations. */
  pre: GPUBuffer;
  bias: number;
}

export interface BornDeadVerdictArgs extends Omit<BornDeadShape, 'fanIn' | 'xStride' | 'wStride'> {
  label: string;
  /** [trials, rows, fanOut] pre-activations of the last hidden layer. */
  pre: GPUBuffer;
  /** Out: [trials] u32 count of positive pre-activations (0 = dead). */
  alive: GPUBuffer;
  /** Out: [trials] f32 largest pre-activation. */
  maxPre: GPUBuffer;
}

function checkU32(label: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new RangeError(`${label}: ${name} must be a u32, got ${v}`);
}

function checkFits(label: string, name: string, buffer: GPUBuffer, elements: number): void {
  if (elements * 4 > buffer.size) throw new RangeError(`${label}: ${name} needs ${elements} elements but its buffer holds ${buffer.size / 4}`);
}

export class BornDeadKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly forward: GPUComputePipeline,
    private readonly verdict: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<BornDeadKernel> {
    const [forward, verdict] = await Promise.all([
      computePipeline(gpu.device, { family: 'BornDead', source, entryPoint: 'forward' }),
      computePipeline(gpu.device, { family: 'BornDead', source, entryPoint: 'verdict' }),
    ]);
    return new BornDeadKernel(gpu.device, forward, verdict, options.maxWorkgroupsPerDimension);
  }

  private params(label: string, s: BornDeadShape, bias: number): GPUBuffer {
    for (const [name, v] of Object.entries(s)) checkU32(label, name, v);
    if (s.trials * s.rows * s.fanOut > U32_MAX) throw new RangeError(`${label}: ${s.trials} x ${s.rows} x ${s.fanOut} outputs exceed 2^32`);
    return createUniform(this.device, `${label}.params`, [
      ['u32', s.trials],
      ['u32', s.rows],
      ['u32', s.fanIn],
      ['u32', s.fanOut],
      ['u32', s.xStride],
      ['u32', s.wStride],
      ['u32', s.preStride],
      ['f32', bias],
    ]);
  }

  /** pre = x @ w + bias for every trial. */
  prepareForward(args: BornDeadForwardArgs): Dispatch {
    const { label, trials, rows, fanIn, fanOut, xStride, wStride, preStride } = args;
    if (xStride < rows * fanIn || wStride < fanIn * fanOut || preStride < rows * fanOut) throw new RangeError(`${label}: a stride is smaller than its trial's slice`);
    if (!Number.isFinite(args.bias)) throw new RangeError(`${label}: bias ${args.bias} is not finite`);
    if (trials > 0) {
      checkFits(label, 'x', args.x, (trials - 1) * xStride + rows * fanIn);
      checkFits(label, 'w', args.w, (trials - 1) * wStride + fanIn * fanOut);
      checkFits(label, 'pre', args.pre, (trials - 1) * preStride + rows * fanOut);
    }
    const params = this.params(label, { trials, rows, fanIn, fanOut, xStride, wStride, preStride }, args.bias);
    return prepareDispatch(this.device, {
      label,
      pipeline: this.forward,
      buffers: [params, args.x, args.w, args.pre],
      workgroups: Math.ceil((trials * rows * fanOut) / WORKGROUP_SIZE),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  /** alive[t] and maxPre[t] from the last hidden layer's pre-activations. */
  prepareVerdict(args: BornDeadVerdictArgs): Dispatch {
    const { label, trials, rows, fanOut, preStride } = args;
    if (preStride < rows * fanOut) throw new RangeError(`${label}: preStride ${preStride} is smaller than rows * fanOut = ${rows * fanOut}`);
    if (trials > 0) {
      checkFits(label, 'pre', args.pre, (trials - 1) * preStride + rows * fanOut);
      checkFits(label, 'alive', args.alive, trials);
      checkFits(label, 'maxPre', args.maxPre, trials);
    }
    const params = this.params(label, { trials, rows, fanIn: 0, fanOut, xStride: 0, wStride: 0, preStride }, 0);
    return prepareDispatch(this.device, {
      label,
      pipeline: this.verdict,
      buffers: [params, null, null, args.pre, args.alive, args.maxPre],
      workgroups: Math.ceil(trials / WORKGROUP_SIZE),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
