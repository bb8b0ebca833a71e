// Continual backprop's GPU state and its fixed-point replacement count (shaders/cbp.wgsl; CPU oracle
// src/reference/cbp.ts), shared by the engine, which allocates and checkpoints it, and the oracle.

import { wgslStruct } from './wgsl-struct';

/** One unit of the per-layer unit buffer (struct CbpUnit): utility, power (decay^age), age, score bits, activity, outgoing. */
export const CBP_UNIT = wgslStruct('cbp.wgsl', 'CbpUnit', { utility: 'f32', power: 'f32', age: 'u32', score: 'u32', activity: 'f32', outgoing: 'f32' });
export const CBP_UNIT_WORDS = CBP_UNIT.byteSize / 4;
export const CbpUnitWord = CBP_UNIT.index;

/** Selection buffer words before the chosen units: count, accumulator whole part, its fraction, eligible units. */
export const CBP_SELECTION_HEADER = 4;
export const CbpSelectionWord = { count: 0, whole: 1, fraction: 2, eligible: 3 } as const;

/** The score of a unit chosen this step (never the minimum of a search). */
export const CBP_CHOSEN = 0xffffffff;

/** The replacement rate in fixed point with 32 fraction bits: the accumulator is exact integer arithmetic on both sides. */
export function cbpRateFixed(rate: number): number {
  const fixed = Math.round(rate * 2 ** 32);
  if (!Number.isFinite(rate) || rate < 0 || fixed > 0xffffffff) throw new RangeError(`replacement rate must be in [0, 1), got ${rate}`);
  return fixed;
}

/** Most units of a layer of `width` replaced in one step: the accumulator grows by at most rate · width per step. */
export function cbpMaxReplace(rate: number, width: number): number {
  return Math.max(1, Math.ceil(rate * width));
}

/** Initial unit words of a layer: every utility 0, power 1, age 0. */
export function cbpInitialUnits(width: number): Uint32Array {
  const words = new Uint32Array(width * CBP_UNIT_WORDS);
  const f = new Float32Array(words.buffer);
  for (let u = 0; u < width; u++) f[u * CBP_UNIT_WORDS + CbpUnitWord.power] = 1;
  return words;
}
