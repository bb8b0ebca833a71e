// The autotuner's decisions, apart from any GPU: which configuration a shape gets from its timings, and in which
// order the missing timings are measured within a time budget. The measuring and the clock are injected, so
// tests drive this with made-up timings (tests/unit/matmul-tuning.test.ts) and no assertion depends on speed.
import type { ShapeTimings } from './store';

/** A candidate must beat the default by this fraction to replace it: timings on a busy machine wobble by a few %. */
export const SWITCH_MARGIN = 0.05;

/**
 * The configuration for a shape: the fastest measured candidate, unless the default (candidates[0]) is measured
 * and within SWITCH_MARGIN of it. Candidates never measured, or that failed (null), are not chosen; with no
 * timings at all the default is.
 */
export function chooseConfig(candidates: readonly string[], timings: ShapeTimings | undefined): string {
  const fallback = candidates[0];
  let best: string | null = null;
  let bestMs = Infinity;
  for (const name of candidates) {
    const ms = timings?.[name];
    if (typeof ms === 'number' && ms < bestMs) {
      best = name;
      bestMs = ms;
    }
  }
  if (best === null) return fallback;
  const defaultMs = timings?.[fallback];
  if (typeof defaultMs === 'number' && defaultMs <= bestMs * (1 + SWITCH_MARGIN)) return fallback;
  return best;
}

/** True when every candidate has a timing (or failed) for the shape: nothing left to measure. */
export function isComplete(candidates: readonly string[], timings: ShapeTimings | undefined): boolean {
  return candidates.every((name) => timings !== undefined && name in timings);
}

export interface TuneShape {
  key: string;
  /** Multiply-adds of the product: bigger products are tuned first, they dominate a step. */
  work: number;
}

export interface TunePlan {
  shapes: readonly TuneShape[];
  candidates: readonly string[];
  /** Timings known so far per shape key (from the store); filled in place. */
  timings: Record<string, ShapeTimings>;
  /** Milliseconds of one product of `shape` with `config`, or null when it cannot run. */
  measure(shape: TuneShape, config: string): Promise<number | null>;
  /** Milliseconds since some origin (performance.now in production). */
  now(): number;
  /** Stop starting new measurements once this much time has gone. */
  budgetMs: number;
}

export interface TuneOutcome {
  /** Measurements made by this call. */
  measured: number;
  /** Shapes still missing timings when the budget ran out. */
  incomplete: string[];
}

/**
 * Measures what is missing, biggest shapes first and candidates in order (the default first, so a shape that
 * gets any timing at all has the one every other is compared with), until the budget is spent.
 */
export async function fillTimings(plan: TunePlan): Promise<TuneOutcome> {
  const start = plan.now();
  let measured = 0;
  const order = [...plan.shapes].sort((a, b) => b.work - a.work);
  for (const shape of order) {
    const timings = (plan.timings[shape.key] ??= {});
    for (const name of plan.candidates) {
      if (name in timings) continue;
      if (plan.now() - start >= plan.budgetMs) return { measured, incomplete: incompleteShapes(plan) };
      timings[name] = await plan.measure(shape, name);
      measured++;
    }
  }
  return { measured, incomplete: incompleteShapes(plan) };
}

function incompleteShapes(plan: TunePlan): string[] {
  return plan.shapes.filter((s) => !isComplete(plan.candidates, plan.timings[s.key])).map((s) => s.key);
}
