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

const KIND_IDENTITY: u32 = 0u;
const KIND_RELU: u32 = 1u;
const KIND_LEAKY_RELU: u32 = 2u;
const KIND_ELU: u32 = 3u;
const KIND_GELU: u32 = 4u;

override KIND: u32 = 1u;

const GELU_K: f32 = 0.7978845608028654;   // sqrt(2/pi)
const GELU_C: f32 = 0.044715;
const GELU_Z_CLAMP: f32 = 20.0;
const GELU_T_CLAMP: f32 = 80.0;           // bound on |2u|

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

// Returns (s, exp(-2u) clamped) for gelu.
fn gelu_sigmoid(x: f32) -> vec2<f32> {
  let xc = clamp(x, -GELU_Z_CLAMP, GELU_Z_CLAMP);
  let t = clamp(2.0 * GELU_K * (xc + GELU_C * xc * xc * xc), -GELU_T_CLAMP, GELU_T_CLAMP);
  let e = exp(-t);
  return vec2<f32>(1.0 / (1.0 + e), e);
}

fn act(x: f32) -> f32 {
  switch KIND {
    case KIND_RELU: { return select(0.0, x, x > 0.0); }
    case KIND_LEAKY_RELU: { return select(params.alpha * x, x, x > 0.0); }
    case KIND_ELU: { return select(params.alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case KIND_GELU: { return max(x, -GELU_Z_CLAMP) * gelu_sigmoid(x).x; }
    default: { return x; }
  }
}

// dLoss/dz from dLoss/da. Written as a product with g (not g * act'(z)) where act' is 0 or 1, so a zero
// derivative gives exactly 0 and the result is bit-identical to the reference.
fn act_backward(x: f32, g: f32) -> f32 {
  switch KIND {
    case KIND_RELU: { return select(0.0, g, x > 0.0); }
    case KIND_LEAKY_RELU: { return select(params.alpha * g, g, x > 0.0); }
    case KIND_ELU: { return select(params.alpha * exp(min(x, 0.0)) * g, g, x > 0.0); }
    case KIND_GELU: {
      let se = gelu_sigmoid(x);
      let s = se.x;
      let xc = clamp(x, -GELU_Z_CLAMP, GELU_Z_CLAMP);
      let dt = 2.0 * GELU_K * (1.0 + 3.0 * GELU_C * xc * xc);
      return (s + xc * s * (se.y * s) * dt) * g;
    }
    default: { return g; }
  }
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
