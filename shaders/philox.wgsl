// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", Random123), the one RNG
// of deadunits: init, batch order and dropout masks are all pure functions of (key, counter), so
// the backward pass recomputes a mask instead of storing it. Mirrors src/reference/philox.ts bit for bit.

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

// WGSL has no 64-bit multiply: the high word is assembled from 16-bit partial products.
fn mul_hi_u32(a: u32, b: u32) -> u32 {
  let a_lo = a & 0xFFFFu;
  let a_hi = a >> 16u;
  let b_lo = b & 0xFFFFu;
  let b_hi = b >> 16u;
  let lo_lo = a_lo * b_lo;
  let lo_hi = a_lo * b_hi;
  let hi_lo = a_hi * b_lo;
  let hi_hi = a_hi * b_hi;
  let cross = (lo_lo >> 16u) + (lo_hi & 0xFFFFu) + (hi_lo & 0xFFFFu);
  return hi_hi + (lo_hi >> 16u) + (hi_lo >> 16u) + (cross >> 16u);
}

fn philox_round(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  let hi0 = mul_hi_u32(PHILOX_M0, ctr.x);
  let lo0 = PHILOX_M0 * ctr.x;
  let hi1 = mul_hi_u32(PHILOX_M1, ctr.z);
  let lo1 = PHILOX_M1 * ctr.z;
  return vec4<u32>(hi1 ^ ctr.y ^ key.x, lo1, hi0 ^ ctr.w ^ key.y, lo0);
}

fn philox4x32_10(counter: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var ctr = counter;
  var k = key;
  for (var round = 0u; round < 10u; round++) {
    if (round > 0u) {
      k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
    }
    ctr = philox_round(ctr, k);
  }
  return ctr;
}

// Uniform in [0, 1) with 24 random bits: exactly representable in f32, identical on CPU and GPU.
fn philox_unit_float(bits: u32) -> f32 {
  return f32(bits >> 8u) * (1.0 / 16777216.0);
}

// Uniform in (0, 1]: safe for log() in Box-Muller.
fn philox_open_unit_float(bits: u32) -> f32 {
  return f32((bits >> 8u) + 1u) * (1.0 / 16777216.0);
}
