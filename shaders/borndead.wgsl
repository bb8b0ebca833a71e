// Born-dead trials: many freshly initialized networks pushed through their probe inputs at once.
// Trial t owns slices of every buffer (strides below); all trials of a dispatch share the layer's shape.
//   init     dst[t, i] = draw i of the Philox stream (key0 + t, key1)       one invocation per (t, i)
//            (trial t's seed is key0 + t: rngKey(seed + t, purpose, layer) = (seed + t, stream), so trial t's
//            matrix is the one the init kernel draws for a run of that seed; the draws are shaders/init_draw.wgsl)
//   forward  pre[t, r, u] = bias + sum_k x[t, r, k] * w[t, k, u]          one invocation per (t, r, 4 units)
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

struct InitTrialsParams {
  trials: u32,
  count: u32,     // elements per trial (rows * cols of the matrix; element i is row i / cols, column i % cols)
  stride: u32,    // elements between trials in init_dst
  key0: u32,      // seed of trial 0 (wraps at 2^32)
  key1: u32,      // stream: purpose << 16 | layer
  kind: u32,      // INIT_TRIALS_UNIFORM | INIT_TRIALS_NORMAL
  scale: f32,     // uniform limit or normal std
}

const INIT_TRIALS_UNIFORM: u32 = 0u;
const INIT_TRIALS_NORMAL: u32 = 1u;
// Invocations per workgroup, set by the host (src/gpu/kernels/borndead.ts) from its dispatch constant.
override WG: u32;
const F32_LOWEST: f32 = -3.4028234663852886e38;

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;           // [trials, rows, fan_in] at t * x_stride
@group(0) @binding(2) var<storage, read> w: array<f32>;           // [trials, fan_in, fan_out] at t * w_stride
@group(0) @binding(3) var<storage, read_write> pre: array<f32>;   // [trials, rows, fan_out] at t * pre_stride
@group(0) @binding(4) var<storage, read_write> alive: array<u32>;  // [trials] verdict: positive pre-activations
@group(0) @binding(5) var<storage, read_write> max_pre: array<f32>; // [trials] verdict: largest pre-activation
@group(0) @binding(6) var<uniform> init_params: InitTrialsParams;
@group(0) @binding(7) var<storage, read_write> init_dst: array<f32>; // [trials, count] at t * stride

@compute @workgroup_size(WG)
fn init(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WG + lid;
  if (index >= init_params.trials * init_params.count) {
    return;
  }
  let t = index / init_params.count;
  let i = index % init_params.count;
  let key = vec2<u32>(init_params.key0 + t, init_params.key1);
  var value: f32;
  if (init_params.kind == INIT_TRIALS_UNIFORM) {
    value = init_uniform_draw(key, i, init_params.scale);
  } else {
    value = init_normal_draw(key, i, init_params.scale);
  }
  init_dst[t * init_params.stride + i] = value;
}

// One invocation per (t, r, block of 4 units): x[t, r, k] is loaded once for 4 multiply-adds (loads cost more
// than arithmetic on CPU adapters). Past the last unit, loads are clamped in bounds and the results dropped.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let index = linear_workgroup(wid, nwg) * WG + lid;
  let blocks = (params.fan_out + 3u) / 4u;
  let per_trial = params.rows * blocks;
  if (index >= params.trials * per_trial) {
    return;
  }
  let t = index / per_trial;
  let r = (index % per_trial) / blocks;
  let u = (index % blocks) * 4u;
  let xo = t * params.x_stride + r * params.fan_in;
  let last = t * params.w_stride + params.fan_in * params.fan_out - 1u;
  var acc = vec4<f32>(0.0);
  for (var k = 0u; k < params.fan_in; k++) {
    let xv = x[xo + k];
    let wo = t * params.w_stride + k * params.fan_out + u;
    acc += xv * vec4<f32>(w[wo], w[min(wo + 1u, last)], w[min(wo + 2u, last)], w[min(wo + 3u, last)]);
  }
  let po = t * params.pre_stride + r * params.fan_out + u;
  let n = min(4u, params.fan_out - u);
  for (var j = 0u; j < n; j++) {
    pre[po + j] = acc[j] + params.bias;
  }
}

@compute @workgroup_size(WG)
fn verdict(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let t = linear_workgroup(wid, nwg) * WG + lid;
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
