// Minibatch gather on the GPU (sampling with replacement, Philox 'batchOrder' stream): see shaders/gather.wgsl.
import source from '../../../shaders/gather.wgsl?raw';
import type { GpuContext } from '../device';
import { composeDispatches, prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';

export interface GatherArgs {
  label: string;
  key: readonly [number, number];
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
    const spec = { family: 'Gather', source, usesPhilox: true };
    const [choose, copy] = await Promise.all([
      computePipeline(gpu.device, { ...spec, entryPoint: 'choose' }),
      computePipeline(gpu.device, { ...spec, entryPoint: 'copy_rows' }),
    ]);
    return new GatherKernel(gpu.device, choose, copy, options.maxWorkgroupsPerDimension);
  }

  prepare(a: GatherArgs): Dispatch {
    const params = createUniform(this.device, `${a.label}.params`, [
      ['u32', a.batch],
      ['u32', a.samples],
      ['u32', a.inputSize],
      ['u32', a.targetSize],
      ['u32', a.key[0]],
      ['u32', a.key[1]],
    ]);
    const choose = prepareDispatch(this.device, {
      label: `${a.label}.choose`,
      pipeline: this.choose,
      buffers: [a.stepState, params, a.indices],
      workgroups: Math.ceil(a.batch / 64),
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    const copy = prepareDispatch(this.device, {
      label: `${a.label}.copy_rows`,
      pipeline: this.copy,
      buffers: [null, params, a.indices, a.inputs, a.targets, a.batchInputs, a.batchTargets],
      workgroups: Math.ceil((a.batch * Math.max(a.inputSize, a.targetSize)) / 256),
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    return composeDispatches(a.label, [choose, copy], [params]);
  }
}
