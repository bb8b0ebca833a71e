// Minibatch gather on the GPU (sampling with replacement, Philox 'batchOrder' stream): see shaders/gather.wgsl.
import source from '../../../shaders/gather.wgsl?raw';
import type { GpuContext } from '../device';
import { composeDispatches, prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { checkStepStateBuffer } from './schedule';

/** The shader's workgroup overrides: invocations per workgroup of `choose` (one per batch row) and `copy_rows`. */
const WORKGROUP = { CHOOSE_WG: 64, COPY_WG: 256 } as const;

export const GATHER_PARAMS = wgslStruct('gather.wgsl', 'Params', {
  batch: 'u32',
  samples: 'u32',
  inputSize: 'u32',
  targetSize: 'u32',
  key0: 'u32',
  key1: 'u32',
});

export interface GatherArgs {
  label: string;
  key: readonly [number, number];
  /** The StepState buffer (STEP_STATE_BYTES): its `step` picks the batch. */
  stepState: GPUBuffer;
  batch: number;
  samples: number;
  inputSize: number;
  /** Words per target: output size for regression, 1 for class labels. */
  targetSize: number;
  inputs: GPUBuffer;
  targets: GPUBuffer;
  /** Scratch [batch] u32. */
  indices: GPUBuffer;
  batchInputs: GPUBuffer;
  batchTargets: GPUBuffer;
}

export class GatherKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly choose: GPUComputePipeline,
    private readonly copy: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<GatherKernel> {
    const spec = { family: 'Gather', source, usesPhilox: true, constants: WORKGROUP };
    const [choose, copy] = await Promise.all([
      computePipeline(gpu.device, { ...spec, entryPoint: 'choose' }),
      computePipeline(gpu.device, { ...spec, entryPoint: 'copy_rows' }),
    ]);
    return new GatherKernel(gpu.device, choose, copy, options.maxWorkgroupsPerDimension);
  }

  prepare(a: GatherArgs): Dispatch {
    checkStepStateBuffer(a.label, a.stepState);
    const params = createUniform(this.device, `${a.label}.params`, GATHER_PARAMS, {
      batch: a.batch,
      samples: a.samples,
      inputSize: a.inputSize,
      targetSize: a.targetSize,
      key0: a.key[0],
      key1: a.key[1],
    });
    const choose = prepareDispatch(this.device, {
      label: `${a.label}.choose`,
      pipeline: this.choose,
      buffers: [a.stepState, params, a.indices],
      workgroups: Math.ceil(a.batch / WORKGROUP.CHOOSE_WG),
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    const copy = prepareDispatch(this.device, {
      label: `${a.label}.copy_rows`,
      pipeline: this.copy,
      buffers: [null, params, a.indices, a.inputs, a.targets, a.batchInputs, a.batchTargets],
      workgroups: Math.ceil((a.batch * Math.max(a.inputSize, a.targetSize)) / WORKGROUP.COPY_WG),
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    return composeDispatches(a.label, [choose, copy], [params]);
  }
}
