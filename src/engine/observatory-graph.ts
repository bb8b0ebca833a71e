// The observatory's GPU work as fixed lists of dispatches over its own buffers and the trainer's (see
// ./observatory.ts for when each list runs), built once like the step is (./step-graph.ts):
//   per step, inside it: the training scan of every hidden block (whether z > 0, or non-finite, on any batch row,
//   folded into the unit's TrainRecord: the frozen statistic); for layers with dropout, drop runs of probe sample 0;
//   inside the last step before a snapshot: sample 0's dropout mask bitmaps, per-unit dropped counts over the batch;
//   after that step ends: probe forward pass without dropout -> dead bitmap (pre-activation <= 0 on every probe
//   row; non-finite units apart) -> frozen and non-finite bitmaps from the training records -> per-unit history
//   (first death, deaths, revivals, last change) -> revived bitmap and counts.
import { composeDispatches, type Dispatch } from '../gpu/dispatch';
import type { FrozenKernel } from '../gpu/kernels/frozen';
import type { UnitStatsKernel } from '../gpu/kernels/unitstats';
import { bitmapWords } from '../spec/bitmaps';
import { LAYER_COUNTS, LayerCount } from '../spec/layer-counts';
import { rngKey } from '../spec/rng-streams';
import { TRAIN_RECORD_WORDS } from '../spec/train-record';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import type { Kernels, ModelBuffers } from './model-buffers';
import { probeChunkRows, probeSliceRows, type ModelSpec } from './model-spec';

/** What the observatory graph is built from. */
export interface ObservatoryGraphInput {
  device: GPUDevice;
  spec: ModelSpec;
  /** The trainer's kernels and buffers (the probe pass reads the live parameters). */
  kernels: Kernels;
  model: ModelBuffers;
  stats: UnitStatsKernel;
  frozen: FrozenKernel;
  /** W of the frozen statistic, in steps. */
  frozenWindow: number;
  /** Probe inputs [rows, inputSize]. */
  probeInputs: Float32Array;
  probeRows: number;
  /** Where the probe set follows the task (non-stationary runs): see Trainer.probeForTask. */
  probeForTask?: (base: GPUBuffer, rows: number, alloc: (label: string, elements: number) => GPUBuffer) => { probe: GPUBuffer; refresh: Dispatch } | undefined;
  /** Creates a storage buffer (inside the observatory's allocation check). */
  storage(label: string, byteLength: number): GPUBuffer;
  /** Registers a buffer the observatory owns and frees with itself. */
  own(buffer: GPUBuffer): GPUBuffer;
  /** Registers a dispatch the observatory destroys with itself. */
  keep(dispatch: Dispatch): Dispatch;
}

/** One hidden layer's statistics on the GPU. */
export interface LayerStatsBuffers {
  /** 1 bit per unit, bitmapWords(width) words each. */
  dead: GPUBuffer;
  /** Units with a NaN or ±Inf probe pre-activation (never dead); after the frozen pack, also the last step's batch. */
  nonFinite: GPUBuffer;
  frozen: GPUBuffer;
  /** Per unit: TRAIN_RECORD_WORDS words (see TrainRecordField). */
  trainRecord: GPUBuffer;
  dropped: GPUBuffer;
  revived: GPUBuffer;
  /** Per unit: probe rows with a positive pre-activation at the last snapshot. */
  active: GPUBuffer;
  /** Per unit: UNIT_HISTORY_WORDS words (see UnitHistoryField). */
  history: GPUBuffer;
  /** Per unit: batch rows that dropped it at the snapshot's last step (layers with dropout only). */
  droppedCounts?: GPUBuffer;
}

export interface ObservatoryGraph {
  /** Per hidden layer, LAYER_COUNTS words (see LayerCount). */
  counts: GPUBuffer;
  layers: LayerStatsBuffers[];
  /** Run once before anything else: clears every unit history and training record. */
  setup: Dispatch[];
  /** Inside every step: training scans and drop runs. */
  perStep: Dispatch[];
  /** The training scans alone (also in perStep): the frozen statistic's per-step cost, for the benchmark. */
  trainScans: Dispatch[];
  /** Inside the last step before a snapshot: sample 0's dropout masks and per-unit dropped counts over the batch. */
  maskBits: Dispatch[];
  /** After the snapshot's step ends: probe pass, dead scan, history, counts (probeStart, probeSlices, probeEnd in one). */
  snapshotWork: Dispatch;
  /**
   * The same work in parts, for a snapshot taken in several submits (the step-0 snapshot, see
   * ./step-zero-snapshot.ts): probeStart, then every probe slice in order, then probeEnd. Counts and bits are
   * integers summed with atomics, so the parts give the snapshot bit for bit whatever submits they are split into.
   */
  probeStart: Dispatch[];
  /** One per slice of probeChunkRows rows (the last may hold fewer). */
  probeSlices: Dispatch[];
  /** Frozen and non-finite packs, history, revived bitmap, counts. */
  probeEnd: Dispatch[];
  /** Probe rows measured once slice i has run: the end of its rows. */
  sliceEnds: number[];
  /**
   * Between slices: per layer, units with no positive and no non-finite probe pre-activation on any row measured so
   * far into `undecided` (dead_scan_pack into a buffer of its own: the snapshot's dead bitmap is untouched).
   */
  undecidedPack: Dispatch[];
  /** Per hidden layer, bitmapWords(width) words: what undecidedPack writes. */
  undecided: GPUBuffer[];
}

const U32 = 4;

export function buildObservatoryGraph(g: ObservatoryGraphInput): ObservatoryGraph {
  const { device, spec, stats, frozen, model } = g;
  const alloc = (label: string, words: number) => g.own(g.storage(`Observatory.${label}`, words * U32));
  const hiddenCount = spec.hidden.length;
  const counts = alloc('counts', hiddenCount * LAYER_COUNTS);
  const setup: Dispatch[] = [];
  const perStep: Dispatch[] = [];
  const maskBits: Dispatch[] = [];
  const trainScans: Dispatch[] = [];

  const layers = spec.hidden.map((hidden, i): LayerStatsBuffers => {
    const l = i + 1;
    const width = hidden.width;
    const words = bitmapWords(width);
    const layer: LayerStatsBuffers = {
      dead: alloc(`dead${l}`, words),
      nonFinite: alloc(`nonFinite${l}`, words),
      frozen: alloc(`frozen${l}`, words),
      trainRecord: alloc(`trainRecord${l}`, width * TRAIN_RECORD_WORDS),
      dropped: alloc(`dropped${l}`, words),
      revived: alloc(`revived${l}`, words),
      active: alloc(`active${l}`, width),
      history: alloc(`history${l}`, width * UNIT_HISTORY_WORDS),
    };
    setup.push(stats.prepareResetHistory({ label: `Observatory.resetHistory${l}`, cols: width, history: layer.history }));
    setup.push(frozen.prepareResetRecord({ label: `Observatory.resetRecord${l}`, cols: width, record: layer.trainRecord }));
    // The training pre-activations of every block, as the step computed them (Z is kept for the backward pass).
    for (const out of model.blocks[l]) {
      trainScans.push(
        g.keep(
          frozen.prepareTrainScan({
            label: `Observatory.trainScan${l}.${out.offset}`,
            z: { buffer: out.z, ld: out.width },
            rows: spec.batch,
            cols: out.width,
            unitOffset: out.offset,
            stepState: model.stepState,
            // Only relu has a zero derivative below 0; other units receive gradient from every finite row.
            gated: hidden.activation.kind === 'relu',
            window: g.frozenWindow,
            record: layer.trainRecord,
          }),
        ),
      );
    }
    if (hidden.dropout > 0) {
      layer.droppedCounts = alloc(`droppedCounts${l}`, width);
      const dropout = dropoutStats(g, l, layer.history, layer.dropped, layer.droppedCounts);
      perStep.push(dropout.perStep);
      maskBits.push(...dropout.maskBits);
    }
    return layer;
  });

  const probe = probePass(g, layers);
  const probeStart: Dispatch[] = [g.keep(stats.prepareClearCounts({ label: 'Observatory.clearCounts', counts, count: hiddenCount * LAYER_COUNTS }))];
  probeStart.push(...probe.start);
  const probeEnd: Dispatch[] = [];
  layers.forEach((layer, i) => {
    probeEnd.push(
      g.keep(
        frozen.prepareFrozenPack({
          label: `Observatory.frozenPack${i + 1}`,
          stepState: model.stepState,
          cols: spec.hidden[i].width,
          window: g.frozenWindow,
          record: layer.trainRecord,
          nonFiniteBits: layer.nonFinite,
          frozenBits: layer.frozen,
          deadBits: layer.dead,
          counts,
          countsOffset: i * LAYER_COUNTS + LayerCount.frozen,
        }),
      ),
    );
  });
  layers.forEach((layer, i) => {
    probeEnd.push(
      g.keep(
        stats.prepareHistoryUpdate({
          label: `Observatory.history${i + 1}`,
          stepState: model.stepState,
          cols: spec.hidden[i].width,
          deadBits: layer.dead,
          droppedBits: layer.dropped,
          history: layer.history,
          revivedBits: layer.revived,
          counts,
          countsOffset: i * LAYER_COUNTS,
        }),
      ),
    );
  });
  const undecided = spec.hidden.map((hidden, i) => alloc(`undecided${i + 1}`, bitmapWords(hidden.width)));
  const undecidedPack = layers.map((layer, i) =>
    g.keep(
      stats.prepareDeadPack({
        label: `Observatory.undecidedPack${i + 1}`,
        cols: spec.hidden[i].width,
        activeCounts: layer.active,
        nonFiniteBits: layer.nonFinite,
        deadBits: undecided[i],
      }),
    ),
  );
  const work = [...probeStart, ...probe.slices, ...probeEnd];
  return {
    counts,
    layers,
    setup,
    perStep: [...trainScans, ...perStep],
    trainScans,
    maskBits,
    snapshotWork: composeDispatches('Observatory.snapshot', work),
    probeStart,
    probeSlices: probe.slices,
    probeEnd,
    sliceEnds: probe.sliceEnds,
    undecidedPack,
    undecided,
  };
}

/** Hidden layer l's dropout statistics: its drop runs (every step), its mask bitmap and dropped counts (a snapshot's step). */
function dropoutStats(
  g: ObservatoryGraphInput,
  l: number,
  history: GPUBuffer,
  droppedBits: GPUBuffer,
  droppedCounts: GPUBuffer,
): { perStep: Dispatch; maskBits: Dispatch[] } {
  const { spec, stats, kernels, model } = g;
  const { width, dropout: p } = spec.hidden[l - 1];
  // The trainer's own dropout stream of this layer: the statistics see the very masks training used.
  const key = rngKey(spec.seed, 'dropout', l);
  const stepState = model.stepState;
  return {
    perStep: g.keep(stats.prepareDropRun({ label: `Observatory.dropRun${l}`, p, key, stepState, cols: width, history })),
    maskBits: [
      g.keep(kernels.dropout.prepareMaskBits({ label: `Observatory.maskBits${l}`, p, key, stepState, sample: 0, cols: width, bits: droppedBits })),
      g.keep(
        stats.prepareDroppedFraction({
          label: `Observatory.droppedFraction${l}`,
          p,
          key,
          stepState,
          rows: spec.batch,
          cols: width,
          droppedCounts,
        }),
      ),
    ],
  };
}

/**
 * Probe forward without dropout, a slice of probeChunkRows rows at a time through every layer (so the buffers
 * hold a slice, not the whole probe set): per block Zp = Ap_prev · W + b, dead scan, Ap = act(Zp).
 */
function probePass(g: ObservatoryGraphInput, layers: readonly LayerStatsBuffers[]): { start: Dispatch[]; slices: Dispatch[]; sliceEnds: number[] } {
  const { device, spec, kernels, stats, model } = g;
  const { blocks } = model;
  const hiddenCount = spec.hidden.length;
  const rows = g.probeRows;
  const start: Dispatch[] = [];
  const slices: Dispatch[] = [];
  const alloc = (label: string, elements: number) => g.own(g.storage(`Observatory.${label}`, elements * U32));
  const base = g.own(g.storage('Observatory.probe', g.probeInputs.byteLength));
  device.queue.writeBuffer(base, 0, g.probeInputs.buffer, g.probeInputs.byteOffset, g.probeInputs.byteLength);
  // In a non-stationary run "dead" means dead on the current task's inputs: the probe set is rewritten for the
  // task before every pass.
  const task = g.probeForTask?.(base, rows, alloc);
  if (task) start.push(g.keep(task.refresh));
  const probe = task?.probe ?? base;
  const chunkRows = Math.min(rows, probeChunkRows(spec));
  const zs = blocks.map((layerBlocks, l) =>
    layerBlocks.map((out) => (l >= 1 && l <= hiddenCount ? alloc(`probeZ${l}.${out.offset}`, chunkRows * out.width) : undefined)),
  );
  const as = blocks.map((layerBlocks, l) =>
    layerBlocks.map((out) => (l >= 1 && l < hiddenCount ? alloc(`probeA${l}.${out.offset}`, chunkRows * out.width) : undefined)),
  );
  const sliceEnds: number[] = [];
  let first = 0;
  for (const sliceRows of probeSliceRows(spec, rows)) {
    sliceEnds.push(first + sliceRows);
    const slice = { first: first === 0, last: first + sliceRows === rows };
    const at = `${first}`;
    const work: Dispatch[] = [];
    let previous: { buffer: GPUBuffer; width: number; offset: number }[] = [{ buffer: probe, width: spec.inputSize, offset: first * spec.inputSize }];
    for (let l = 1; l <= hiddenCount; l++) {
      const hidden = spec.hidden[l - 1];
      const outputs: { buffer: GPUBuffer; width: number; offset: number }[] = [];
      for (const [j, out] of blocks[l].entries()) {
        const z = zs[l][j]!;
        previous.forEach((inp, i) => {
          work.push(
            g.keep(
              kernels.matmul.prepare({
                label: `Observatory.probe${l}.${i}.${out.offset}@${at}`,
                variant: 'nn',
                m: sliceRows,
                n: out.width,
                k: inp.width,
                a: { buffer: inp.buffer, offset: inp.offset, ld: inp.width },
                b: { buffer: model.layers[l - 1].weights[i][j].value, ld: out.width },
                c: { buffer: z, ld: out.width },
                bias: i === 0 ? { buffer: model.layers[l - 1].bias[j].value } : undefined,
                accumulate: i > 0,
              }),
            ),
          );
        });
        work.push(
          g.keep(
            stats.prepareDeadScan({
              label: `Observatory.deadScan${l}.${out.offset}@${at}`,
              z: { buffer: z, ld: out.width },
              rows: sliceRows,
              cols: out.width,
              unitOffset: out.offset,
              deadBits: layers[l - 1].dead,
              nonFiniteBits: layers[l - 1].nonFinite,
              activeCounts: layers[l - 1].active,
              slice,
            }),
          ),
        );
        if (l < hiddenCount) {
          const a = as[l][j]!;
          work.push(
            g.keep(
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
    // Not kept: its parts are (destroying both would destroy them twice).
    slices.push(composeDispatches(`Observatory.probeSlice@${at}`, work));
    first += sliceRows;
  }
  return { start, slices, sliceEnds };
}
