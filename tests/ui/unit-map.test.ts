// The unit map's colour mapping (every unit one cell, the state priority dead > revived > dropped > alive, bit u of
// word u/32), the grid, the death-step order, zoom/pan hit testing and the PNG export.
import { decode } from 'fast-png';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { imageGrid, unitMapPng } from '../../src/report/unit-map-png';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField, initialUnitHistory } from '../../src/spec/unit-history';
import {
  countStates,
  EMPTY_COLOR,
  gridShape,
  paintUnitMap,
  pixelOf,
  rgbOf,
  STATE_COLORS,
  STATE_NAMES,
  unitCodes,
  type UnitBitmaps,
  type UnitState,
  unitStateOf,
} from '../../src/report/unit-states';
import { deathOrder } from '../../src/ui/unit-map/order';
import { cellAt, fitView, MAX_SCALE, panBy, zoomAt } from '../../src/ui/unit-map/view';
import { unitRecord } from '../../src/ui/worker/history';

/** Bitmaps of `width` units from a state per unit. */
function bitmaps(states: UnitState[]): UnitBitmaps {
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

const colorName = new Map([...STATE_NAMES.map((s) => [pixelOf(STATE_COLORS[s]), s] as const), [pixelOf(EMPTY_COLOR), 'empty'] as const]);

describe('unit map colours', () => {
  it('gives the six states six different opaque colours', () => {
    const pixels = STATE_NAMES.map((s) => pixelOf(STATE_COLORS[s]));
    expect(new Set(pixels).size).toBe(6);
    for (const s of STATE_NAMES) {
      const bytes = new Uint8Array(new Uint32Array([pixelOf(STATE_COLORS[s])]).buffer);
      expect([...bytes]).toEqual([...rgbOf(STATE_COLORS[s]), 255]);
    }
    expect(() => rgbOf('red')).toThrow(/#rrggbb/);
  });

  it('paints unit u into cell u with the state of bit u % 32 of word u / 32, the rest of the grid empty', () => {
    const states: UnitState[] = Array.from({ length: 70 }, (_, u) =>
      u === 0 ? 'dead' : u === 31 ? 'revived' : u === 32 ? 'dropped' : u === 69 ? 'dead' : 'alive',
    );
    const map = bitmaps(states);
    const { cols, rows } = gridShape(70);
    expect([cols, rows]).toEqual([9, 8]);
    const pixels = new Uint32Array(cols * rows).fill(0xdeadbeef);
    paintUnitMap(pixels, map);
    const shown = [...pixels].map((p) => colorName.get(p));
    expect(shown.slice(0, 70)).toEqual(states);
    expect(shown.slice(70)).toEqual(['empty', 'empty']);
  });

  it('shows the most important state when a unit is in several bitmaps: dead > revived > dropped', () => {
    const map = {
      width: 4,
      dead: new Uint32Array([0b0001]),
      revived: new Uint32Array([0b0011]),
      dropped: new Uint32Array([0b0111]),
      frozen: new Uint32Array(1),
      nonFinite: new Uint32Array(1),
    };
    const pixels = new Uint32Array(4);
    paintUnitMap(pixels, map);
    expect([...pixels].map((p) => colorName.get(p))).toEqual(['dead', 'revived', 'dropped', 'alive']);
    expect([0, 1, 2, 3].map((u) => unitStateOf(map, u))).toEqual(['dead', 'revived', 'dropped', 'alive']);
    expect(countStates(map)).toEqual({ dead: 1, revived: 1, dropped: 1, alive: 1, frozen: 0, nonFinite: 0 });
  });

  it('agrees with unitState and countStates on random bitmaps, ordered or not', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...STATE_NAMES), { minLength: 1, maxLength: 300 }), fc.integer(), (states, seed) => {
        const map = bitmaps(states);
        // Stray bits past the width must not be shown or counted.
        const last = map.width % 32;
        if (last) map.dead[map.dead.length - 1] |= 1 << 31;
        const { cols, rows } = gridShape(map.width);
        const pixels = new Uint32Array(cols * rows);
        paintUnitMap(pixels, map);
        states.forEach((s, u) => expect(colorName.get(pixels[u])).toBe(s));
        const counts = countStates(map);
        for (const s of STATE_NAMES) expect(counts[s]).toBe(states.filter((x) => x === s).length);
        // A permutation: cell i shows unit order[i].
        const order = Uint32Array.from(states.keys()).sort((a, b) => ((a * 7919 + seed) % 101) - ((b * 7919 + seed) % 101) || a - b);
        paintUnitMap(pixels, map, order);
        order.forEach((u, i) => expect(colorName.get(pixels[i])).toBe(states[u]));
      }),
      { numRuns: 60 },
    );
  });

  it('lays a million units out as a 1024 × 1024 image', () => {
    expect(gridShape(1_048_576)).toEqual({ cols: 1024, rows: 1024 });
    expect(gridShape(1)).toEqual({ cols: 1, rows: 1 });
    expect(gridShape(3)).toEqual({ cols: 2, rows: 2 });
    expect(() => gridShape(0)).toThrow(/at least 1 unit/);
  });

  it('rejects buffers that do not fit the layer', () => {
    const map = bitmaps(Array(40).fill('alive'));
    expect(() => paintUnitMap(new Uint32Array(10), map)).toThrow(/fewer than the 40 units/);
    expect(() => paintUnitMap(new Uint32Array(49), map, new Uint32Array(3))).toThrow(/order holds 3 entries; the layer has 40/);
    expect(() => paintUnitMap(new Uint32Array(49), { ...map, dead: new Uint32Array(1) })).toThrow(/need 2 words/);
  });
});

describe('order by death step', () => {
  it('puts units by first death step, never-dead last, ties by index', () => {
    const history = initialUnitHistory(6);
    const die = (u: number, step: number) => (history[u * UNIT_HISTORY_WORDS + UnitHistoryField.firstDeathStep] = step);
    die(4, 20);
    die(1, 10);
    die(5, 10);
    die(2, 0);
    expect([...deathOrder(history, 6)]).toEqual([2, 1, 5, 4, 0, 3]);
  });

  it('is a permutation for any history, and keeps the largest steps apart', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(NEVER), fc.integer({ min: 0, max: 0xfffffffe })), { minLength: 1, maxLength: 200 }), (firsts) => {
        const history = initialUnitHistory(firsts.length);
        firsts.forEach((f, u) => (history[u * UNIT_HISTORY_WORDS] = f));
        const order = deathOrder(history, firsts.length);
        expect([...order].sort((a, b) => a - b)).toEqual([...firsts.keys()]);
        for (let i = 1; i < order.length; i++) {
          const a = firsts[order[i - 1]];
          const b = firsts[order[i]];
          expect(a < b || (a === b && order[i - 1] < order[i])).toBe(true);
        }
      }),
      { numRuns: 80 },
    );
  });

  it('reads one unit record, with NEVER as null', () => {
    const history = initialUnitHistory(3);
    history.set([12, 2, 1, 40, 0, 3, 7, 0], 2 * UNIT_HISTORY_WORDS);
    expect(unitRecord(history, 2)).toEqual({ firstDeathStep: 12, deaths: 2, revivals: 1, lastChangeStep: 40, dead: false, dropRun: 3, longestDropRun: 7 });
    expect(unitRecord(history, 0)).toMatchObject({ firstDeathStep: null, lastChangeStep: null, deaths: 0 });
    expect(() => unitRecord(history, 3)).toThrow(/unit 3 is not in a layer of 3 units/);
  });
});

describe('zoom, pan and hit testing', () => {
  it('fits the grid centred and finds the cell under a point', () => {
    const view = fitView(10, 5, 400, 100);
    expect(view).toEqual({ scale: 20, x: 100, y: 0 });
    expect(cellAt(view, 100, 0, 10, 5, 50)).toBe(0);
    expect(cellAt(view, 299.9, 99.9, 10, 5, 50)).toBe(49);
    expect(cellAt(view, 99, 50, 10, 5, 50)).toBeNull();
    // Past the last unit of a partly filled last row.
    expect(cellAt(view, 290, 90, 10, 5, 45)).toBeNull();
  });

  it('zooms around the pointer, between the fitted scale and MAX_SCALE', () => {
    const fitted = fitView(100, 100, 200, 200);
    const zoomed = zoomAt(fitted, 4, 50, 50, fitted);
    expect(zoomed.scale).toBe(8);
    // The cell under the pointer stays under it.
    expect(cellAt(zoomed, 50, 50, 100, 100, 10_000)).toBe(cellAt(fitted, 50, 50, 100, 100, 10_000));
    expect(zoomAt(zoomed, 1000, 0, 0, fitted).scale).toBe(MAX_SCALE);
    expect(zoomAt(zoomed, 0.001, 0, 0, fitted)).toEqual(fitted);
    expect(panBy(zoomed, 5, -3)).toEqual({ scale: 8, x: zoomed.x + 5, y: zoomed.y - 3 });
  });
});

describe('PNG export', () => {
  it('writes each cell in the map colours, small layers scaled up, in the order shown', () => {
    const map = bitmaps(['dead', 'alive', 'dropped', 'revived', 'alive']);
    const { cols, rows, scale } = imageGrid(5);
    expect([cols, rows]).toEqual([3, 2]);
    const png = decode(unitMapPng(unitCodes(map)));
    expect([png.width, png.height, png.channels]).toEqual([3 * scale, 2 * scale, 3]);
    /** The colour at the top-left pixel of each cell. */
    const cells = (image: typeof png) =>
      [0, 1, 2, 3, 4, 5].map((cell) => {
        const at = 3 * (Math.floor(cell / cols) * scale * image.width + (cell % cols) * scale);
        return [...image.data.slice(at, at + 3)];
      });
    const colours = (states: string[]) => states.map((s) => rgbOf(STATE_COLORS[s as UnitState])).concat([rgbOf(EMPTY_COLOR)]);
    expect(cells(png)).toEqual(colours(['dead', 'alive', 'dropped', 'revived', 'alive']));
    // Cell i shows unit order[i].
    const reversed = decode(unitMapPng(unitCodes(map, Uint32Array.from([4, 3, 2, 1, 0]))));
    expect(cells(reversed)).toEqual(colours(['alive', 'revived', 'dropped', 'alive', 'dead']));
    expect(() => unitMapPng(Uint8Array.from([0, 9]))).toThrow(/unit 1 has code 9, not a unit state/);
  });
});
