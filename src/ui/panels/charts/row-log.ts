// Every metrics row of a run, packed in one Float64Array, for the CSV export.
//
// A row is 5 + 5 × layers numbers (the CSV's columns). The log holds at most `budget` numbers (default 2^22: 32 MiB,
// about 280,000 rows of a 2-layer net, 28 million steps at one snapshot per 100). When it is full it keeps every
// other row and from then on records every (2·stride)-th row, so a very long run exports evenly thinned rows
// instead of running the tab out of memory; `stride` says how many snapshots one exported row stands for.

import type { MetricsRow } from '../../../report/metrics';

const ROW_FIELDS = 5;
const LAYER_FIELDS = 5;
const LOSS_NULL = 1;
const SPS_NULL = 2;

export const DEFAULT_ROW_BUDGET = 2 ** 22;

export class RowLog {
  private data: Float64Array;
  private nulls: Uint8Array;
  private count = 0;
  private seen = 0;
  private strideValue = 1;
  readonly rowWidth: number;
  readonly maxRows: number;

  constructor(
    readonly layerCount: number,
    budget = DEFAULT_ROW_BUDGET,
  ) {
    this.rowWidth = ROW_FIELDS + LAYER_FIELDS * layerCount;
    this.maxRows = Math.floor(budget / this.rowWidth / 2) * 2;
    if (this.maxRows < 2) throw new Error(`a budget of ${budget} numbers holds fewer than 2 rows of ${this.rowWidth}`);
    // Start small and grow by doubling, so a short run costs little.
    const initial = Math.min(this.maxRows, 256);
    this.data = new Float64Array(initial * this.rowWidth);
    this.nulls = new Uint8Array(initial);
  }

  /** Rows held. */
  get length(): number {
    return this.count;
  }

  /** Snapshots per held row: 1 until the budget forced thinning. */
  get stride(): number {
    return this.strideValue;
  }

  append(row: MetricsRow): void {
    if (row.layers.length !== this.layerCount) throw new Error(`row of step ${row.step} has ${row.layers.length} layers, the log ${this.layerCount}`);
    const index = this.seen++;
    if (index % this.strideValue !== 0) return;
    if (this.count === this.maxRows) {
      this.thin();
      if (index % this.strideValue !== 0) return;
    }
    if (this.count * this.rowWidth === this.data.length) this.grow();
    const o = this.count * this.rowWidth;
    const d = this.data;
    d[o] = row.step;
    d[o + 1] = row.elapsedSeconds;
    d[o + 2] = row.loss ?? 0;
    d[o + 3] = row.stepsPerSecond ?? 0;
    d[o + 4] = row.skipped;
    this.nulls[this.count] = (row.loss === null ? LOSS_NULL : 0) | (row.stepsPerSecond === null ? SPS_NULL : 0);
    row.layers.forEach((l, i) => {
      const p = o + ROW_FIELDS + i * LAYER_FIELDS;
      d[p] = l.width;
      d[p + 1] = l.dead;
      d[p + 2] = l.dropped;
      d[p + 3] = l.revived;
      d[p + 4] = l.everDead;
    });
    this.count++;
  }

  row(i: number): MetricsRow {
    if (!(i >= 0 && i < this.count)) throw new RangeError(`row ${i} is not in [0, ${this.count})`);
    const d = this.data;
    const o = i * this.rowWidth;
    const flags = this.nulls[i];
    const layers = Array.from({ length: this.layerCount }, (_, l) => {
      const p = o + ROW_FIELDS + l * LAYER_FIELDS;
      return { width: d[p], dead: d[p + 1], dropped: d[p + 2], revived: d[p + 3], everDead: d[p + 4] };
    });
    return {
      step: d[o],
      elapsedSeconds: d[o + 1],
      loss: flags & LOSS_NULL ? null : d[o + 2],
      stepsPerSecond: flags & SPS_NULL ? null : d[o + 3],
      skipped: d[o + 4],
      layers,
    };
  }

  rows(): MetricsRow[] {
    return Array.from({ length: this.count }, (_, i) => this.row(i));
  }

  private grow(): void {
    const rows = Math.min(this.maxRows, (this.data.length / this.rowWidth) * 2);
    const data = new Float64Array(rows * this.rowWidth);
    data.set(this.data);
    const nulls = new Uint8Array(rows);
    nulls.set(this.nulls);
    this.data = data;
    this.nulls = nulls;
  }

  /** Keeps rows 0, 2, 4, … (snapshots 0, 2·stride, 4·stride, …) and doubles the stride. */
  private thin(): void {
    const w = this.rowWidth;
    for (let r = 0; r < this.count; r += 2) {
      this.data.copyWithin((r / 2) * w, r * w, (r + 1) * w);
      this.nulls[r / 2] = this.nulls[r];
    }
    this.count /= 2;
    this.strideValue *= 2;
  }
}
