// The unit map as a PNG file: one pixel per unit, in the map's colours and layout (fast-png, pure JS: the same bytes in
// every browser, and testable in Node).
import { encode } from 'fast-png';

/** RGBA pixels (width × height, as the renderer holds them) → PNG bytes. */
export function unitMapPng(pixels: Uint32Array, width: number, height: number): Uint8Array {
  if (pixels.length !== width * height) throw new RangeError(`${pixels.length} pixels do not make a ${width}×${height} image`);
  return encode({ width, height, data: new Uint8Array(pixels.buffer, pixels.byteOffset, pixels.byteLength), channels: 4, depth: 8 });
}
