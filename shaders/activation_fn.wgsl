// The activation functions and their derivatives, shared by shaders/activation.wgsl (the elementwise kernels)
// and the fused epilogues of shaders/matmul.wgsl, so fused and unfused steps run the same f32 operations and
// give the same bits. Concatenated before the kernel by src/gpu/shaders.ts (usesActivation). The formulas and
// their NOTEs are in shaders/activation.wgsl; `kind` is one of the KIND_* codes (src/spec/activations.ts).

const KIND_IDENTITY: u32 = 0u;
const KIND_RELU: u32 = 1u;
const KIND_LEAKY_RELU: u32 = 2u;
const KIND_ELU: u32 = 3u;
const KIND_GELU: u32 = 4u;

const GELU_K: f32 = 0.7978845608028654;   // sqrt(2/pi)
const GELU_C: f32 = 0.044715;
const GELU_Z_CLAMP: f32 = 20.0;
const GELU_T_CLAMP: f32 = 80.0;           // bound on |2u|

// Returns (s, exp(-2u) clamped) for gelu.
fn gelu_sigmoid(x: f32) -> vec2<f32> {
  let xc = clamp(x, -GELU_Z_CLAMP, GELU_Z_CLAMP);
  let t = clamp(2.0 * GELU_K * (xc + GELU_C * xc * xc * xc), -GELU_T_CLAMP, GELU_T_CLAMP);
  let e = exp(-t);
  return vec2<f32>(1.0 / (1.0 + e), e);
}

fn activation_of(kind: u32, alpha: f32, x: f32) -> f32 {
  switch kind {
    case KIND_RELU: { return select(0.0, x, x > 0.0); }
    case KIND_LEAKY_RELU: { return select(alpha * x, x, x > 0.0); }
    case KIND_ELU: { return select(alpha * (exp(min(x, 0.0)) - 1.0), x, x > 0.0); }
    case KIND_GELU: { return max(x, -GELU_Z_CLAMP) * gelu_sigmoid(x).x; }
    default: { return x; }
  }
}

// dLoss/dz from dLoss/da. Written as a product with g (not g * act'(z)) where act' is 0 or 1, so a zero
// derivative gives exactly 0 and the result is bit-identical to the reference.
fn activation_backward_of(kind: u32, alpha: f32, x: f32, g: f32) -> f32 {
  switch kind {
    case KIND_RELU: { return select(0.0, g, x > 0.0); }
    case KIND_LEAKY_RELU: { return select(alpha * g, g, x > 0.0); }
    case KIND_ELU: { return select(alpha * exp(min(x, 0.0)) * g, g, x > 0.0); }
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
