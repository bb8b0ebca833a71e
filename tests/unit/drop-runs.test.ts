import { describe, expect, it } from 'vitest';
import { EXACT_STEPS, firstOrderLongestRun, longestRunDistribution, runAtLeastProbability } from '../../src/report/drop-runs';

/** The distribution of the longest run over `units` units by enumerating every one of the 2^(steps * units) outcomes. */
function bruteForce(p: number, steps: number, units: number) {
  const cells = steps * units;
  const pmf = new Float64Array(steps + 1);
  for (let outcome = 0; outcome < 2 ** cells; outcome++) {
    let probability = 1;
    let longest = 0;
    for (let u = 0; u < units; u++) {
      let run = 0;
      for (let s = 0; s < steps; s++) {
        const dropped = (outcome >> (u * steps + s)) & 1;
        probability *= dropped ? p : 1 - p;
        run = dropped ? run + 1 : 0;
        longest = Math.max(longest, run);
      }
    }
    pmf[longest] += probability;
  }
  const mean = pmf.reduce((sum, q, k) => sum + k * q, 0);
  const quantile = (level: number) => {
    let cdf = 0;
    for (let k = 0; k <= steps; k++) {
      cdf += pmf[k];
      if (cdf >= level - 1e-12) return k;
    }
    return steps;
  };
  return { mean, median: quantile(0.5), low: quantile(0.05), high: quantile(0.95) };
}

/** The recurrence alone, for comparison with the dominant-root form past EXACT_STEPS. */
function recurrence(p: number, steps: number, k: number): number {
  const q = 1 - p;
  const pk = p ** k;
  const b = new Float64Array(steps + 1);
  for (let n = k; n <= steps; n++) b[n] = n === k ? pk : b[n - 1] + q * pk * (1 - (n - k - 1 >= 0 ? b[n - k - 1] : 0));
  return b[steps];
}

describe('longest drop run expected by chance', () => {
  it.each([
    [0.5, 6, 1],
    [0.8, 7, 2],
    [0.3, 5, 3],
    [0.9, 12, 1],
  ])('equals brute-force enumeration: p = %f, %i steps, %i units', (p, steps, units) => {
    const want = bruteForce(p, steps, units);
    const got = longestRunDistribution(p, steps, units)!;
    expect(Math.abs(got.mean - want.mean), `mean ${got.mean} vs ${want.mean}`).toBeLessThan(1e-12);
    expect([got.low, got.median, got.high]).toEqual([want.low, want.median, want.high]);
  });

  it('one unit, one run: P(run >= k in k trials) = p^k, and no run longer than the trials', () => {
    expect(runAtLeastProbability(0.5, 3, 3)).toBe(0.125);
    expect(runAtLeastProbability(0.5, 3, 4)).toBe(0);
    expect(runAtLeastProbability(0.5, 3, 0)).toBe(1);
  });

  it('the dominant-root form past EXACT_STEPS agrees with the recurrence to 1e-12 absolute', () => {
    const steps = 2 * EXACT_STEPS;
    let compared = 0;
    for (const p of [0.1, 0.3, 0.5, 0.8, 0.95]) {
      for (let k = 1; k < 200; k++) {
        const want = recurrence(p, steps, k);
        const got = runAtLeastProbability(p, steps, k);
        expect(Math.abs(got - want), `p ${p} k ${k}: ${got} vs ${want}`).toBeLessThan(1e-12);
        if (want > 1e-6 && want < 1 - 1e-6) compared++;
      }
    }
    // The comparison must cover the interesting middle, not only 0 and 1.
    expect(compared).toBeGreaterThan(10);
  });

  it('at p = 0.8 the first-order log formula falls about two steps short of the exact expectation', () => {
    // 10,000 steps x 1,024 units: the case of "56 printed, about 58 expected" is of this kind.
    const exact = longestRunDistribution(0.8, 10_000, 1_024)!;
    const first = firstOrderLongestRun(0.8, 10_000, 1_024)!;
    // Gumbel: E[max] ~ log_{1/p}(T W q) + gamma / ln(1/p) - 1/2, i.e. 2.09 more at p = 0.8.
    expect(exact.mean - first).toBeGreaterThan(1.8);
    expect(exact.mean - first).toBeLessThan(2.4);
    expect(exact.low).toBeLessThan(exact.median);
    expect(exact.median).toBeLessThan(exact.high);
  });

  it('says nothing without dropout, steps or units', () => {
    expect(longestRunDistribution(0, 100, 10)).toBeNull();
    expect(longestRunDistribution(0.5, 0, 10)).toBeNull();
    expect(longestRunDistribution(0.5, 10, 0)).toBeNull();
  });

  it('is fast at a billion steps and a million units (the dominant-root form and the block bound)', () => {
    const d = longestRunDistribution(0.5, 1e9, 1_048_576)!;
    // log2(1e9 * 2^20 * 0.5) = 48.9; plus 0.33.
    expect(d.mean).toBeGreaterThan(48.9);
    expect(d.mean).toBeLessThan(49.6);
  });
});
