// Parameter updates on the GPU (shaders/optimizer.wgsl): SGD, momentum (optionally Nesterov), Adam, AdamW.
// lr and the bias corrections are read from the StepState buffer each step; everything else is fixed
// per prepared dispatch. Semantics are documented in shaders/optimizer.wgsl and src/reference/optimizer.ts.
import source from '../../../shaders/optimizer.wgsl?raw';
import { optimizerStateCount, validateOptimizerSpec, type OptimizerSpec } from '../../spec/optimizers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

/** The shader's workgroup override: invocations (parameters) per workgroup. */
const WORKGROUP = { WG: 256 } as const;
const ENTRY_POINTS = ['sgd', 'momentum', 'adam', 'adamw'] as const;

export const OPTIMIZER_PARAMS = wgslStruct('optimizer.wgsl', 'OptimizerParams', {
  count: 'u32',
  weightDecay: 'f32',
  momentum: 'f32',
  nesterov: 'u32',
  beta1: 'f32',
  beta2: 'f32',
  eps: 'f32',
});

export interface OptimizerArgs {
  label: string;
  spec: OptimizerSpec;
  /** [count] f32, updated in place. */
  param: GPUBuffer;
  /** [count] f32. */
  grad: GPUBuffer;
  /** [count] f32: momentum buffer or Adam's m; zero before the first step. */
  state1?: GPUBuffer;
  /** [count] f32: Adam's v; zero before the first step. */
  state2?: GPUBuffer;
  count: number;
  /** The StepState buffer (STEP_STATE_BYTES): lr, bias_correction1, bias_correction2. */
  stepState: GPUBuffer;
}

export class OptimizerKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Record<OptimizerSpec['kind'], GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<OptimizerKernel> {
    const compiled = await Promise.all(
      ENTRY_POINTS.map((entryPoint) => computePipeline(gpu.device, { family: 'Optimizer', source, entryPoint, constants: WORKGROUP })),
    );
    const pipelines = Object.fromEntries(ENTRY_POINTS.map((k, i) => [k, compiled[i]])) as Record<OptimizerSpec['kind'], GPUComputePipeline>;
    return new OptimizerKernel(gpu.device, pipelines, options.maxWorkgroupsPerDimension);
  }

  /** How many [count] state buffers the caller must allocate (zeroed) for this optimizer. */
  static stateBuffersNeeded(spec: OptimizerSpec): 0 | 1 | 2 {
    return optimizerStateCount(spec);
  }

  prepare(args: OptimizerArgs): Dispatch {
    const { label, spec, count } = args;
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff) throw new RangeError(`${label}: count must be a u32, got ${count}`);
    try {
      validateOptimizerSpec(spec);
    } catch (error) {
      throw new RangeError(`${label}: ${(error as Error).message}`);
    }
    checkStepStateBuffer(label, args.stepState);
    const needed = optimizerStateCount(spec);
    const state = [args.state1, args.state2].slice(0, needed);
    if (state.some((b) => !b)) throw new RangeError(`${label}: ${spec.kind} needs ${needed} state buffer(s) (state1${needed > 1 ? ', state2' : ''})`);
    const buffers: Array<[string, GPUBuffer | undefined]> = [
      ['param', args.param],
      ['grad', args.grad],
      ['state1', state[0]],
      ['state2', state[1]],
    ];
    for (const [name, buffer] of buffers) {
      if (buffer && buffer.size < count * 4) throw new RangeError(`${label}: ${name} holds ${buffer.size / 4} elements, count is ${count}`);
    }
    const adam = spec.kind === 'adam' || spec.kind === 'adamw';
    const params = createUniform(this.device, `${label}.params`, OPTIMIZER_PARAMS, {
      count,
      weightDecay: spec.weightDecay ?? 0,
      momentum: spec.kind === 'momentum' ? spec.momentum : 0,
      nesterov: spec.kind === 'momentum' && spec.nesterov ? 1 : 0,
      beta1: adam ? spec.beta1 : 0,
      beta2: adam ? spec.beta2 : 0,
      eps: adam ? spec.eps : 0,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[spec.kind],
      buffers: [params, args.stepState, args.param, args.grad, state[0] ?? null, state[1] ?? null],
      workgroups: Math.ceil(count / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
