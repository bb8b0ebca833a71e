// Node-only: the engine objects of a run folder on one device, opened from the folder's newest good checkpoint (or
// fresh) and rebuilt that way after a device loss. It trains in chunks and hands each chunk's snapshots to a sink
// as soon as the chunk is done, so the observatory's staging ring never fills up.
import type { RunConfig } from '../config';
import type { Dataset, ProbeSet } from '../data';
import { openRun, type OpenedRun, type RunData } from '../engine/open-run';
import type { SnapshotSink } from '../engine/snapshot-sink';
import type { LayerParameters } from '../engine/trainer';
import type { GpuContext } from '../gpu/device';
import type { CheckpointState } from '../io/checkpoint';
import { summarizeUnitHistory, type LayerHistorySummary, type ProbeUsed } from '../report/seed-answer';
import { DeviceLostError } from './device-recovery';
import { RunDirError, type RunPaths } from './run-dir';
import { newestGoodCheckpoint } from './run-checkpoints';
import type { Snapshot } from '../engine/snapshot';
import { SnapshotClock, type SnapshotTiming } from './snapshot-clock';

export class RunSession {
  private readonly clock = new SnapshotClock(performance.now());

  private constructor(
    readonly run: OpenedRun<Dataset, ProbeSet>,
    /** Step of the checkpoint it continues from; -1 for a fresh start. */
    readonly resumedFrom: number,
  ) {}

  /**
   * Opens the run at the folder's newest good checkpoint (one at step 0 holds nothing a fresh start would not redo);
   * `note` is told about damaged checkpoints set aside on the way (./run-checkpoints.ts).
   */
  static async open(
    gpu: GpuContext,
    config: RunConfig,
    data: RunData<Dataset, ProbeSet>,
    paths: RunPaths,
    /** A fresh start's weights (config initFrom), asked for only when there is no checkpoint to continue. */
    initial: () => Promise<LayerParameters[] | null> = async () => null,
    note: (line: string) => void = () => undefined,
  ): Promise<RunSession> {
    const found = await newestGoodCheckpoint(paths, config, note);
    const latest = found && found.step > 0 ? found : null;
    const saved: CheckpointState | null = latest?.checkpoint ?? null;
    return new RunSession(await openRun(gpu, { config, data, saved, initial: saved ? null : await initial() }), latest ? latest.step : -1);
  }

  /** Training steps completed. */
  get step(): number {
    return this.run.trainer.step;
  }

  /** The timing of a snapshot's metrics row: seconds since the session opened, steps per second since the previous snapshot. */
  timing(snapshot: Snapshot): SnapshotTiming {
    return this.clock.timing(snapshot);
  }

  /** Hands the step-0 snapshot (taken when a fresh run opens: the network before training) to `sink`. */
  async deliverInitialSnapshot(sink: SnapshotSink): Promise<void> {
    const snapshot = await this.run.observatory.next();
    if (!snapshot) throw new DeviceLostError('the step-0 snapshot never came back');
    await sink.onSnapshot(snapshot);
  }

  /** Trains up to step `end` and hands the chunk's snapshots to `sink`; returns the chunk's steps per second. */
  async trainChunk(end: number, sink: SnapshotSink): Promise<number> {
    const { trainer, observatory } = this.run;
    const start = trainer.step;
    const began = performance.now();
    const skippedBefore = observatory.skipped;
    await trainer.train(end - start);
    const done = performance.now();
    this.clock.chunkDone(start, began, end, done);
    const rate = (end - start) / Math.max(1e-9, (done - began) / 1000);
    const every = observatory.every;
    const expected = Math.floor(end / every) - Math.floor(start / every) - (observatory.skipped - skippedBefore);
    for (let k = 0; k < expected; k++) {
      const snapshot = await observatory.next();
      if (!snapshot) throw new DeviceLostError('snapshots stopped coming back');
      await sink.onSnapshot(snapshot);
    }
    return rate;
  }

  /** What a checkpoint holds: the trainer's and the observatory's state. */
  async readState(): Promise<CheckpointState> {
    return { trainer: await this.run.trainer.readState(), observatory: await this.run.observatory.readState() };
  }

  /** Per hidden layer, the summary of its units' histories (for the seed answer and the report). */
  async layerSummaries(): Promise<LayerHistorySummary[]> {
    const layers: LayerHistorySummary[] = [];
    const hidden = this.run.config.hidden;
    const { observatory, trainer } = this.run;
    for (let l = 1; l <= hidden.length; l++) {
      const training = { record: await observatory.readTrainRecord(l), step: trainer.step, window: observatory.frozenWindow };
      layers.push(summarizeUnitHistory(await observatory.readUnitHistory(l), hidden[l - 1].width, training));
    }
    return layers;
  }

  /**
   * The folder's latest checkpoint, summarized per hidden layer: what the report of a run a GPU error stopped says
   * (nothing on the GPU can be read then). Null when there is none.
   */
  static async lastGoodCheckpoint(config: RunConfig, paths: RunPaths): Promise<{ step: number; layers: LayerHistorySummary[] } | null> {
    // Read and checked like the checkpoint a resume continues from (a damaged one is set aside).
    const good = await newestGoodCheckpoint(paths, config, () => undefined);
    if (!good) return null;
    return { step: good.checkpoint.trainer.step, layers: RunSession.layerSummariesOf(config, good.checkpoint) };
  }

  /** Per hidden layer, the summary of its units' histories in a saved state. */
  static layerSummariesOf(config: RunConfig, state: CheckpointState): LayerHistorySummary[] {
    const observatory = state.observatory;
    if (!observatory) throw new RunDirError('the checkpoint has no observatory state (unit history)');
    return config.hidden.map((h, i) => {
      const record = observatory.trainRecord?.[i];
      const training = record ? { record, step: state.trainer.step, window: config.snapshot.frozenWindow } : undefined;
      return summarizeUnitHistory(observatory.unitHistory[i], h.width, training);
    });
  }

  /** The probe set the dead scan evaluates: every training row, or a fixed sample. */
  get probeUsed(): ProbeUsed {
    const { probe, dataset, config } = this.run;
    const task = dataset.bitflip ? 'inputs' : config.tasks.permuteInputs ? 'permuted' : undefined;
    return { all: probe.samples === dataset.samples, rows: probe.samples, ...(task ? { task } : {}) };
  }

  /** Wakes a reader waiting for snapshots from a lost device (they never come back). */
  abandonSnapshots(): void {
    this.run.observatory.destroy();
  }

  destroy(): void {
    this.run.destroy();
  }
}
