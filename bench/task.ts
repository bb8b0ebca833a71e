// What a benchmark group hands the suite: tasks that measure cases, given the host's context. Its own module
// so the groups (matmul, train, ...) and the suite that lists them do not import each other.
import type { GpuContext } from '../src/gpu/device';
import type { BenchGroup, CaseResult, Ratio } from './schema';
import type { Tf } from './tfjs-mlp';

/** What a case needs from its host. */
export interface SuiteContext {
  gpu: GpuContext;
  /** TF.js with its WebGPU backend ready, or null (TF.js cases are then left out and noted). */
  tf: Tf | null;
  /** Tiny shapes and few repeats: a smoke run, not a measurement. */
  quick: boolean;
  /** Matmul configurations the matmul group times instead of the adapter's candidates (--candidates). */
  matmulCandidates?: readonly string[];
}

/** One unit of work: measures one or more cases (and may name ratios between them). */
export interface BenchTask {
  group: BenchGroup;
  label: string;
  run(): Promise<{ cases: CaseResult[]; ratios?: Ratio[] }>;
}

/** A ratio of two measured cases' medians. */
export function ratioOf(name: string, numerator: CaseResult, denominator: CaseResult, goal?: number): Ratio {
  return { name, numerator: numerator.id, denominator: denominator.id, value: numerator.median / denominator.median, ...(goal ? { goal } : {}) };
}

/**
 * Trainer options of a case: a quick run is a smoke run, so it measures no kernels (the tuned figures come from
 * full runs, whose cases tune within the device's budget as a long run would).
 */
export function tuning(ctx: SuiteContext): { tuneForSteps?: number } {
  return ctx.quick ? { tuneForSteps: 0 } : {};
}

/** Observatory options of a case, for the same reason. */
export function observatoryTuning(ctx: SuiteContext): { tuneForSnapshots?: number } {
  return ctx.quick ? { tuneForSnapshots: 0 } : {};
}
