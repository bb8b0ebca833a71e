// Parameter initialisation on the GPU from the Philox stream key = rngKey(seed, 'initWeights' | 'initBias', layer).
// Element (r, c) of a block of a [global_rows, global_cols] matrix draws from RNG index
// i = (row_offset + r) * global_cols + col_offset + c, so a sharded init equals the unsharded one.
// The draws themselves are in shaders/init_draw.wgsl (shared with the born-dead trials). Mirrors src/reference/init.ts.

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
// Invocations per workgroup, set by the host (src/gpu/kernels/init.ts) from its dispatch constant.
override WG: u32;

@group(0) @binding(0) var<uniform> params: InitParams;
// [rows, ld] row-major from offset; columns [0, cols) are written
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;

fn init_key() -> vec2<u32> {
  return vec2<u32>(params.key0, params.key1);
}

fn init_uniform(i: u32) -> f32 {
  return init_uniform_draw(init_key(), i, params.scale);
}

fn init_normal(i: u32) -> f32 {
  return init_normal_draw(init_key(), i, params.scale);
}

@compute @workgroup_size(WG)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WG + lid;
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
