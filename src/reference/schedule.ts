// CPU mirror of shaders/schedule.wgsl: learning rate and Adam bias corrections for step t.
// NOTE: the GPU evaluates the schedule's pow/cos in f32 with its own approximations, so the learning
// rate agrees within a few ulps; the bias corrections are running f32 products and agree bit for bit.
import type { ScheduleParams } from '../spec/lr-schedule';

export interface StepValues {
  lr: number;
  biasCorrection1: number;
  biasCorrection2: number;
}

export function scheduledLr(p: ScheduleParams, t: number): number {
  const f = Math.fround;
  if (t < p.warmupSteps) return f(f(p.baseLr * (t + 1)) / p.warmupSteps);
  const after = t - p.warmupSteps;
  if (p.kind === 'step') return f(p.baseLr * f(Math.pow(p.gamma, Math.floor(after / p.decayEvery))));
  if (p.kind === 'cosine') {
    const progress = Math.min(f(after / Math.max(p.totalSteps, 1)), 1);
    return f(p.minLr + f(f(p.baseLr - p.minLr) * f(0.5 * f(1 + Math.cos(Math.PI * progress)))));
  }
  return f(p.baseLr);
}

/** The StepState buffer's contents, advanced exactly as begin_step / end_step do. */
export class StepStateReference {
  step = 0;
  private beta1Power = 1;
  private beta2Power = 1;

  constructor(private readonly p: ScheduleParams) {}

  /** Values for the current step (begin_step). */
  values(): StepValues {
    const f = Math.fround;
    return {
      lr: scheduledLr(this.p, this.step),
      biasCorrection1: f(1 - f(this.beta1Power * f(this.p.beta1))),
      biasCorrection2: f(1 - f(this.beta2Power * f(this.p.beta2))),
    };
  }

  /** end_step. */
  advance(): void {
    this.beta1Power = Math.fround(this.beta1Power * Math.fround(this.p.beta1));
    this.beta2Power = Math.fround(this.beta2Power * Math.fround(this.p.beta2));
    this.step++;
  }
}
