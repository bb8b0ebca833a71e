import { describe, expect, it } from 'vitest';
import { initDraw } from '../../src/spec/init-schemes';
import { initNormalAt, initReference, initUniformAt } from '../../src/reference/init';
import { openUnitFloat, philox4x32, unitFloat } from '../../src/reference/philox';
import { rngKey } from '../../src/spec/rng-streams';

const KEY = rngKey(5, 'initWeights', 0);

describe('init reference', () => {
  it('computes He and Xavier scales', () => {
    expect(initDraw({ kind: 'he_normal' }, 50, 7)).toEqual({ distribution: 'normal', scale: Math.fround(0.2) });
    expect(initDraw({ kind: 'he_uniform' }, 6, 7)).toEqual({ distribution: 'uniform', scale: 1 });
    expect(initDraw({ kind: 'xavier_normal' }, 30, 20)).toEqual({ distribution: 'normal', scale: Math.fround(0.2) });
    expect(initDraw({ kind: 'xavier_uniform' }, 4, 2)).toEqual({ distribution: 'uniform', scale: 1 });
    expect(initDraw({ kind: 'constant', value: -0.5 }, 1, 1)).toEqual({ distribution: 'constant', scale: -0.5 });
  });

  it("torch_uniform is PyTorch Linear's ±1/sqrt(fan in): the continual presets' explicit limits before it, to the bit", () => {
    expect(initDraw({ kind: 'torch_uniform' }, 64, 3)).toEqual({ distribution: 'uniform', scale: 0.125 });
    // The presets wrote uniform(1/sqrt(21)) and uniform(1/sqrt(5)) for the 21 -> 5 -> 1 learner: same draws.
    for (const fanIn of [21, 5])
      expect(initDraw({ kind: 'torch_uniform' }, fanIn, 1)).toEqual(initDraw({ kind: 'uniform', limit: 1 / Math.sqrt(fanIn) }, fanIn, 1));
    expect(() => initDraw({ kind: 'torch_uniform' }, 0, 1)).toThrow(/fanIn/);
  });

  it('rejects bad fans and parameters', () => {
    expect(() => initDraw({ kind: 'he_normal' }, 0, 1)).toThrow(/fanIn/);
    expect(() => initDraw({ kind: 'xavier_uniform' }, 3, -1)).toThrow(/fanOut/);
    expect(() => initDraw({ kind: 'uniform', limit: NaN }, 1, 1)).toThrow(/limit/);
    expect(() => initDraw({ kind: 'constant', value: Infinity }, 1, 1)).toThrow(/value/);
  });

  it('uniform draws word i & 3 of counter (i >> 2, 0, 0, 0)', () => {
    for (const i of [0, 1, 2, 3, 4, 1001]) {
      const u = unitFloat(philox4x32([i >>> 2, 0, 0, 0], KEY)[i & 3]);
      expect(initUniformAt(KEY, i, 0.5)).toBe(Math.fround((2 * u - 1) * 0.5));
    }
  });

  it('normal draws words 2(i & 1), 2(i & 1) + 1 of counter (i >> 1, 1, 0, 0)', () => {
    for (const i of [0, 1, 2, 3, 77]) {
      const w = philox4x32([i >>> 1, 1, 0, 0], KEY);
      const u1 = openUnitFloat(w[(i & 1) * 2]);
      const u2 = unitFloat(w[(i & 1) * 2 + 1]);
      expect(initNormalAt(KEY, i, 2)).toBe(Math.fround(2 * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2)));
    }
  });

  it('a block equals the same region of the whole matrix', () => {
    const whole = initReference({ scheme: { kind: 'he_normal' }, key: KEY, fanIn: 5, fanOut: 9, rows: 5, cols: 9, globalCols: 9 });
    const block = initReference({ scheme: { kind: 'he_normal' }, key: KEY, fanIn: 5, fanOut: 9, rows: 2, cols: 3, globalCols: 9, rowOffset: 2, colOffset: 5 });
    expect([...block]).toEqual([whole[2 * 9 + 5], whole[2 * 9 + 6], whole[2 * 9 + 7], whole[3 * 9 + 5], whole[3 * 9 + 6], whole[3 * 9 + 7]]);
  });
});
