// The dead-unit observatory: per-unit statistics computed on the GPU inside the training command
// buffers, streamed back through a ring of staging buffers without ever making training wait.
//
// Every step (only for layers with dropout): drop runs of probe sample 0 (current and longest).
// Every `every` steps, after the step ends (and once at step 0, before training):
//   probe forward pass without dropout -> dead bitmap (pre-activation <= 0 on every probe row)
//   -> per-unit history (first death, deaths, revivals, last change) -> revived bitmap and counts;
//   the dropped bitmap is sample 0's dropout mask of the snapshot's last step.
// If a free staging buffer exists, the bitmaps, counts and the interval's losses are copied into it
// and mapped; otherwise the snapshot is skipped (counted) — the statistics on the GPU are still kept.
import { createStorage, readU32, uploadStorage } from '../gpu/buffers';
import { composeDispatches, type Dispatch } from '../gpu/dispatch';
import { UnitStatsKernel } from '../gpu/kernels/unitstats';
import { LAYER_COUNTS, LayerCount } from '../spec/layer-counts';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import { rngKey } from '../spec/rng-streams';
import { bitmapWords } from '../spec/bitmaps';
import { probeChunkRows } from './model-spec';
import type { Trainer } from './trainer';

export interface ObservatoryOptions {
  /** Snapshot interval in steps (>= 1). */
  every: number;
  /** Probe inputs [rows, inputSize]: a fixed subset of the training data, evaluated without dropout. */
  probeInputs: Float32Array;
  probeRows: number;
  /** Staging buffers in flight; when all are busy a snapshot is skipped (default 3). */
  ringSize?: number;
}

export interface LayerCounts {
  /** Units dead at this snapshot. */
  dead: number;
  /** Units alive now that were dead at an earlier snapshot. */
  revived: number;
  /** Units dead at this or any earlier snapshot. */
  everDead: number;
  /** Units dropped for probe sample 0 at the snapshot's last step. */
  dropped: number;
}

export interface LayerSnapshot {
  width: number;
  /** 1 bit per unit: bit (u % 32) of word (u / 32). */
  dead: Uint32Array;
  dropped: Uint32Array;
  revived: Uint32Array;
  counts: LayerCounts;
}

export interface Snapshot {
  /** Training steps completed when the snapshot was taken (0: before the first step). */
  step: number;
  layers: LayerSnapshot[];
  /** Mean loss of each step since the previous snapshot (at most lossHistoryCapacity of them). */
  losses: Float32Array;
  /** Snapshots skipped before this one because every staging buffer was busy (a slow reader). */
  skipped: number;
  /** The single buffer every array above views: transfer it to move a snapshot across a Worker boundary. */
  buffer: ArrayBuffer;
}

/** Everything a resumed run needs to continue the observatory bit for bit (see Observatory.readState). */
export interface ObservatoryState {
  /** Per hidden layer, its UnitHistory words [width, UNIT_HISTORY_WORDS] (see UnitHistoryField). */
  unitHistory: Uint32Array[];
  /** Step of the latest snapshot taken or skipped; -1 before any. */
  lastSnapshotStep: number;
  /** Snapshots skipped so far. */
  skipped: number;
}

/** Where a snapshot's parts sit in a staging buffer, in u32 words. */
interface SlotLayout {
  counts: number;
  layers: { dead: number; dropped: number; revived: number; words: number }[];
  losses: number;
  lossCapacity: number;
  totalWords: number;
}

type SlotState = 'free' | 'encoded' | 'mapping' | 'ready';

interface Slot {
  buffer: GPUBuffer;
  state: SlotState;
  step: number;
  lossCount: number;
  /** Snapshots skipped before this one was taken. */
  skipped: number;
}

const U32 = 4;

export class Observatory {
  private readonly buffers: GPUBuffer[] = [];
  private readonly dispatches: Dispatch[] = [];
  /** Per step, inside the step: drop runs. */
  private readonly perStep: Dispatch[] = [];
  /** Inside the last step before a snapshot: sample 0's dropout masks and per-unit dropped counts over the batch. */
  private readonly maskBits: Dispatch[] = [];
  /** After end_step: probe pass, dead scan, history, counts. */
  private readonly snapshotWork: Dispatch;
  private readonly deadBits: GPUBuffer[] = [];
  private readonly droppedBits: GPUBuffer[] = [];
  private readonly revivedBits: GPUBuffer[] = [];
  private readonly history: GPUBuffer[] = [];
  private readonly activeCounts: GPUBuffer[] = [];
  /** Per hidden layer with dropout: batch rows that dropped each unit at the snapshot's last step. */
  private readonly droppedCounts: (GPUBuffer | undefined)[] = [];
  private readonly counts: GPUBuffer;
  private readonly slots: Slot[];
  private readonly slotLayout: SlotLayout;
  private readonly ready: Slot[] = [];
  private waiter: (() => void) | null = null;
  private lastSnapshotStep = -1;
  private skippedCount = 0;
  private closed = false;
  private destroyed = false;
  readonly every: number;

  private constructor(
    private readonly trainer: Trainer,
    private readonly stats: UnitStatsKernel,
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
    const device = trainer.gpu.device;
    const { blocks, layers, kernels } = trainer.internals();
    const hiddenCount = spec.hidden.length;
    const rows = options.probeRows;
    const alloc = (label: string, words: number) => {
      const buffer = createStorage(device, `Observatory.${label}`, words * U32);
      this.buffers.push(buffer);
      return buffer;
    };
    const keep = (d: Dispatch) => {
      this.dispatches.push(d);
      return d;
    };

    try {
      this.counts = alloc('counts', hiddenCount * LAYER_COUNTS);
      const probe = uploadStorage(device, 'Observatory.probe', options.probeInputs);
      this.buffers.push(probe);

      const work: Dispatch[] = [keep(stats.prepareClearCounts({ label: 'Observatory.clearCounts', counts: this.counts, count: hiddenCount * LAYER_COUNTS }))];
      for (let l = 1; l <= hiddenCount; l++) {
        const hidden = spec.hidden[l - 1];
        const width = hidden.width;
        const words = bitmapWords(width);
        this.deadBits.push(alloc(`dead${l}`, words));
        this.droppedBits.push(alloc(`dropped${l}`, words));
        this.revivedBits.push(alloc(`revived${l}`, words));
        this.activeCounts.push(alloc(`active${l}`, width));
        const history = alloc(`history${l}`, width * UNIT_HISTORY_WORDS);
        this.history.push(history);
        runOnce(device, stats.prepareResetHistory({ label: `Observatory.resetHistory${l}`, cols: width, history }));

        if (hidden.dropout > 0) {
          const key = rngKey(spec.seed, 'dropout', l);
          this.perStep.push(
            keep(stats.prepareDropRun({ label: `Observatory.dropRun${l}`, p: hidden.dropout, key, stepState: trainer.stepState, cols: width, history })),
          );
          const droppedCounts = alloc(`droppedCounts${l}`, width);
          this.droppedCounts.push(droppedCounts);
          this.maskBits.push(
            keep(
              kernels.dropout.prepareMaskBits({
                label: `Observatory.maskBits${l}`,
                p: hidden.dropout,
                key,
                stepState: trainer.stepState,
                sample: 0,
                cols: width,
                bits: this.droppedBits[l - 1],
              }),
            ),
            keep(
              stats.prepareDroppedFraction({
                label: `Observatory.droppedFraction${l}`,
                p: hidden.dropout,
                key,
                stepState: trainer.stepState,
                rows: spec.batch,
                cols: width,
                droppedCounts,
              }),
            ),
          );
        } else {
          this.droppedCounts.push(undefined);
        }
      }

      // Probe forward without dropout, a slice of probeChunkRows rows at a time through every layer (so the
      // buffers hold a slice, not the whole probe set): per block Zp = Ap_prev · W + b, scan, Ap = act(Zp).
      const chunkRows = Math.min(rows, probeChunkRows(spec));
      const zs = blocks.map((layerBlocks, l) =>
        layerBlocks.map((out) => (l >= 1 && l <= hiddenCount ? alloc(`probeZ${l}.${out.offset}`, chunkRows * out.width) : undefined)),
      );
      const as = blocks.map((layerBlocks, l) =>
        layerBlocks.map((out) => (l >= 1 && l < hiddenCount ? alloc(`probeA${l}.${out.offset}`, chunkRows * out.width) : undefined)),
      );
      for (let first = 0; first < rows; first += chunkRows) {
        const sliceRows = Math.min(chunkRows, rows - first);
        const slice = { first: first === 0, last: first + sliceRows === rows };
        const at = `${first}`;
        let previous: { buffer: GPUBuffer; width: number; offset: number }[] = [{ buffer: probe, width: spec.inputSize, offset: first * spec.inputSize }];
        for (let l = 1; l <= hiddenCount; l++) {
          const hidden = spec.hidden[l - 1];
          const outputs: { buffer: GPUBuffer; width: number; offset: number }[] = [];
          for (const [j, out] of blocks[l].entries()) {
            const z = zs[l][j]!;
            previous.forEach((inp, i) => {
              work.push(
                keep(
                  kernels.matmul.prepare({
                    label: `Observatory.probe${l}.${i}.${out.offset}@${at}`,
                    variant: 'nn',
                    m: sliceRows,
                    n: out.width,
                    k: inp.width,
                    a: { buffer: inp.buffer, offset: inp.offset, ld: inp.width },
                    b: { buffer: layers[l - 1].weights[i][j].value, ld: out.width },
                    c: { buffer: z, ld: out.width },
                    bias: i === 0 ? { buffer: layers[l - 1].bias[j].value } : undefined,
                    accumulate: i > 0,
                  }),
                ),
              );
            });
            work.push(
              keep(
                stats.prepareDeadScan({
                  label: `Observatory.deadScan${l}.${out.offset}@${at}`,
                  z: { buffer: z, ld: out.width },
                  rows: sliceRows,
                  cols: out.width,
                  unitOffset: out.offset,
                  deadBits: this.deadBits[l - 1],
                  activeCounts: this.activeCounts[l - 1],
                  slice,
                }),
              ),
            );
            if (l < hiddenCount) {
              const a = as[l][j]!;
              work.push(
                keep(
                  kernels.activation.prepareForward({
                    label: `Observatory.probeAct${l}.${out.offset}@${at}`,
                    activation: hidden.activation,
                    z,
                    a,
                    count: sliceRows * out.width,
                  }),
                ),
              );
              outputs.push({ buffer: a, width: out.width, offset: 0 });
            }
          }
          previous = outputs;
        }
      }

      for (let l = 1; l <= hiddenCount; l++) {
        work.push(
          keep(
            stats.prepareHistoryUpdate({
              label: `Observatory.history${l}`,
              stepState: trainer.stepState,
              cols: spec.hidden[l - 1].width,
              deadBits: this.deadBits[l - 1],
              droppedBits: this.droppedBits[l - 1],
              history: this.history[l - 1],
              revivedBits: this.revivedBits[l - 1],
              counts: this.counts,
              countsOffset: (l - 1) * LAYER_COUNTS,
            }),
          ),
        );
      }
      this.snapshotWork = composeDispatches('Observatory.snapshot', work);

      this.slotLayout = slotLayout(
        spec.hidden.map((h) => h.width),
        Math.min(this.every, trainer.lossHistoryCapacity),
      );
      this.slots = Array.from({ length: options.ringSize ?? 3 }, (_, i) => ({
        buffer: device.createBuffer({
          label: `Observatory.staging${i}`,
          size: this.slotLayout.totalWords * U32,
          usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
        }),
        state: 'free' as SlotState,
        step: 0,
        lossCount: 0,
        skipped: 0,
      }));
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  static async create(trainer: Trainer, options: ObservatoryOptions): Promise<Observatory> {
    const stats = await UnitStatsKernel.create(trainer.gpu);
    const observatory = new Observatory(trainer, stats, options);
    // The step-0 snapshot: what the network looks like before any training (born-dead units).
    if (trainer.step === 0) observatory.snapshotBeforeTraining();
    return observatory;
  }

  /** Snapshots skipped so far because the reader left every staging buffer busy. */
  get skipped(): number {
    return this.skippedCount;
  }

  private snapshotBeforeTraining(): void {
    const device = this.trainer.gpu.device;
    const encoder = device.createCommandEncoder({ label: 'Observatory.initial' });
    const pass = encoder.beginComputePass({ label: 'Observatory.initial' });
    this.snapshotWork.encode(pass);
    pass.end();
    const slot = this.encodeCopies(encoder, 0);
    device.queue.submit([encoder.finish()]);
    if (slot) this.map(slot);
  }

  /**
   * Trains `steps` steps with monitoring: K steps per command buffer as Trainer.train does, with
   * snapshot work recorded into the same command buffers every `every` steps.
   */
  async train(steps: number): Promise<void> {
    this.assertAlive();
    const { trainer } = this;
    const device = trainer.gpu.device;
    const K = trainer.spec.stepsPerSubmit;
    const inFlight: Promise<void>[] = [];
    let remaining = steps;
    while (remaining > 0) {
      const count = Math.min(K, remaining);
      const encoder = device.createCommandEncoder({ label: 'Observatory.steps' });
      let pass = encoder.beginComputePass({ label: 'Observatory.steps' });
      const encoded: Slot[] = [];
      for (let s = 0; s < count; s++) {
        const completed = trainer.step + s + 1;
        const snapshot = completed % this.every === 0;
        trainer.encodeStep(pass, snapshot ? [...this.perStep, ...this.maskBits] : this.perStep);
        if (!snapshot) continue;
        this.snapshotWork.encode(pass);
        pass.end();
        const slot = this.encodeCopies(encoder, completed);
        if (slot) encoded.push(slot);
        pass = encoder.beginComputePass({ label: 'Observatory.steps' });
      }
      pass.end();
      device.queue.submit([encoder.finish()]);
      trainer.noteStepsSubmitted(count);
      for (const slot of encoded) this.map(slot);
      remaining -= count;
      inFlight.push(device.queue.onSubmittedWorkDone());
      if (inFlight.length > 4) await inFlight.shift();
    }
    await device.queue.onSubmittedWorkDone();
  }

  /** Records copies of a snapshot into a free staging buffer; counts a skip and returns null when none is free. */
  private encodeCopies(encoder: GPUCommandEncoder, step: number): Slot | null {
    const slot = this.slots.find((s) => s.state === 'free');
    if (!slot) {
      this.skippedCount++;
      this.lastSnapshotStep = step;
      return null;
    }
    const layout = this.slotLayout;
    encoder.copyBufferToBuffer(this.counts, 0, slot.buffer, layout.counts * U32, this.deadBits.length * LAYER_COUNTS * U32);
    layout.layers.forEach((l, i) => {
      encoder.copyBufferToBuffer(this.deadBits[i], 0, slot.buffer, l.dead * U32, l.words * U32);
      encoder.copyBufferToBuffer(this.droppedBits[i], 0, slot.buffer, l.dropped * U32, l.words * U32);
      encoder.copyBufferToBuffer(this.revivedBits[i], 0, slot.buffer, l.revived * U32, l.words * U32);
    });
    // Losses of steps (lastSnapshotStep, step], read from the loss ring (at most two contiguous runs).
    const capacity = this.trainer.lossHistoryCapacity;
    const first = Math.max(this.lastSnapshotStep, step - layout.lossCapacity, 0);
    const lossCount = step - first;
    let written = 0;
    while (written < lossCount) {
      const ringIndex = (first + written) % capacity;
      const run = Math.min(lossCount - written, capacity - ringIndex);
      encoder.copyBufferToBuffer(this.trainer.internals().lossHistory, ringIndex * U32, slot.buffer, (layout.losses + written) * U32, run * U32);
      written += run;
    }
    slot.state = 'encoded';
    slot.step = step;
    slot.lossCount = lossCount;
    slot.skipped = this.skippedCount;
    this.lastSnapshotStep = step;
    return slot;
  }

  private map(slot: Slot): void {
    slot.state = 'mapping';
    slot.buffer.mapAsync(GPUMapMode.READ).then(
      () => {
        slot.state = 'ready';
        this.ready.push(slot);
        this.ready.sort((a, b) => a.step - b.step);
        this.wake();
      },
      () => {
        // Mapping fails only when the buffer was destroyed (observatory destroyed or device lost).
        slot.state = 'free';
        this.wake();
      },
    );
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Snapshots still on their way back from the GPU. */
  private pending(): number {
    return this.slots.filter((s) => s.state === 'encoded' || s.state === 'mapping').length;
  }

  /**
   * The next snapshot, in step order; null once close() was called and none is left. The staging buffer is
   * released as soon as the snapshot is copied out, so a reader that does not call this makes snapshots skip.
   */
  async next(): Promise<Snapshot | null> {
    for (;;) {
      // After destroy() the staging buffers are gone, mapped or not: nothing is left to read.
      if (this.destroyed) return null;
      const slot = this.ready.shift();
      if (slot) return this.take(slot);
      if (this.closed && this.pending() === 0) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
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
    this.closed = true;
    this.wake();
  }

  private take(slot: Slot): Snapshot {
    const layout = this.slotLayout;
    const buffer = slot.buffer.getMappedRange().slice(0);
    slot.buffer.unmap();
    slot.state = 'free';
    const words = new Uint32Array(buffer);
    const layers = layout.layers.map((l, i) => {
      const c = layout.counts + i * LAYER_COUNTS;
      return {
        width: this.trainer.spec.hidden[i].width,
        dead: new Uint32Array(buffer, l.dead * U32, l.words),
        dropped: new Uint32Array(buffer, l.dropped * U32, l.words),
        revived: new Uint32Array(buffer, l.revived * U32, l.words),
        counts: {
          dead: words[c + LayerCount.dead],
          revived: words[c + LayerCount.revived],
          everDead: words[c + LayerCount.everDead],
          dropped: words[c + LayerCount.dropped],
        },
      };
    });
    return { step: slot.step, layers, losses: new Float32Array(buffer, layout.losses * U32, slot.lossCount), skipped: slot.skipped, buffer };
  }

  /** For benchmarks: records the monitoring work of one ordinary step (drop runs) into a pass. */
  encodePerStepWork(pass: GPUComputePassEncoder): void {
    for (const d of this.perStep) d.encode(pass);
  }

  /** For benchmarks: records one snapshot's GPU work (mask bitmaps, probe pass, scans, history) into a pass. */
  encodeSnapshotWork(pass: GPUComputePassEncoder): void {
    for (const d of this.maskBits) d.encode(pass);
    this.snapshotWork.encode(pass);
  }

  /** Per-unit history of hidden layer `layer` (1-based): UNIT_HISTORY_WORDS u32 per unit (see UnitHistoryField). */
  async readUnitHistory(layer: number): Promise<Uint32Array> {
    const width = this.hiddenWidth(layer);
    return readU32(this.trainer.gpu.device, this.history[layer - 1], width * UNIT_HISTORY_WORDS);
  }

  /**
   * What a resumed run needs to continue the statistics bit for bit: the per-unit history of every hidden
   * layer, the step of the latest snapshot and the skip count. Bitmaps and counts are not included: each
   * snapshot recomputes them from the parameters and the history.
   */
  async readState(): Promise<ObservatoryState> {
    this.assertAlive();
    const unitHistory: Uint32Array[] = [];
    for (let l = 1; l <= this.history.length; l++) unitHistory.push(await this.readUnitHistory(l));
    return { unitHistory, lastSnapshotStep: this.lastSnapshotStep, skipped: this.skippedCount };
  }

  /** Restores a state from readState, after Trainer.writeState and before training continues. */
  writeState(state: ObservatoryState): void {
    this.assertAlive();
    const { spec, step } = this.trainer;
    if (state.unitHistory.length !== this.history.length)
      throw new RangeError(`state has unit history for ${state.unitHistory.length} hidden layers; this model has ${this.history.length}`);
    state.unitHistory.forEach((words, i) => {
      const expected = spec.hidden[i].width * UNIT_HISTORY_WORDS;
      if (words.length !== expected)
        throw new RangeError(
          `unit history of layer ${i + 1} holds ${words.length} words; expected width ${spec.hidden[i].width} x ${UNIT_HISTORY_WORDS} = ${expected}`,
        );
    });
    if (!Number.isSafeInteger(state.lastSnapshotStep) || state.lastSnapshotStep < -1 || state.lastSnapshotStep > step) {
      throw new RangeError(`last snapshot step ${state.lastSnapshotStep} is not in [-1, ${step}] (the trainer's step)`);
    }
    if (!Number.isSafeInteger(state.skipped) || state.skipped < 0)
      throw new RangeError(`skipped snapshots must be a non-negative integer, got ${state.skipped}`);
    const queue = this.trainer.gpu.device.queue;
    state.unitHistory.forEach((words, i) => queue.writeBuffer(this.history[i], 0, words.buffer, words.byteOffset, words.byteLength));
    this.lastSnapshotStep = state.lastSnapshotStep;
    this.skippedCount = state.skipped;
  }

  /** Per unit of hidden layer `layer` (1-based), how many probe rows gave a positive pre-activation at the last snapshot. */
  async readActiveCounts(layer: number): Promise<Uint32Array> {
    const width = this.hiddenWidth(layer);
    return readU32(this.trainer.gpu.device, this.activeCounts[layer - 1], width);
  }

  /**
   * Per unit of hidden layer `layer` (1-based), the fraction of the batch that dropout masked at the last
   * snapshot's final step (all zeros for a layer without dropout).
   */
  async readDroppedFraction(layer: number): Promise<Float32Array> {
    const width = this.hiddenWidth(layer);
    const buffer = this.droppedCounts[layer - 1];
    if (!buffer) return new Float32Array(width);
    const counts = await readU32(this.trainer.gpu.device, buffer, width);
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

  /** Frees the observatory's buffers (not the trainer's). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const d of this.dispatches) d.destroy();
    for (const b of this.buffers) b.destroy();
    for (const s of this.slots ?? []) s.buffer.destroy();
    this.ready.length = 0;
    this.wake();
  }
}

function slotLayout(widths: number[], lossCapacity: number): SlotLayout {
  let offset = 0;
  const counts = offset;
  offset += widths.length * LAYER_COUNTS;
  const layers = widths.map((width) => {
    const words = bitmapWords(width);
    const entry = { dead: offset, dropped: offset + words, revived: offset + 2 * words, words };
    offset += 3 * words;
    return entry;
  });
  const losses = offset;
  offset += lossCapacity;
  return { counts, layers, losses, lossCapacity, totalWords: Math.max(4, offset) };
}

function runOnce(device: GPUDevice, dispatch: Dispatch): void {
  const encoder = device.createCommandEncoder({ label: dispatch.label });
  const pass = encoder.beginComputePass({ label: dispatch.label });
  dispatch.encode(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
  dispatch.destroy();
}
