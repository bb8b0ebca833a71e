// Parameter initialisation on the GPU from the Philox stream key = rngKey(seed, 'initWeights' | 'initBias', layer).
// Element (r, c) of a block of a [global_rows, global_cols] matrix draws from RNG index
// i = (row_offset + r) * global_cols + col_offset + c, so a sharded init equals the unsharded one.
// Mirrors src/reference/init.ts.

struct InitParams {
  rows: u32,
  cols: u32,
  global_cols: u32,
  row_offset: u32,
  col_offset: u32,
  offset: u32,   // elements
  ld: u32,
  key0: u32,
  key1: u32,
  kind: u32,     // INIT_UNIFORM | INIT_NORMAL | INIT_CONSTANT
  scale: f32,    // uniform: limit; normal: std
  value: f32,    // constant
}

const INIT_UNIFORM: u32 = 0u;
const INIT_NORMAL: u32 = 1u;
const INIT_CONSTANT: u32 = 2u;
const INIT_WG: u32 = 256u;
const INIT_PI: f32 = 3.14159265358979;

@group(0) @binding(0) var<uniform> params: InitParams;
// [rows, ld] row-major from offset; columns [0, cols) are written
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;

fn init_key() -> vec2<u32> {
  return vec2<u32>(params.key0, params.key1);
}

// NOTE: exact: u has 24 bits, so 2u - 1 = (k - 2^23) / 2^23 is exact in f32 (even if contracted into an FMA),
// and the product with limit is one correctly rounded multiply: bit-identical to the reference.
fn init_uniform(i: u32) -> f32 {
  let words = philox4x32_10(vec4<u32>(i >> 2u, 0u, 0u, 0u), init_key());
  let u = philox_unit_float(words[i & 3u]);
  return (2.0 * u - 1.0) * params.scale;
}

// Box-Muller, cosine branch only, one (u1, u2) word pair per element.
fn init_normal(i: u32) -> f32 {
  let words = philox4x32_10(vec4<u32>(i >> 1u, 1u, 0u, 0u), init_key());
  let pair = (i & 1u) * 2u;
  let u1 = philox_open_unit_float(words[pair]);
  let u2 = philox_unit_float(words[pair + 1u]);
  // NOTE: max() guards log(1) returning a tiny positive value on some GPUs (sqrt of a negative is NaN).
  let r = sqrt(max(-2.0 * log(u1), 0.0));
  // NOTE: cos(2πu) = -cos(π(2u - 1)): the argument stays in [-π, π), the range where WGSL bounds cos's error.
  let z = -r * cos(INIT_PI * (2.0 * u2 - 1.0));
  return z * params.scale;
}

@compute @workgroup_size(INIT_WG)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * INIT_WG + lid;
  if (index >= params.rows * params.cols) {
    return;
  }
  let r = index / params.cols;
  let c = index % params.cols;
  let i = (params.row_offset + r) * params.global_cols + params.col_offset + c;
  var value = params.value;
  if (params.kind == INIT_UNIFORM) {
    value = init_uniform(i);
  } else if (params.kind == INIT_NORMAL) {
    value = init_normal(i);
  }
  dst[params.offset + r * params.ld + c] = value;
}
