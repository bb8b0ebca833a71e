// CPU mirror of shaders/activation.wgsl: the same functions, the same clamps, evaluated in float64 and
// rounded once to f32. relu, leaky_relu and identity are bit-identical to the GPU (one f32 rounding at
// most, alpha rounded to f32 as the uniform holds it); elu and gelu differ by the GPU's exp accuracy.
// The scalar functions are float64 throughout, for finite-difference checks.
import { activationAlpha, type ActivationSpec } from '../spec/activations';

const GELU_K = Math.fround(Math.sqrt(2 / Math.PI));
const GELU_C = Math.fround(0.044715);
const GELU_Z_CLAMP = 20;
const GELU_T_CLAMP = 80;

function clamp(x: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, x));
}

/** sigmoid(2u) = 0.5 (1 + tanh(u)) and exp(-2u), u = sqrt(2/pi)(z + 0.044715 z^3), clamped as on the GPU. */
function geluSigmoid(x: number): { s: number; e: number } {
  const xc = clamp(x, -GELU_Z_CLAMP, GELU_Z_CLAMP);
  const t = clamp(2 * GELU_K * (xc + GELU_C * xc * xc * xc), -GELU_T_CLAMP, GELU_T_CLAMP);
  const e = Math.exp(-t);
  return { s: 1 / (1 + e), e };
}

/** act(x) in float64. relu'(0) = 0 by the dead-unit convention (see the shader). */
export function activationScalar(spec: ActivationSpec, x: number): number {
  const alpha = activationAlpha(spec);
  switch (spec.kind) {
    case 'relu':
      return x > 0 ? x : 0;
    case 'leaky_relu':
      return x > 0 ? x : alpha * x;
    case 'elu':
      return x > 0 ? x : alpha * (Math.exp(Math.min(x, 0)) - 1);
    case 'gelu':
      return Math.max(x, -GELU_Z_CLAMP) * geluSigmoid(x).s;
    case 'identity':
      return x;
  }
}

/** act'(x) in float64 (the exact derivative of activationScalar away from the kinks). */
export function activationDerivativeScalar(spec: ActivationSpec, x: number): number {
  const alpha = activationAlpha(spec);
  switch (spec.kind) {
    case 'relu':
      return x > 0 ? 1 : 0;
    case 'leaky_relu':
      return x > 0 ? 1 : alpha;
    case 'elu':
      return x > 0 ? 1 : alpha * Math.exp(Math.min(x, 0));
    case 'gelu': {
      const { s, e } = geluSigmoid(x);
      const xc = clamp(x, -GELU_Z_CLAMP, GELU_Z_CLAMP);
      return s + xc * s * (e * s) * 2 * GELU_K * (1 + 3 * GELU_C * xc * xc);
    }
    case 'identity':
      return 1;
  }
}

/** a = act(z), elementwise. */
export function activationForward(spec: ActivationSpec, z: ArrayLike<number>): Float32Array {
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = activationScalar(spec, z[i]);
  return out;
}

/** act'(z), elementwise. */
export function activationDerivative(spec: ActivationSpec, z: ArrayLike<number>): Float32Array {
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) out[i] = activationDerivativeScalar(spec, z[i]);
  return out;
}

/** gradIn = gradOut * act'(z); where act' is 0 or 1 the result is exactly 0 or gradOut (as on the GPU). */
export function activationBackward(spec: ActivationSpec, z: ArrayLike<number>, gradOut: ArrayLike<number>): Float32Array {
  if (gradOut.length !== z.length) throw new RangeError(`gradOut has ${gradOut.length} elements, z has ${z.length}`);
  const alpha = activationAlpha(spec);
  const out = new Float32Array(z.length);
  for (let i = 0; i < z.length; i++) {
    const x = z[i];
    const g = gradOut[i];
    switch (spec.kind) {
      case 'relu':
        out[i] = x > 0 ? g : 0;
        break;
      case 'leaky_relu':
        out[i] = x > 0 ? g : alpha * g;
        break;
      case 'identity':
        out[i] = g;
        break;
      default:
        out[i] = x > 0 && spec.kind === 'elu' ? g : activationDerivativeScalar(spec, x) * g;
    }
  }
  return out;
}
