// Elementwise activations and their derivatives: a = act(z) forward, dz = da * act'(z) backward.
// The override KIND picks the function (one pipeline per kind, shared by every layer using it); alpha
// is a uniform so that any slope / ELU scale reuses the same pipeline. Mirrors src/reference/activation.ts.
//
//   identity    z                                      act' = 1
//   relu        max(z, 0)                              act' = 1 if z > 0 else 0   (act'(0) = 0)
//   leaky_relu  z if z > 0 else alpha z                act' = 1 if z > 0 else alpha
//   elu         z if z > 0 else alpha (exp(z) - 1)     act' = 1 if z > 0 else alpha exp(z)
//   gelu        0.5 z (1 + tanh(u)),  u = sqrt(2/pi) (z + 0.044715 z^3)        (the "tanh" GELU)
//               act' = 0.5 (1 + tanh(u)) + 0.5 z (1 - tanh(u)^2) sqrt(2/pi) (1 + 3 * 0.044715 z^2)
//
// relu'(0) = 0 on purpose: a unit whose pre-activation is <= 0 on every input then gets exactly zero
// gradient, which is the definition of "dead" the unit statistics use.
//
// NOTE: gelu is evaluated through the identity 0.5 (1 + tanh(u)) = sigmoid(2u) = 1 / (1 + exp(-2u)):
// the tanh form's 1 + tanh(u) cancels catastrophically for z << 0, the sigmoid form has no cancellation
// and needs only exp (WGSL's tanh accuracy is "inherited from sinh/cosh", i.e. absolute, not relative).
// With s = sigmoid(2u): act = z s and act' = s + z s (1 - s) 2 sqrt(2/pi) (1 + 3 * 0.044715 z^2),
// where 1 - s = exp(-2u) s. z is clamped to [-20, 20] (to [-20, inf) in the z s of the forward) and 2u to
// [-80, 80]: beyond that act(z) is z or 0 and act'(z) is 1 or 0 to f32 precision, and nothing overflows
// (exp(80) < f32 max; an unclamped z s (1 - s) would reach 1e3 for z near f32 max).
// NOTE: elu evaluates exp(min(z, 0)) so the branch not taken cannot overflow either.
// NOTE: WGSL lets implementations assume no NaN or infinity: non-finite inputs give unspecified results.

// The functions themselves (activation_of, activation_backward_of) are in shaders/activation_fn.wgsl, shared
// with the matmul's fused epilogues; the loader prepends it.

override KIND: u32 = 1u;

// Elements per workgroup: WG invocations x PER_THREAD elements, strided by WG so neighbours stay adjacent.
// Set by the host (src/gpu/kernels/activation.ts), whose dispatch counts use the same numbers.
override WG: u32;
override PER_THREAD: u32;

struct Params {
  count: u32,
  alpha: f32,
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> z: array<f32>;             // [count] pre-activations
@group(0) @binding(2) var<storage, read_write> a: array<f32>;       // [count] forward: act(z)
@group(0) @binding(3) var<storage, read> grad_out: array<f32>;      // [count] backward: dLoss/da
@group(0) @binding(4) var<storage, read_write> grad_in: array<f32>; // [count] backward: dLoss/dz

fn act(x: f32) -> f32 {
  return activation_of(KIND, params.alpha, x);
}

fn act_backward(x: f32, g: f32) -> f32 {
  return activation_backward_of(KIND, params.alpha, x, g);
}

@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let base = linear_workgroup(wid, nwg) * (WG * PER_THREAD) + lid;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + k * WG;
    if (i >= params.count) { return; }
    a[i] = act(z[i]);
  }
}

@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let base = linear_workgroup(wid, nwg) * (WG * PER_THREAD) + lid;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + k * WG;
    if (i >= params.count) { return; }
    grad_in[i] = act_backward(z[i], grad_out[i]);
  }
}
