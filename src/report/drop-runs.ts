// What chance alone predicts for the longest run of consecutive drops: the exact distribution of the maximum,
// over `units` independent units, of the longest success run of a Bernoulli(p) sequence of `steps` trials
// (dropout draws every (step, unit) mask independently from Philox). Browser-safe.
//
// For one unit, b_n(k) = P(some run of >= k successes in n trials) obeys (Feller, vol. I, XIII.7)
//   b_n = 0 for n < k,  b_k = p^k,  b_n = b_{n-1} + q p^k (1 - b_{n-k-1}) for n > k   (q = 1 - p),
// a run of k ending exactly at n for the first time needs no run before n-k, a failure at n-k, then k successes.
// Over W units, P(max < k) = (1 - b_T(k))^W. The first-order formula log(T W q) / log(1/p) misses the
// Gumbel mean (about γ / ln(1/p) - 1/2 more: at p = 0.8, two steps).
//
// NOTE: the recurrence costs O(T) per k; past EXACT_STEPS trials b_T is taken from Feller's dominant-root form
// (fellerRunProbability), whose error falls like (dominant root / next root)^n: far below double precision
// there (tests/unit/drop-runs.test.ts compares both).

/** Trials up to which b_T is computed by the recurrence itself. */
export const EXACT_STEPS = 4096;

export interface LongestRunDistribution {
  /** E[max over units of the longest run]. */
  mean: number;
  /** Smallest k with P(max <= k) >= 1/2. */
  median: number;
  /** 5 % and 95 % quantiles (smallest k with P(max <= k) >= 0.05, resp. 0.95). */
  low: number;
  high: number;
}

/** P(some run of >= k successes in `steps` Bernoulli(p) trials), one unit. */
export function runAtLeastProbability(p: number, steps: number, k: number): number {
  if (k <= 0) return 1;
  if (k > steps || p <= 0) return 0;
  if (p >= 1) return 1;
  const q = 1 - p;
  const pk = p ** k;
  // floor(T / k) disjoint blocks of k trials, each all successes with probability p^k: P(no run) <= exp(-blocks p^k),
  // below 4.3e-18 past 40, where 1 - that rounds to 1 in double precision.
  if (Math.floor(steps / k) * pk > 40) return 1;
  // Feller's form needs its root well apart from the spurious root 1/p (k q > 2 p); the recurrence is cheap
  // otherwise, as the bound above leaves T <= 40 k / p^k there.
  if (steps > EXACT_STEPS && k * q > 2 * p) return fellerRunProbability(p, steps, k);
  // Ring of the last k + 1 values of b.
  const ring = new Float64Array(k + 1);
  let b = 0;
  for (let n = 1; n <= steps; n++) {
    if (n < k) b = 0;
    else if (n === k) b = pk;
    else b = b + q * pk * (1 - ring[(n - k - 1) % (k + 1)]);
    ring[n % (k + 1)] = b;
  }
  return Math.min(1, b);
}

/**
 * Feller's dominant-root form of P(some run of k in n trials), for n well beyond k and k q > 2 p. With x = 1 + y
 * the smallest root of 1 - x + c x^(k+1), c = q p^k: y = c (1 + y)^(k+1) (Newton from 0 on a convex function,
 * monotone). P(no run) = A x^-n with A = 1 / (q x (1 + q x^2 S'(x))), S(s) = sum over j < k of (p s)^j: the
 * residue of the no-run generating function S(s) / (1 - q s S(s)), which has the spurious root 1/p of the
 * textbook form divided out (no 0/0 near it). In logs, so that a tiny b keeps its digits.
 */
function fellerRunProbability(p: number, n: number, k: number): number {
  const q = 1 - p;
  const c = q * p ** k;
  let y = 0;
  for (let i = 0; i < 100; i++) {
    const g = c * Math.exp((k + 1) * Math.log1p(y)) - y;
    const dg = (k + 1) * c * Math.exp(k * Math.log1p(y)) - 1;
    const next = y - g / dg;
    if (!(next > y)) break;
    const done = next - y <= 1e-15 * next;
    y = next;
    if (done) break;
  }
  const x = 1 + y;
  let dS = 0; // S'(x) = sum over 1 <= j < k of j p^j x^(j-1)
  let term = p; // p^j x^(j-1) for j = 1
  for (let j = 1; j < k; j++) {
    dS += j * term;
    term *= p * x;
  }
  const logA = -Math.log(q * x) - Math.log1p(q * x * x * dS);
  return Math.min(1, Math.max(0, -Math.expm1(logA - n * Math.log1p(y))));
}

/**
 * The distribution of the longest drop run over `units` units and `steps` steps at drop probability p, or null
 * when there is nothing to predict (p outside (0, 1), no steps or no units).
 */
export function longestRunDistribution(p: number, steps: number, units: number): LongestRunDistribution | null {
  if (!(p > 0 && p < 1) || steps < 1 || units < 1) return null;
  let mean = 0;
  let median = -1;
  let low = -1;
  let high = -1;
  // P(max <= k - 1) = (1 - b_T(k))^W for k = 1, 2, ...; mean = sum over k >= 1 of P(max >= k).
  for (let k = 1; k <= steps + 1; k++) {
    const b = runAtLeastProbability(p, steps, k);
    // Through log1p, so that a tiny b (where 1 - b rounds to 1) still counts.
    const logBelow = b >= 1 ? -Infinity : units * Math.log1p(-b);
    const cdf = Math.exp(logBelow); // P(max <= k - 1)
    if (low < 0 && cdf >= 0.05) low = k - 1;
    if (median < 0 && cdf >= 0.5) median = k - 1;
    if (high < 0 && cdf >= 0.95) high = k - 1;
    const atLeast = -Math.expm1(logBelow); // P(max >= k)
    mean += atLeast;
    if (high >= 0 && atLeast < 1e-13) break;
  }
  return { mean, median, low, high };
}

/** The first-order approximation the report used to print: log(T W q) / log(1/p); null below one expected run start. */
export function firstOrderLongestRun(p: number, steps: number, units: number): number | null {
  const starts = steps * units * (1 - p);
  if (p <= 0 || p >= 1 || starts <= 1) return null;
  return Math.log(starts) / Math.log(1 / p);
}
