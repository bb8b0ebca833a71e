// Born-dead trials: many freshly initialized networks pushed through their probe inputs at once.
// Trial t owns slices of every buffer (strides below); all trials of a dispatch share the layer's shape.
//   forward  pre[t, r, u] = bias + sum_k x[t, r, k] * w[t, k, u]          one invocation per (t, r, u)
//   verdict  alive[t]   = #{(r, u) : pre[t, r, u] > 0}                     one invocation per trial
//            max_pre[t] = max over (r, u) of pre[t, r, u]
// A trial is dead when alive[t] = 0: every unit of the last hidden layer has pre-activation <= 0 on every
// probe input (the observatory's "dead", and "dead-like" for leaky ReLU / ELU / GELU).
// Mirrors src/reference/borndead.ts.
// NOTE: a NaN pre-activation is not > 0, so it never counts as alive; max_pre ignores it.

struct Params {
  trials: u32,
  rows: u32,
  fan_in: u32,
  fan_out: u32,
  x_stride: u32,   // elements between trials in x
  w_stride: u32,   // elements between trials in w
  pre_stride: u32, // elements between trials in pre
  bias: f32,
}

const BORNDEAD_WG: u32 = 64u;
const F32_LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [trials, rows, fan_in] at t * x_stride
@group(0) @binding(2) var<storage, read> w: array<f32>;           // [trials, fan_in, fan_out] at t * w_stride
@group(0) @binding(3) var<storage, read_write> pre: array<f32>;   // [trials, rows, fan_out] at t * pre_stride
@group(0) @binding(4) var<storage, read_write> alive: array<u32>;  // [trials] verdict: positive pre-activations
@group(0) @binding(5) var<storage, read_write> max_pre: array<f32>; // [trials] verdict: largest pre-activation

@compute @workgroup_size(BORNDEAD_WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * BORNDEAD_WG + lid;
  let per_trial = params.rows * params.fan_out;
  if (index >= params.trials * per_trial) {
    return;
  }
  let t = index / per_trial;
  let r = (index % per_trial) / params.fan_out;
  let u = index % params.fan_out;
  let xo = t * params.x_stride + r * params.fan_in;
  let wo = t * params.w_stride + u;
  var acc = 0.0;
  for (var k = 0u; k < params.fan_in; k++) {
    acc += x[xo + k] * w[wo + k * params.fan_out];
  }
  pre[t * params.pre_stride + r * params.fan_out + u] = acc + params.bias;
}

@compute @workgroup_size(BORNDEAD_WG)
fn verdict(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let t = linear_workgroup(wid, nwg) * BORNDEAD_WG + lid;
  if (t >= params.trials) {
    return;
  }
  let base = t * params.pre_stride;
  var count = 0u;
  var m = F32_LOWEST;
  for (var i = 0u; i < params.rows * params.fan_out; i++) {
    let v = pre[base + i];
    count += select(0u, 1u, v > 0.0);
    m = select(m, v, v > m);
  }
  alive[t] = count;
  max_pre[t] = m;
}
