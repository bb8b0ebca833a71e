// Parameter updates on the CPU: the oracle for shaders/optimizer.wgsl, with one Math.fround per f32
// operation in the shader's order. PyTorch semantics (torch.optim.SGD without dampening, Adam, AdamW):
//   sgd:      g' = g + wd·w (L2);                       w -= lr·g'
//   momentum: g' = g + wd·w;  v = μ·v + g';  s = nesterov ? g' + μ·v : v;  w -= lr·s
//   adam:     g' = g + wd·w;  m = β1·m + (1-β1)·g';  v = β2·v + (1-β2)·g'²;
//             w -= lr · (m / bc1) / (sqrt(v / bc2) + ε),  bc1 = 1 - β1^(step+1), bc2 = 1 - β2^(step+1)
//   adamw:    as adam with g' = g, after the decoupled decay w -= lr·wd·w
import { optimizerStateCount, validateOptimizerSpec, type OptimizerSpec } from '../spec/optimizers';

/** 1 - beta^(step + 1) for the 0-based step, in f32 as the StepState buffer holds it. */
export function biasCorrection(beta: number, step: number): number {
  return Math.fround(1 - beta ** (step + 1));
}

export interface OptimizerStepArgs {
  spec: OptimizerSpec;
  lr: number;
  /** 1 - beta1^(step+1); ignored except by Adam(W). */
  biasCorrection1: number;
  biasCorrection2: number;
  param: Float32Array;
  grad: Float32Array;
  state1?: Float32Array;
  state2?: Float32Array;
}

/** One update, in place on param and the state arrays. */
export function optimizerStep(args: OptimizerStepArgs): void {
  const { spec, param, grad } = args;
  validateOptimizerSpec(spec);
  const f = Math.fround;
  // The shader reads these as f32 (uniform fields and StepState).
  const lr = f(args.lr);
  const wd = f(spec.weightDecay ?? 0);
  const n = param.length;
  if (grad.length !== n) throw new RangeError(`optimizer: grad has ${grad.length} elements, param ${n}`);
  const needed = optimizerStateCount(spec);
  const s1 = args.state1;
  const s2 = args.state2;
  if ((needed >= 1 && s1?.length !== n) || (needed >= 2 && s2?.length !== n)) {
    throw new RangeError(`optimizer ${spec.kind}: needs ${needed} state arrays of ${n} elements`);
  }
  switch (spec.kind) {
    case 'sgd':
      for (let i = 0; i < n; i++) {
        const w = param[i];
        const g = f(grad[i] + f(wd * w));
        param[i] = f(w - f(lr * g));
      }
      return;
    case 'momentum': {
      const mu = f(spec.momentum);
      for (let i = 0; i < n; i++) {
        const w = param[i];
        const g = f(grad[i] + f(wd * w));
        const v = f(f(mu * s1![i]) + g);
        s1![i] = v;
        const s = spec.nesterov ? f(g + f(mu * v)) : v;
        param[i] = f(w - f(lr * s));
      }
      return;
    }
    case 'adam':
    case 'adamw': {
      const b1 = f(spec.beta1);
      const b2 = f(spec.beta2);
      const eps = f(spec.eps);
      const oneMinusB1 = f(1 - b1);
      const oneMinusB2 = f(1 - b2);
      const bc1 = f(args.biasCorrection1);
      const bc2 = f(args.biasCorrection2);
      const decay = f(lr * wd);
      for (let i = 0; i < n; i++) {
        let w = param[i];
        let g: number;
        if (spec.kind === 'adamw') {
          w = f(w - f(decay * w));
          g = grad[i];
        } else {
          g = f(grad[i] + f(wd * w));
        }
        const m = f(f(b1 * s1![i]) + f(oneMinusB1 * g));
        const v = f(f(b2 * s2![i]) + f(oneMinusB2 * f(g * g)));
        s1![i] = m;
        s2![i] = v;
        const mHat = f(m / bc1);
        const vHat = f(v / bc2);
        const denom = f(f(Math.sqrt(vHat)) + eps);
        param[i] = f(w - f(lr * f(mHat / denom)));
      }
      return;
    }
    default: {
      const never: never = spec;
      throw new RangeError(`unknown optimizer ${JSON.stringify(never)}`);
    }
  }
}
