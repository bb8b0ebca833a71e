// The dead-unit observatory: per-unit statistics computed on the GPU inside the training command buffers,
// streamed back without ever making training wait. It plugs into the Trainer's chunks as hooks
// (./training-hooks.ts); what it runs is built in ./observatory-graph.ts, the way back is ./snapshot-ring.ts.
//
// Every step, inside the step: per hidden unit, whether its training pre-activation was > 0 (or non-finite) on any
// batch row, folded into its TrainRecord (src/spec/train-record.ts) — the frozen statistic; for layers with
// dropout, the drop runs of probe sample 0 (current and longest).
// Every `every` steps, after the step ends (and once at step 0, before training, in one submit or in pieces: see
// initialPiece):
//   probe forward pass without dropout -> dead bitmap (pre-activation <= 0 on every probe row, non-finite apart)
//   -> frozen and non-finite bitmaps from the training records (non-finite units leave the dead bitmap)
//   -> per-unit history (first death, deaths, revivals, last change) -> revived bitmap and counts;
//   the dropped bitmap is sample 0's dropout mask of the snapshot's last step.
// If a free staging buffer exists, the bitmaps, counts and the interval's losses are copied into it
// and mapped; otherwise the snapshot is skipped (counted) — the statistics on the GPU are still kept.
// A snapshot is handed on only once its chunk ran clean (./snapshot-ring.ts) and its canary agrees with the host
// (./snapshot-canary.ts); a canary that does not stops the run (Trainer.fail) and next() throws the GpuRunError.
import { AllocationCheck } from '../gpu/allocation-check';
import { readU32 } from '../gpu/buffers';
import { captureGpuErrors, labelsIn } from '../gpu/error-scopes';
import type { Dispatch } from '../gpu/dispatch';
import { FrozenKernel } from '../gpu/kernels/frozen';
import { UnitStatsKernel } from '../gpu/kernels/unitstats';
import { TRAIN_RECORD_WORDS, assumedActiveRecord } from '../spec/train-record';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import { GpuAllocationError, GpuRunError } from './gpu-faults';
import { buildObservatoryGraph, type ObservatoryGraph } from './observatory-graph';
import { bitmapWords } from '../spec/bitmaps';
import type { PartialSnapshot, Snapshot } from './snapshot';
import { SnapshotCanary } from './snapshot-canary';
import { SnapshotRing } from './snapshot-ring';
import type { Trainer } from './trainer';
import type { ChunkCheck, ChunkRecorder, TrainingHooks } from './training-hooks';

export type { LayerCounts, LayerSnapshot, PartialSnapshot, Snapshot } from './snapshot';

export interface ObservatoryOptions {
  /** Snapshot interval in steps (>= 1). */
  every: number;
  /** Probe inputs [rows, inputSize]: a fixed subset of the training data, evaluated without dropout. */
  probeInputs: Float32Array;
  probeRows: number;
  /** Staging buffers in flight; when all are busy a snapshot is skipped (default 3). */
  ringSize?: number;
  /** W: a unit is frozen once no training batch row gave it z > 0 (or a non-finite z) for W steps (default 100). */
  frozenWindow?: number;
  /** Snapshots expected: the probe pass's matmul tuning spends at most a small share of their time (see TrainerOptions.tuneForSteps). */
  tuneForSnapshots?: number;
  /**
   * At step 0, how the snapshot of the untrained network is taken: 'now' (default) in one submit as the observatory is
   * created; 'pieces': by the caller, a few probe slices at a time with initialPiece (a page shows the units proven
   * alive while the rest is measured). Both give the same snapshot, bit for bit.
   */
  initialSnapshot?: 'now' | 'pieces';
}

/** The frozen window W when none is given. */
export const DEFAULT_FROZEN_WINDOW = 100;

/** Everything a resumed run needs to continue the observatory bit for bit (see Observatory.readState). */
export interface ObservatoryState {
  /** Per hidden layer, its UnitHistory words [width, UNIT_HISTORY_WORDS] (see UnitHistoryField). */
  unitHistory: Uint32Array[];
  /**
   * Per hidden layer, its TrainRecord words [width, TRAIN_RECORD_WORDS] (see TrainRecordField). Absent in
   * checkpoints written before the frozen statistic: every unit then counts as active at the last step.
   */
  trainRecord?: Uint32Array[];
  /** Step of the latest snapshot taken or skipped; -1 before any. */
  lastSnapshotStep: number;
  /** Snapshots skipped so far. */
  skipped: number;
}

export class Observatory implements TrainingHooks {
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches: Dispatch[] = [];
  private readonly graph: ObservatoryGraph;
  private readonly ring: SnapshotRing;
  private readonly allocations: AllocationCheck;
  private readonly canary: SnapshotCanary;
  /** Step of the last snapshot handed on (its canary agreed). */
  private lastGoodStep: number;
  /** Unplugs the hooks from the trainer. */
  private unplug: () => void = () => undefined;
  private destroyed = false;
  /** Probe slices of the step-0 snapshot submitted so far, while it is taken in pieces; null: none to take that way. */
  private initialNext: number | null = null;
  readonly every: number;
  /** Rows of the probe set. */
  readonly probeRows: number;
  /** W of the frozen statistic, in steps. */
  readonly frozenWindow: number;

  private constructor(
    private readonly trainer: Trainer,
    stats: UnitStatsKernel,
    frozen: FrozenKernel,
    options: ObservatoryOptions,
  ) {
    const { spec } = trainer;
    if (!Number.isInteger(options.every) || options.every < 1) throw new RangeError(`snapshot every must be an integer >= 1, got ${options.every}`);
    if (options.probeRows < 1 || options.probeInputs.length !== options.probeRows * spec.inputSize) {
      throw new RangeError(`probe inputs hold ${options.probeInputs.length} values; expected probeRows ${options.probeRows} x inputSize ${spec.inputSize}`);
    }
    if ((spec.probeRows ?? 0) < options.probeRows) {
      throw new RangeError(`probe of ${options.probeRows} rows exceeds the ${spec.probeRows ?? 0} rows the model was laid out for (ModelSpec.probeRows)`);
    }
    this.every = options.every;
    this.probeRows = options.probeRows;
    this.frozenWindow = options.frozenWindow ?? DEFAULT_FROZEN_WINDOW;
    if (!Number.isInteger(this.frozenWindow) || this.frozenWindow < 1 || this.frozenWindow > 0xffffffff) {
      throw new RangeError(`frozen window must be an integer in [1, 2^32 - 1], got ${this.frozenWindow}`);
    }
    const device = trainer.gpu.device;
    this.allocations = new AllocationCheck(device);
    this.canary = new SnapshotCanary(spec, trainer.stepEndLabel);
    this.lastGoodStep = trainer.step;
    try {
      this.graph = buildObservatoryGraph({
        device,
        spec,
        kernels: trainer.kernels,
        model: trainer.buffers,
        stats,
        frozen,
        frozenWindow: this.frozenWindow,
        probeInputs: options.probeInputs,
        probeRows: options.probeRows,
        probeForTask: (base, rows, alloc) => trainer.probeForTask(base, rows, alloc),
        storage: (label, bytes) => this.allocations.storage(label, bytes),
        own: (buffer) => {
          this.buffers.push(buffer);
          return buffer;
        },
        keep: (d) => {
          this.dispatches.push(d);
          return d;
        },
      });
      const widths = spec.hidden.map((h) => h.width);
      this.ring = new SnapshotRing(
        (descriptor) => this.allocations.buffer(descriptor),
        widths,
        Math.min(this.every, trainer.lossHistoryCapacity),
        options.ringSize ?? 3,
      );
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  /** Builds the observatory and plugs it into `trainer`: from now on trainer.train() takes snapshots. */
  static async create(trainer: Trainer, options: ObservatoryOptions): Promise<Observatory> {
    const [stats, frozen] = await Promise.all([UnitStatsKernel.create(trainer.gpu), FrozenKernel.create(trainer.gpu)]);
    // Every buffer is created and known good before the observatory submits anything (see Trainer.create).
    const built = captureGpuErrors(trainer.gpu.device, () => new Observatory(trainer, stats, frozen, options));
    const observatory = built.result;
    const [failed, other] = await Promise.all([observatory.allocations.firstFailure(), built.errors]);
    if (failed || other) {
      observatory.destroy();
      if (failed) throw new GpuAllocationError(failed, trainer.layout.memory, trainer.gpu.adapter, trainer.spec);
      throw GpuRunError.fromScope(other!, 'Observatory.create', labelsIn(other!.message)[0] ?? null, trainer.step);
    }
    await trainer.kernels.matmul.tune(options.tuneForSnapshots); // the probe pass's products (see Trainer.create)
    const { setup } = observatory.graph;
    trainer.submitWork('Observatory.setup', (chunk) => setup.forEach((d) => chunk.dispatch(d)));
    for (const d of setup) d.destroy();
    observatory.unplug = trainer.addHooks(observatory);
    // The step-0 snapshot: what the network looks like before any training (born-dead units).
    if (trainer.step === 0) {
      if (options.initialSnapshot === 'pieces') observatory.initialNext = 0;
      else trainer.submitWork('Observatory.initial', (chunk) => observatory.takeSnapshot(0, chunk));
    }
    return observatory;
  }

  /** Snapshots skipped so far because the reader left every staging buffer busy. */
  get skipped(): number {
    return this.ring.skipped;
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Hooks: what the observatory records into the trainer's chunks

  /** @internal TrainingHooks: training scans and drop runs every step; at a snapshot step, also the dropout masks of that step. */
  insideStep(step: number): readonly Dispatch[] {
    return step % this.every === 0 ? [...this.graph.perStep, ...this.graph.maskBits] : this.graph.perStep;
  }

  /** @internal TrainingHooks: at a snapshot step, the snapshot. */
  afterStep(step: number, chunk: ChunkRecorder): void {
    if (step % this.every === 0) this.takeSnapshot(step, chunk);
  }

  /** @internal TrainingHooks: the snapshots recorded are on their way: map them, hand them on once `check` is clean. */
  afterSubmit(check: ChunkCheck): void {
    this.ring.submitted(check);
  }

  /** Slices the probe pass walks, probeChunkRows rows each: the pieces initialPiece counts in. */
  get probeSlices(): number {
    return this.graph.probeSlices.length;
  }

  /** Probe slices of the step-0 snapshot still to submit (created with initialSnapshot 'pieces'); 0 once none are. */
  get initialSlicesLeft(): number {
    return this.initialNext === null ? 0 : this.probeSlices - this.initialNext;
  }

  /**
   * Takes the next `slices` probe slices of the step-0 snapshot (initialSnapshot 'pieces'), in a submit of their own.
   * While rows are left, waits for them and reads back which units are proven not dead so far; the piece that measures
   * the last rows finishes the snapshot instead (it reaches next() like any other) and returns null. No training step
   * may run before the last piece: the probe pass reads the live parameters.
   */
  async initialPiece(slices: number): Promise<PartialSnapshot | null> {
    this.assertAlive();
    const from = this.initialNext;
    if (from === null || from >= this.probeSlices) throw new Error('the step-0 snapshot is not being taken in pieces, or was finished');
    if (!Number.isInteger(slices) || slices < 1) throw new RangeError(`a piece of the step-0 snapshot holds an integer >= 1 of probe slices, got ${slices}`);
    if (this.trainer.step !== 0) throw new Error(`the step-0 snapshot cannot go on at step ${this.trainer.step}`);
    const graph = this.graph;
    const to = Math.min(this.probeSlices, from + slices);
    const last = to === this.probeSlices;
    this.initialNext = to;
    this.trainer.submitWork(last ? 'Observatory.initial' : 'Observatory.initialPiece', (chunk) => {
      if (from === 0) for (const d of graph.probeStart) chunk.dispatch(d);
      for (let i = from; i < to; i++) chunk.dispatch(graph.probeSlices[i]);
      if (last) {
        for (const d of graph.probeEnd) chunk.dispatch(d);
        this.recordSnapshot(0, chunk);
      } else {
        for (const d of graph.undecidedPack) chunk.dispatch(d);
      }
    });
    if (last) return null;
    const widths = this.trainer.spec.hidden.map((h) => h.width);
    const layers: PartialSnapshot['layers'] = [];
    for (const [i, width] of widths.entries()) {
      const undecided = await this.read(graph.undecided[i], bitmapWords(width));
      layers.push({ width, proven: provenOf(undecided, width) });
    }
    const probeRows = this.probeRows;
    return { rowsMeasured: graph.sliceEnds[to - 1], probeRows, layers };
  }

  private takeSnapshot(step: number, chunk: ChunkRecorder): void {
    chunk.dispatch(this.graph.snapshotWork);
    this.recordSnapshot(step, chunk);
  }

  /** Copies the snapshot the graph just computed into a staging buffer (or counts it skipped). */
  private recordSnapshot(step: number, chunk: ChunkRecorder): void {
    const { lossHistory, lossHistoryCapacity, stepState } = this.trainer.buffers;
    chunk.copy((encoder) =>
      this.ring.record(encoder, { counts: this.graph.counts, layers: this.graph.layers, lossHistory, lossHistoryCapacity, stepState }, step),
    );
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Reading

  /**
   * The next snapshot, in step order; null once close() was called and none is left. The staging buffer is
   * released as soon as the snapshot is copied out, so a reader that does not call this makes snapshots skip.
   * Rejects with the run's GpuRunError once the run failed and the good snapshots before the failure were read.
   */
  async next(): Promise<Snapshot | null> {
    const snapshot = await this.ring.next();
    if (!snapshot) return null;
    const mismatch = this.canary.check(snapshot);
    if (mismatch) {
      const fault = this.trainer.fail(
        new GpuRunError({ kind: 'canary', detail: mismatch.detail, chunk: 'Trainer.steps', kernel: mismatch.kernel, lastGoodStep: this.lastGoodStep }),
      );
      this.ring.poison(fault, true);
      throw fault;
    }
    this.lastGoodStep = snapshot.step;
    return snapshot;
  }

  /** Async iteration over snapshots until close(). */
  async *snapshots(): AsyncGenerator<Snapshot> {
    for (;;) {
      const snapshot = await this.next();
      if (!snapshot) return;
      yield snapshot;
    }
  }

  /** No more training will follow: the iterator ends after the snapshots still in flight. */
  close(): void {
    this.ring.close();
  }

  /** For benchmarks: records the training scans of one step (the frozen statistic's per-step cost) into a pass. */
  encodeTrainingScans(pass: GPUComputePassEncoder): void {
    for (const d of this.graph.trainScans) d.encode(pass);
  }

  /** For benchmarks: records the monitoring work of one ordinary step (training scans, drop runs) into a pass. */
  encodePerStepWork(pass: GPUComputePassEncoder): void {
    for (const d of this.graph.perStep) d.encode(pass);
  }

  /** For benchmarks: records one snapshot's GPU work (mask bitmaps, probe pass, scans, history) into a pass. */
  encodeSnapshotWork(pass: GPUComputePassEncoder): void {
    for (const d of this.graph.maskBits) d.encode(pass);
    this.graph.snapshotWork.encode(pass);
  }

  /** Per-unit history of hidden layer `layer` (1-based): UNIT_HISTORY_WORDS u32 per unit (see UnitHistoryField). */
  async readUnitHistory(layer: number): Promise<Uint32Array> {
    const width = this.hiddenWidth(layer);
    return this.read(this.graph.layers[layer - 1].history, width * UNIT_HISTORY_WORDS);
  }

  /** Training record of hidden layer `layer` (1-based): TRAIN_RECORD_WORDS u32 per unit (see TrainRecordField). */
  async readTrainRecord(layer: number): Promise<Uint32Array> {
    const width = this.hiddenWidth(layer);
    return this.read(this.graph.layers[layer - 1].trainRecord, width * TRAIN_RECORD_WORDS);
  }

  /**
   * What a resumed run needs to continue the statistics bit for bit: the per-unit history and training record of
   * every hidden layer, the step of the latest snapshot and the skip count. Bitmaps and counts are not included: each
   * snapshot recomputes them from the parameters and the history.
   */
  async readState(): Promise<ObservatoryState> {
    this.assertAlive();
    const unitHistory: Uint32Array[] = [];
    const trainRecord: Uint32Array[] = [];
    for (let l = 1; l <= this.graph.layers.length; l++) {
      unitHistory.push(await this.readUnitHistory(l));
      trainRecord.push(await this.readTrainRecord(l));
    }
    return { unitHistory, trainRecord, lastSnapshotStep: this.ring.lastSnapshotStep, skipped: this.ring.skipped };
  }

  /** Restores a state from readState, after Trainer.writeState and before training continues. */
  writeState(state: ObservatoryState): void {
    this.assertAlive();
    const { spec, step } = this.trainer;
    const layers = this.graph.layers;
    if (state.unitHistory.length !== layers.length)
      throw new RangeError(`state has unit history for ${state.unitHistory.length} hidden layers; this model has ${layers.length}`);
    state.unitHistory.forEach((words, i) => {
      const expected = spec.hidden[i].width * UNIT_HISTORY_WORDS;
      if (words.length !== expected)
        throw new RangeError(
          `unit history of layer ${i + 1} holds ${words.length} words; expected width ${spec.hidden[i].width} x ${UNIT_HISTORY_WORDS} = ${expected}`,
        );
    });
    if (state.trainRecord && state.trainRecord.length !== layers.length)
      throw new RangeError(`state has training records for ${state.trainRecord.length} hidden layers; this model has ${layers.length}`);
    state.trainRecord?.forEach((words, i) => {
      const expected = spec.hidden[i].width * TRAIN_RECORD_WORDS;
      if (words.length !== expected)
        throw new RangeError(
          `training record of layer ${i + 1} holds ${words.length} words; expected width ${spec.hidden[i].width} x ${TRAIN_RECORD_WORDS} = ${expected}`,
        );
    });
    if (!Number.isSafeInteger(state.lastSnapshotStep) || state.lastSnapshotStep < -1 || state.lastSnapshotStep > step) {
      throw new RangeError(`last snapshot step ${state.lastSnapshotStep} is not in [-1, ${step}] (the trainer's step)`);
    }
    if (!Number.isSafeInteger(state.skipped) || state.skipped < 0)
      throw new RangeError(`skipped snapshots must be a non-negative integer, got ${state.skipped}`);
    const queue = this.trainer.gpu.device.queue;
    state.unitHistory.forEach((words, i) => queue.writeBuffer(layers[i].history, 0, words.buffer, words.byteOffset, words.byteLength));
    const records = state.trainRecord ?? spec.hidden.map((h) => assumedActiveRecord(h.width, step));
    records.forEach((words, i) => queue.writeBuffer(layers[i].trainRecord, 0, words.buffer, words.byteOffset, words.byteLength));
    this.ring.restore(state.lastSnapshotStep, state.skipped);
  }

  /** Per unit of hidden layer `layer` (1-based), how many probe rows gave a positive pre-activation at the last snapshot. */
  async readActiveCounts(layer: number): Promise<Uint32Array> {
    const width = this.hiddenWidth(layer);
    return this.read(this.graph.layers[layer - 1].active, width);
  }

  /**
   * Per unit of hidden layer `layer` (1-based), the fraction of the batch that dropout masked at the last
   * snapshot's final step (all zeros for a layer without dropout).
   */
  async readDroppedFraction(layer: number): Promise<Float32Array> {
    const width = this.hiddenWidth(layer);
    const buffer = this.graph.layers[layer - 1].droppedCounts;
    if (!buffer) return new Float32Array(width);
    const counts = await this.read(buffer, width);
    return Float32Array.from(counts, (c) => c / this.trainer.spec.batch);
  }

  /** Width of hidden layer `layer` (1-based), or a RangeError naming the valid layers. */
  private hiddenWidth(layer: number): number {
    const width = this.trainer.spec.hidden[layer - 1]?.width;
    if (width === undefined) throw new RangeError(`layer ${layer} is not a hidden layer (1..${this.trainer.spec.hidden.length})`);
    return width;
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error('Observatory was destroyed');
  }

  /** `words` u32 of one of its buffers, read only from a run whose chunks all ran clean (Trainer.readChecked). */
  private read(buffer: GPUBuffer, words: number): Promise<Uint32Array> {
    this.assertAlive();
    return this.trainer.readChecked(() => readU32(this.trainer.gpu.device, buffer, words));
  }

  /** Unplugs from the trainer and frees the observatory's buffers (not the trainer's). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.unplug();
    for (const d of this.dispatches) d.destroy();
    for (const b of this.buffers) b.destroy();
    this.ring?.destroy();
  }
}

/** Units proven not dead from those not decided yet: the complement within the layer's width. */
function provenOf(undecided: Uint32Array, width: number): Uint32Array {
  const proven = new Uint32Array(undecided.length);
  for (let w = 0; w < undecided.length; w++) {
    const left = width - w * 32;
    const valid = left >= 32 ? 0xffffffff : (1 << left) - 1;
    proven[w] = ~undecided[w] & valid;
  }
  return proven;
}
