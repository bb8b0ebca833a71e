// A unit map as an image file: the one PNG that both the page's "PNG" button and the CLI's maps/L<l>/step-<s>.png
// write, so the same snapshot gives the same bytes from either (fast-png, pure JS: no browser encoder in between).
//
// Units row-major on the near-square grid (unit-states.ts gridShape), each a square of `scale` pixels so that small
// layers stay visible (scale = max(1, floor(256 / cols)); a 1,048,576-unit layer is 1024×1024 pixels), RGB in the
// states' colours, cells past the last unit in EMPTY_COLOR.
import { encode } from 'fast-png';
import { EMPTY_COLOR, gridShape, rgbOf, UNIT_STATES } from './unit-states';

/** Target side of a unit map image in pixels (small layers are scaled up to about this). */
const TARGET_SIDE = 256;

/** The grid of a `units`-unit map and the pixels per cell side in its image. */
export function imageGrid(units: number): { cols: number; rows: number; scale: number } {
  const { cols, rows } = gridShape(units);
  return { cols, rows, scale: Math.max(1, Math.floor(TARGET_SIDE / cols)) };
}

/** RGB pixels of a unit map from per-cell codes (unit-states.ts unitCodes). */
export function unitMapImage(codes: Uint8Array): { width: number; height: number; data: Uint8Array } {
  const { cols, rows, scale } = imageGrid(codes.length);
  const palette = [...UNIT_STATES.map((s) => rgbOf(s.colour)), rgbOf(EMPTY_COLOR)];
  const empty = UNIT_STATES.length;
  const width = cols * scale;
  const height = rows * scale;
  const data = new Uint8Array(width * height * 3);
  for (let cell = 0; cell < cols * rows; cell++) {
    const code = cell < codes.length ? codes[cell] : empty;
    const rgb = palette[code];
    if (!rgb) throw new RangeError(`unit ${cell} has code ${code}, not a unit state`);
    const x0 = (cell % cols) * scale;
    const y0 = Math.floor(cell / cols) * scale;
    for (let y = y0; y < y0 + scale; y++) {
      for (let p = (y * width + x0) * 3, end = p + scale * 3; p < end; p += 3) {
        data[p] = rgb[0];
        data[p + 1] = rgb[1];
        data[p + 2] = rgb[2];
      }
    }
  }
  return { width, height, data };
}

/** PNG bytes of a unit map from per-cell codes. */
export function unitMapPng(codes: Uint8Array): Uint8Array {
  return encode({ ...unitMapImage(codes), channels: 3, depth: 8 });
}
