// The unit states, in one place: what a unit can be at a snapshot, which state it shows when it is in several bitmaps,
// the colours, the .npy codes and the near-square grid. The page (unit map, PNG export, timeline, legend), the CLI's
// unit map files and the run report all read them from here, so what they show agrees, down to the PNG bytes.
//
// Every state but alive comes from a bitmap of the snapshot with the state's name (bit u % 32 of word u / 32). A new
// state is one row of UNIT_STATES, one place in PRECEDENCE and its bitmap in the snapshot; everything below follows.

export interface UnitStateInfo {
  /** Name in code, CSS classes and the snapshot's bitmap field. */
  readonly name: string;
  /** Value in .npy unit maps (documented in the README: never renumber). Equal to the row's index. */
  readonly code: number;
  /** Legend and tooltip text. */
  readonly label: string;
  /** #rrggbb. */
  readonly colour: string;
  /** One-line definition for legends ('' for alive: none of the others). */
  readonly meaning: string;
}

// Colours: Okabe–Ito sky blue and orange stay distinct under every common colour-vision deficiency; grey and black differ by lightness.
// Frozen (deep blue) and non-finite (dark red) were picked for the largest least distance (ΔE 40 in CIELAB) to the
// others under simulated protanopia, deuteranopia and tritanopia (tests/unit/unit-states.test.ts checks ≥ 25).
export const UNIT_STATES = [
  { name: 'alive', code: 0, label: 'alive', colour: '#dddddd', meaning: '' },
  { name: 'dead', code: 1, label: 'dead', colour: '#111111', meaning: 'pre-activation ≤ 0 on every probe input (dropout off), not frozen' },
  { name: 'dropped', code: 2, label: 'dropped this step', colour: '#56b4e9', meaning: 'masked by dropout for probe sample 0' },
  { name: 'revived', code: 3, label: 'revived', colour: '#e69f00', meaning: 'dead before, alive now' },
  {
    name: 'frozen',
    code: 4,
    label: 'frozen',
    colour: '#2222cc',
    meaning: 'pre-activation ≤ 0 on every training row (dropout on) for the last W steps: exactly zero gradient',
  },
  { name: 'nonFinite', code: 5, label: 'non-finite', colour: '#aa0000', meaning: 'NaN or ±Inf pre-activation: the run diverged (never dead, never frozen)' },
] as const satisfies readonly UnitStateInfo[];

export type UnitState = (typeof UNIT_STATES)[number]['name'];

/**
 * The states read from bitmaps, most important first: a unit set in several bitmaps shows the first of them, a unit
 * in none is alive. Non-finite outranks everything (the run diverged; the other bitmaps never hold such a unit
 * anyway); frozen comes next (zero gradient in training for W steps: the absorbing state), then dead on the probe
 * set (≤ 0 with dropout off, but dropout below or new inputs can still wake it); being dropped is the least news
 * (every unit is eligible again at the next step). A unit both frozen and dead on the probe shows frozen.
 */
export const PRECEDENCE = ['nonFinite', 'frozen', 'dead', 'revived', 'dropped'] as const satisfies readonly Exclude<UnitState, 'alive'>[];

export type BitmapState = (typeof PRECEDENCE)[number];

/** One layer at one snapshot: `width` units, one bitmap per state of PRECEDENCE. */
export type UnitBitmaps = { readonly width: number } & { readonly [S in BitmapState]: Uint32Array };

export const STATE_NAMES: readonly UnitState[] = UNIT_STATES.map((s) => s.name);

/** .npy code of each state. */
export const UnitCode = Object.fromEntries(UNIT_STATES.map((s) => [s.name, s.code])) as {
  readonly [S in (typeof UNIT_STATES)[number] as S['name']]: S['code'];
};

/** CSS colour of each state. */
export const STATE_COLORS = Object.fromEntries(UNIT_STATES.map((s) => [s.name, s.colour])) as Readonly<Record<UnitState, string>>;

export const STATE_LABELS = Object.fromEntries(UNIT_STATES.map((s) => [s.name, s.label])) as Readonly<Record<UnitState, string>>;

/** Colour of grid cells that hold no unit (the end of the last row). */
export const EMPTY_COLOR = '#ffffff';

/**
 * Not a state of a snapshot (no bitmap, no .npy code: files never hold it): while the step-0 snapshot is still being
 * measured (a partial frame, src/ui/protocol.ts), a unit that no probe row measured so far has proven alive. Such units
 * may still turn out alive or dead; those already proven are shown alive. A neutral mid grey, apart from every state.
 */
export const NOT_MEASURED = {
  name: 'notMeasured',
  label: 'not measured yet',
  colour: '#8a8a8a',
  meaning: 'the step-0 snapshot is still being taken: no probe row measured so far gave a positive pre-activation',
} as const satisfies Omit<UnitStateInfo, 'code'>;

/** '#rrggbb' → [r, g, b]. */
export function rgbOf(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`colour ${JSON.stringify(hex)} is not #rrggbb`);
  return [parseInt(m[1], 16), parseInt(m[2], 16), parseInt(m[3], 16)];
}

/** An opaque RGBA pixel as one u32 in the platform's byte order (what a Uint32Array view over RGBA bytes holds). */
export function pixelOf(hex: string): number {
  const [r, g, b] = rgbOf(hex);
  return new Uint32Array(new Uint8Array([r, g, b, 255]).buffer)[0];
}

/** The bitmaps of a snapshot layer, without its other fields (what the page is sent). */
export function bitmapsOf(layer: UnitBitmaps): UnitBitmaps {
  return Object.fromEntries([['width', layer.width], ...PRECEDENCE.map((s) => [s, layer[s]])]) as UnitBitmaps;
}

const ALIVE = UnitCode.alive;
const RANKED_CODES: readonly number[] = PRECEDENCE.map((s) => UnitCode[s]);
const CODE_IDENTITY: readonly number[] = UNIT_STATES.map((s) => s.code);
/** RGBA pixel (u32) per code. */
const PIXELS: readonly number[] = UNIT_STATES.map((s) => pixelOf(s.colour));

function checkBitmaps(map: UnitBitmaps, order: Uint32Array | null): void {
  const words = Math.ceil(map.width / 32);
  for (const s of PRECEDENCE)
    if (map[s].length < words) throw new RangeError(`bitmaps of a ${map.width}-unit layer need ${words} words; ${s} holds ${map[s].length}`);
  if (order !== null && order.length !== map.width) throw new RangeError(`unit order holds ${order.length} entries; the layer has ${map.width} units`);
}

/** Writes lut[code] of unit i (or of unit order[i]) into out[i], for every unit of the layer. */
function resolve(out: Uint8Array | Uint32Array, lut: ArrayLike<number>, map: UnitBitmaps, order: Uint32Array | null): void {
  const { width } = map;
  const planes = PRECEDENCE.map((s) => map[s]);
  const values = RANKED_CODES.map((c) => lut[c]);
  const alive = lut[ALIVE];
  if (order === null) {
    // Alive everywhere, then each state's set bits from the least important up, so the most important is written last.
    out.fill(alive, 0, width);
    const words = Math.ceil(width / 32);
    for (let j = planes.length - 1; j >= 0; j--) {
      const plane = planes[j];
      const v = values[j];
      for (let w = 0; w < words; w++) {
        let bits = plane[w];
        if (bits === 0) continue;
        const base = w << 5;
        if (width - base < 32) bits &= (1 << (width - base)) - 1;
        while (bits !== 0) {
          const low = bits & -bits;
          out[base + 31 - Math.clz32(low)] = v;
          bits ^= low;
        }
      }
    }
  } else {
    for (let i = 0; i < width; i++) {
      const u = order[i];
      const w = u >>> 5;
      const bit = 1 << (u & 31);
      let v = alive;
      for (let j = 0; j < planes.length; j++) {
        if (planes[j][w] & bit) {
          v = values[j];
          break;
        }
      }
      out[i] = v;
    }
  }
}

/** The .npy code of every unit (cell i holds unit order[i] when an order, a permutation of the units, is given). */
export function unitCodes(map: UnitBitmaps, order: Uint32Array | null = null): Uint8Array {
  checkBitmaps(map, order);
  const codes = new Uint8Array(map.width);
  resolve(codes, CODE_IDENTITY, map, order);
  return codes;
}

/** The state of unit u. */
export function unitStateOf(map: UnitBitmaps, u: number): UnitState {
  const w = u >>> 5;
  const bit = 1 << (u & 31);
  for (const s of PRECEDENCE) if (map[s][w] & bit) return s;
  return 'alive';
}

/**
 * Paints cell i of `pixels` (RGBA pixels as u32, one per grid cell) in the colour of unit i, or, with `order`, of
 * unit order[i]; cells past the last unit in EMPTY_COLOR. Straight from the bitmaps: a 1,048,576-unit layer takes a
 * few milliseconds.
 */
export function paintUnitMap(pixels: Uint32Array, map: UnitBitmaps, order: Uint32Array | null = null): void {
  if (pixels.length < map.width) throw new RangeError(`pixel buffer holds ${pixels.length} pixels, fewer than the ${map.width} units`);
  checkBitmaps(map, order);
  resolve(pixels, PIXELS, map, order);
  pixels.fill(pixelOf(EMPTY_COLOR), map.width);
}

function popcount(v: number): number {
  v = v - ((v >>> 1) & 0x55555555);
  v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
  return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}

/** Bits [start, end) of the unit range that fall in word w, as a mask of that word. */
function rangeMask(w: number, start: number, end: number): number {
  const lo = Math.max(start - w * 32, 0);
  const hi = Math.min(end - w * 32, 32);
  if (hi <= lo) return 0;
  const upper = hi === 32 ? 0xffffffff : (1 << hi) - 1;
  const lower = lo === 0 ? 0 : (1 << lo) - 1;
  return (upper & ~lower) >>> 0;
}

/** How many of units [start, end) are in each state of PRECEDENCE (in that order); whole words by popcount. */
export function countRanked(map: UnitBitmaps, start = 0, end = map.width): number[] {
  const counts = new Array<number>(PRECEDENCE.length).fill(0);
  if (end <= start) return counts;
  for (let w = start >>> 5; w <= (end - 1) >>> 5; w++) {
    let free = rangeMask(w, start, end);
    for (let j = 0; j < PRECEDENCE.length; j++) {
      const bits = map[PRECEDENCE[j]][w] & free;
      counts[j] += popcount(bits);
      free &= ~bits;
    }
  }
  return counts;
}

/** How many units of the layer are in each state. */
export function countStates(map: UnitBitmaps): Record<UnitState, number> {
  const ranked = countRanked(map);
  const out = Object.fromEntries(STATE_NAMES.map((s) => [s, 0])) as Record<UnitState, number>;
  PRECEDENCE.forEach((s, j) => (out[s] = ranked[j]));
  out.alive = map.width - ranked.reduce((a, b) => a + b, 0);
  return out;
}

/** Columns and rows of the near-square grid that holds `units` cells (columns = ceil(sqrt(units))), unit u at (u % cols, u / cols). */
export function gridShape(units: number): { cols: number; rows: number } {
  if (!Number.isInteger(units) || units < 1) throw new RangeError(`a unit map needs at least 1 unit: width must be a positive integer, got ${units}`);
  const cols = Math.ceil(Math.sqrt(units));
  return { cols, rows: Math.ceil(units / cols) };
}

/**
 * Paints a partial step-0 snapshot: cell i is unit i, alive where `proven` has its bit (proven not dead on the probe set),
 * NOT_MEASURED elsewhere; cells past the last unit in EMPTY_COLOR.
 */
export function paintPartialUnitMap(pixels: Uint32Array, width: number, proven: Uint32Array): void {
  if (pixels.length < width) throw new RangeError(`pixel buffer holds ${pixels.length} pixels, fewer than the ${width} units`);
  const words = Math.ceil(width / 32);
  if (proven.length < words) throw new RangeError(`the proven bitmap of a ${width}-unit layer needs ${words} words; it holds ${proven.length}`);
  const alive = PIXELS[ALIVE];
  const pending = pixelOf(NOT_MEASURED.colour);
  for (let u = 0; u < width; u++) pixels[u] = (proven[u >>> 5] >>> (u & 31)) & 1 ? alive : pending;
  pixels.fill(pixelOf(EMPTY_COLOR), width);
}

/** Units of a `width`-unit layer set in `bits` (bits past the width are not counted). */
export function countBits(bits: Uint32Array, width: number): number {
  let n = 0;
  for (let w = 0; w < Math.ceil(width / 32); w++) n += popcount(bits[w] & rangeMask(w, 0, width));
  return n;
}
