// The StepState buffer (struct StepState in shaders/step_state.wgsl, the one declaration every kernel sees): the
// step counter and this step's learning rate and Adam bias corrections, advanced on the GPU by begin_step / end_step.
import { wgslStruct } from './wgsl-struct';

export const STEP_STATE = wgslStruct('step_state.wgsl', 'StepState', {
  step: 'u32',
  lr: 'f32',
  biasCorrection1: 'f32',
  biasCorrection2: 'f32',
  beta1Power: 'f32',
  beta2Power: 'f32',
});

/** Words in the StepState buffer: its six fields and 2 words of padding to 16 bytes. Checkpoints store all 8. */
export const STEP_STATE_WORDS = STEP_STATE.bufferSize / 4;

/** Initial words of the StepState buffer: step 0, beta powers 1. */
export function initialStepState(): ArrayBuffer {
  return STEP_STATE.pack({ step: 0, lr: 0, biasCorrection1: 0, biasCorrection2: 0, beta1Power: 1, beta2Power: 1 });
}
