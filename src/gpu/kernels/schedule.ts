// Owns the StepState buffer's two kernels: begin_step (lr + bias corrections for step t) and end_step (t += 1).
import source from '../../../shaders/schedule.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { STEP_STATE } from '../../spec/step-state';
import type { ScheduleParams } from '../../spec/lr-schedule';
import { wgslStruct } from '../../spec/wgsl-struct';

/** Bytes of the StepState buffer (struct StepState in shaders/step_state.wgsl, padded to 16 bytes). */
export const STEP_STATE_BYTES = STEP_STATE.bufferSize;

/** A StepState buffer must hold the whole struct: every kernel that reads it binds all of it. */
export function checkStepStateBuffer(label: string, buffer: GPUBuffer): void {
  if (buffer.size < STEP_STATE.byteSize) throw new RangeError(`${label}: stepState holds ${buffer.size} bytes; StepState needs ${STEP_STATE.byteSize}`);
}

const KIND_CODES = { constant: 0, step: 1, cosine: 2 } as const;

export const SCHEDULE_PARAMS = wgslStruct('schedule.wgsl', 'Params', {
  kind: 'u32',
  baseLr: 'f32',
  warmupSteps: 'u32',
  totalSteps: 'u32',
  decayEvery: 'u32',
  gamma: 'f32',
  minLr: 'f32',
  beta1: 'f32',
  beta2: 'f32',
});

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
    checkStepStateBuffer(label, stepState);
    const params = createUniform(this.device, `${label}.params`, SCHEDULE_PARAMS, {
      kind: KIND_CODES[p.kind],
      baseLr: p.baseLr,
      warmupSteps: p.warmupSteps,
      totalSteps: Math.min(p.totalSteps, 0xffffffff),
      decayEvery: Math.max(1, p.decayEvery),
      gamma: p.gamma,
      minLr: p.minLr,
      beta1: p.beta1,
      beta2: p.beta2,
    });
    return {
      begin: prepareDispatch(this.device, { label: `${label}.begin`, pipeline: this.begin, buffers: [stepState, params], workgroups: 1, owned: [params] }),
      end: prepareDispatch(this.device, { label: `${label}.end`, pipeline: this.end, buffers: [stepState, params], workgroups: 1 }),
    };
  }
}
