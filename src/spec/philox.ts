// Philox4x32-10 on the CPU: the same function as shaders/philox.wgsl, bit for bit (Random123 vectors
// in tests/unit/philox.test.ts). Production code, not only an oracle: the data pipeline draws with it.

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of the 64-bit product of two u32, from 16-bit halves (as the WGSL version does). */
export function mulHiU32(a: number, b: number): number {
  const aLo = a & 0xffff;
  const aHi = a >>> 16;
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  const loLo = aLo * bLo;
  const loHi = aLo * bHi;
  const hiLo = aHi * bLo;
  const hiHi = aHi * bHi;
  const cross = (loLo >>> 16) + (loHi & 0xffff) + (hiLo & 0xffff);
  return (hiHi + (loHi >>> 16) + (hiLo >>> 16) + (cross >>> 16)) >>> 0;
}

export type Counter = readonly [number, number, number, number];
export type Key = readonly [number, number];

/** Philox4x32-10: four u32 words from a 128-bit counter and a 64-bit key. */
export function philox4x32(counter: Counter, key: Key, out: Uint32Array = new Uint32Array(4)): Uint32Array {
  let [c0, c1, c2, c3] = counter;
  let [k0, k1] = key;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + W0) >>> 0;
      k1 = (k1 + W1) >>> 0;
    }
    const hi0 = mulHiU32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHiU32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
  return out;
}

/** Uniform in [0, 1) with 24 random bits (exact in f32; same as philox_unit_float in WGSL). */
export function unitFloat(bits: number): number {
  return (bits >>> 8) / 16777216;
}

/** Uniform in (0, 1] (same as philox_open_unit_float in WGSL). */
export function openUnitFloat(bits: number): number {
  return ((bits >>> 8) + 1) / 16777216;
}
