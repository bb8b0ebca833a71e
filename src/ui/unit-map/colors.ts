// The unit map's colour code: every unit is one of four states, one colour each, written straight into an RGBA pixel
// buffer through a Uint32Array view (one store per unit, 32 units per bitmap word), so a 1,048,576-unit layer is
// painted in a few milliseconds without unpacking the bitmaps into arrays first.
//
// A unit can be in several bitmaps at once; the map shows the most important state, in this order:
//   dead (no gradient, stuck) > revived (dead before, alive now) > dropped this step (dropout) > alive.

export const UNIT_STATES = ['alive', 'dropped', 'revived', 'dead'] as const;
export type UnitState = (typeof UNIT_STATES)[number];

/** CSS colours of the four states (also used by the legend and the timeline). */
export const STATE_COLORS: Readonly<Record<UnitState, string>> = {
  alive: '#cfe3d4',
  dropped: '#f1bf4c',
  revived: '#c2307a',
  dead: '#1f232b',
};

/** Colour of map cells that hold no unit (the last row of a near-square grid). */
export const EMPTY_COLOR = '#f4f6f9';

export const STATE_LABELS: Readonly<Record<UnitState, string>> = {
  alive: 'alive',
  dropped: 'dropped this step',
  revived: 'revived',
  dead: 'dead',
};

/** '#rrggbb' → [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`colour ${JSON.stringify(hex)} is not #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** An opaque RGBA pixel as one u32 in the platform's byte order (what a Uint32Array view over ImageData holds). */
export function pixelOf(hex: string): number {
  const [r, g, b] = rgbOf(hex);
  const bytes = new Uint8Array([r, g, b, 255]);
  return new Uint32Array(bytes.buffer)[0];
}

/** The state of unit u from the three bitmaps (bit u % 32 of word u >>> 5). */
export function unitState(dead: Uint32Array, dropped: Uint32Array, revived: Uint32Array, u: number): UnitState {
  const w = u >>> 5;
  const bit = 1 << (u & 31);
  if (dead[w] & bit) return 'dead';
  if (revived[w] & bit) return 'revived';
  if (dropped[w] & bit) return 'dropped';
  return 'alive';
}

export interface UnitMapBitmaps {
  width: number;
  dead: Uint32Array;
  dropped: Uint32Array;
  revived: Uint32Array;
}

/** Columns and rows of the near-square grid that holds `units` cells (columns = ceil(sqrt(units))). */
export function gridShape(units: number): { cols: number; rows: number } {
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`a unit map needs at least 1 unit, got ${units}`);
  const cols = Math.ceil(Math.sqrt(units));
  return { cols, rows: Math.ceil(units / cols) };
}

const PALETTE = {
  alive: 0,
  dropped: 0,
  revived: 0,
  dead: 0,
  empty: 0,
};
let paletteReady = false;
function palette(): typeof PALETTE {
  if (!paletteReady) {
    for (const s of UNIT_STATES) PALETTE[s] = pixelOf(STATE_COLORS[s]);
    PALETTE.empty = pixelOf(EMPTY_COLOR);
    paletteReady = true;
  }
  return PALETTE;
}

/**
 * Paints cell i of `pixels` (cols × rows RGBA pixels as u32) with the state of unit i, or, with `order`, of unit
 * order[i] (a permutation of 0..width-1). Cells past the width get EMPTY_COLOR.
 */
export function paintUnitMap(pixels: Uint32Array, map: UnitMapBitmaps, order: Uint32Array | null = null): void {
  const { width, dead, dropped, revived } = map;
  const words = Math.ceil(width / 32);
  if (pixels.length < width) throw new RangeError(`pixel buffer holds ${pixels.length} pixels, fewer than the ${width} units`);
  if (dead.length < words || dropped.length < words || revived.length < words) throw new RangeError(`bitmaps of a ${width}-unit layer need ${words} words`);
  if (order !== null && order.length !== width) throw new RangeError(`unit order holds ${order.length} entries; the layer has ${width} units`);
  const p = palette();
  if (order === null) {
    for (let w = 0; w < words; w++) {
      const d = dead[w];
      const r = revived[w] & ~d;
      const x = dropped[w] & ~d & ~r;
      const base = w << 5;
      const end = Math.min(32, width - base);
      // Whole word alive (the common case): one fill instead of 32 bit tests.
      if ((d | r | x) === 0) {
        pixels.fill(p.alive, base, base + end);
        continue;
      }
      for (let b = 0; b < end; b++) {
        const bit = 1 << b;
        pixels[base + b] = d & bit ? p.dead : r & bit ? p.revived : x & bit ? p.dropped : p.alive;
      }
    }
  } else {
    for (let i = 0; i < width; i++) {
      const u = order[i];
      const w = u >>> 5;
      const bit = 1 << (u & 31);
      pixels[i] = dead[w] & bit ? p.dead : revived[w] & bit ? p.revived : dropped[w] & bit ? p.dropped : p.alive;
    }
  }
  pixels.fill(p.empty, width);
}

/** How many units of the layer are in each state (the same priority as the map). */
export function countStates(map: UnitMapBitmaps): Record<UnitState, number> {
  const out: Record<UnitState, number> = { alive: 0, dropped: 0, revived: 0, dead: 0 };
  const words = Math.ceil(map.width / 32);
  for (let w = 0; w < words; w++) {
    const valid = w === words - 1 && map.width % 32 !== 0 ? (1 << map.width % 32) - 1 : 0xffffffff;
    const d = map.dead[w] & valid;
    const r = map.revived[w] & ~d & valid;
    const x = map.dropped[w] & ~d & ~r & valid;
    out.dead += popcount(d);
    out.revived += popcount(r);
    out.dropped += popcount(x);
  }
  out.alive = map.width - out.dead - out.revived - out.dropped;
  return out;
}

export function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
