// What the host knows a snapshot must say, checked before it is handed on: a GPU that silently ran nothing (buffers
// that were never allocated read as zeros, a dispatch that never ran) cannot fake it.
// - The GPU's own step counter, copied with the snapshot, equals the snapshot's step.
// - Per hidden layer with dropout, the number of units dropped for sample 0 at the snapshot's step (LayerCount.dropped)
//   equals what the host computes from the same Philox stream (src/spec/dropout-mask.ts): an exact count, which at
//   p >= 0.1 is 0 only on the narrowest layers. Width/4 Philox calls per layer and snapshot on the CPU.
import { droppedUnitCount } from '../spec/dropout-mask';
import { dropoutThreshold } from '../spec/dropout-rate';
import { rngKey } from '../spec/rng-streams';
import type { ModelSpec } from './model-spec';
import type { Snapshot } from './snapshot';

/** A snapshot that disagreed with the host: what differed, and the kernel that writes it. */
export interface CanaryMismatch {
  detail: string;
  kernel: string;
}

/** The label of the dispatch that writes hidden layer l's sample-0 dropout bitmap (./observatory-graph.ts). */
export const maskBitsLabel = (l: number) => `Observatory.maskBits${l}`;

export class SnapshotCanary {
  constructor(
    private readonly spec: ModelSpec,
    /** Label of the dispatch that advances the step counter. */
    private readonly stepEndLabel: string,
  ) {}

  /** Null when the snapshot says what the host expects, else the first difference. */
  check(snapshot: Snapshot): CanaryMismatch | null {
    if (snapshot.gpuStep !== snapshot.step) {
      return { detail: `the GPU's step counter reads ${snapshot.gpuStep} at the snapshot of step ${snapshot.step}`, kernel: this.stepEndLabel };
    }
    for (const [i, hidden] of this.spec.hidden.entries()) {
      const l = i + 1;
      // Step 0 has no mask yet (the bitmap is still cleared); step s's mask is drawn at the 0-based step index s - 1.
      const expected =
        hidden.dropout > 0 && snapshot.step > 0
          ? droppedUnitCount(rngKey(this.spec.seed, 'dropout', l), snapshot.step - 1, 0, hidden.width, dropoutThreshold(hidden.dropout))
          : 0;
      const got = snapshot.layers[i].counts.dropped;
      if (got !== expected) {
        return {
          detail: `hidden layer ${l} dropped ${got} units for sample 0 at step ${snapshot.step}; its dropout stream drops ${expected}`,
          kernel: maskBitsLabel(l),
        };
      }
    }
    return null;
  }
}
