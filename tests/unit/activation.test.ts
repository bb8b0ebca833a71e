import { describe, expect, it } from 'vitest';
import { activationBackward, activationDerivative, activationDerivativeScalar, activationForward, activationScalar } from '../../src/reference/activation';
import type { ActivationSpec } from '../../src/spec/activations';

const SPECS: ActivationSpec[] = [
  { kind: 'identity' },
  { kind: 'relu' },
  { kind: 'leaky_relu' },
  { kind: 'leaky_relu', alpha: 0.3 },
  { kind: 'elu' },
  { kind: 'elu', alpha: 0.5 },
  { kind: 'gelu' },
];

/** Points on [-6, 6] kept 1e-3 away from the kink at 0 (where a central difference straddles both branches). */
function samplePoints(): number[] {
  const xs: number[] = [];
  for (let i = 0; i <= 240; i++) {
    const x = -6 + i * 0.05 + 0.0123;
    if (Math.abs(x) > 1e-3) xs.push(x);
  }
  return xs.concat([25, -25, 1e-2, -1e-2]);
}

describe('activation reference', () => {
  for (const spec of SPECS) {
    it(`${spec.kind}(${spec.alpha ?? 'default'}): derivative matches a float64 central difference`, () => {
      // h = 1e-5: truncation error h^2 |f'''| / 6 <= ~1e-10 for these smooth pieces; cancellation error
      // ~1e-16 / 1e-5 = 1e-11. The derivative under test is rounded to f32 (2^-24 relative), hence
      // atol 1e-9 + rtol 1e-7.
      const h = 1e-5;
      const xs = samplePoints();
      const derivative = activationDerivative(spec, xs);
      xs.forEach((x, i) => {
        const numeric = (activationScalar(spec, x + h) - activationScalar(spec, x - h)) / (2 * h);
        const err = Math.abs(derivative[i] - numeric);
        expect(err, `${spec.kind} at ${x}: analytic ${derivative[i]}, numeric ${numeric}`).toBeLessThanOrEqual(1e-9 + 1e-7 * Math.abs(numeric));
      });
    });
  }

  it('gelu is the tanh form 0.5 z (1 + tanh(sqrt(2/pi)(z + 0.044715 z^3)))', () => {
    // The kernel evaluates it as z sigmoid(2u) with f32-rounded constants; against the textbook form with
    // float64 constants the difference is the constants' rounding (~3e-8 relative) and nothing else.
    for (let x = -8; x <= 8; x += 0.01) {
      const u = Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3);
      const textbook = 0.5 * x * (1 + Math.tanh(u));
      expect(Math.abs(activationScalar({ kind: 'gelu' }, x) - textbook)).toBeLessThanOrEqual(1e-7 * Math.abs(x) + 1e-12);
    }
  });

  it('gelu saturates without overflow far outside the clamp', () => {
    for (const x of [1e6, 1e30, 3e38]) {
      expect(activationScalar({ kind: 'gelu' }, x)).toBe(x);
      expect(activationDerivativeScalar({ kind: 'gelu' }, x)).toBe(1);
      expect(Math.abs(activationScalar({ kind: 'gelu' }, -x))).toBeLessThan(1e-30);
      expect(Math.abs(activationDerivativeScalar({ kind: 'gelu' }, -x))).toBeLessThan(1e-30);
    }
  });

  it("relu'(0) = 0; leaky and elu take their z <= 0 branch at 0", () => {
    expect(activationDerivative({ kind: 'relu' }, [0, -0])).toEqual(new Float32Array([0, 0]));
    expect(activationDerivative({ kind: 'leaky_relu' }, [0])[0]).toBe(Math.fround(0.01));
    expect(activationDerivative({ kind: 'elu', alpha: 0.5 }, [0])[0]).toBe(0.5);
    expect(activationForward({ kind: 'relu' }, [-2, 0, 3])).toEqual(new Float32Array([0, 0, 3]));
    expect(activationForward({ kind: 'elu' }, [-1])[0]).toBe(Math.fround(Math.exp(-1) - 1));
  });

  it('backward is gradOut times the derivative, exactly 0 where relu is off', () => {
    const z = [-1, 0, 0.5, 2, -3];
    const g = [3, -2, 4, -1, 5];
    for (const spec of SPECS) {
      const d = activationDerivative(spec, z);
      const back = activationBackward(spec, z, g);
      back.forEach((v, i) => expect(Math.abs(v - d[i] * g[i])).toBeLessThanOrEqual(1e-6 * Math.abs(g[i])));
    }
    expect(activationBackward({ kind: 'relu' }, z, g)).toEqual(new Float32Array([0, 0, 4, -1, 0]));
  });
});
