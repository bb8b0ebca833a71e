// Unit maps: one picture (and/or one array) of a hidden layer's units at a snapshot.
//
// Per unit a code (uint8), by precedence dead > revived > dropped > alive:
//   0 alive    not dead now, never revived, not dropped at the snapshot's last step
//   1 dead     pre-activation <= 0 on every probe input (whether dropout also masked it or not)
//   2 dropped  alive, masked by dropout for probe sample 0 at the snapshot's last step
//   3 revived  alive now after being dead at an earlier snapshot (dropped or not)
// .npy: uint8 array of shape (width,), unit u at index u (the codes above; NumPy: np.load(path)).
// .png: the units laid out row-major on a near-square grid of ceil(sqrt(width)) columns, unit u at
// (u % cols, u / cols), each a square of `scale` pixels (scale = max(1, floor(256 / cols)), so small layers
// stay visible); cells past the last unit are white. Colours: UNIT_PALETTE.
import { encode } from 'fast-png';
import type { LayerSnapshot } from '../../engine/observatory';
import { encodeNpy } from '../../data/npy';

export const UnitCode = { alive: 0, dead: 1, dropped: 2, revived: 3 } as const;

/** RGB per code, in code order; chosen to stay distinguishable for the common colour-vision deficiencies. */
export const UNIT_PALETTE: readonly { name: keyof typeof UnitCode; rgb: readonly [number, number, number]; hex: string }[] = [
  { name: 'alive', rgb: [0xdd, 0xdd, 0xdd], hex: '#dddddd' },
  { name: 'dead', rgb: [0x11, 0x11, 0x11], hex: '#111111' },
  { name: 'dropped', rgb: [0x56, 0xb4, 0xe9], hex: '#56b4e9' },
  { name: 'revived', rgb: [0xe6, 0x9f, 0x00], hex: '#e69f00' },
];
const PADDING: readonly [number, number, number] = [0xff, 0xff, 0xff];
/** Target side of a unit map in pixels (small layers are scaled up to about this). */
const TARGET_SIDE = 256;

const bit = (bits: Uint32Array, u: number) => (bits[u >>> 5] >>> (u & 31)) & 1;

/** The per-unit codes of a layer snapshot (see the precedence above). */
export function unitCodes(layer: Pick<LayerSnapshot, 'width' | 'dead' | 'dropped' | 'revived'>): Uint8Array {
  const codes = new Uint8Array(layer.width);
  for (let u = 0; u < layer.width; u++) {
    codes[u] = bit(layer.dead, u) ? UnitCode.dead : bit(layer.revived, u) ? UnitCode.revived : bit(layer.dropped, u) ? UnitCode.dropped : UnitCode.alive;
  }
  return codes;
}

/** Grid of a layer of `width` units: near-square, columns = ceil(sqrt(width)). */
export function unitGrid(width: number): { cols: number; rows: number; scale: number } {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`layer width must be a positive integer, got ${width}`);
  const cols = Math.ceil(Math.sqrt(width));
  return { cols, rows: Math.ceil(width / cols), scale: Math.max(1, Math.floor(TARGET_SIDE / cols)) };
}

/** RGB pixels of a unit map. */
export function unitMapImage(codes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const { cols, rows, scale } = unitGrid(codes.length);
  const width = cols * scale;
  const height = rows * scale;
  const data = new Uint8Array(width * height * 3);
  for (let cell = 0; cell < cols * rows; cell++) {
    const rgb = cell < codes.length ? UNIT_PALETTE[codes[cell]].rgb : PADDING;
    const x0 = (cell % cols) * scale;
    const y0 = Math.floor(cell / cols) * scale;
    for (let y = y0; y < y0 + scale; y++) {
      for (let x = x0; x < x0 + scale; x++) data.set(rgb, (y * width + x) * 3);
    }
  }
  return { width, height, data };
}

export function unitMapPng(codes: Uint8Array): Uint8Array {
  const image = unitMapImage(codes);
  return encode({ ...image, channels: 3, depth: 8 });
}

export function unitMapNpy(codes: Uint8Array): Uint8Array {
  return encodeNpy(codes, [codes.length]);
}

/**
 * Snapshot steps that get unit maps: every `mapEvery` steps, a multiple of the snapshot interval chosen so that
 * a run writes at most about `maxMaps` maps per layer (a 10^7-step run with a snapshot every 100 steps would
 * otherwise write 10^5 files per layer). Step 0 is always included; so is the run's last snapshot.
 */
export function unitMapInterval(steps: number, snapshotEvery: number, maxMaps = 64): number {
  return snapshotEvery * Math.max(1, Math.ceil(steps / (snapshotEvery * maxMaps)));
}
