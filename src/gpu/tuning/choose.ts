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
  /**
   * How many times each product will run (the steps of the run, or its snapshots), and the most multiply-adds per
   * millisecond the adapter could do. When given, tuning spends at most TUNING_SHARE of the shortest time that work
   * could take: a short run is not made slower by measuring for it (on a CPU adapter, compiling and timing one
   * candidate takes seconds). Absent: only budgetMs bounds it.
   */
  expected?: { uses: number; peakMacsPerMs: number };
}

/** Largest fraction of the (shortest possible) time of the work it speeds up that tuning may spend. */
export const TUNING_SHARE = 0.05;
/** A share below this measures nothing: compiling and timing one candidate takes about that long on a CPU adapter. */
export const MIN_TUNING_MS = 1000;

export interface TuneOutcome {
  /** Measurements made by this call. */
  measured: number;
  /** Shapes still missing timings when the budget ran out. */
  incomplete: string[];
}

/**
 * Measures what is missing, biggest shapes first and candidates in order (the default first, so a shape that
 * gets any timing at all has the one every other is compared with), until the budget is spent (see
 * TunePlan.expected for how the run's size shrinks it).
 */
export async function fillTimings(plan: TunePlan): Promise<TuneOutcome> {
  const start = plan.now();
  let measured = 0;
  const budgetMs = Math.min(plan.budgetMs, runShareMs(plan));
  const order = [...plan.shapes].sort((a, b) => b.work - a.work);
  for (const shape of order) {
    const timings = (plan.timings[shape.key] ??= {});
    for (const name of plan.candidates) {
      if (name in timings) continue;
      if (plan.now() - start >= budgetMs) return { measured, incomplete: incompleteShapes(plan) };
      timings[name] = await plan.measure(shape, name);
      measured++;
    }
  }
  return { measured, incomplete: incompleteShapes(plan) };
}

/** TUNING_SHARE of the shortest time the expected uses of every shape could take (0 under MIN_TUNING_MS); Infinity when unknown. */
export function runShareMs(plan: Pick<TunePlan, 'shapes' | 'expected'>): number {
  if (!plan.expected) return Infinity;
  const macs = plan.shapes.reduce((sum, shape) => sum + shape.work, 0);
  const share = (TUNING_SHARE * plan.expected.uses * macs) / plan.expected.peakMacsPerMs;
  return share < MIN_TUNING_MS ? 0 : share;
}

function incompleteShapes(plan: TunePlan): string[] {
  return plan.shapes.filter((s) => !isComplete(plan.candidates, plan.timings[s.key])).map((s) => s.key);
}
