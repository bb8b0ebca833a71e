// The timeline raster of one layer: unit buckets (rows) × snapshots (columns), in a fixed number of columns whatever
// the run's length. When the columns are full, neighbouring pairs are averaged into one and each column then stands
// for twice as many snapshots, so memory stays bounded and the whole horizon stays in one picture.
import { EMPTY_COLOR, PRECEDENCE, rgbOf, STATE_COLORS } from '../../report/unit-states';
import { bucketShape, CELL_BYTES } from './columns';

/** Columns kept per layer. */
export const TIMELINE_CAPACITY = 480;

export class TimelineRaster {
  readonly rows: number;
  readonly unitsPerRow: number;
  /** Column c holds rows × CELL_BYTES fractions (one per state of PRECEDENCE) at c · rows · CELL_BYTES. */
  private readonly cells: Float32Array;
  /** First and last snapshot step of each committed column. */
  private readonly firstSteps: number[] = [];
  private readonly lastSteps: number[] = [];
  /** Snapshots averaged into one column. */
  private strideValue = 1;
  /** The column being filled (not yet `stride` snapshots). */
  private readonly partial: Float32Array;
  private partialCount = 0;
  private partialFirst = 0;
  private partialLast = 0;

  constructor(
    readonly width: number,
    readonly capacity = TIMELINE_CAPACITY,
    maxRows?: number,
  ) {
    if (!Number.isInteger(capacity) || capacity < 2 || capacity % 2 !== 0)
      throw new RangeError(`timeline capacity must be an even integer >= 2, got ${capacity}`);
    const shape = bucketShape(width, maxRows);
    this.rows = shape.rows;
    this.unitsPerRow = shape.unitsPerRow;
    this.cells = new Float32Array(capacity * this.rows * CELL_BYTES);
    this.partial = new Float32Array(this.rows * CELL_BYTES);
  }

  /** Snapshots per column. */
  get stride(): number {
    return this.strideValue;
  }

  /** Columns shown, the one still being filled included. */
  get columns(): number {
    return this.firstSteps.length + (this.partialCount > 0 ? 1 : 0);
  }

  /** Steps covered by column c: [first, last]. */
  stepsOf(c: number): [number, number] | null {
    if (c < this.firstSteps.length) return [this.firstSteps[c], this.lastSteps[c]];
    if (c === this.firstSteps.length && this.partialCount > 0) return [this.partialFirst, this.partialLast];
    return null;
  }

  /** Adds one snapshot's column (timelineColumn's bytes for this layer). */
  append(step: number, column: Uint8Array): void {
    const n = this.rows * CELL_BYTES;
    if (column.length !== n) throw new RangeError(`timeline column holds ${column.length} bytes; a ${this.width}-unit layer needs ${n}`);
    if (this.partialCount === 0) {
      // Make room before a new column starts, so that it gathers the new stride's worth of snapshots.
      if (this.firstSteps.length === this.capacity) this.halve();
      this.partialFirst = step;
    }
    this.partialLast = step;
    for (let i = 0; i < n; i++) this.partial[i] += column[i] / 255;
    this.partialCount++;
    if (this.partialCount === this.strideValue) this.commit();
  }

  private commit(): void {
    const n = this.rows * CELL_BYTES;
    const at = this.firstSteps.length * n;
    for (let i = 0; i < n; i++) this.cells[at + i] = this.partial[i] / this.partialCount;
    this.firstSteps.push(this.partialFirst);
    this.lastSteps.push(this.partialLast);
    this.partial.fill(0);
    this.partialCount = 0;
  }

  /** Averages neighbouring column pairs: half the columns, twice the snapshots each. */
  private halve(): void {
    const n = this.rows * CELL_BYTES;
    const half = this.capacity / 2;
    for (let c = 0; c < half; c++) {
      const a = 2 * c * n;
      const b = a + n;
      for (let i = 0; i < n; i++) this.cells[c * n + i] = (this.cells[a + i] + this.cells[b + i]) / 2;
      this.firstSteps[c] = this.firstSteps[2 * c];
      this.lastSteps[c] = this.lastSteps[2 * c + 1];
    }
    this.firstSteps.length = half;
    this.lastSteps.length = half;
    this.cells.fill(0, half * n);
    this.strideValue *= 2;
  }

  /** Fractions of row r in column c (the partial column included), one per state of PRECEDENCE. */
  cell(c: number, r: number): number[] {
    const i = r * CELL_BYTES;
    if (c === this.firstSteps.length && this.partialCount > 0) return Array.from(this.partial.subarray(i, i + CELL_BYTES), (v) => v / this.partialCount);
    const at = c * this.rows * CELL_BYTES + i;
    return Array.from(this.cells.subarray(at, at + CELL_BYTES));
  }

  /**
   * Paints the raster into RGBA pixels (width × rows, as u32; width defaults to the capacity): each cell the unit
   * map's colours mixed by the fractions of its units in each state; columns not reached yet in EMPTY_COLOR. The
   * timeline draws exactly its filled columns (width = columns), stretched over the canvas.
   */
  paint(pixels: Uint32Array, width = this.capacity): void {
    if (!Number.isInteger(width) || width < 1 || width > this.capacity) throw new RangeError(`timeline image width ${width} is not in [1, ${this.capacity}]`);
    if (pixels.length !== width * this.rows) throw new RangeError(`timeline image needs ${width * this.rows} pixels, got ${pixels.length}`);
    const bytes = new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength);
    const alive = rgbOf(STATE_COLORS.alive);
    const colours = PRECEDENCE.map((s) => rgbOf(STATE_COLORS[s]));
    const empty = rgbOf(EMPTY_COLOR);
    const columns = this.columns;
    const n = this.rows * CELL_BYTES;
    const partialColumn = this.partialCount > 0 ? this.firstSteps.length : -1;
    for (let c = 0; c < width; c++) {
      const source = c === partialColumn ? this.partial : this.cells;
      const base = c === partialColumn ? 0 : c * n;
      const scale = c === partialColumn ? 1 / this.partialCount : 1;
      for (let r = 0; r < this.rows; r++) {
        const p = 4 * (r * width + c);
        if (c >= columns) {
          bytes[p] = empty[0];
          bytes[p + 1] = empty[1];
          bytes[p + 2] = empty[2];
        } else {
          // Alive takes what the other states leave; each channel is the fraction-weighted mix.
          const i = base + r * CELL_BYTES;
          let red = 0;
          let green = 0;
          let blue = 0;
          let rest = 1;
          for (let j = 0; j < CELL_BYTES; j++) {
            const f = source[i + j] * scale;
            rest -= f;
            red += f * colours[j][0];
            green += f * colours[j][1];
            blue += f * colours[j][2];
          }
          rest = Math.max(0, rest);
          bytes[p] = red + rest * alive[0];
          bytes[p + 1] = green + rest * alive[1];
          bytes[p + 2] = blue + rest * alive[2];
        }
        bytes[p + 3] = 255;
      }
    }
  }
}
