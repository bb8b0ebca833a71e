// Device-loss recovery: between chunks, the run's state (trainer + observatory) is read back every `saveEvery`
// snapshots, so that after a loss the run is rebuilt on a new device from it. That is every snapshot while the state is
// under STATE_BYTES_PER_SNAPSHOT, proportionally rarer for large nets (a net of 600 MB of parameters and optimizer
// state saves every 150 snapshots). Reads go through src/gpu/buffers.ts readBack, in pieces of at most 32 MiB. A state
// larger than MAX_SAVED_STATE_BYTES is not kept at all (the Worker would hold it in memory twice over while a
// checkpoint is built): recovery is off for such a run, and `note` says so for the page to show.
import type { RunConfig } from '../../config';
import { formatBytes } from '../../engine/layout';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import type { CheckpointState } from '../../io/checkpoint';
import { optimizerStateCount, type OptimizerSpec } from '../../spec/optimizers';
import { UNIT_HISTORY_WORDS } from '../../spec/unit-history';

/** Bytes of saved state per snapshot that device-loss recovery may read back (see the header). */
export const STATE_BYTES_PER_SNAPSHOT = 4 * 2 ** 20;
/** Largest state device-loss recovery keeps (see the header). */
export const MAX_SAVED_STATE_BYTES = 2 ** 30;

/** A run whose state can be saved. */
export interface SavableRun {
  readonly step: number;
  readState(): Promise<CheckpointState>;
}

/** What a resume rebuilds: the run's config and its last saved state (null: start over from step 0, same seed). */
export interface ResumePoint {
  config: RunConfig;
  saved: CheckpointState | null;
}

/** A snapshot sink only to count snapshots: the saves themselves happen between chunks (the session asks `due`). */
export class DeviceLossSaver implements SnapshotSink {
  private saved: CheckpointState | null = null;
  private snapshotsSinceSave = 0;
  private saveEvery = 1;
  /** False for a run whose state is larger than MAX_SAVED_STATE_BYTES. */
  private enabled = true;
  private noteText: string | null = null;
  /** The config of the run being built or trained. */
  private config: RunConfig | null = null;

  /** The run being built or trained has this config from now on. */
  track(config: RunConfig): void {
    this.config = config;
  }

  /** A run was opened: the rhythm follows its size; a fresh run (not a resumed one) forgets the older state. */
  opened(stateBytes: number, fresh: boolean): void {
    this.enabled = stateBytes <= MAX_SAVED_STATE_BYTES;
    this.noteText = this.enabled
      ? null
      : `Device-loss recovery is off for this network: its state is ${formatBytes(stateBytes, false)}, more than the ` +
        `${formatBytes(MAX_SAVED_STATE_BYTES, false)} the page keeps for it. If the GPU device is lost, the run starts over from step 0.`;
    this.saveEvery = Math.max(1, Math.ceil(stateBytes / STATE_BYTES_PER_SNAPSHOT));
    this.snapshotsSinceSave = 0;
    if (fresh) this.saved = null;
  }

  onSnapshot(): void {
    this.snapshotsSinceSave++;
  }

  /** Why this run is not saved (state too large), for the page to show; null when it is. */
  get note(): string | null {
    return this.noteText;
  }

  /** After a chunk: enough snapshots went by since the last save. */
  get due(): boolean {
    return this.enabled && this.snapshotsSinceSave >= this.saveEvery;
  }

  /**
   * After the run stopped (paused or finished): a paused run is what the user expects "resume" to come back to, so
   * small nets save at once; large nets keep their slower rhythm.
   */
  get dueAtStop(): boolean {
    return this.enabled && (this.saveEvery === 1 || this.due);
  }

  async save(run: SavableRun): Promise<void> {
    this.saved = await run.readState();
    this.snapshotsSinceSave = 0;
  }

  /** Saves unless the state of this very step is saved already. */
  async saveIfNew(run: SavableRun): Promise<void> {
    if (this.saved?.trainer.step !== run.step) await this.save(run);
  }

  /** Step of the last saved state; null when there is none. */
  get resumeStep(): number | null {
    return this.saved?.trainer.step ?? null;
  }

  resumePoint(): ResumePoint {
    if (!this.config) throw new Error('resume: there is no run to resume');
    return { config: this.config, saved: this.saved };
  }
}

/** Bytes a saved state reads back: parameters and optimizer state of every layer, the unit histories and the losses. */
export function stateBytes(config: RunConfig, optimizer: OptimizerSpec, lossHistoryCapacity: number): number {
  const widths = [config.inputSize, ...config.hidden.map((h) => h.width), config.outputSize];
  let params = 0;
  for (let l = 1; l < widths.length; l++) params += widths[l - 1] * widths[l] + widths[l];
  const copies = 1 + optimizerStateCount(optimizer);
  const history = config.hidden.reduce((n, h) => n + h.width * UNIT_HISTORY_WORDS, 0);
  return 4 * (params * copies + history + lossHistoryCapacity);
}
