// One run built on the GPU for the session: trainer, observatory and probe set, and the task that hands the
// observatory's snapshots to the session's sink. The observatory can be replaced (a new snapshot interval) without
// losing the per-unit history. Its GPU work must go through the session's lock (one chunk or readback at a time).
import { type RunConfig } from '../../config';
import type { Dataset, ProbeSet } from '../../data';
import type { Throughput } from '../../engine/cost-model';
import type { Observatory, PartialSnapshot } from '../../engine/observatory';
import { openObservatory, openRun, type RunData } from '../../engine/open-run';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import { estimateBuiltRun, type RunEstimate } from '../../engine/run-estimate';
import type { Trainer } from '../../engine/trainer';
import type { GpuContext } from '../../gpu/device';
import type { CheckpointState } from '../../io/checkpoint';
import { stateBytes } from './device-loss-saver';

export class LiveRun {
  /** Where snapshots go; null until streamTo. */
  private sink: SnapshotSink | null = null;
  private failed: (error: unknown) => void = () => undefined;
  /** Hands the current observatory's snapshots to the sink; ends when that observatory is closed or destroyed. */
  private consumer: Promise<void> = Promise.resolve();
  /** Settles once the first snapshot was handed over, or the stream ended without one. */
  private firstHandedOver: Promise<void> = Promise.resolve();
  /** Settles firstHandedOver. */
  private handedOver: () => void = () => undefined;
  /** While the observatory is being replaced: its stream ending is not the end of the run's stream. */
  private replacing = false;

  private constructor(
    /** May change while the run goes on in what it does not train differently (steps, snapshot interval). */
    public config: RunConfig,
    private readonly trainer: Trainer,
    private observatory: Observatory,
    private readonly probe: ProbeSet,
  ) {}

  /**
   * Builds the run at step 0, or at the step of `saved`, taking a snapshot every `every` steps. At step 0 the snapshot
   * of the untrained network is left to stepZeroPiece. `probeChunkRows`: rows per probe slice (tests set it low).
   */
  static async open(
    gpu: GpuContext,
    config: RunConfig,
    every: number,
    saved: CheckpointState | null,
    data: RunData<Dataset, ProbeSet>,
    probeChunkRows?: number,
  ): Promise<LiveRun> {
    const { trainer, observatory, probe } = await openRun(gpu, { config, data, snapshotEvery: every, saved, initialSnapshot: 'pieces', probeChunkRows });
    return new LiveRun(config, trainer, observatory, probe);
  }

  /**
   * Starts handing snapshots (the step-0 one first, on a fresh run) to `sink`, this observatory's and the next ones'.
   * A run that fails on the GPU ends the stream with its GpuRunError, given to `failed`.
   */
  streamTo(sink: SnapshotSink, failed: (error: unknown) => void): void {
    this.sink = sink;
    this.failed = failed;
    this.firstHandedOver = new Promise<void>((resolve) => (this.handedOver = resolve));
    this.consumer = this.consume(sink);
  }

  /** Probe slices of the step-0 snapshot still to take (0 when it was taken, or the run did not start at step 0). */
  get stepZeroSlicesLeft(): number {
    return this.observatory.initialSlicesLeft;
  }

  /**
   * The next `slices` probe slices of the step-0 snapshot: the units proven not dead so far, or null when this piece
   * finished the snapshot (it reaches the sink like any other).
   */
  stepZeroPiece(slices: number): Promise<PartialSnapshot | null> {
    return this.observatory.initialPiece(slices);
  }

  /**
   * Resolves once the first snapshot since streamTo (on a fresh run, the network before training) reached the sink, or
   * the stream ended without one (destroyed, device lost, a GPU error).
   */
  firstSnapshot(): Promise<void> {
    return this.firstHandedOver;
  }

  /** Training steps completed. */
  get step(): number {
    return this.trainer.step;
  }

  get finished(): boolean {
    return this.trainer.step >= this.config.steps;
  }

  /** Hidden layer widths, first to last. */
  get widths(): number[] {
    return this.config.hidden.map((h) => h.width);
  }

  /** Bytes a saved state of this run reads back. */
  get stateBytes(): number {
    return stateBytes(this.config, this.trainer.spec.optimizer, this.trainer.lossHistoryCapacity);
  }

  /** Trains `steps` steps; `progress` hears how many of them the GPU has finished. */
  train(steps: number, progress?: (done: number) => void): Promise<void> {
    return this.trainer.train(steps, progress);
  }

  /** What a step and a snapshot of this run cost at `throughput`, and the GPU memory it takes. */
  estimate(throughput: Throughput): RunEstimate {
    return estimateBuiltRun(this.trainer, throughput);
  }

  readUnitHistory(layer: number): Promise<Uint32Array> {
    return this.observatory.readUnitHistory(layer);
  }

  /** The training record behind "frozen" of hidden layer `layer` (1-based). */
  readTrainRecord(layer: number): Promise<Uint32Array> {
    return this.observatory.readTrainRecord(layer);
  }

  /** W of the frozen statistic. */
  get frozenWindow(): number {
    return this.observatory.frozenWindow;
  }

  async readState(): Promise<CheckpointState> {
    return { trainer: await this.trainer.readState(), observatory: await this.observatory.readState() };
  }

  /** A new observatory with another snapshot interval, carrying over the per-unit history (between chunks). */
  async replaceObservatory(every: number): Promise<void> {
    const state = await this.observatory.readState();
    // A step-0 snapshot still being taken in pieces starts over on the new observatory (the same numbers).
    const pieces = this.observatory.initialSlicesLeft > 0;
    this.replacing = true;
    try {
      this.observatory.close();
      await this.consumer;
    } finally {
      this.replacing = false;
    }
    this.observatory.destroy();
    const observatory = await openObservatory(this.trainer, this.probe, every, this.observatory.frozenWindow, undefined, pieces ? 'pieces' : 'now');
    observatory.writeState(state);
    this.observatory = observatory;
    if (this.sink) this.consumer = this.consume(this.sink);
  }

  /** Destroys one of the trainer's weight buffers: the next chunk fails on the GPU (the `force-gpu-error` command). */
  forceGpuError(): void {
    this.trainer.buffers.layers[0].weights[0][0].value.destroy();
  }

  /** Frees the GPU buffers (snapshots still on their way are dropped). */
  destroy(): void {
    this.observatory.destroy();
    this.trainer.destroy();
  }

  /** Resolves once the last snapshot was handed over (after destroy). */
  async closed(): Promise<void> {
    await this.consumer;
  }

  private async consume(sink: SnapshotSink): Promise<void> {
    try {
      for await (const snapshot of this.observatory.snapshots()) {
        await sink.onSnapshot(snapshot);
        this.handedOver();
      }
    } catch (error) {
      this.failed(error);
    } finally {
      if (!this.replacing) this.handedOver();
    }
  }
}
