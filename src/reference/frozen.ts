// Frozen units on the CPU: the oracle for shaders/frozen.wgsl, bit for bit (all integer).
//
// Definitions (issue 12, "dead on the probe set is not frozen, NaN is not dead"):
// - Active at training step t: pre-activation Z as trained (dropout of the layer below on) > 0 on at least one
//   batch row. Only then can a ReLU unit's incoming weights and bias receive a non-zero gradient. With
//   `gated` false (activations whose derivative is not 0 below zero) every finite row counts as active.
// - Non-finite at step t: some batch row's Z is NaN or ±Infinity; never active, never frozen.
// - Frozen at a snapshot after t completed steps: t >= W, no step of [t - W, t - 1] was active or
//   non-finite, and the unit is not non-finite at the snapshot (probe, or the snapshot's last step).
// - Thaw: an active step after W or more steps with neither (a frozen unit came back).
import { bitmapWords } from '../spec/bitmaps';
import { TRAIN_RECORD_WORDS, TrainRecordField } from '../spec/train-record';
import { NEVER } from '../spec/unit-history';

function lastLive(record: Uint32Array, h: number): number {
  const active = record[h + TrainRecordField.lastActiveStep];
  const nonFinite = record[h + TrainRecordField.lastNonFiniteStep];
  if (active === NEVER) return nonFinite;
  if (nonFinite === NEVER) return active;
  return Math.max(active, nonFinite);
}

/** W or more steps without an active or non-finite one before step t (steps 0 .. t-1 seen). */
function quietForWindow(live: number, t: number, window: number): boolean {
  return live === NEVER ? t >= window : t - live > window;
}

function isNonFinite(x: number): boolean {
  return !Number.isFinite(x);
}

export interface TrainScanArgs {
  /** Training pre-activations of the block, [rows, cols] at element offset + r * ld + c. */
  z: Float32Array;
  rows: number;
  cols: number;
  ld?: number;
  offset?: number;
  /** Global unit index of the block's first column (the record is indexed globally). */
  unitOffset?: number;
  /** The step being computed (StepState.step inside the step). */
  step: number;
  /** true for relu (active <=> z > 0), false for activations with gradient below zero (active <=> finite). */
  gated: boolean;
  /** W, steps (>= 1). */
  window: number;
  /** [layer width * TRAIN_RECORD_WORDS], updated in place. */
  record: Uint32Array;
}

/** One training step of one column block folded into the per-unit record. */
export function trainScan(a: TrainScanArgs): void {
  const { z, rows, cols, ld = cols, offset = 0, unitOffset = 0, step, gated, window, record } = a;
  if (ld < cols) throw new RangeError(`trainScan: ld = ${ld} is less than cols = ${cols}`);
  if (rows > 0 && cols > 0 && offset + (rows - 1) * ld + cols > z.length) {
    throw new RangeError(`trainScan: z holds ${z.length} elements, needs ${offset + (rows - 1) * ld + cols}`);
  }
  const F = TrainRecordField;
  for (let c = 0; c < cols; c++) {
    let active = false;
    let nonFinite = false;
    for (let r = 0; r < rows; r++) {
      const v = z[offset + r * ld + c];
      if (isNonFinite(v)) nonFinite = true;
      else if (!gated || v > 0) active = true;
    }
    const h = (unitOffset + c) * TRAIN_RECORD_WORDS;
    if (active) {
      if (quietForWindow(lastLive(record, h), step, window)) record[h + F.thaws] = (record[h + F.thaws] + 1) >>> 0;
      record[h + F.lastActiveStep] = step;
    }
    if (nonFinite) {
      if (record[h + F.firstNonFiniteStep] === NEVER) record[h + F.firstNonFiniteStep] = step;
      record[h + F.lastNonFiniteStep] = step;
    }
  }
}

export interface FrozenPackArgs {
  /** Snapshot label: completed steps. */
  step: number;
  /** Layer width. */
  cols: number;
  window: number;
  record: Uint32Array;
  /** [ceil(cols / 32)] the probe's non-finite units (deadScan). */
  probeNonFiniteBits: Uint32Array;
  /** [ceil(cols / 32)] the probe's dead units: non-finite units are cleared in place. */
  deadBits: Uint32Array;
}

export interface FrozenPackResult {
  frozenBits: Uint32Array;
  /** Non-finite on a probe row, or on a training row at the snapshot's last step. */
  nonFiniteBits: Uint32Array;
  frozen: number;
  nonFinite: number;
}

/** The snapshot's frozen and non-finite bitmaps; clears non-finite units from deadBits (states are exclusive). */
export function frozenPack(a: FrozenPackArgs): FrozenPackResult {
  const { step: t, cols, window, record, probeNonFiniteBits, deadBits } = a;
  const words = bitmapWords(cols);
  const frozenBits = new Uint32Array(words);
  const nonFiniteBits = new Uint32Array(words);
  let frozen = 0;
  let nonFinite = 0;
  for (let u = 0; u < cols; u++) {
    const h = u * TRAIN_RECORD_WORDS;
    const probe = ((probeNonFiniteBits[u >>> 5] >>> (u & 31)) & 1) === 1;
    const bad = probe || (t > 0 && record[h + TrainRecordField.lastNonFiniteStep] === t - 1);
    const isFrozen = !bad && quietForWindow(lastLive(record, h), t, window);
    if (isFrozen) {
      frozenBits[u >>> 5] |= 1 << (u & 31);
      frozen++;
    }
    if (bad) {
      nonFiniteBits[u >>> 5] |= 1 << (u & 31);
      nonFinite++;
    }
  }
  for (let w = 0; w < words; w++) deadBits[w] = (deadBits[w] & ~nonFiniteBits[w]) >>> 0;
  return { frozenBits, nonFiniteBits, frozen, nonFinite };
}

/** Steps since the unit was last active (the "counter"), or null if it never was. */
export function stepsSinceActive(record: Uint32Array, unit: number, step: number): number | null {
  const last = record[unit * TRAIN_RECORD_WORDS + TrainRecordField.lastActiveStep];
  return last === NEVER ? null : step - 1 - last;
}
