// The training-mode record of every hidden unit (struct TrainRecord in shaders/frozen.wgsl): four u32 words per
// unit, folded every step from the batch's pre-activations. Definitions in src/reference/frozen.ts.
import { NEVER } from './unit-history';
import { wgslStruct } from './wgsl-struct';

export const TRAIN_RECORD = wgslStruct('frozen.wgsl', 'TrainRecord', {
  lastActiveStep: 'u32',
  firstNonfiniteStep: 'u32',
  lastNonfiniteStep: 'u32',
  thaws: 'u32',
});

/** u32 words per unit in the record buffer. */
export const TRAIN_RECORD_WORDS = TRAIN_RECORD.byteSize / 4;

/** Word index of each TrainRecord field inside a unit's words; NEVER marks "no such step". */
export const TrainRecordField = {
  /** Latest training step with Z > 0 on some batch row: the latest step its incoming weights could get gradient. */
  lastActiveStep: 0,
  /** First training step with a NaN or ±Inf Z on some batch row. */
  firstNonFiniteStep: 1,
  lastNonFiniteStep: 2,
  /** Active steps that ended a stretch of at least W steps with neither (frozen units that came back). */
  thaws: 3,
} as const;

/** The record before the first step: never active, never non-finite, no thaws. */
export function initialTrainRecord(units: number): Uint32Array {
  const record = new Uint32Array(units * TRAIN_RECORD_WORDS);
  for (let u = 0; u < units; u++) {
    record[u * TRAIN_RECORD_WORDS + TrainRecordField.lastActiveStep] = NEVER;
    record[u * TRAIN_RECORD_WORDS + TrainRecordField.firstNonFiniteStep] = NEVER;
    record[u * TRAIN_RECORD_WORDS + TrainRecordField.lastNonFiniteStep] = NEVER;
  }
  return record;
}

/**
 * The record of a run resumed at `step` from a checkpoint that has none: every unit as if active at the last
 * step, so that none is called frozen before W steps have really been watched.
 */
export function assumedActiveRecord(units: number, step: number): Uint32Array {
  const record = initialTrainRecord(units);
  if (step > 0) for (let u = 0; u < units; u++) record[u * TRAIN_RECORD_WORDS + TrainRecordField.lastActiveStep] = step - 1;
  return record;
}

/**
 * What unit u's record says after `step` completed steps with window W: 'nonFinite' when its last step's batch had
 * a NaN or ±Inf pre-activation, 'frozen' when no step of the last W was active or non-finite (and W steps were
 * watched), else 'live'. The snapshot's frozen_pack (shaders/frozen.wgsl) applies the same rule and also counts
 * the probe's non-finite units.
 */
export function trainStateAt(record: Uint32Array, u: number, step: number, window: number): 'nonFinite' | 'frozen' | 'live' {
  const h = u * TRAIN_RECORD_WORDS;
  const active = record[h + TrainRecordField.lastActiveStep];
  const nonFinite = record[h + TrainRecordField.lastNonFiniteStep];
  if (step > 0 && nonFinite === step - 1) return 'nonFinite';
  const live = active === NEVER ? nonFinite : nonFinite === NEVER ? active : Math.max(active, nonFinite);
  const quiet = live === NEVER ? step >= window : step - live > window;
  return quiet ? 'frozen' : 'live';
}
