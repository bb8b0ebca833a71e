// The dead-unit observatory on the GPU (shaders/unitstats.wgsl): dead scan of the probe set, per-unit
// history at snapshots, consecutive-drop runs every step, dropped fraction of the batch.
//
// Definitions (mirrored by src/reference/unitstats.ts):
// - Dropped at step t: masked by dropout at step t for batch row 0; the bitmap is the dropout kernel's
//   (DropoutKernel.prepareMaskBits with sample 0), the per-unit batch fraction is prepareDroppedFraction.
// - Dead at a snapshot: pre-activation <= 0 on EVERY probe row (probe pass without dropout), every row finite.
// - Non-finite at a snapshot: NaN or ±Inf on some probe row; never dead (src/gpu/kernels/frozen.ts adds the
//   training batch's non-finite units, and the frozen state).
// - Revived: dead at an earlier snapshot, alive now.
// - Consecutive drops: run = dropped(t) ? run + 1 : 0, longest = max(longest, run), every step.
//
// When the engine encodes what (StepState.step is the step being computed between begin_step and
// end_step, and the number of completed steps after end_step):
// - every step, inside the step: prepareDropRun (needs the step's own mask);
// - at a snapshot after step t-1 completed (state.step = t): prepareDeadScan per column block, then
//   prepareClearCounts once, then prepareHistoryUpdate per layer; the snapshot is labelled t.
//   droppedBits (and prepareDroppedFraction) describe the masks of the step they were encoded in: encode
//   them inside step t-1, e.g. after its dropout forward, so that they belong to the same snapshot.
//
// Buffers (all caller-owned; indices are global unit indices of the layer):
//   deadBits, revivedBits, droppedBits, nonFiniteBits  ceil(width / 32) u32 words, bit (u % 32) of word (u / 32)
//   activeCounts, droppedCounts         width u32
//   history                             width x 8 u32 (struct UnitHistory; see UnitHistoryField)
//   counts                              4 u32 per layer at countsOffset (see LayerCount)
import source from '../../../shaders/unitstats.wgsl?raw';
import { dropoutThreshold } from '../../spec/dropout-rate.js';
import { LAYER_COUNTS } from '../../spec/layer-counts.js';
import { UNIT_HISTORY_WORDS } from '../../spec/unit-history.js';
import { bitmapWords } from '../../spec/bitmaps.js';
import type { MatrixRef } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { composeDispatches, prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

const U32_MAX = 0xffffffff;
/**
 * The shader's workgroup overrides. dead_scan_count: SCAN_TILE columns (one bitmap word, so 32) x SCAN_LANES row
 * lanes. dropped_fraction: FRACTION_GROUPS groups of 4 units x FRACTION_LANES row lanes. Every other entry point:
 * WG units (a multiple of 32: whole bitmap words) or counters.
 */
const WORKGROUP = { SCAN_TILE: 32, SCAN_LANES: 8, FRACTION_GROUPS: 32, FRACTION_LANES: 8, WG: 256 } as const;
const { SCAN_TILE, SCAN_LANES, FRACTION_GROUPS, WG } = WORKGROUP;
/** Rows one scan workgroup covers at least, once the probe set is split into chunks. */
const MIN_CHUNK_ROWS = 256;
/** Enough scan workgroups to fill a large GPU; below this, tall probe sets are split along rows. */
const TARGET_SCAN_WORKGROUPS = 1024;

export interface DeadScanArgs {
  label: string;
  /** Probe pre-activations of this column block, [rows, cols]. */
  z: MatrixRef;
  /** Probe rows (0 is allowed: every unit is then vacuously dead). */
  rows: number;
  /** Units in this block. */
  cols: number;
  /** Global unit index of the block's first column; a multiple of 32 so the block owns whole words. Default 0. */
  unitOffset?: number;
  /** Out: the whole layer's dead bitmap (no active row, no non-finite row); this block writes words unitOffset / 32 .. + ceil(cols / 32). */
  deadBits: GPUBuffer;
  /** Out: the whole layer's bitmap of units with a NaN or ±Inf probe pre-activation (never dead); same words. */
  nonFiniteBits: GPUBuffer;
  /** Out: the whole layer's u32 count of probe rows with z > 0; this block writes [unitOffset, unitOffset + cols). */
  activeCounts: GPUBuffer;
  /**
   * Rows per workgroup along the probe set (a multiple of 8). Default: all rows in one pass unless the block
   * is too narrow to fill the GPU. Tests set it to exercise the multi-pass path (atomics + pack).
   */
  rowsPerWorkgroup?: number;
  /**
   * Which slice of a probe set walked in several scans (rows of z are then this slice's rows only): the
   * first zeroes the counts, every slice adds its active rows, the last packs the dead bits. Default: the
   * whole probe set in this one scan.
   */
  slice?: { first: boolean; last: boolean };
}

export interface DeadPackArgs {
  label: string;
  /** Units packed. */
  cols: number;
  /** Global unit index of the first; a multiple of 32. Default 0. */
  unitOffset?: number;
  /** In: u32 per unit, probe rows with z > 0 so far (prepareDeadScan's activeCounts). */
  activeCounts: GPUBuffer;
  /** In: units with a non-finite probe pre-activation so far. */
  nonFiniteBits: GPUBuffer;
  /** Out: units with neither. */
  deadBits: GPUBuffer;
}

export interface HistoryUpdateArgs {
  label: string;
  /** StepState: `step` labels the snapshot (encode after end_step: completed steps). */
  stepState: GPUBuffer;
  /** Layer width (the history covers the whole layer). */
  cols: number;
  /** Dead bitmap of this snapshot (prepareDeadScan over every block). */
  deadBits: GPUBuffer;
  /** Dropped bitmap of sample 0 (DropoutKernel.prepareMaskBits over the whole layer, sample 0); counted only. */
  droppedBits: GPUBuffer;
  /** cols x 8 u32, updated in place. */
  history: GPUBuffer;
  /** Out: alive now and dead at an earlier snapshot. */
  revivedBits: GPUBuffer;
  /** Per-layer totals: counts[countsOffset + LayerCount.*] += this layer's numbers (clear first). */
  counts: GPUBuffer;
  countsOffset: number;
}

export interface DropRunArgs {
  label: string;
  /** Drop probability in [0, 1) of this layer's dropout. */
  p: number;
  /** rngKey(seed, 'dropout', layer): the same key as the layer's DropoutKernel dispatches. */
  key: readonly [number, number];
  /** StepState: `step` is the step being computed (encode inside the step). */
  stepState: GPUBuffer;
  /** Units covered (the whole layer, or a block). */
  cols: number;
  /** Global unit index of the first unit, default 0. */
  unitOffset?: number;
  /** The whole layer's history (global unit index); drop_run and longest_drop_run are updated. */
  history: GPUBuffer;
}

export interface DroppedFractionArgs {
  label: string;
  p: number;
  key: readonly [number, number];
  /** StepState: `step` selects the masks (encode inside the step they describe). */
  stepState: GPUBuffer;
  /** Batch rows (row r is sample r of the dropout mask). */
  rows: number;
  cols: number;
  unitOffset?: number;
  /** Out: u32 per unit, global unit index: rows that dropped the unit (fraction = count / rows). */
  droppedCounts: GPUBuffer;
}

export interface ClearCountsArgs {
  label: string;
  counts: GPUBuffer;
  /** First counter to zero (u32 index). */
  countsOffset?: number;
  /** Counters to zero, default LAYER_COUNTS (one layer). */
  count?: number;
}

export interface ResetHistoryArgs {
  label: string;
  /** Layer width. */
  cols: number;
  history: GPUBuffer;
}

type EntryPoint =
  | 'dead_scan_count'
  | 'dead_scan_clear'
  | 'dead_scan_pack'
  | 'history_update'
  | 'reset_history'
  | 'clear_counts'
  | 'drop_run'
  | 'dropped_fraction';

const ENTRY_POINTS: readonly EntryPoint[] = [
  'dead_scan_count',
  'dead_scan_clear',
  'dead_scan_pack',
  'history_update',
  'reset_history',
  'clear_counts',
  'drop_run',
  'dropped_fraction',
];

/** Binding indices of shaders/unitstats.wgsl. */
const B = {
  params: 0,
  stepState: 1,
  z: 2,
  activeCounts: 3,
  deadBits: 4,
  droppedBits: 5,
  history: 6,
  revivedBits: 7,
  counts: 8,
  droppedCounts: 9,
  nonFiniteBits: 10,
} as const;

export const UNITSTATS_PARAMS = wgslStruct('unitstats.wgsl', 'Params', {
  rows: 'u32',
  cols: 'u32',
  unitOffset: 'u32',
  zOffset: 'u32',
  ld: 'u32',
  colTiles: 'u32',
  chunkRows: 'u32',
  chunks: 'u32',
  threshold: 'u32',
  key0: 'u32',
  key1: 'u32',
  countsOffset: 'u32',
  invocations: 'u32',
  singlePass: 'u32',
});

/** UNITSTATS_PARAMS by meaning: each entry point reads only some fields, the others are 0. */
interface ParamFields {
  rows?: number;
  cols: number;
  unitOffset?: number;
  zOffset?: number;
  ld?: number;
  colTiles?: number;
  chunkRows?: number;
  chunks?: number;
  threshold?: number;
  key?: readonly [number, number];
  countsOffset?: number;
  invocations: number;
  singlePass?: boolean;
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

function checkWords(label: string, name: string, buffer: GPUBuffer, words: number): void {
  if (words * 4 > buffer.size) throw new RangeError(`${label}: ${name} needs ${words} u32 words but its buffer holds ${buffer.size / 4}`);
}

function checkDistinct(label: string, buffers: Record<string, GPUBuffer>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, buffer] of Object.entries(buffers)) {
    const other = seen.get(buffer);
    if (other) throw new RangeError(`${label}: ${other} and ${name} must be different buffers (WebGPU forbids aliasing a writable binding)`);
    seen.set(buffer, name);
  }
}

function checkUnits(label: string, cols: number, unitOffset: number): void {
  checkU32(`${label}: cols`, cols);
  checkU32(`${label}: unitOffset`, unitOffset);
  if (unitOffset + cols > U32_MAX) throw new RangeError(`${label}: unitOffset + cols = ${unitOffset + cols} exceeds u32`);
}

/** Groups of 4 units (one Philox call each) that intersect [unitOffset, unitOffset + cols). */
function philoxGroups(cols: number, unitOffset: number): number {
  return cols === 0 ? 0 : ((unitOffset + cols - 1) >>> 2) - (unitOffset >>> 2) + 1;
}

/**
 * Rows per dead-scan workgroup: all of them (one pass: counts and words together) unless the block has
 * fewer than TARGET_SCAN_WORKGROUPS words, in which case tall probe sets are split into chunks of at least
 * MIN_CHUNK_ROWS rows so that more workgroups share the memory traffic.
 */
export function deadScanRowsPerWorkgroup(rows: number, cols: number): number {
  const colTiles = Math.max(1, Math.ceil(cols / SCAN_TILE));
  const chunks = Math.max(1, Math.min(Math.ceil(TARGET_SCAN_WORKGROUPS / colTiles), Math.floor(rows / MIN_CHUNK_ROWS)));
  return Math.max(SCAN_LANES, Math.ceil(Math.ceil(rows / chunks) / SCAN_LANES) * SCAN_LANES);
}

export class UnitStatsKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Readonly<Record<EntryPoint, GPUComputePipeline>>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<UnitStatsKernel> {
    const compiled = await Promise.all(
      ENTRY_POINTS.map((entryPoint) => computePipeline(gpu.device, { family: 'UnitStats', source, entryPoint, usesDropoutMask: true, constants: WORKGROUP })),
    );
    const pipelines = Object.fromEntries(ENTRY_POINTS.map((e, i) => [e, compiled[i]])) as Record<EntryPoint, GPUComputePipeline>;
    return new UnitStatsKernel(gpu.device, pipelines, options.maxWorkgroupsPerDimension);
  }

  /**
   * Dead scan of one column block of the probe pre-activations: activeCounts[u] = #{r : z[r, u] > 0, finite},
   * nonFiniteBits bit u = (some z[r, u] is NaN or ±Inf), deadBits bit u = (activeCounts[u] == 0 and not
   * non-finite), for the block's units u. One pass when the block's whole
   * column fits a workgroup's chunk, else three (zero counts, u32 atomic adds per chunk, pack words).
   */
  prepareDeadScan(a: DeadScanArgs): Dispatch {
    const { label, rows, cols, unitOffset = 0 } = a;
    checkUnits(label, cols, unitOffset);
    checkU32(`${label}: rows`, rows);
    if (unitOffset % 32 !== 0) throw new RangeError(`${label}: unitOffset = ${unitOffset} must be a multiple of 32 (blocks own whole bitmap words)`);
    const zOffset = a.z.offset ?? 0;
    checkU32(`${label}: z.offset`, zOffset);
    checkU32(`${label}: z.ld`, a.z.ld);
    if (a.z.ld < cols) throw new RangeError(`${label}: z.ld = ${a.z.ld} is less than cols = ${cols}`);
    const needed = rows === 0 || cols === 0 ? 0 : zOffset + (rows - 1) * a.z.ld + cols;
    if (needed > U32_MAX) throw new RangeError(`${label}: z spans ${needed} elements, beyond 32-bit indexing`);
    checkWords(label, 'z', a.z.buffer, needed);
    checkWords(label, 'deadBits', a.deadBits, unitOffset / 32 + bitmapWords(cols));
    checkWords(label, 'nonFiniteBits', a.nonFiniteBits, unitOffset / 32 + bitmapWords(cols));
    checkWords(label, 'activeCounts', a.activeCounts, unitOffset + cols);
    checkDistinct(label, { deadBits: a.deadBits, nonFiniteBits: a.nonFiniteBits, activeCounts: a.activeCounts, z: a.z.buffer });

    const chunkRows = a.rowsPerWorkgroup ?? deadScanRowsPerWorkgroup(rows, cols);
    if (!Number.isInteger(chunkRows) || chunkRows < SCAN_LANES || chunkRows % SCAN_LANES !== 0 || chunkRows > U32_MAX) {
      throw new RangeError(`${label}: rowsPerWorkgroup = ${chunkRows} must be a positive multiple of ${SCAN_LANES}`);
    }
    const chunks = Math.max(1, Math.ceil(rows / chunkRows));
    const { first, last } = a.slice ?? { first: true, last: true };
    const singlePass = chunks === 1 && first && last;
    const colTiles = bitmapWords(cols);
    const workgroups = colTiles * chunks;
    checkU32(`${label}: scan workgroups`, workgroups);
    const params = this.params(label, {
      rows,
      cols,
      unitOffset,
      zOffset,
      ld: a.z.ld,
      colTiles,
      chunkRows,
      chunks,
      invocations: workgroups,
      singlePass,
    });
    const only = (bound: Partial<Record<keyof typeof B, GPUBuffer>>) => {
      const list: (GPUBuffer | null)[] = new Array(B.nonFiniteBits + 1).fill(null);
      for (const [name, buffer] of Object.entries(bound)) list[B[name as keyof typeof B]] = buffer;
      return list;
    };
    const buffers = only({ params, z: a.z.buffer, activeCounts: a.activeCounts, deadBits: a.deadBits, nonFiniteBits: a.nonFiniteBits });
    const part = (entry: EntryPoint, count: number, bound: ReadonlyArray<GPUBuffer | null>) =>
      prepareDispatch(this.device, {
        label: `${label}.${entry}`,
        pipeline: this.pipelines[entry],
        buffers: bound,
        workgroups: count,
        maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
      });
    const countsAndWords = only({ params, activeCounts: a.activeCounts, nonFiniteBits: a.nonFiniteBits });
    const count = part('dead_scan_count', workgroups, buffers);
    if (singlePass) return composeDispatches(label, [count], [params]);
    const parts: Dispatch[] = [];
    if (first) parts.push(part('dead_scan_clear', Math.ceil(cols / WG), countsAndWords));
    parts.push(count);
    if (last)
      parts.push(
        part('dead_scan_pack', Math.ceil(cols / WG), only({ params, activeCounts: a.activeCounts, deadBits: a.deadBits, nonFiniteBits: a.nonFiniteBits })),
      );
    return composeDispatches(label, parts, [params]);
  }

  /**
   * dead_scan_pack alone, over units [unitOffset, unitOffset + cols): deadBits bit u = (activeCounts[u] == 0 and not
   * non-finite). The last slice of a multi-slice dead scan does this itself; alone it reads the counts of the rows
   * scanned so far (the step-0 snapshot's "not decided yet" units, into a buffer other than the snapshot's dead bitmap).
   */
  prepareDeadPack(a: DeadPackArgs): Dispatch {
    const { label, cols, unitOffset = 0 } = a;
    checkUnits(label, cols, unitOffset);
    if (unitOffset % 32 !== 0) throw new RangeError(`${label}: unitOffset = ${unitOffset} must be a multiple of 32 (blocks own whole bitmap words)`);
    checkWords(label, 'deadBits', a.deadBits, unitOffset / 32 + bitmapWords(cols));
    checkWords(label, 'nonFiniteBits', a.nonFiniteBits, unitOffset / 32 + bitmapWords(cols));
    checkWords(label, 'activeCounts', a.activeCounts, unitOffset + cols);
    checkDistinct(label, { deadBits: a.deadBits, nonFiniteBits: a.nonFiniteBits, activeCounts: a.activeCounts });
    const params = this.params(label, { cols, unitOffset, invocations: Math.ceil(cols / WG) });
    const buffers: (GPUBuffer | null)[] = new Array(B.nonFiniteBits + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.activeCounts] = a.activeCounts;
    buffers[B.deadBits] = a.deadBits;
    buffers[B.nonFiniteBits] = a.nonFiniteBits;
    const pack = prepareDispatch(this.device, {
      label: `${label}.dead_scan_pack`,
      pipeline: this.pipelines.dead_scan_pack,
      buffers,
      workgroups: Math.ceil(cols / WG),
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    return composeDispatches(label, [pack], [params]);
  }

  /**
   * One snapshot of the layer's per-unit history (transitions from deadBits), the revived bitmap, and
   * counts[countsOffset + LayerCount.{dead, revived, everDead, dropped}] += the layer's totals
   * (u32 atomics: exact and order-independent). Clear the counters first (prepareClearCounts).
   */
  prepareHistoryUpdate(a: HistoryUpdateArgs): Dispatch {
    const { label, cols, countsOffset } = a;
    checkUnits(label, cols, 0);
    checkU32(`${label}: countsOffset`, countsOffset);
    const words = bitmapWords(cols);
    checkWords(label, 'deadBits', a.deadBits, words);
    checkWords(label, 'droppedBits', a.droppedBits, words);
    checkWords(label, 'revivedBits', a.revivedBits, words);
    checkWords(label, 'history', a.history, cols * UNIT_HISTORY_WORDS);
    checkWords(label, 'counts', a.counts, countsOffset + LAYER_COUNTS);
    checkStepStateBuffer(label, a.stepState);
    checkDistinct(label, {
      stepState: a.stepState,
      deadBits: a.deadBits,
      droppedBits: a.droppedBits,
      history: a.history,
      revivedBits: a.revivedBits,
      counts: a.counts,
    });
    const params = this.params(label, { cols, countsOffset, invocations: cols });
    const buffers: (GPUBuffer | null)[] = new Array(B.counts + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.stepState] = a.stepState;
    buffers[B.deadBits] = a.deadBits;
    buffers[B.droppedBits] = a.droppedBits;
    buffers[B.history] = a.history;
    buffers[B.revivedBits] = a.revivedBits;
    buffers[B.counts] = a.counts;
    return this.single(label, 'history_update', params, buffers, Math.ceil(cols / WG));
  }

  /** Per step: consecutive-drop runs of sample 0 (history.drop_run, history.longest_drop_run). */
  prepareDropRun(a: DropRunArgs): Dispatch {
    const { label, cols, unitOffset = 0 } = a;
    checkUnits(label, cols, unitOffset);
    checkWords(label, 'history', a.history, (unitOffset + cols) * UNIT_HISTORY_WORDS);
    checkStepStateBuffer(label, a.stepState);
    checkDistinct(label, { stepState: a.stepState, history: a.history });
    const groups = philoxGroups(cols, unitOffset);
    const params = this.params(label, { cols, unitOffset, ...this.mask(label, a), invocations: groups });
    const buffers: (GPUBuffer | null)[] = new Array(B.history + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.stepState] = a.stepState;
    buffers[B.history] = a.history;
    return this.single(label, 'drop_run', params, buffers, Math.ceil(groups / WG));
  }

  /** droppedCounts[u] = batch rows whose dropout mask dropped unit u at the current step. */
  prepareDroppedFraction(a: DroppedFractionArgs): Dispatch {
    const { label, rows, cols, unitOffset = 0 } = a;
    checkUnits(label, cols, unitOffset);
    checkU32(`${label}: rows`, rows);
    checkWords(label, 'droppedCounts', a.droppedCounts, unitOffset + cols);
    checkStepStateBuffer(label, a.stepState);
    checkDistinct(label, { stepState: a.stepState, droppedCounts: a.droppedCounts });
    const groups = philoxGroups(cols, unitOffset);
    const params = this.params(label, { rows, cols, unitOffset, ...this.mask(label, a), invocations: groups });
    const buffers: (GPUBuffer | null)[] = new Array(B.droppedCounts + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.stepState] = a.stepState;
    buffers[B.droppedCounts] = a.droppedCounts;
    return this.single(label, 'dropped_fraction', params, buffers, Math.ceil(groups / FRACTION_GROUPS));
  }

  /** Zeroes counts[countsOffset, countsOffset + count): before a snapshot's history updates add into them. */
  prepareClearCounts(a: ClearCountsArgs): Dispatch {
    const { label, countsOffset = 0, count = LAYER_COUNTS } = a;
    checkU32(`${label}: countsOffset`, countsOffset);
    checkU32(`${label}: count`, count);
    checkWords(label, 'counts', a.counts, countsOffset + count);
    const params = this.params(label, { cols: 0, countsOffset, invocations: count });
    const buffers: (GPUBuffer | null)[] = new Array(B.counts + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.counts] = a.counts;
    return this.single(label, 'clear_counts', params, buffers, Math.ceil(count / WG));
  }

  /** Writes initialUnitHistory(cols) on the GPU: never dead, no transitions, no drop runs. */
  prepareResetHistory(a: ResetHistoryArgs): Dispatch {
    const { label, cols } = a;
    checkUnits(label, cols, 0);
    checkWords(label, 'history', a.history, cols * UNIT_HISTORY_WORDS);
    const params = this.params(label, { cols, invocations: cols });
    const buffers: (GPUBuffer | null)[] = new Array(B.history + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.history] = a.history;
    return this.single(label, 'reset_history', params, buffers, Math.ceil(cols / WG));
  }

  private single(label: string, entry: EntryPoint, params: GPUBuffer, buffers: ReadonlyArray<GPUBuffer | null>, workgroups: number): Dispatch {
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[entry],
      buffers,
      workgroups,
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  private mask(label: string, a: { p: number; key: readonly [number, number] }): { threshold: number; key: readonly [number, number] } {
    let threshold: number;
    try {
      threshold = dropoutThreshold(a.p);
    } catch (error) {
      throw new RangeError(`${label}: ${(error as Error).message}`);
    }
    checkU32(`${label}: key[0]`, a.key[0]);
    checkU32(`${label}: key[1]`, a.key[1]);
    return { threshold, key: a.key };
  }

  private params(label: string, f: ParamFields): GPUBuffer {
    return createUniform(this.device, `${label}.params`, UNITSTATS_PARAMS, {
      rows: f.rows ?? 0,
      cols: f.cols,
      unitOffset: f.unitOffset ?? 0,
      zOffset: f.zOffset ?? 0,
      ld: f.ld ?? 0,
      colTiles: f.colTiles ?? 0,
      chunkRows: f.chunkRows ?? 0,
      chunks: f.chunks ?? 0,
      threshold: f.threshold ?? 0,
      key0: f.key?.[0] ?? 0,
      key1: f.key?.[1] ?? 0,
      countsOffset: f.countsOffset ?? 0,
      invocations: f.invocations,
      singlePass: f.singlePass ? 1 : 0,
    });
  }
}
