// The session's training clock. Only time spent running counts (pauses, rebuilds and lost devices do not), and each
// chunk of training is remembered with the clock times it started and ended: snapshots come back from the GPU a little
// after their chunk, often several at once, so timing them on arrival would make throughput jump around. A snapshot is
// timed where its step was trained instead, interpolated inside that chunk.

/** Chunks remembered to time snapshots. */
const CHUNKS_KEPT = 64;

/** Steps (from, to] were trained between these training-clock times. */
interface ChunkSpan {
  from: number;
  to: number;
  fromSeconds: number;
  toSeconds: number;
}

/** When a snapshot's step was trained, and the throughput since the previous snapshot (the metrics row's timing). */
export interface SnapshotTiming {
  elapsedSeconds: number;
  stepsPerSecond: number | null;
}

export class RunClock {
  private activeMs = 0;
  private runningSince: number | null = null;
  private chunks: ChunkSpan[] = [];
  private previous: { step: number; seconds: number } | null = null;
  private latestChunkRate: number | null = null;

  constructor(private readonly now: () => number) {}

  /** Starts counting when the run starts running, stops when it stops. */
  setRunning(running: boolean): void {
    const now = this.now();
    if (this.runningSince !== null && !running) {
      this.activeMs += now - this.runningSince;
      this.runningSince = null;
    } else if (this.runningSince === null && running) {
      this.runningSince = now;
    }
  }

  /** Training time so far, in seconds. */
  elapsedSeconds(): number {
    return (this.activeMs + (this.runningSince === null ? 0 : this.now() - this.runningSince)) / 1000;
  }

  /** Steps per second of the latest chunk (the status line's figure); null before the first one. */
  get chunkRate(): number | null {
    return this.latestChunkRate;
  }

  /** Runs `train`, which trains `steps` steps after step `from`, and remembers when it ran; returns its seconds. */
  async timeChunk(from: number, steps: number, train: () => Promise<void>): Promise<number> {
    const started = this.now();
    const fromSeconds = this.elapsedSeconds();
    await train();
    const ms = this.now() - started;
    this.latestChunkRate = ms > 0 ? (1000 * steps) / ms : null;
    this.chunks.push({ from, to: from + steps, fromSeconds, toSeconds: this.elapsedSeconds() });
    if (this.chunks.length > CHUNKS_KEPT) this.chunks.shift();
    return ms / 1000;
  }

  /**
   * The timing of a snapshot at `step`: when the chunk that trained it reached it (now, if that chunk is no longer
   * remembered), and the steps per second since the previous snapshot timed here.
   */
  snapshotTiming(step: number): SnapshotTiming {
    const seconds = this.secondsAtStep(step);
    const prev = this.previous;
    const stepsPerSecond = prev && step > prev.step && seconds > prev.seconds ? (step - prev.step) / (seconds - prev.seconds) : null;
    this.previous = { step, seconds };
    return { elapsedSeconds: seconds, stepsPerSecond };
  }

  /** A run rebuilt on a new device: the latest chunk's rate says nothing about it (the elapsed time carries on). */
  forgetChunkRate(): void {
    this.latestChunkRate = null;
  }

  /** A fresh run: back to zero. */
  reset(): void {
    this.activeMs = 0;
    this.previous = null;
    this.chunks = [];
    this.latestChunkRate = null;
  }

  private secondsAtStep(step: number): number {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i];
      if (step > c.from && step <= c.to) return c.fromSeconds + ((step - c.from) / (c.to - c.from)) * (c.toSeconds - c.fromSeconds);
    }
    return this.elapsedSeconds();
  }
}
