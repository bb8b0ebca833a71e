import { describe, expect, it } from 'vitest';
import { dropoutBackward, dropoutForward, dropoutKeep, dropoutMaskBits } from '../../src/reference/dropout';
import { dropoutScale, dropoutThreshold } from '../../src/spec/dropout-rate';
import { philox4x32 } from '../../src/reference/philox';
import { rngKey } from '../../src/spec/rng-streams';
import { droppedUnitCount } from '../../src/spec/dropout-mask';

const KEY = rngKey(7, 'dropout', 1);

describe('dropout reference', () => {
  it('maps p to an integer threshold on 24 bits', () => {
    expect(dropoutThreshold(0)).toBe(0);
    expect(dropoutThreshold(0.5)).toBe(2 ** 23);
    expect(dropoutThreshold(0.1)).toBe(1677722); // round(1677721.6)
    expect(dropoutThreshold(0.999)).toBe(16760439); // round(16760438.784)
    expect(dropoutThreshold(2 ** -26)).toBe(0); // quantised to 2^-24: rounds to "keep all"
    expect(dropoutThreshold(1 - 2 ** -23)).toBe(2 ** 24 - 2);
  });

  it('scales by fround(1 / (1 - p))', () => {
    expect(dropoutScale(0)).toBe(1);
    expect(dropoutScale(0.5)).toBe(2);
    expect(dropoutScale(0.1)).toBe(Math.fround(1 / 0.9));
    expect(dropoutScale(0.999)).toBe(Math.fround(1000));
  });

  it.each([1, 1.5, -0.1, -1e-9, NaN, Infinity])('rejects p = %s with a RangeError naming p', (p) => {
    expect(() => dropoutThreshold(p)).toThrow(RangeError);
    expect(() => dropoutThreshold(p)).toThrow(`p = ${p}`);
    expect(() => dropoutScale(p)).toThrow(`p = ${p}`);
  });

  it('rejects p so close to 1 that it would drop every unit', () => {
    expect(() => dropoutThreshold(1 - 2 ** -26)).toThrow(/too close to 1/);
  });

  it('keep compares the top 24 bits of word unit & 3 of one Philox call per 4 units', () => {
    const words = philox4x32([5, 3, 9, 0], KEY); // units 20..23, sample 3, step 9
    for (let j = 0; j < 4; j++) {
      const top = words[j] >>> 8;
      expect(dropoutKeep(KEY, 9, 3, 20 + j, top)).toBe(true); // >= is inclusive
      expect(dropoutKeep(KEY, 9, 3, 20 + j, top + 1)).toBe(false);
    }
  });

  it('droppedUnitCount (the snapshot canary) counts what the reference mask drops, for widths not a multiple of 4', () => {
    for (const [width, p, step, row] of [
      [1, 0.5, 0, 0],
      [37, 0.3, 11, 0],
      [1000, 0.1, 4, 2],
    ] as const) {
      const threshold = dropoutThreshold(p);
      let expected = 0;
      for (let u = 0; u < width; u++) if (!dropoutKeep(KEY, step, row, u, threshold)) expected++;
      expect(droppedUnitCount(KEY, step, row, width, threshold), `width ${width}`).toBe(expected);
    }
    expect(droppedUnitCount(KEY, 3, 0, 1000, dropoutThreshold(0))).toBe(0);
  });

  it('drops to 0 and scales kept values; backward uses the forward mask', () => {
    const rows = 3;
    const cols = 41;
    const input = Float32Array.from({ length: rows * cols }, (_, i) => i + 1);
    const y = dropoutForward({ p: 0.3, key: KEY, step: 2, rows, cols, unitOffset: 6, input });
    const dx = dropoutBackward({ p: 0.3, key: KEY, step: 2, rows, cols, unitOffset: 6, dY: input });
    expect(dx).toEqual(y);
    const threshold = dropoutThreshold(0.3);
    for (let r = 0; r < rows; r++) {
      const bits = dropoutMaskBits({ p: 0.3, key: KEY, step: 2, sample: r, cols, unitOffset: 6 });
      for (let c = 0; c < cols; c++) {
        const keep = dropoutKeep(KEY, 2, r, 6 + c, threshold);
        expect(y[r * cols + c]).toBe(keep ? Math.fround(input[r * cols + c] * dropoutScale(0.3)) : 0);
        expect((bits[c >>> 5] >>> (c & 31)) & 1).toBe(keep ? 0 : 1);
      }
    }
  });

  it('p = 0 is the identity', () => {
    const input = Float32Array.from({ length: 50 }, (_, i) => Math.sin(i));
    expect(dropoutForward({ p: 0, key: KEY, step: 0, rows: 5, cols: 10, input })).toEqual(input);
  });
});
