// Timeline columns (unit buckets of a snapshot, counted with the unit map's state priority) and the raster that keeps
// a bounded number of columns by averaging neighbours, whatever the run's length.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bucketShape, CELL_BYTES, timelineColumn, TIMELINE_ROWS } from '../../src/ui/timeline/columns';
import { TimelineRaster } from '../../src/ui/timeline/raster';
import { EMPTY_COLOR, PRECEDENCE, rgbOf, STATE_COLORS, STATE_NAMES, type UnitState } from '../../src/report/unit-states';

/** A bucket's bytes, one per state of PRECEDENCE (nonFinite, frozen, dead, revived, dropped). */
const cell = (shares: Partial<Record<(typeof PRECEDENCE)[number], number>>) => PRECEDENCE.map((s) => shares[s] ?? 0);
const DEAD = PRECEDENCE.indexOf('dead');

function bitmaps(states: UnitState[]) {
  const words = Math.ceil(states.length / 32);
  const out = {
    width: states.length,
    dead: new Uint32Array(words),
    dropped: new Uint32Array(words),
    revived: new Uint32Array(words),
    frozen: new Uint32Array(words),
    nonFinite: new Uint32Array(words),
  };
  states.forEach((s, u) => {
    if (s !== 'alive') out[s][u >>> 5] |= 1 << (u & 31);
  });
  return out;
}

describe('timeline columns', () => {
  it('folds units into at most TIMELINE_ROWS buckets, whole words once buckets are wide', () => {
    expect(bucketShape(100)).toEqual({ rows: 100, unitsPerRow: 1 });
    expect(bucketShape(512)).toEqual({ rows: 256, unitsPerRow: 2 });
    expect(bucketShape(1_048_576)).toEqual({ rows: 256, unitsPerRow: 4096 });
    expect(bucketShape(10_000)).toEqual({ rows: 157, unitsPerRow: 64 });
    expect(() => bucketShape(0)).toThrow(/at least 1 unit/);
  });

  it('gives each bucket its fractions of dead, revived and dropped units (as bytes)', () => {
    // 8 units in 4 buckets of 2.
    const column = timelineColumn(bitmaps(['dead', 'dead', 'revived', 'alive', 'dropped', 'alive', 'alive', 'alive']), 4);
    expect([...column]).toEqual([...cell({ dead: 255 }), ...cell({ revived: 128 }), ...cell({ dropped: 128 }), ...cell({})]);
  });

  it('gives frozen and non-finite units their own fractions, non-finite first', () => {
    const column = timelineColumn(bitmaps(['nonFinite', 'frozen', 'frozen', 'dead']), 2);
    expect([...column]).toEqual([...cell({ nonFinite: 128, frozen: 128 }), ...cell({ frozen: 128, dead: 128 })]);
  });

  it('counts like a unit-by-unit reference on random layers, buckets crossing word boundaries included', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...STATE_NAMES), { minLength: 1, maxLength: 400 }), fc.integer({ min: 1, max: 40 }), (states, maxRows) => {
        const column = timelineColumn(bitmaps(states), maxRows);
        const { rows, unitsPerRow } = bucketShape(states.length, maxRows);
        expect(column.length).toBe(rows * CELL_BYTES);
        for (let r = 0; r < rows; r++) {
          const bucket = states.slice(r * unitsPerRow, (r + 1) * unitsPerRow);
          const share = (s: UnitState) => Math.round((255 * bucket.filter((x) => x === s).length) / bucket.length);
          expect([...column.slice(r * CELL_BYTES, (r + 1) * CELL_BYTES)]).toEqual(PRECEDENCE.map(share));
        }
      }),
      { numRuns: 80 },
    );
  });

  it('reads a million-unit layer in 256 rows', () => {
    const width = 1_048_576;
    const words = width / 32;
    const dead = new Uint32Array(words);
    dead.fill(0xffffffff, 0, 128); // the first 4096 units: bucket 0
    const none = () => new Uint32Array(words);
    const column = timelineColumn({ width, dead, dropped: new Uint32Array(words).fill(0x55555555), revived: none(), frozen: none(), nonFinite: none() });
    expect(column.length).toBe(TIMELINE_ROWS * CELL_BYTES);
    expect([...column.slice(0, CELL_BYTES)]).toEqual(cell({ dead: 255 }));
    expect([...column.slice(CELL_BYTES, 2 * CELL_BYTES)]).toEqual(cell({ dropped: 128 }));
  });
});

describe('timeline raster', () => {
  const col = (dead: number, rows = 2) => new Uint8Array(rows * CELL_BYTES).map((_, i) => (i % CELL_BYTES === DEAD ? dead : 0));

  it('keeps one column per snapshot until full, then averages neighbours and doubles the stride', () => {
    const raster = new TimelineRaster(2, 4);
    [0, 10, 20, 30].forEach((step, i) => raster.append(step, col(i * 51)));
    expect(raster.columns).toBe(4);
    expect(raster.stride).toBe(1);
    raster.append(40, col(255));
    // Halved: [0,10] [20,30], then 40 waits (partial) for a partner.
    expect(raster.stride).toBe(2);
    expect(raster.columns).toBe(3);
    expect(raster.stepsOf(0)).toEqual([0, 10]);
    expect(raster.stepsOf(1)).toEqual([20, 30]);
    expect(raster.stepsOf(2)).toEqual([40, 40]);
    expect(raster.cell(0, 0)[DEAD]).toBeCloseTo((0 + 51) / 2 / 255, 6);
    expect(raster.cell(1, 0)[DEAD]).toBeCloseTo((102 + 153) / 2 / 255, 6);
    expect(raster.cell(2, 0)[DEAD]).toBeCloseTo(1, 6);
    raster.append(50, col(0));
    expect(raster.stepsOf(2)).toEqual([40, 50]);
    expect(raster.cell(2, 0)[DEAD]).toBeCloseTo(0.5, 6);
    expect(raster.stepsOf(3)).toBeNull();
  });

  it('stays bounded over a long run and covers every snapshot', () => {
    const raster = new TimelineRaster(64, 8);
    for (let s = 0; s < 1000; s++) raster.append(s, new Uint8Array(raster.rows * CELL_BYTES));
    expect(raster.columns).toBeLessThanOrEqual(8);
    expect(raster.stepsOf(0)![0]).toBe(0);
    expect(raster.stepsOf(raster.columns - 1)![1]).toBe(999);
    for (let c = 1; c < raster.columns; c++) expect(raster.stepsOf(c)![0]).toBe(raster.stepsOf(c - 1)![1] + 1);
  });

  it('paints mixed colours, and empty columns past the data', () => {
    const raster = new TimelineRaster(1, 2);
    raster.append(0, Uint8Array.from(cell({ dead: 255 })));
    const pixels = new Uint32Array(2);
    raster.paint(pixels);
    const bytes = [...new Uint8Array(pixels.buffer)];
    expect(bytes.slice(0, 4)).toEqual([...rgbOf(STATE_COLORS.dead), 255]);
    expect(bytes.slice(4, 8)).toEqual([...rgbOf(EMPTY_COLOR), 255]);
    raster.append(10, Uint8Array.from(cell({})));
    raster.paint(pixels);
    expect([...new Uint8Array(pixels.buffer)].slice(4, 7)).toEqual(rgbOf(STATE_COLORS.alive));
    expect(() => raster.append(20, new Uint8Array(2 * CELL_BYTES))).toThrow(new RegExp(`holds ${2 * CELL_BYTES} bytes; a 1-unit layer needs ${CELL_BYTES}`));
    expect(() => raster.paint(new Uint32Array(3))).toThrow(/needs 2 pixels/);
    // Only the filled columns: a 1-column image shows column 0.
    const one = new Uint32Array(1);
    raster.paint(one, 1);
    expect([...new Uint8Array(one.buffer)].slice(0, 3)).toEqual(rgbOf(STATE_COLORS.dead));
    expect(() => raster.paint(one, 3)).toThrow(/width 3 is not in \[1, 2\]/);
    expect(() => new TimelineRaster(4, 3)).toThrow(/even integer/);
  });
});
