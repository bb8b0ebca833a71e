// The dead-unit observatory on the CPU: the oracle for shaders/unitstats.wgsl, bit for bit (all integer).
//
// Definitions (issue "Dead-unit observatory"):
// - Dropped at step t: masked by dropout at step t for probe sample 0 (batch row 0), with the dropout
//   kernel's mask (dropoutKeep); also, per unit, the number of batch rows that masked it at step t.
// - Dead at a snapshot: the unit's pre-activation is <= 0 on EVERY row of the probe set (evaluated
//   without dropout), and finite on every row.
// - Non-finite at a snapshot: NaN or ±Infinity on some probe row. Its own state, never dead (a diverged
//   run is not a dead one); src/reference/frozen.ts adds the training batch's non-finite units.
// - Revived: dead at an earlier snapshot, alive now.
// - Consecutive drops: run = dropped(t) ? run + 1 : 0 and longest = max(longest, run), every step.
//
// Bitmaps: src/spec/bitmaps.ts; the UnitHistory words: src/spec/unit-history.ts.
// Snapshots are labelled with StepState.step read after a step's end_step: the number of completed steps.
import { bitmapWords } from '../spec/bitmaps';
import { dropoutThreshold } from '../spec/dropout-rate';
import { LAYER_COUNTS, LayerCount } from '../spec/layer-counts';
import type { Key } from '../spec/philox';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField } from '../spec/unit-history';
import { dropoutKeep, type DropoutReferenceArgs } from './dropout.js';

export interface DeadScanResult {
  /** [ceil(cols / 32)] words: bit c set <=> z[r, c] finite and <= 0 for every row r. */
  deadBits: Uint32Array;
  /** [ceil(cols / 32)] words: bit c set <=> z[r, c] is NaN or ±Infinity for some row r. */
  nonFiniteBits: Uint32Array;
  /** [cols]: rows with z[r, c] > 0 and finite. */
  activeCounts: Uint32Array;
}

/** Probe pre-activations z [rows, cols] at element r * ld + c + offset. Block-local indices. */
export function deadScan(z: Float32Array, rows: number, cols: number, ld = cols, offset = 0): DeadScanResult {
  if (ld < cols) throw new RangeError(`deadScan: ld = ${ld} is less than cols = ${cols}`);
  if (rows > 0 && cols > 0 && offset + (rows - 1) * ld + cols > z.length) {
    throw new RangeError(`deadScan: z holds ${z.length} elements, needs ${offset + (rows - 1) * ld + cols}`);
  }
  const activeCounts = new Uint32Array(cols);
  const nonFiniteBits = new Uint32Array(bitmapWords(cols));
  for (let r = 0; r < rows; r++) {
    const base = offset + r * ld;
    for (let c = 0; c < cols; c++) {
      const v = z[base + c];
      if (!Number.isFinite(v)) nonFiniteBits[c >>> 5] |= 1 << (c & 31);
      else if (v > 0) activeCounts[c]++;
    }
  }
  const deadBits = new Uint32Array(bitmapWords(cols));
  for (let c = 0; c < cols; c++) if (activeCounts[c] === 0 && !bit(nonFiniteBits, c)) deadBits[c >>> 5] |= 1 << (c & 31);
  return { deadBits, nonFiniteBits, activeCounts };
}

function bit(bits: Uint32Array, u: number): boolean {
  return ((bits[u >>> 5] >>> (u & 31)) & 1) === 1;
}

function popcount(x: number): number {
  let v = x >>> 0;
  let n = 0;
  while (v) {
    v &= v - 1;
    n++;
  }
  return n;
}

export interface HistoryUpdateArgs {
  /** Snapshot label: StepState.step when the update runs (completed steps). */
  step: number;
  /** Layer width. */
  cols: number;
  /** [ceil(cols / 32)] dead units at this snapshot. */
  deadBits: Uint32Array;
  /** [ceil(cols / 32)] units dropped for sample 0. */
  droppedBits: Uint32Array;
  /** [cols * 8], updated in place. */
  history: Uint32Array;
}

export interface HistoryUpdateResult {
  /** [ceil(cols / 32)]: alive now and dead at an earlier snapshot. */
  revivedBits: Uint32Array;
  /** [4] indexed by LayerCount: this layer's contribution (the GPU adds it into its counters). */
  counts: Uint32Array;
}

/**
 * One snapshot's transitions, per unit: alive -> dead counts a death (a unit dead at its first snapshot
 * counts one; the first sets first_death_step), dead -> alive a revival; either sets last_change_step.
 * Mutates `history` in place, as the GPU does.
 */
export function historyUpdate(args: HistoryUpdateArgs): HistoryUpdateResult {
  const { step, cols, deadBits, droppedBits, history } = args;
  if (history.length < cols * UNIT_HISTORY_WORDS)
    throw new RangeError(`historyUpdate: history holds ${history.length} words, needs ${cols * UNIT_HISTORY_WORDS}`);
  const F = UnitHistoryField;
  const words = bitmapWords(cols);
  const revivedBits = new Uint32Array(words);
  const everBits = new Uint32Array(words);
  for (let u = 0; u < cols; u++) {
    const h = u * UNIT_HISTORY_WORDS;
    const dead = bit(deadBits, u);
    const wasDead = history[h + F.wasDead] !== 0;
    if (dead && !wasDead) {
      history[h + F.deaths] = (history[h + F.deaths] + 1) >>> 0;
      history[h + F.lastChangeStep] = step;
      if (history[h + F.firstDeathStep] === NEVER) history[h + F.firstDeathStep] = step;
    } else if (!dead && wasDead) {
      history[h + F.revivals] = (history[h + F.revivals] + 1) >>> 0;
      history[h + F.lastChangeStep] = step;
    }
    history[h + F.wasDead] = dead ? 1 : 0;
    const ever = history[h + F.firstDeathStep] !== NEVER;
    if (ever && !dead) revivedBits[u >>> 5] |= 1 << (u & 31);
    if (ever) everBits[u >>> 5] |= 1 << (u & 31);
  }
  const counts = new Uint32Array(LAYER_COUNTS);
  for (let w = 0; w < words; w++) {
    const left = cols - w * 32;
    const valid = left >= 32 ? 0xffffffff : (1 << left) - 1;
    counts[LayerCount.dead] += popcount(deadBits[w] & valid);
    counts[LayerCount.revived] += popcount(revivedBits[w]);
    counts[LayerCount.everDead] += popcount(everBits[w]);
    counts[LayerCount.dropped] += popcount(droppedBits[w] & valid);
  }
  return { revivedBits, counts };
}

export interface DropRunArgs {
  p: number;
  /** rngKey(seed, 'dropout', layer). */
  key: Key;
  /** The step being computed (StepState.step inside the step). */
  step: number;
  /** Units in the block. */
  cols: number;
  /** Global unit index of the block's first unit (history is indexed globally). */
  unitOffset?: number;
  /** [layer width * 8], updated in place. */
  history: Uint32Array;
}

/** One step of consecutive-drop runs for sample 0: run = dropped ? run + 1 : 0; longest = max(longest, run). */
export function dropRunUpdate(args: DropRunArgs): void {
  const { p, key, step, cols, unitOffset = 0, history } = args;
  const threshold = dropoutThreshold(p);
  for (let c = 0; c < cols; c++) {
    const h = (unitOffset + c) * UNIT_HISTORY_WORDS;
    const run = dropoutKeep(key, step, 0, unitOffset + c, threshold) ? 0 : (history[h + UnitHistoryField.dropRun] + 1) >>> 0;
    history[h + UnitHistoryField.dropRun] = run;
    history[h + UnitHistoryField.longestDropRun] = Math.max(history[h + UnitHistoryField.longestDropRun], run);
  }
}

/** The same arguments as the dropout reference: `step` selects the masks counted over `rows` batch rows. */
export type DroppedFractionArgs = DropoutReferenceArgs;

/** [cols] (block-local): batch rows that dropped each unit at `step`; the fraction is count / rows. */
export function droppedFraction(args: DroppedFractionArgs): Uint32Array {
  const { p, key, step, rows, cols, unitOffset = 0 } = args;
  const threshold = dropoutThreshold(p);
  const counts = new Uint32Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) if (!dropoutKeep(key, step, r, unitOffset + c, threshold)) counts[c]++;
  }
  return counts;
}
