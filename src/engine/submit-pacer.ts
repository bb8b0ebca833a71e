// When the host waits for the GPU, and for how long it sleeps first. Trainer.train submits its chunks through this (./chunk-pacer.ts sizes the page's chunks).
//
// NOTE (Dawn-for-Node, CPU adapters): while any promise of Dawn's is pending (onSubmittedWorkDone, mapAsync),
// Dawn-for-Node busy-polls on a core, which a software adapter (lavapipe, SwiftShader) then cannot use: awaiting
// every chunk made the wall clock of the wide MLP step about twice its GPU time. So the host keeps two chunks in
// flight (the GPU never waits for it) and sleeps — a plain timer, no Dawn promise — through most of the running
// chunk's predicted time; only then does it ask Dawn when the chunk is done, submit the next one behind it, and
// await. Polling is thus limited to the end of each chunk. The prediction is milliseconds per step, learnt from
// the chunks before (an exponential average); waking early costs a little polling, waking late a little GPU idle,
// and a late wake reads as a longer chunk only until the next early one corrects it.

/** Fraction of a chunk's predicted time slept through before waiting on Dawn. */
export const WAKE_FRACTION = 0.85;
/** Weight of the latest chunk in the running estimate of milliseconds per step. */
const ESTIMATE_WEIGHT = 0.3;

export interface PacerClock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

const realClock: PacerClock = {
  now: () => performance.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export class SubmitPacer {
  /** Milliseconds per step of the chunks seen so far; null before the first. */
  private msPerStep: number | null = null;

  constructor(private readonly clock: PacerClock = realClock) {}

  /** The current estimate, milliseconds per step (null before any chunk ran). */
  get estimateMsPerStep(): number | null {
    return this.msPerStep;
  }

  /**
   * Runs `chunks` (step counts, in order) through `submit`, two in flight: `submit(i)` records and submits chunk i
   * and `workDone()` returns a promise for everything submitted so far (queue.onSubmittedWorkDone). Resolves once
   * every chunk has run.
   */
  async run(chunks: readonly number[], submit: (index: number) => void, workDone: () => Promise<unknown>): Promise<void> {
    if (chunks.length === 0) return;
    const { clock } = this;
    submit(0);
    // The running chunk: its index and when the GPU started it (its submit, or the end of the one before).
    let running = { index: 0, start: clock.now() };
    for (;;) {
      if (this.msPerStep !== null) {
        const wakeAt = running.start + WAKE_FRACTION * this.msPerStep * chunks[running.index];
        const ms = wakeAt - clock.now();
        if (ms > 1) await clock.sleep(ms);
      }
      // Asked before the next chunk is submitted, so it covers the running chunk only.
      const done = workDone();
      const next = running.index + 1;
      if (next < chunks.length) submit(next);
      await done;
      const end = clock.now();
      this.observe(chunks[running.index], end - running.start);
      if (next >= chunks.length) return;
      running = { index: next, start: end };
    }
  }

  private observe(steps: number, ms: number): void {
    if (steps <= 0) return;
    const perStep = ms / steps;
    this.msPerStep = this.msPerStep === null ? perStep : (1 - ESTIMATE_WEIGHT) * this.msPerStep + ESTIMATE_WEIGHT * perStep;
  }
}
