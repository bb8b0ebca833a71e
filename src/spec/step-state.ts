// The StepState buffer (struct StepState in shaders/schedule.wgsl): the step counter and this step's
// learning rate and Adam bias corrections, advanced on the GPU by begin_step / end_step.

/** Words in the StepState buffer (step, lr, bc1, bc2, beta1^t, beta2^t, 2 padding). */
export const STEP_STATE_WORDS = 8;

/** Initial words of the StepState buffer: step 0, beta powers 1. */
export function initialStepState(): ArrayBuffer {
  const words = new Float32Array(STEP_STATE_WORDS);
  words[4] = 1;
  words[5] = 1;
  return words.buffer;
}
