// Parameter updates, one invocation per parameter, PyTorch semantics (no dampening, no amsgrad).
// lr and the Adam bias corrections come from StepState, so a schedule can change them on the GPU every step.
// Mirrors src/reference/optimizer.ts operation for operation (each line below is one f32 rounding there).
//   sgd:      g' = g + wd·w (L2);                       w -= lr·g'
//   momentum: g' = g + wd·w;  v = μ·v + g';  s = nesterov ? g' + μ·v : v;  w -= lr·s
//   adam:     g' = g + wd·w;  m = β1·m + (1-β1)·g';  v = β2·v + (1-β2)·g'²;
//             w -= lr · (m / bc1) / (sqrt(v / bc2) + ε)
//   adamw:    as adam with g' = g, after the decoupled decay w -= lr·wd·w
// NOTE: a shader compiler may contract a*b + c into an FMA, so the GPU can differ from the reference by an
// ulp or so per operation; tests compare with a tolerance, not bit for bit.

struct OptimizerParams {
  count: u32,
  weight_decay: f32,
  momentum: f32,
  nesterov: u32,   // 0 | 1
  beta1: f32,
  beta2: f32,
  eps: f32,
}

@group(0) @binding(0) var<uniform> params: OptimizerParams;
// StepState (shaders/step_state.wgsl), filled on the GPU each step: lr and bias corrections of this step
@group(0) @binding(1) var<storage, read> step_state: StepState;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;   // [count]
@group(0) @binding(3) var<storage, read> grad: array<f32>;          // [count]
@group(0) @binding(4) var<storage, read_write> state1: array<f32>;  // [count] momentum buffer / Adam m
@group(0) @binding(5) var<storage, read_write> state2: array<f32>;  // [count] Adam v

// Invocations per workgroup, set by the host (src/gpu/kernels/optimizer.ts) from its dispatch constant.
override WG: u32;

fn opt_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return linear_workgroup(wid, nwg) * WG + lid;
}

@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let i = opt_index(wid, nwg, lid);
  if (i >= params.count) {
    return;
  }
  let w = param[i];
  let g = grad[i] + params.weight_decay * w;
  param[i] = w - step_state.lr * g;
}

@compute @workgroup_size(WG)
fn momentum(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let i = opt_index(wid, nwg, lid);
  if (i >= params.count) {
    return;
  }
  let w = param[i];
  let g = grad[i] + params.weight_decay * w;
  // With v starting at 0 the first step gives v = g', as PyTorch's buffer initialisation does.
  let v = params.momentum * state1[i] + g;
  state1[i] = v;
  var s = v;
  if (params.nesterov != 0u) {
    s = g + params.momentum * v;
  }
  param[i] = w - step_state.lr * s;
}

fn adam_update(i: u32, w: f32, g: f32) -> f32 {
  let m = params.beta1 * state1[i] + (1.0 - params.beta1) * g;
  let v = params.beta2 * state2[i] + (1.0 - params.beta2) * (g * g);
  state1[i] = m;
  state2[i] = v;
  let m_hat = m / step_state.bias_correction1;
  let v_hat = v / step_state.bias_correction2;
  let denom = sqrt(v_hat) + params.eps;
  return w - step_state.lr * (m_hat / denom);
}

@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = opt_index(wid, nwg, lid);
  if (i >= params.count) {
    return;
  }
  let w = param[i];
  param[i] = adam_update(i, w, grad[i] + params.weight_decay * w);
}

@compute @workgroup_size(WG)
fn adamw(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
         @builtin(local_invocation_index) lid: u32) {
  let i = opt_index(wid, nwg, lid);
  if (i >= params.count) {
    return;
  }
  let w0 = param[i];
  let w = w0 - (step_state.lr * params.weight_decay) * w0;
  param[i] = adam_update(i, w, grad[i]);
}
