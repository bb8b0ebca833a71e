import { describe, expect, it } from 'vitest';
import { dropoutKeep, dropoutMaskBits } from '../../src/reference/dropout';
import { dropoutThreshold } from '../../src/spec/dropout-rate';
import { rngKey } from '../../src/spec/rng-streams';
import { LayerCount } from '../../src/spec/layer-counts';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField as F, initialUnitHistory } from '../../src/spec/unit-history';
import { deadScan, dropRunUpdate, droppedFraction, historyUpdate } from '../../src/reference/unitstats';

const KEY = rngKey(3, 'dropout', 2);

const unit = (history: Uint32Array, u: number) => Array.from(history.subarray(u * UNIT_HISTORY_WORDS, (u + 1) * UNIT_HISTORY_WORDS));

describe('unit statistics reference', () => {
  it('dead scan: dead <=> z <= 0 and finite on every row (0 and -0 are not active; NaN is non-finite, not dead), counts rows with z > 0', () => {
    // 3 rows x 5 units inside a [.., ld = 7] buffer at offset 2; the padding would count as active.
    const rows = [
      [-1, 0, 2, NaN, -3],
      [-2, -0, -1, NaN, 1e-45],
      [-0.5, 0, 3, NaN, -1],
    ];
    const z = new Float32Array(2 + 3 * 7).fill(5);
    rows.forEach((row, r) => z.set(row, 2 + r * 7));
    const { deadBits, nonFiniteBits, activeCounts } = deadScan(z, 3, 5, 7, 2);
    expect(Array.from(activeCounts)).toEqual([0, 0, 2, 0, 1]);
    // Issue 12: the all-NaN unit 3 used to read as dead; it is non-finite, its own state.
    expect(Array.from(deadBits)).toEqual([0b00011]);
    expect(Array.from(nonFiniteBits)).toEqual([0b01000]);
  });

  it('dead scan leaves bits past the width clear', () => {
    const { deadBits } = deadScan(new Float32Array(33).fill(-1), 1, 33);
    expect(Array.from(deadBits)).toEqual([0xffffffff, 1]);
  });

  it('history: dead -> alive -> dead -> alive, by hand', () => {
    const cols = 3;
    const history = initialUnitHistory(cols);
    expect(unit(history, 0)).toEqual([NEVER, 0, 0, NEVER, 0, 0, 0, 0]);
    const noDrops = new Uint32Array(1);
    // Unit 0 flips every snapshot; unit 1 is dead throughout; unit 2 alive throughout.
    const snapshots: Array<[number, number]> = [
      [5, 0b011],
      [9, 0b010],
      [12, 0b011],
      [20, 0b010],
    ];
    const results = snapshots.map(([step, dead]) => historyUpdate({ step, cols, deadBits: Uint32Array.of(dead), droppedBits: noDrops, history }));
    expect(unit(history, 0).slice(0, 5)).toEqual([5, 2, 2, 20, 0]);
    expect(unit(history, 1).slice(0, 5)).toEqual([5, 1, 0, 5, 1]);
    expect(unit(history, 2).slice(0, 5)).toEqual([NEVER, 0, 0, NEVER, 0]);
    // Revived = alive now, dead at an earlier snapshot: unit 0 at snapshots 2 and 4.
    expect(results.map((r) => r.revivedBits[0])).toEqual([0, 0b001, 0, 0b001]);
    // The history update owns the first four counters; frozen and non-finite are frozenPack's (src/reference/frozen.ts).
    expect(results.every((r) => r.counts[LayerCount.frozen] === 0 && r.counts[LayerCount.nonFinite] === 0)).toBe(true);
    expect(results.map((r) => Array.from(r.counts.subarray(0, 4)))).toEqual([
      [2, 0, 2, 0],
      [1, 1, 2, 0],
      [2, 0, 2, 0],
      [1, 1, 2, 0],
    ]);
  });

  it('history counts dropped units from the bitmap, ignoring bits past the width', () => {
    const history = initialUnitHistory(33);
    const { counts } = historyUpdate({ step: 1, cols: 33, deadBits: new Uint32Array(2), droppedBits: Uint32Array.of(0b1011, 0xffffffff), history });
    expect(counts[LayerCount.dropped]).toBe(4); // 3 in word 0, only bit 0 of word 1 is a unit
  });

  it('history leaves the drop-run fields alone and drop runs leave the snapshot fields alone', () => {
    const history = initialUnitHistory(8);
    for (let step = 0; step < 10; step++) dropRunUpdate({ p: 0.5, key: KEY, step, cols: 8, history });
    const runs = Array.from({ length: 8 }, (_, u) => unit(history, u).slice(F.dropRun));
    historyUpdate({ step: 10, cols: 8, deadBits: Uint32Array.of(0xff), droppedBits: new Uint32Array(1), history });
    expect(Array.from({ length: 8 }, (_, u) => unit(history, u).slice(F.dropRun))).toEqual(runs);
    expect(unit(history, 3).slice(0, 5)).toEqual([10, 1, 0, 10, 1]);
  });

  it('drop runs equal the number of trailing steps dropped for sample 0, and their maximum', () => {
    const cols = 37;
    const steps = 60;
    const p = 0.6;
    const threshold = dropoutThreshold(p);
    const history = initialUnitHistory(cols + 5);
    for (let step = 0; step < steps; step++) dropRunUpdate({ p, key: KEY, step, cols, unitOffset: 5, history });
    for (let c = 0; c < cols; c++) {
      const u = 5 + c;
      let run = 0;
      let longest = 0;
      for (let step = 0; step < steps; step++) {
        run = dropoutKeep(KEY, step, 0, u, threshold) ? 0 : run + 1;
        longest = Math.max(longest, run);
      }
      expect(history[u * UNIT_HISTORY_WORDS + F.dropRun], `unit ${u}`).toBe(run);
      expect(history[u * UNIT_HISTORY_WORDS + F.longestDropRun], `unit ${u}`).toBe(longest);
    }
    // Units below the offset are untouched.
    expect(unit(history, 0)).toEqual([NEVER, 0, 0, NEVER, 0, 0, 0, 0]);
  });

  it('dropped fraction counts the rows of the dropout mask bitmaps', () => {
    const rows = 6;
    const cols = 45;
    const counts = droppedFraction({ p: 0.3, key: KEY, step: 4, rows, cols, unitOffset: 3 });
    const want = new Uint32Array(cols);
    for (let sample = 0; sample < rows; sample++) {
      const bits = dropoutMaskBits({ p: 0.3, key: KEY, step: 4, sample, cols, unitOffset: 3 });
      for (let c = 0; c < cols; c++) want[c] += (bits[c >>> 5] >>> (c & 31)) & 1;
    }
    expect(Array.from(counts)).toEqual(Array.from(want));
    expect(Array.from(droppedFraction({ p: 0, key: KEY, step: 4, rows, cols }))).toEqual(new Array(cols).fill(0));
  });
});
