// CPU mirror of shaders/cbp.wgsl. Unit state is kept in the GPU's own layout (src/spec/cbp.ts), so a test can
// hand the oracle exactly what the GPU holds. Each f32 operation is one Math.fround here; the GPU may contract
// a·b + c into an FMA in `utility`, so utilities and scores agree to an ulp or so, while the selection (integer
// comparisons of score bits and indices, integer accumulator) is exact given the same scores.
import { CBP_CHOSEN, CBP_UNIT_WORDS, CbpUnitWord } from '../spec/cbp';
import { initDraw, type InitScheme } from '../spec/init-schemes';
import { mulHiU32, type Key } from '../spec/philox';
import { initNormalAt, initUniformAt } from './init';

const f = Math.fround;

/** One layer's unit words (CbpUnit × units), with typed views. */
export class CbpUnits {
  readonly f32: Float32Array;
  constructor(readonly words: Uint32Array) {
    this.f32 = new Float32Array(words.buffer, words.byteOffset, words.length);
  }
  get units(): number {
    return this.words.length / CBP_UNIT_WORDS;
  }
  at(u: number, word: keyof typeof CbpUnitWord): number {
    const i = u * CBP_UNIT_WORDS + CbpUnitWord[word];
    return word === 'age' || word === 'score' ? this.words[i] : this.f32[i];
  }
  set(u: number, word: keyof typeof CbpUnitWord, value: number): void {
    const i = u * CBP_UNIT_WORDS + CbpUnitWord[word];
    if (word === 'age' || word === 'score') this.words[i] = value;
    else this.f32[i] = value;
  }
}

/** activity: mean |a| over rows of one column block [rows, ld], for units unitOffset + c. */
export function cbpActivity(units: CbpUnits, acts: Float32Array, rows: number, cols: number, ld: number, unitOffset: number): void {
  const inv = f(1 / rows);
  for (let c = 0; c < cols; c++) {
    let sum = 0;
    for (let r = 0; r < rows; r++) sum = f(sum + Math.abs(acts[r * ld + c]));
    units.set(unitOffset + c, 'activity', f(sum * inv));
  }
}

/** outgoing: Σ |w| over the columns of a block of W_{l+1} [rows, ld], added to earlier column blocks' sums. */
export function cbpOutgoing(units: CbpUnits, weights: Float32Array, rows: number, cols: number, ld: number, unitOffset: number, accumulate: boolean): void {
  for (let r = 0; r < rows; r++) {
    let sum = 0;
    for (let c = 0; c < cols; c++) sum = f(sum + Math.abs(weights[r * ld + c]));
    const u = unitOffset + r;
    units.set(u, 'outgoing', accumulate ? f(units.at(u, 'outgoing') + sum) : sum);
  }
}

const scoreBits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

export function cbpUtility(units: CbpUnits, decay: number): void {
  const d = f(decay);
  for (let u = 0; u < units.units; u++) {
    const age = units.at(u, 'age');
    units.set(u, 'age', age === 0xffffffff ? age : age + 1);
    const power = f(units.at(u, 'power') * d);
    units.set(u, 'power', power);
    const contribution = f(units.at(u, 'activity') * units.at(u, 'outgoing'));
    const utility = f(f(d * units.at(u, 'utility')) + f(f(1 - d) * contribution));
    units.set(u, 'utility', utility);
    units.set(u, 'score', scoreBits(f(utility / f(1 - power))));
  }
}

/** The per-layer accumulator of replacements: whole part and fraction · 2^32. */
export interface CbpAccumulator {
  whole: number;
  fraction: number;
}

export interface CbpSelection {
  chosen: number[];
  eligible: number;
}

/**
 * select_units: counts the mature units (age >= maturity, not chosen), adds rate · count to the accumulator,
 * and chooses min(whole, maxReplace) units of lowest (score bits, index); each chosen unit's age, utility and
 * power are reset and its score marked. Mutates `units` and `acc` as the GPU does.
 */
export function cbpSelect(units: CbpUnits, acc: CbpAccumulator, maturity: number, rateFixed: number, maxReplace: number): CbpSelection {
  const n = units.units;
  const eligible = (u: number) => units.at(u, 'age') >= maturity && units.at(u, 'score') !== CBP_CHOSEN;
  let mature = 0;
  for (let u = 0; u < n; u++) if (eligible(u)) mature++;
  const low = Math.imul(rateFixed, mature) >>> 0;
  const fraction = (acc.fraction + low) >>> 0;
  const carry = fraction < low ? 1 : 0;
  acc.fraction = fraction;
  acc.whole = (acc.whole + mulHiU32(rateFixed, mature) + carry) >>> 0;
  const r = Math.min(acc.whole, maxReplace);
  const chosen: number[] = [];
  for (let k = 0; k < r; k++) {
    let best = -1;
    for (let u = 0; u < n; u++) {
      if (eligible(u) && (best < 0 || units.at(u, 'score') < units.at(best, 'score'))) best = u;
    }
    if (best < 0) break;
    chosen.push(best);
    units.set(best, 'score', CBP_CHOSEN);
    units.set(best, 'age', 0);
    units.set(best, 'utility', 0);
    units.set(best, 'power', 1);
  }
  acc.whole -= chosen.length;
  return { chosen, eligible: mature };
}

/** What reset_units writes into the incoming weights [fanIn, width] of a chosen unit at step t (its column). */
export function cbpIncomingColumn(scheme: InitScheme, key: Key, fanIn: number, fanOut: number, unit: number, step: number): Float32Array {
  const { distribution, scale } = initDraw(scheme, fanIn, fanOut);
  return Float32Array.from({ length: fanIn }, (_, r) => {
    const i = r * fanOut + unit;
    return distribution === 'uniform' ? initUniformAt(key, i, scale, step) : distribution === 'normal' ? initNormalAt(key, i, scale, step) : scale;
  });
}
