// Owns the StepState buffer's two kernels: begin_step (lr + bias corrections for step t) and end_step (t += 1).
import source from '../../../shaders/schedule.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { STEP_STATE_WORDS, initialStepState } from '../../spec/step-state';
import type { ScheduleParams } from '../../spec/lr-schedule';

/** Bytes of the StepState buffer (shaders/schedule.wgsl); other kernels read its first 16. */
export const STEP_STATE_BYTES = STEP_STATE_WORDS * 4;

const KIND_CODES = { constant: 0, step: 1, cosine: 2 } as const;

export class ScheduleKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly begin: GPUComputePipeline,
    private readonly end: GPUComputePipeline,
  ) {}

  static async create(gpu: GpuContext): Promise<ScheduleKernel> {
    const spec = { family: 'Schedule', source };
    const [begin, end] = await Promise.all([
      computePipeline(gpu.device, { ...spec, entryPoint: 'begin_step' }),
      computePipeline(gpu.device, { ...spec, entryPoint: 'end_step' }),
    ]);
    return new ScheduleKernel(gpu.device, begin, end);
  }

  /** begin_step then, after the caller's step, end_step: both share one uniform block. */
  prepare(label: string, stepState: GPUBuffer, p: ScheduleParams): { begin: Dispatch; end: Dispatch } {
    const params = createUniform(this.device, `${label}.params`, [
      ['u32', KIND_CODES[p.kind]],
      ['f32', p.baseLr],
      ['u32', p.warmupSteps],
      ['u32', Math.min(p.totalSteps, 0xffffffff)],
      ['u32', Math.max(1, p.decayEvery)],
      ['f32', p.gamma],
      ['f32', p.minLr],
      ['f32', p.beta1],
      ['f32', p.beta2],
    ]);
    return {
      begin: prepareDispatch(this.device, { label: `${label}.begin`, pipeline: this.begin, buffers: [stepState, params], workgroups: 1, owned: [params] }),
      end: prepareDispatch(this.device, { label: `${label}.end`, pipeline: this.end, buffers: [stepState, params], workgroups: 1 }),
    };
  }
}
