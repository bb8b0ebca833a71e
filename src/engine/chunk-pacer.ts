// How many steps the next chunk of training holds, sized by wall time rather than by a fixed count: a chunk ends with
// a wait for the GPU, and a host only answers its user (pause, reset) and shows results between chunks. So a chunk
// should take about `targetSeconds` whatever the adapter: many steps on a fast GPU, one step at a time on a software
// adapter whose step takes seconds.
//
// The first chunk is a single step (nothing is known yet); then a running estimate of the seconds per step, from the
// chunks measured so far, sizes the next one. A snapshot costs about `snapshotWeight` steps (from the cost model), so
// a chunk that holds one is timed and planned as that many steps more. Chunking never changes what is computed (every
// step and snapshot is numbered on the GPU): only when the host waits. The pacer is pure: times are handed to it.

/** About half a second: several page updates a second on a fast GPU, an answer to Pause well within one. */
export const DEFAULT_CHUNK_SECONDS = 0.5;
/** A chunk holds at most this many times the steps of the one before, so that one lucky measurement cannot make a long chunk. */
const MAX_GROWTH = 4;
/** Weight of the newest chunk in the running estimate. */
const NEWEST_WEIGHT = 0.5;
/** A chunk measured as taking no time (a coarse clock) counts as this long. */
const MIN_SECONDS = 1e-6;

export interface ChunkPacerOptions {
  /** Wall time a chunk should take (default DEFAULT_CHUNK_SECONDS). */
  targetSeconds?: number;
  /** What one snapshot costs, in steps (default 1). */
  snapshotWeight?: number;
}

/** Where the next chunk may end. */
export interface ChunkLimits {
  /** Most steps the chunk may hold (steps left, the user's cap, the snapshot ring); at least 1. */
  maxSteps: number;
  /** Snapshots a chunk of `steps` steps would take (non-decreasing in `steps`); none when absent. */
  snapshotsIn?(steps: number): number;
}

export class ChunkPacer {
  readonly targetSeconds: number;
  private snapshotWeight: number;
  /** Running estimate of seconds per step (snapshots counted as snapshotWeight steps); null before a measurement. */
  private perStep: number | null = null;
  private lastSteps = 1;

  constructor(options: ChunkPacerOptions = {}) {
    this.targetSeconds = options.targetSeconds ?? DEFAULT_CHUNK_SECONDS;
    if (!(this.targetSeconds > 0)) throw new RangeError(`chunk target must be > 0 seconds, got ${this.targetSeconds}`);
    this.snapshotWeight = checkWeight(options.snapshotWeight ?? 1);
  }

  /** The estimate of seconds per training step; null before the first chunk was measured. */
  get secondsPerStep(): number | null {
    return this.perStep;
  }

  /** A new figure for what a snapshot costs, in steps. */
  setSnapshotWeight(weight: number): void {
    this.snapshotWeight = checkWeight(weight);
  }

  /** Steps of the next chunk: 1 until a chunk was measured, then as many as the target time holds (at least 1). */
  next(limits: ChunkLimits): number {
    const max = Math.floor(limits.maxSteps);
    if (!(max >= 1)) throw new RangeError(`a chunk must be allowed at least 1 step, got ${limits.maxSteps}`);
    if (this.perStep === null) return 1;
    const upper = Math.min(max, this.lastSteps * MAX_GROWTH);
    const fits = (steps: number) => (this.expectedSeconds(steps, limits.snapshotsIn?.(steps) ?? 0) ?? 0) <= this.targetSeconds;
    // The largest chunk that fits the target: cost grows with steps, so bisect.
    let lo = 1;
    let hi = upper;
    if (fits(hi)) return hi;
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (fits(mid)) lo = mid;
      else hi = mid;
    }
    return lo;
  }

  /** Seconds a chunk of `steps` steps holding `snapshots` snapshots should take; null before a measurement. */
  expectedSeconds(steps: number, snapshots = 0): number | null {
    return this.perStep === null ? null : this.perStep * (steps + this.snapshotWeight * snapshots);
  }

  /** A chunk of `steps` steps, holding `snapshots` snapshots, took `seconds`. */
  record(steps: number, seconds: number, snapshots = 0): void {
    if (!(steps >= 1)) throw new RangeError(`a measured chunk holds at least 1 step, got ${steps}`);
    const measured = Math.max(MIN_SECONDS, seconds) / (steps + this.snapshotWeight * snapshots);
    this.perStep = this.perStep === null ? measured : this.perStep + NEWEST_WEIGHT * (measured - this.perStep);
    this.lastSteps = steps;
  }

  /** Another network or device: start again from a single measured step. */
  reset(): void {
    this.perStep = null;
    this.lastSteps = 1;
  }
}

function checkWeight(weight: number): number {
  if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`snapshot weight must be a finite number >= 0 (in steps), got ${weight}`);
  return weight;
}

/** Snapshots a chunk of `steps` steps after step `from` takes, with a snapshot every `every` steps. */
export function snapshotsBetween(from: number, steps: number, every: number): number {
  return Math.floor((from + steps) / every) - Math.floor(from / every);
}
