// The timing of each metrics row: seconds since the session opened when training reached the snapshot's step,
// and steps per second since the previous snapshot. A chunk of training is timed as a whole (the GPU says when a
// command buffer is done, and Dawn reports even that in batches), so a snapshot inside a chunk gets the time
// interpolated by steps between the chunk's start and end: the snapshots of one chunk get their own times, not all
// the chunk's end.
import type { Snapshot } from '../engine/snapshot';

/** A metrics row's timing. */
export interface SnapshotTiming {
  elapsedSeconds: number;
  /** Steps per second since the previous snapshot (or since training started); null for the step-0 snapshot. */
  stepsPerSecond: number | null;
}

interface Chunk {
  fromStep: number;
  fromAt: number;
  toStep: number;
  toAt: number;
}

export class SnapshotClock {
  private chunk: Chunk | null = null;
  /** The previous snapshot's (step, time), or the start of training. */
  private mark: { step: number; at: number } | null = null;

  constructor(
    private readonly openedAt: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** A chunk trained from step `fromStep` at time `fromAt` to `toStep`, done at `toAt` (before its snapshots are timed). */
  chunkDone(fromStep: number, fromAt: number, toStep: number, toAt: number): void {
    this.chunk = { fromStep, fromAt, toStep, toAt };
    this.mark ??= { step: fromStep, at: fromAt };
  }

  /** When training reached `step`: inside the latest chunk by interpolation, otherwise now. */
  private reached(step: number): number {
    const c = this.chunk;
    if (!c || step < c.fromStep || step > c.toStep || c.toStep === c.fromStep) return this.now();
    return c.fromAt + ((step - c.fromStep) / (c.toStep - c.fromStep)) * (c.toAt - c.fromAt);
  }

  timing(snapshot: Pick<Snapshot, 'step'>): SnapshotTiming {
    const at = this.reached(snapshot.step);
    let stepsPerSecond: number | null = null;
    if (this.mark && snapshot.step > this.mark.step) {
      stepsPerSecond = (snapshot.step - this.mark.step) / Math.max(1e-6, (at - this.mark.at) / 1000);
      this.mark = { step: snapshot.step, at };
    }
    return { elapsedSeconds: Math.max(0, at - this.openedAt) / 1000, stepsPerSecond };
  }
}
