// Parameter updates on the GPU (shaders/optimizer.wgsl): SGD, momentum (optionally Nesterov), Adam, AdamW.
// lr and the bias corrections are read from the StepState buffer each step; everything else is fixed
// per prepared dispatch. Semantics are documented in shaders/optimizer.wgsl and src/reference/optimizer.ts.
import source from '../../../shaders/optimizer.wgsl?raw';
import { optimizerStateCount, validateOptimizerSpec, type OptimizerSpec } from '../../spec/optimizers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';

const WORKGROUP_SIZE = 256;
const ENTRY_POINTS = ['sgd', 'momentum', 'adam', 'adamw'] as const;

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
  /** StepState storage buffer (16 bytes): lr, bias_correction1, bias_correction2. */
  stepState: GPUBuffer;
}

export class OptimizerKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Record<OptimizerSpec['kind'], GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<OptimizerKernel> {
    const compiled = await Promise.all(ENTRY_POINTS.map((entryPoint) => computePipeline(gpu.device, { family: 'Optimizer', source, entryPoint })));
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
    const params = createUniform(this.device, `${label}.params`, [
      ['u32', count],
      ['f32', spec.weightDecay ?? 0],
      ['f32', spec.kind === 'momentum' ? spec.momentum : 0],
      ['u32', spec.kind === 'momentum' && spec.nesterov ? 1 : 0],
      ['f32', spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta1 : 0],
      ['f32', spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta2 : 0],
      ['f32', spec.kind === 'adam' || spec.kind === 'adamw' ? spec.eps : 0],
    ]);
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[spec.kind],
      buffers: [params, args.stepState, args.param, args.grad, state[0] ?? null, state[1] ?? null],
      workgroups: Math.ceil(count / WORKGROUP_SIZE),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
