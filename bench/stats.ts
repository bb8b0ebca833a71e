// Summary statistics of repeated measurements. Medians and percentiles rather than means: on a shared or
// software adapter a few samples land far out (a compile, another process), and one outlier must not move
// the headline figure.

export interface SampleSummary {
  median: number;
  min: number;
  max: number;
  /** 10th and 90th percentiles (linear interpolation between order statistics). */
  p10: number;
  p90: number;
  /** Median absolute deviation from the median: the spread, robust to outliers. */
  mad: number;
}

/** The q-quantile (0..1) of ascending `sorted`, interpolating linearly between neighbours (R type 7). */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) throw new RangeError('quantile of no samples');
  const position = (sorted.length - 1) * q;
  const below = Math.floor(position);
  const above = Math.min(below + 1, sorted.length - 1);
  return sorted[below] + (sorted[above] - sorted[below]) * (position - below);
}

export function median(values: readonly number[]): number {
  return quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );
}

export function summarize(samples: readonly number[]): SampleSummary {
  if (samples.length === 0) throw new RangeError('cannot summarize zero samples');
  const bad = samples.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new RangeError(`sample ${bad} is not a finite number`);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = quantile(sorted, 0.5);
  return {
    median: mid,
    min: sorted[0],
    max: sorted[sorted.length - 1],
    p10: quantile(sorted, 0.1),
    p90: quantile(sorted, 0.9),
    mad: median(sorted.map((x) => Math.abs(x - mid))),
  };
}
