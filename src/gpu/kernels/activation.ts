// Elementwise activation forward / backward: see shaders/activation.wgsl. One pipeline per
// (entry point, kind), compiled on first use and cached per device; alpha is a uniform.
import source from '../../../shaders/activation.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { ACTIVATION_KIND_CODES, activationAlpha, type ActivationKind, type ActivationSpec } from '../../spec/activations';

/** The shader's workgroup overrides: WG invocations, PER_THREAD elements each. */
const WORKGROUP = { WG: 256, PER_THREAD: 4 } as const;
const ELEMENTS_PER_WORKGROUP = WORKGROUP.WG * WORKGROUP.PER_THREAD;

export const ACTIVATION_PARAMS = wgslStruct('activation.wgsl', 'Params', { count: 'u32', alpha: 'f32' });

export interface ActivationForwardArgs {
  label: string;
  activation: ActivationSpec;
  /** [count] pre-activations. */
  z: GPUBuffer;
  /** [count] out: act(z). Must not be `z` (WGSL forbids aliasing a writable binding). */
  a: GPUBuffer;
  count: number;
}

export interface ActivationBackwardArgs {
  label: string;
  activation: ActivationSpec;
  /** [count] pre-activations saved by the forward pass. */
  z: GPUBuffer;
  /** [count] dLoss/da. */
  gradOut: GPUBuffer;
  /** [count] out: dLoss/dz = gradOut * act'(z). A different buffer from gradOut and z. */
  gradIn: GPUBuffer;
  count: number;
}

type Pipelines = Record<ActivationKind, { forward: GPUComputePipeline; backward: GPUComputePipeline }>;

export class ActivationKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Pipelines,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  /** Compiles forward and backward for every kind (10 small pipelines), so prepare* stays synchronous. */
  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<ActivationKernel> {
    const kinds = Object.keys(ACTIVATION_KIND_CODES) as ActivationKind[];
    const compiled = await Promise.all(
      kinds.map(async (kind) => {
        const spec = { family: 'Activation', source, usesActivation: true, constants: { ...WORKGROUP, KIND: ACTIVATION_KIND_CODES[kind] } };
        const [forward, backward] = await Promise.all([
          computePipeline(gpu.device, { ...spec, entryPoint: 'forward' }),
          computePipeline(gpu.device, { ...spec, entryPoint: 'backward' }),
        ]);
        return [kind, { forward, backward }] as const;
      }),
    );
    return new ActivationKernel(gpu.device, Object.fromEntries(compiled) as Pipelines, options.maxWorkgroupsPerDimension);
  }

  /** a = act(z) over `count` elements. */
  prepareForward(args: ActivationForwardArgs): Dispatch {
    return this.prepare(args.label, this.pipelines[args.activation.kind].forward, args.activation, args.count, [args.z, args.a, null, null]);
  }

  /** gradIn = gradOut * act'(z) over `count` elements. */
  prepareBackward(args: ActivationBackwardArgs): Dispatch {
    const buffers = [args.z, null, args.gradOut, args.gradIn];
    return this.prepare(args.label, this.pipelines[args.activation.kind].backward, args.activation, args.count, buffers);
  }

  private prepare(label: string, pipeline: GPUComputePipeline, spec: ActivationSpec, count: number, buffers: (GPUBuffer | null)[]): Dispatch {
    if (!Number.isInteger(count) || count < 0 || count > 0xffffffff - ELEMENTS_PER_WORKGROUP) {
      throw new RangeError(`${label}: count ${count} is not a valid element count`);
    }
    const params = createUniform(this.device, `${label}.params`, ACTIVATION_PARAMS, { count, alpha: activationAlpha(spec) });
    return prepareDispatch(this.device, {
      label,
      pipeline,
      buffers: [params, ...buffers],
      workgroups: Math.ceil(count / ELEMENTS_PER_WORKGROUP),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
