import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config';
import { bitflipProblem, makeBitflipProblem } from '../../src/data/bitflip';
import { bitflipBatchInputs, bitflipBitsAt, bitflipProbeInputs, bitflipTargets } from '../../src/reference/bitflip';
import { bitflipProbeRows, teacherLayout } from '../../src/spec/bitflip';
import { rngKey } from '../../src/spec/rng-streams';

describe('slowly-changing regression: the problem', () => {
  const config = parseRunConfig({ inputSize: 21, dataset: { kind: 'slowly_changing' }, tasks: { every: 10_000 } });

  it('has a ±1 teacher whose thresholds count its −1 weights, drawn from the seed', () => {
    const p = bitflipProblem(config);
    const t = teacherLayout(21, 100);
    expect(p.teacher.length).toBe(t.words);
    for (let i = 0; i < 21 * 100; i++) expect(Math.abs(p.teacher[i])).toBe(1);
    for (let h = 0; h < 100; h++) {
      let negatives = 0;
      for (let j = 0; j < 21; j++) if (p.teacher[j * 100 + h] < 0) negatives++;
      expect(p.teacher[t.tauOffset + h]).toBe(Math.fround(0.7 * 21 - negatives));
      expect(Math.abs(p.teacher[t.outWeightsOffset + h])).toBe(1);
    }
    expect(Math.abs(p.teacher[t.outBiasOffset])).toBe(1);
    expect(p.initialBits.length).toBe(15);
    expect(bitflipProblem(config)).toEqual(p);
    expect(makeBitflipProblem(2, 21, 15, 100, 0.7).teacher).not.toEqual(p.teacher);
  });

  it('gives targets that vary within a task and a task that changes at each switch', () => {
    const p = bitflipProblem(config);
    const key = rngKey(config.seed, 'bitflip');
    const { rows, exhaustive } = bitflipProbeRows(21, 15, 256);
    expect({ rows, exhaustive }).toEqual({ rows: 32, exhaustive: true });
    const task = (step: number) => {
      const bits = bitflipBitsAt(p.initialBits, key, step, 10_000);
      return bitflipTargets(p.teacher, 100, bitflipProbeInputs({ key, inputSize: 21, bits, rows, exhaustive }), 21);
    };
    const first = task(0);
    expect(new Set(first).size).toBeGreaterThan(2);
    // Over ten tasks the function the learner must fit changes (one flipped bit at a time).
    const later = Array.from({ length: 10 }, (_, k) => task(k * 10_000).join(','));
    expect(new Set(later).size).toBeGreaterThan(1);
  });

  it('draws the non-flipping bits afresh every step, each about half the time', () => {
    const key = rngKey(1, 'bitflip');
    const bits = new Uint32Array(3);
    let ones = 0;
    let draws = 0;
    for (let step = 0; step < 400; step++) {
      const x = bitflipBatchInputs({ key, inputSize: 11, bits, rows: 1, step });
      expect(x[10]).toBe(1);
      for (let c = 3; c < 10; c++) ones += x[c];
      draws += 7;
    }
    // 2800 fair bits: sd ≈ 26; 6 sd catches a stuck or biased bit.
    expect(Math.abs(ones - draws / 2)).toBeLessThan(160);
  });
});
