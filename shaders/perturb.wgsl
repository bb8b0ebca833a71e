// Shrink & Perturb (Ash & Adams) on the GPU: at the end of every `every`-th step (steps t with (t + 1) % every == 0),
// every parameter p of a block becomes keep·p + noise·z, keep = 1 - shrink, z ~ N(0, 1) drawn from Philox under
// rngKey(seed, 'perturb', layer) as init_draw.wgsl draws normals, with counter word 2 = t. Element (r, c) of a
// block of a [*, global_cols] matrix draws at index (row_offset + r)·global_cols + col_offset + c; a layer's bias
// is row fan_in of the same index space (as if it were the weight of a constant input), so shards and biases never
// share a number. Mirrors src/reference/perturb.ts (up to the GPU's log/cos and a possible FMA contraction).

struct PerturbParams {
  rows: u32,
  cols: u32,
  ld: u32,
  global_cols: u32,
  row_offset: u32,
  col_offset: u32,
  every: u32,   // >= 1
  keep: f32,    // 1 - shrink, rounded to f32 on the host
  noise: f32,   // σ
  key0: u32,
  key1: u32,
}

@group(0) @binding(0) var<storage, read> state: StepState;
@group(0) @binding(1) var<uniform> params: PerturbParams;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;  // [rows, ld] row-major

override PERTURB_WG: u32;

@compute @workgroup_size(PERTURB_WG)
fn shrink_perturb(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let t = state.step;
  if ((t + 1u) % params.every != 0u) { return; }
  let index = linear_workgroup(wid, nwg) * PERTURB_WG + lid;
  if (index >= params.rows * params.cols) { return; }
  let r = index / params.cols;
  let c = index % params.cols;
  let i = (params.row_offset + r) * params.global_cols + params.col_offset + c;
  let z = init_normal_draw_at(vec2<u32>(params.key0, params.key1), i, t, 1.0);
  let at = r * params.ld + c;
  param[at] = params.keep * param[at] + params.noise * z;
}
