import { describe, expect, it } from 'vitest';
import { biasCorrection, optimizerStep } from '../../src/reference/optimizer';
import { optimizerStateCount, type OptimizerSpec } from '../../src/spec/optimizers';

function step(spec: OptimizerSpec, w: number[], g: number[], lr: number, state: { s1?: Float32Array; s2?: Float32Array } = {}, stepIndex = 0) {
  const param = Float32Array.from(w);
  const beta1 = spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta1 : 0;
  const beta2 = spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta2 : 0;
  optimizerStep({
    spec,
    lr,
    biasCorrection1: biasCorrection(beta1, stepIndex),
    biasCorrection2: biasCorrection(beta2, stepIndex),
    param,
    grad: Float32Array.from(g),
    state1: state.s1,
    state2: state.s2,
  });
  return param;
}

describe('optimizer reference', () => {
  it('momentum: two hand-computed steps (w = 1, g = 0.5, mu = 0.9, lr = 0.1)', () => {
    const spec: OptimizerSpec = { kind: 'momentum', momentum: 0.9 };
    const s1 = new Float32Array(1);
    // step 1: v = 0.5, w = 1 - 0.1 * 0.5 = 0.95; step 2: v = 0.9 * 0.5 + 0.5 = 0.95, w = 0.95 - 0.095 = 0.855
    let w = step(spec, [1], [0.5], 0.1, { s1 });
    expect(s1[0]).toBeCloseTo(0.5, 7);
    expect(w[0]).toBeCloseTo(0.95, 7);
    w = step(spec, [w[0]], [0.5], 0.1, { s1 });
    expect(s1[0]).toBeCloseTo(0.95, 6);
    expect(w[0]).toBeCloseTo(0.855, 6);
  });

  it('nesterov: two hand-computed steps (w = 1, g = 0.5, mu = 0.9, lr = 0.1)', () => {
    const spec: OptimizerSpec = { kind: 'momentum', momentum: 0.9, nesterov: true };
    const s1 = new Float32Array(1);
    // step 1: v = 0.5, s = 0.5 + 0.45 = 0.95, w = 0.905; step 2: v = 0.95, s = 0.5 + 0.855 = 1.355, w = 0.7695
    let w = step(spec, [1], [0.5], 0.1, { s1 });
    expect(w[0]).toBeCloseTo(0.905, 6);
    w = step(spec, [w[0]], [0.5], 0.1, { s1 });
    expect(w[0]).toBeCloseTo(0.7695, 6);
  });

  it.each(['adam', 'adamw'] as const)('%s: bias correction makes the first update lr * sign(g) whatever |g|', (kind) => {
    const spec: OptimizerSpec = { kind, beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const g = [0.01, -0.02, 0.5, -7, 300, -1e4];
    const w0 = [0.1, 0.2, -0.3, 0.4, -0.5, 0.6];
    const w = step(spec, w0, g, 0.01, { s1: new Float32Array(6), s2: new Float32Array(6) });
    // m_hat = g and v_hat = g^2 exactly up to rounding, so the step is lr * g / (|g| + eps).
    // Deviation from lr * sign(g): lr * eps / |g| (<= 1e-6 lr = 1e-8 here) plus f32 rounding of w (~3e-8).
    w.forEach((v, i) => expect(Math.abs(w0[i] - v - 0.01 * Math.sign(g[i]))).toBeLessThan(1e-7));
  });

  it('adam without bias correction would take a step 1 - beta1 too small: the correction matters', () => {
    const spec: OptimizerSpec = { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 };
    const param = Float32Array.of(0);
    optimizerStep({
      spec,
      lr: 0.01,
      biasCorrection1: 1,
      biasCorrection2: 1,
      param,
      grad: Float32Array.of(1),
      state1: new Float32Array(1),
      state2: new Float32Array(1),
    });
    // (0.1 g) / sqrt(0.001 g^2) = 3.16: the uncorrected step is 3.16 lr, not lr.
    expect(-param[0] / 0.01).toBeCloseTo(0.1 / Math.sqrt(0.001), 4);
  });

  it('sgd weight decay shrinks weights by lr * wd with no gradient', () => {
    const w = step({ kind: 'sgd', weightDecay: 0.1 }, [2, -4], [0, 0], 0.5);
    expect([...w]).toEqual([Math.fround(2 * 0.95), Math.fround(-4 * 0.95)]);
  });

  it('adamw decays decoupled from the gradient; adam L2 goes through the normalisation', () => {
    const opts = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 };
    // Zero gradient: AdamW shrinks w by the factor (1 - lr * wd) and m, v stay 0, so there is no Adam step.
    const s1 = new Float32Array(2);
    const s2 = new Float32Array(2);
    const wAdamW = step({ kind: 'adamw', ...opts }, [2, -4], [0, 0], 0.01, { s1, s2 });
    expect(wAdamW[0]).toBeCloseTo(2 * (1 - 0.001), 6);
    expect(wAdamW[1]).toBeCloseTo(-4 * (1 - 0.001), 6);
    expect([...s1, ...s2]).toEqual([0, 0, 0, 0]);
    // Adam with L2: g' = wd * w is normalised away, so every weight moves by lr toward 0 whatever its size.
    const wAdam = step({ kind: 'adam', ...opts }, [2, -4], [0, 0], 0.01, { s1: new Float32Array(2), s2: new Float32Array(2) });
    expect(wAdam[0]).toBeCloseTo(2 - 0.01, 6);
    expect(wAdam[1]).toBeCloseTo(-4 + 0.01, 6);
  });

  it('momentum weight decay enters the velocity', () => {
    const s1 = new Float32Array(1);
    const w = step({ kind: 'momentum', momentum: 0.5, weightDecay: 0.2 }, [1], [0.3], 0.1, { s1 });
    expect(s1[0]).toBeCloseTo(0.5, 7); // 0.3 + 0.2 * 1
    expect(w[0]).toBeCloseTo(0.95, 7);
  });

  it('bias corrections follow 1 - beta^(step + 1)', () => {
    expect(biasCorrection(0.9, 0)).toBeCloseTo(0.1, 7);
    expect(biasCorrection(0.9, 1)).toBeCloseTo(0.19, 7);
    expect(biasCorrection(0.999, 9999)).toBeCloseTo(1 - 0.999 ** 10000, 7);
  });

  it('counts state arrays and rejects bad hyperparameters or missing state', () => {
    expect(optimizerStateCount({ kind: 'sgd' })).toBe(0);
    expect(optimizerStateCount({ kind: 'momentum', momentum: 0.9 })).toBe(1);
    expect(optimizerStateCount({ kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 })).toBe(2);
    expect(() => step({ kind: 'momentum', momentum: 1 }, [1], [1], 0.1, { s1: new Float32Array(1) })).toThrow(/momentum = 1/);
    expect(() => step({ kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 0 }, [1], [1], 0.1, { s1: new Float32Array(1), s2: new Float32Array(1) })).toThrow(/eps/);
    expect(() => step({ kind: 'sgd', weightDecay: -1 }, [1], [1], 0.1)).toThrow(/weightDecay/);
    expect(() => step({ kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, [1], [1], 0.1, { s1: new Float32Array(1) })).toThrow(/state/);
  });
});
