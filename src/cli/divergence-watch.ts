// Watches a run for NaN / ±Infinity: every step's loss (a snapshot sink: the snapshots carry their interval's
// losses; steps after a chunk's last snapshot are read back from the loss ring) and, after every chunk, every
// parameter (on the GPU). The run job stops a diverged run before its next checkpoint, so none of a bad state
// is ever written.
import type { NonFiniteParameters } from '../engine/parameter-check';
import type { Snapshot } from '../engine/snapshot';
import type { SnapshotSink } from '../engine/snapshot-sink';
import type { Trainer } from '../engine/trainer';

/** What went non-finite. */
export interface Divergence {
  /** First step whose loss was NaN / Infinity (1-based: the n-th training step), if one was seen. */
  badLossStep: number | null;
  /** The first weight layer with non-finite parameters, if any. */
  parameters: NonFiniteParameters | null;
}

export class DivergenceWatch implements SnapshotSink {
  private badLossStep: number | null = null;
  /** Losses have been checked up to this step. */
  private checkedStep = 0;

  /** `note` reports losses that were not kept long enough on the GPU to be checked. */
  constructor(private readonly note: (line: string) => void) {}

  /** A session opened at `step` (fresh or from a checkpoint): what comes after it is checked anew. */
  restart(step: number): void {
    this.checkedStep = step;
    this.badLossStep = null;
  }

  onSnapshot(snapshot: Snapshot): void {
    // The snapshot's losses are those of steps (step - count, step]: the n-th entry is training step first + n + 1.
    const first = snapshot.step - snapshot.losses.length;
    if (this.badLossStep === null) {
      const bad = snapshot.losses.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) this.badLossStep = first + bad + 1;
      else if (first > this.checkedStep) {
        // Only when the interval is longer than the GPU's loss history (lossHistoryCapacity in src/engine/open-run.ts).
        this.note(`note: losses of steps ${this.checkedStep + 1}..${first} were not kept on the GPU and could not be checked`);
      }
    }
    this.checkedStep = snapshot.step;
  }

  /** Checks the losses of steps after the latest snapshot (a chunk or run that does not end on a snapshot step). */
  async checkTailLosses(trainer: Trainer): Promise<void> {
    const from = this.checkedStep;
    const count = trainer.step - from;
    if (count <= 0 || this.badLossStep !== null || count > trainer.lossHistoryCapacity) return;
    const losses = await trainer.readLosses(from, count);
    const bad = losses.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) this.badLossStep = from + bad + 1;
    this.checkedStep = trainer.step;
  }

  /** After a chunk (its snapshots handed over): the losses since the last snapshot and every parameter. Null when all is finite. */
  async check(trainer: Trainer): Promise<Divergence | null> {
    await this.checkTailLosses(trainer);
    const parameters = await trainer.firstNonFiniteLayer();
    return this.badLossStep !== null || parameters ? { badLossStep: this.badLossStep, parameters } : null;
  }
}

/** The sentence FAILED.md, the manifest and the result give for a divergence found at `step`. */
export function divergenceMessage(d: Divergence, step: number): string {
  const parts: string[] = [];
  if (d.badLossStep !== null) parts.push(`the loss became non-finite (NaN or Infinity) first at training step ${d.badLossStep}`);
  const bad = d.parameters;
  if (bad) {
    const layer = `weight layer ${bad.layer}`;
    parts.push(`at step ${step} the first layer with non-finite parameters is ${layer} (${bad.weights} weights, ${bad.bias} biases)`);
  } else if (d.badLossStep !== null) parts.push(`at step ${step} every parameter is still finite`);
  return parts.join('; ') + '.';
}
