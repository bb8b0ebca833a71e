// Born-dead trials on the GPU (shaders/borndead.wgsl): batched init (one dispatch draws a matrix for every trial,
// each from its own seed), batched forward pass and dead verdict. The activations come from the activation kernel.
import source from '../../../shaders/borndead.wgsl?raw';
import { initDraw, type InitScheme } from '../../spec/init-schemes';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';

/** The shader's workgroup override: invocations per workgroup of every entry point. */
const WORKGROUP = { WG: 64 } as const;
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

export interface BornDeadInitArgs {
  label: string;
  scheme: InitScheme;
  /** He / Xavier read these. */
  fanIn: number;
  fanOut: number;
  trials: number;
  /** Seed of trial 0 (trial t uses seed + t mod 2^32) and the stream word: rngKey(seed, purpose, layer) = [seed, stream]. */
  key: readonly [number, number];
  /** Elements per trial: a dense [rows, cols] matrix, element i drawing RNG index i. */
  count: number;
  /** Out: trial t's matrix at t * stride. */
  target: { buffer: GPUBuffer; stride: number };
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

export const BORNDEAD_PARAMS = wgslStruct('borndead.wgsl', 'Params', {
  trials: 'u32',
  rows: 'u32',
  fanIn: 'u32',
  fanOut: 'u32',
  xStride: 'u32',
  wStride: 'u32',
  preStride: 'u32',
  bias: 'f32',
});

export const BORNDEAD_INIT_PARAMS = wgslStruct('borndead.wgsl', 'InitTrialsParams', {
  trials: 'u32',
  count: 'u32',
  stride: 'u32',
  key0: 'u32',
  key1: 'u32',
  kind: 'u32',
  scale: 'f32',
});

function checkU32(label: string, name: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > U32_MAX) throw new RangeError(`${label}: ${name} must be a u32, got ${v}`);
}

function checkFits(label: string, name: string, buffer: GPUBuffer, elements: number): void {
  if (elements * 4 > buffer.size) throw new RangeError(`${label}: ${name} needs ${elements} elements but its buffer holds ${buffer.size / 4}`);
}

export class BornDeadKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly init: GPUComputePipeline,
    private readonly forward: GPUComputePipeline,
    private readonly verdict: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<BornDeadKernel> {
    const spec = { family: 'BornDead', source, usesInitDraw: true, constants: WORKGROUP };
    const [init, forward, verdict] = await Promise.all([
      computePipeline(gpu.device, { ...spec, entryPoint: 'init' }),
      computePipeline(gpu.device, { ...spec, entryPoint: 'forward' }),
      computePipeline(gpu.device, { ...spec, entryPoint: 'verdict' }),
    ]);
    return new BornDeadKernel(gpu.device, init, forward, verdict, options.maxWorkgroupsPerDimension);
  }

  private params(label: string, s: BornDeadShape, bias: number): GPUBuffer {
    for (const [name, v] of Object.entries(s)) checkU32(label, name, v);
    if (s.trials * s.rows * s.fanOut > U32_MAX) throw new RangeError(`${label}: ${s.trials} x ${s.rows} x ${s.fanOut} outputs exceed 2^32`);
    const { trials, rows, fanIn, fanOut, xStride, wStride, preStride } = s;
    return createUniform(this.device, `${label}.params`, BORNDEAD_PARAMS, { trials, rows, fanIn, fanOut, xStride, wStride, preStride, bias });
  }

  /** Trial t's matrix from the stream (key[0] + t, key[1]), for every trial at once. Constant schemes are not drawn. */
  prepareInit(args: BornDeadInitArgs): Dispatch {
    const { label, trials, count, target } = args;
    for (const [name, v] of Object.entries({ trials, count, stride: target.stride, key0: args.key[0], key1: args.key[1] })) checkU32(label, name, v);
    if (target.stride < count) throw new RangeError(`${label}: stride ${target.stride} is smaller than the ${count} elements of a trial`);
    if (trials * count > U32_MAX) throw new RangeError(`${label}: ${trials} x ${count} elements exceed 2^32`);
    if (trials > 0) checkFits(label, 'target', target.buffer, (trials - 1) * target.stride + count);
    let draw;
    try {
      draw = initDraw(args.scheme, args.fanIn, args.fanOut);
    } catch (error) {
      throw new RangeError(`${label}: ${(error as Error).message}`);
    }
    if (draw.distribution === 'constant') throw new RangeError(`${label}: a constant init needs no random draws`);
    const params = createUniform(this.device, `${label}.params`, BORNDEAD_INIT_PARAMS, {
      trials,
      count,
      stride: target.stride,
      key0: args.key[0],
      key1: args.key[1],
      kind: draw.distribution === 'uniform' ? 0 : 1,
      scale: draw.scale,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.init,
      buffers: [null, null, null, null, null, null, params, target.buffer],
      workgroups: Math.ceil((trials * count) / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  /** pre = x @ w + bias for every trial. */
  prepareForward(args: BornDeadForwardArgs): Dispatch {
    const { label, trials, rows, fanIn, fanOut, xStride, wStride, preStride } = args;
    if (xStride < rows * fanIn || wStride < fanIn * fanOut || preStride < rows * fanOut)
      throw new RangeError(`${label}: a stride is smaller than its trial's slice`);
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
      workgroups: Math.ceil((trials * rows * Math.ceil(fanOut / 4)) / WORKGROUP.WG),
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
      workgroups: Math.ceil(trials / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
