// A bounded, growable set of chart series sharing one x axis, for runs with millions of snapshots.
//
// Rows are appended in place (plain arrays, handed to uPlot as they are). While there are fewer than `capacity`
// points every row is one point. When the arrays fill up, every 4 points become 2 — per series the minimum and the
// maximum of the 4, in the order they occurred, at the x of the first and of the last — and from then on each bucket of
// `rowsPerPair` new rows is kept as such a min/max pair. So spikes (a burst of deaths, a diverging loss) survive any
// amount of decimation, the points stay evenly spread over the run, and memory stays at most
// (1 + series) × capacity numbers, whatever the run's length.

export type Value = number | null;

interface Bucket {
  rows: number;
  firstX: number;
  lastX: number;
  /** Per series: min and max over the bucket, and the row (within the bucket) where each occurred. */
  min: Value[];
  max: Value[];
  minAt: number[];
  maxAt: number[];
}

/** Points per series: about 2 min/max pairs per pixel of a wide (1,000 px) chart; more only costs drawing time. */
export const DEFAULT_CAPACITY = 4096;

export class EnvelopeSeries {
  /** x values of the points; ascending. Read-only outside this class. */
  readonly x: number[] = [];
  /** One array of y values per series, aligned with x; null where a value is missing. */
  readonly ys: Value[][];
  private committed = 0;
  /** Rows per min/max pair; 0 while every row is still its own point. */
  private rowsPerPairValue = 0;
  private pending: Bucket | null = null;
  private rowCount = 0;

  constructor(
    readonly seriesCount: number,
    readonly capacity = DEFAULT_CAPACITY,
  ) {
    if (!Number.isInteger(capacity) || capacity < 8 || capacity % 4 !== 0) throw new Error(`capacity ${capacity} is not a multiple of 4 that is at least 8`);
    this.ys = Array.from({ length: seriesCount }, () => []);
  }

  /** Rows appended since the last clear. */
  get rows(): number {
    return this.rowCount;
  }

  /** Rows each min/max pair stands for; 1 while nothing has been decimated. */
  get rowsPerPoint(): number {
    return this.rowsPerPairValue === 0 ? 1 : this.rowsPerPairValue / 2;
  }

  get length(): number {
    return this.x.length;
  }

  clear(): void {
    this.x.length = 0;
    for (const y of this.ys) y.length = 0;
    this.committed = 0;
    this.rowsPerPairValue = 0;
    this.pending = null;
    this.rowCount = 0;
  }

  append(x: number, values: readonly Value[]): void {
    if (values.length !== this.seriesCount) throw new Error(`${values.length} values for ${this.seriesCount} series`);
    const last = this.committed > 0 ? this.x[this.committed - 1] : -Infinity;
    if (!(x >= (this.pending?.lastX ?? last))) throw new Error(`x ${x} is smaller than the previous x ${this.pending?.lastX ?? last}`);
    this.rowCount++;
    if (this.rowsPerPairValue === 0) {
      this.truncate();
      this.push(x, values);
      this.committed++;
      if (this.committed === this.capacity) this.halve();
      return;
    }
    const b = (this.pending ??= {
      rows: 0,
      firstX: x,
      lastX: x,
      min: values.slice(),
      max: values.slice(),
      minAt: values.map(() => 0),
      maxAt: values.map(() => 0),
    });
    b.lastX = x;
    for (let s = 0; s < this.seriesCount; s++) {
      const v = values[s];
      if (v === null) continue;
      const min = b.min[s];
      const max = b.max[s];
      if (min === null || v < min) [b.min[s], b.minAt[s]] = [v, b.rows];
      if (max === null || v > max) [b.max[s], b.maxAt[s]] = [v, b.rows];
    }
    b.rows++;
    this.truncate();
    if (b.rows === this.rowsPerPairValue) {
      this.pushBucket(b);
      this.committed += 2;
      this.pending = null;
      if (this.committed === this.capacity) this.halve();
    } else {
      this.pushBucket(b);
    }
  }

  /** Drops the provisional points of the pending bucket (they are rewritten on every append). */
  private truncate(): void {
    this.x.length = this.committed;
    for (const y of this.ys) y.length = this.committed;
  }

  private push(x: number, values: readonly Value[]): void {
    this.x.push(x);
    for (let s = 0; s < this.seriesCount; s++) this.ys[s].push(values[s]);
  }

  /** A bucket as its min/max pair (one point while it holds a single row). */
  private pushBucket(b: Bucket): void {
    if (b.rows === 1) {
      this.push(b.firstX, b.min);
      return;
    }
    this.x.push(b.firstX, b.lastX);
    for (let s = 0; s < this.seriesCount; s++) {
      const [a, c] = b.minAt[s] <= b.maxAt[s] ? [b.min[s], b.max[s]] : [b.max[s], b.min[s]];
      this.ys[s].push(a, c);
    }
  }

  /** Every 4 committed points become one min/max pair; the pairs then stand for twice as many rows. */
  private halve(): void {
    const n = this.committed;
    let w = 0;
    for (let r = 0; r < n; r += 4, w += 2) {
      const firstX = this.x[r];
      const lastX = this.x[r + 3];
      this.x[w] = firstX;
      this.x[w + 1] = lastX;
      for (const y of this.ys) {
        let min: Value = null;
        let max: Value = null;
        let minAt = 0;
        let maxAt = 0;
        for (let i = 0; i < 4; i++) {
          const v = y[r + i];
          if (v === null) continue;
          if (min === null || v < min) [min, minAt] = [v, i];
          if (max === null || v > max) [max, maxAt] = [v, i];
        }
        const minFirst = minAt <= maxAt;
        y[w] = minFirst ? min : max;
        y[w + 1] = minFirst ? max : min;
      }
    }
    this.committed = w;
    this.truncate();
    this.rowsPerPairValue = this.rowsPerPairValue === 0 ? 4 : this.rowsPerPairValue * 2;
  }
}
