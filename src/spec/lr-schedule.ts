// The learning-rate schedule's parameters, as shaders/schedule.wgsl receives them.

export interface ScheduleParams {
  kind: 'constant' | 'step' | 'cosine';
  baseLr: number;
  warmupSteps: number;
  totalSteps: number;
  decayEvery: number;
  gamma: number;
  minLr: number;
  beta1: number;
  beta2: number;
}
