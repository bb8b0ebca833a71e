import { describe, expect, it } from 'vitest';
import { ActivationKernel } from '../../src/gpu/kernels/activation';
import { activationBackward, activationForward } from '../../src/reference/activation';
import type { ActivationSpec } from '../../src/spec/activations';
import { expectBitExact, expectClose, randomArray, useGpu, runDispatches } from './harness';

const SPECS: ActivationSpec[] = [
  { kind: 'identity' },
  { kind: 'relu' },
  { kind: 'leaky_relu' },
  { kind: 'leaky_relu', alpha: 0.2 },
  { kind: 'elu' },
  { kind: 'elu', alpha: 0.5 },
  { kind: 'gelu' },
];

// identity, relu and leaky_relu round at most once in f32 (alpha * z, alpha * g) on both sides: bit exact.
// elu and gelu go through exp, which WGSL only bounds to 3 + 2|x| ULP. On |z| <= 8 that is:
//   elu:  alpha (exp(z) - 1) with exp(z) <= 1, |z| <= 8 -> error <= 19 ULP of 1 ~ 1.2e-6 absolute (times alpha <= 1);
//   gelu: z sigmoid(2u), exp(-2u) with |2u| <= 80 (clamp) -> <= 163 ULP ~ 1e-5 relative on exp, which
//         sigmoid damps by s (1 - s) <= 1/4 relative... plus a few f32 roundings in the polynomial.
// So atol 2e-6 absorbs the absolute error near act(z) = 0 and rtol 1e-5 covers the relative bound.
function tolerance(spec: ActivationSpec) {
  return spec.kind === 'elu' || spec.kind === 'gelu' ? { atol: 2e-6, rtol: 1e-5 } : null;
}

function name(spec: ActivationSpec): string {
  return spec.alpha === undefined ? spec.kind : `${spec.kind}(${spec.alpha})`;
}

/** Pre-activations on [-8, 8] plus the points where the functions switch branch or clamp. */
function inputs(count: number, seed: number): Float32Array {
  const z = randomArray(count, seed, 8);
  const specials = [0, -0, 1e-30, -1e-30, 1e-7, -1e-7, 20, -20, 21, -21, 80, -80, 1e6, -1e6];
  for (let i = 0; i < Math.min(count, specials.length); i++) z[(i * 7919) % count] = specials[i];
  return z;
}

describe('ActivationKernel', () => {
  const t = useGpu();

  async function run(kernel: ActivationKernel, spec: ActivationSpec, count: number, seed: number) {
    const zHost = inputs(count, seed);
    const gHost = randomArray(count, seed + 1, 2);
    const z = t.f32('z', zHost);
    const gradOut = t.f32('gradOut', gHost);
    const a = t.zeros('a', count);
    const gradIn = t.zeros('gradIn', count);
    const label = `Activation.${spec.kind}`;
    const forward = kernel.prepareForward({ label: `${label}.forward`, activation: spec, z, a, count });
    const backward = kernel.prepareBackward({ label: `${label}.backward`, activation: spec, z, gradOut, gradIn, count });
    runDispatches(t.device, label, [forward, backward]);
    const [aGpu, gGpu] = [await t.readF32(a, count), await t.readF32(gradIn, count)];
    forward.destroy();
    backward.destroy();
    const aRef = activationForward(spec, zHost);
    const gRef = activationBackward(spec, zHost, gHost);
    const tol = tolerance(spec);
    if (tol) {
      expectClose(aGpu, aRef, { ...tol, label: `${name(spec)} forward, count ${count}` });
      expectClose(gGpu, gRef, { ...tol, label: `${name(spec)} backward, count ${count}` });
    } else {
      expectBitExact(aGpu, aRef, `${name(spec)} forward, count ${count}`);
      expectBitExact(gGpu, gRef, `${name(spec)} backward, count ${count}`);
    }
    // Nothing past `count` is written (the buffers are padded to 16 bytes; zeros() leaves them 0).
    const tail = await t.readF32(a, Math.ceil(count / 4) * 4);
    expect([...tail.subarray(count)].every((v) => v === 0)).toBe(true);
  }

  for (const spec of SPECS) {
    it(`${name(spec)} matches the reference on counts 1, 7, 33, 130, 1025, 5000`, async () => {
      const kernel = await ActivationKernel.create(t.gpu);
      for (const [i, count] of [1, 7, 33, 130, 1025, 5000].entries()) await run(kernel, spec, count, 100 + i);
    });
  }

  it('covers every element when the dispatch is folded over x and y', async () => {
    // 10000 elements = 10 workgroups of 1024; at most 4 per dimension -> a 4 x 3 grid with two spare.
    const kernel = await ActivationKernel.create(t.gpu, { maxWorkgroupsPerDimension: 4 });
    for (const spec of [SPECS[1], SPECS[6]]) await run(kernel, spec, 10000, 7);
  });

  it("uses relu'(0) = 0 and the documented leaky/elu derivatives at 0", async () => {
    const kernel = await ActivationKernel.create(t.gpu);
    const count = 3;
    const z = t.f32('z', [0, 1, -1]);
    const gradOut = t.f32('gradOut', [1, 1, 1]);
    const gradIn = t.zeros('gradIn', count);
    const expected: [ActivationSpec, number[]][] = [
      [{ kind: 'relu' }, [0, 1, 0]],
      [{ kind: 'leaky_relu', alpha: 0.25 }, [0.25, 1, 0.25]],
      [{ kind: 'elu', alpha: 0.5 }, [0.5, 1, Math.fround(0.5 * Math.exp(-1))]],
    ];
    for (const [spec, want] of expected) {
      const d = kernel.prepareBackward({ label: 'Activation.zero', activation: spec, z, gradOut, gradIn, count });
      runDispatches(t.device, 'Activation.zero', [d]);
      // exp(-1) on the GPU: within the 3 + 2|x| = 5 ULP WGSL bound, 1e-6 relative is generous.
      expectClose(await t.readF32(gradIn, count), want, { atol: 0, rtol: 1e-6, label: name(spec) });
      d.destroy();
    }
  });
});
