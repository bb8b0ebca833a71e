import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { median, quantile, summarize } from '../../bench/stats';

describe('sample statistics', () => {
  it('gives hand-checked values', () => {
    // sorted: 1 2 3 4 100; p10 = 1 + 0.4 * (2 - 1), p90 = 4 + 0.6 * (100 - 4); deviations 2 1 0 1 97 -> MAD 1.
    const s = summarize([3, 100, 1, 4, 2]);
    expect({ ...s, p10: s.p10.toFixed(12), p90: s.p90.toFixed(12) }).toEqual({
      median: 3,
      min: 1,
      max: 100,
      p10: '1.400000000000',
      p90: '61.600000000000',
      mad: 1,
    });
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(summarize([7])).toEqual({ median: 7, min: 7, max: 7, p10: 7, p90: 7, mad: 0 });
    expect(quantile([10, 20], 0.25)).toBe(12.5);
  });

  it('is robust: one wild outlier barely moves the median and the MAD', () => {
    const calm = summarize([10, 10.2, 9.9, 10.1, 10, 9.8, 10.1]);
    const outlier = summarize([10, 10.2, 9.9, 10.1, 10, 9.8, 1000]);
    expect(Math.abs(outlier.median - calm.median)).toBeLessThan(0.11);
    expect(outlier.mad).toBeLessThan(0.25);
  });

  it('orders min <= p10 <= median <= p90 <= max for any samples', () => {
    fc.assert(
      fc.property(fc.array(fc.double({ min: 1e-6, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 40 }), (xs) => {
        const s = summarize(xs);
        expect(s.min).toBeLessThanOrEqual(s.p10);
        expect(s.p10).toBeLessThanOrEqual(s.median);
        expect(s.median).toBeLessThanOrEqual(s.p90);
        expect(s.p90).toBeLessThanOrEqual(s.max);
        expect(s.mad).toBeGreaterThanOrEqual(0);
      }),
    );
  });

  it('refuses empty or non-finite samples', () => {
    expect(() => summarize([])).toThrow(/zero samples/);
    expect(() => summarize([1, Number.NaN])).toThrow(/NaN is not a finite number/);
  });
});
