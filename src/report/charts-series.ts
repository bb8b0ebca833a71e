// A bounded series for plots of arbitrarily long runs: keeps every stride-th point and doubles the stride
// (dropping every other kept point) whenever the buffer is full, so a 10^7-step run's 10^5 metrics rows are
// plotted from at most `capacity` points while memory stays constant. The latest point is always kept, so a
// chart ends where the run ended. Deterministic: the same rows give the same points.
// Browser-safe (no Node imports).

export class DownSampledSeries<T> {
  private kept: T[] = [];
  private stride = 1;
  private seen = 0;
  private latest: T | null = null;
  private latestKept = false;

  constructor(readonly capacity = 1000) {
    if (!Number.isInteger(capacity) || capacity < 2) throw new RangeError(`capacity must be an integer >= 2, got ${capacity}`);
  }

  push(point: T): void {
    this.latest = point;
    this.latestKept = this.seen % this.stride === 0;
    if (this.latestKept) {
      this.kept.push(point);
      if (this.kept.length >= this.capacity) {
        this.kept = this.kept.filter((_, i) => i % 2 === 0);
        this.stride *= 2;
        // The point just pushed sits at an odd index when the count was even: it may have been dropped.
        this.latestKept = this.kept[this.kept.length - 1] === point;
      }
    }
    this.seen++;
  }

  /** Points pushed so far. */
  get count(): number {
    return this.seen;
  }

  /** The kept points in order, ending with the latest one pushed. */
  points(): T[] {
    return this.latest !== null && !this.latestKept ? [...this.kept, this.latest] : [...this.kept];
  }
}
