// Born-dead trials on the real adapter against src/reference/borndead.ts: the kernel alone (forward and verdict,
// sizes off the workgroup multiples, strided slices, folded dispatches), then whole runs trial by trial, then
// answers known in closed form.
import { describe, expect, it } from 'vitest';
import { BornDeadKernel } from '../../src/gpu/kernels/borndead';
import { wilsonInterval } from '../../src/engine/borndead-stats';
import { BornDeadRunner, type BornDeadSpec } from '../../src/engine/borndead';
import { bornDeadForwardReference, bornDeadTrialReference, verdictReference } from '../../src/reference/borndead';
import { trialSeed } from '../../src/spec/borndead-trials';
import { initReference } from '../../src/reference/init';
import type { InitScheme } from '../../src/spec/init-schemes';
import { rngKey } from '../../src/spec/rng-streams';
import { expectBitExact, expectClose, randomArray, useGpu, runDispatches } from './harness';

describe('born-dead kernel', () => {
  const t = useGpu();

  const schemes: InitScheme[] = [{ kind: 'he_uniform' }, { kind: 'uniform', limit: 0.3 }, { kind: 'he_normal' }, { kind: 'normal', std: 2 }];
  for (const scheme of schemes) {
    it(`init draws trial t's matrix from seed + t: ${scheme.kind}, 5 trials of 7 x 13 (seeds wrap past 2^32)`, async () => {
      const kernel = await BornDeadKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
      const [trials, rows, cols] = [5, 7, 13];
      const stride = rows * cols + 3;
      const seed = 0xfffffffd;
      const buffer = t.f32('dst', new Float32Array(trials * stride).fill(-999));
      const d = kernel.prepareInit({
        label: 'BornDead.init.test',
        scheme,
        fanIn: rows,
        fanOut: cols,
        trials,
        key: [seed, rngKey(0, 'initWeights', 3)[1]],
        count: rows * cols,
        target: { buffer, stride },
      });
      runDispatches(t.device, 'borndead init test', [d]);
      d.destroy();
      const got = await t.readF32(buffer, trials * stride);
      for (let k = 0; k < trials; k++) {
        const expected = initReference({ scheme, key: rngKey(trialSeed(seed, k), 'initWeights', 3), fanIn: rows, fanOut: cols, rows, cols, globalCols: cols });
        const slice = got.subarray(k * stride, k * stride + rows * cols);
        if (scheme.kind.endsWith('uniform')) expectBitExact(slice, expected, `trial ${k}`);
        else expectClose(slice, expected, { atol: 1e-5, rtol: 1e-5, cols, label: `trial ${k}` });
        expect(Array.from(got.subarray(k * stride + rows * cols, (k + 1) * stride))).toEqual([-999, -999, -999]);
      }
    });
  }

  for (const folded of [false, true]) {
    it(`forward matches the reference on 3 trials of 5 x 7 -> 67, strided${folded ? ', folded dispatch' : ''}`, async () => {
      const kernel = await BornDeadKernel.create(t.gpu, folded ? { maxWorkgroupsPerDimension: 5 } : {});
      const [trials, rows, fanIn, fanOut] = [3, 5, 7, 67];
      const xStride = rows * fanIn + 3;
      const wStride = fanIn * fanOut + 5;
      const preStride = rows * fanOut + 2;
      const x = randomArray(trials * xStride, 1, 2);
      const w = randomArray(trials * wStride, 2, 1);
      const pre = t.f32('pre', new Float32Array(trials * preStride).fill(-999));
      const d = kernel.prepareForward({
        label: 'BornDead.test',
        trials,
        rows,
        fanIn,
        fanOut,
        xStride,
        wStride,
        preStride,
        x: t.f32('x', x),
        w: t.f32('w', w),
        pre,
        bias: -0.25,
      });
      runDispatches(t.device, 'borndead forward test', [d]);
      d.destroy();
      const got = await t.readF32(pre, trials * preStride);
      for (let k = 0; k < trials; k++) {
        const expected = bornDeadForwardReference(x.subarray(k * xStride), w.subarray(k * wStride), rows, fanIn, fanOut, -0.25);
        expectClose(got.subarray(k * preStride, k * preStride + rows * fanOut), expected, { atol: 1e-5, rtol: 1e-5, cols: fanOut, label: `trial ${k}` });
        // The stride padding is never written.
        expect(Array.from(got.subarray(k * preStride + rows * fanOut, (k + 1) * preStride))).toEqual([-999, -999]);
      }
    });
  }

  it('verdict counts positive pre-activations and finds the max for 70 trials (not a multiple of 64)', async () => {
    const kernel = await BornDeadKernel.create(t.gpu);
    const [trials, rows, fanOut] = [70, 3, 5];
    const preStride = rows * fanOut + 1;
    const pre = randomArray(trials * preStride, 3, 1);
    // Some trials entirely <= 0 (dead), one with exact zeros (zero is not alive).
    for (const k of [0, 13, 69]) for (let i = 0; i < rows * fanOut; i++) pre[k * preStride + i] = -Math.abs(pre[k * preStride + i]);
    for (let i = 0; i < rows * fanOut; i++) pre[20 * preStride + i] = 0;
    const alive = t.zeros('alive', trials);
    const maxPre = t.zeros('maxPre', trials);
    const d = kernel.prepareVerdict({ label: 'BornDead.verdict.test', trials, rows, fanOut, preStride, pre: t.f32('pre', pre), alive, maxPre });
    runDispatches(t.device, 'borndead verdict test', [d]);
    d.destroy();
    const expected = Array.from({ length: trials }, (_, k) => verdictReference(pre.subarray(k * preStride, k * preStride + rows * fanOut)));
    expectBitExact(
      await t.readU32(alive, trials),
      expected.map((e) => e.alive),
      'alive',
    );
    expectBitExact(
      await t.readF32(maxPre, trials),
      expected.map((e) => e.maxPre),
      'maxPre',
    );
    expect([0, 13, 20, 69].map((k) => expected[k].alive)).toEqual([0, 0, 0, 0]);
  });
});

const layer = (width: number, extra: Partial<BornDeadSpec['hidden'][number]> = {}): BornDeadSpec['hidden'][number] => ({
  width,
  activation: { kind: 'relu' },
  weights: { kind: 'he_normal' },
  bias: 0,
  ...extra,
});

describe('born-dead runs', () => {
  const t = useGpu();

  const cases: { name: string; spec: BornDeadSpec; matmulMinMacs?: number }[] = [
    { name: 'deep narrow relu (4 x width 3, 5 probe rows)', spec: { inputSize: 2, probeRows: 5, hidden: [layer(3), layer(3), layer(3), layer(3)] } },
    {
      name: 'leaky relu and gelu, negative bias, uniform init',
      spec: {
        inputSize: 3,
        probeRows: 4,
        hidden: [
          layer(5, { activation: { kind: 'leaky_relu', alpha: 0.01 }, bias: -0.5 }),
          layer(2, { activation: { kind: 'gelu' }, weights: { kind: 'uniform', limit: 1 }, bias: -0.2 }),
        ],
      },
    },
    {
      name: 'elu, xavier, one layer of 67 units',
      spec: {
        inputSize: 7,
        probeRows: 3,
        hidden: [
          layer(4, { activation: { kind: 'elu', alpha: 1 }, weights: { kind: 'xavier_normal' } }),
          layer(67, { bias: -1.5, weights: { kind: 'xavier_uniform' } }),
        ],
      },
    },
    // Every layer through the engine's tiled matmul (the path of wide layers), unaligned shapes included.
    {
      name: 'tiled matmul path, 5 -> 9 -> 6 -> 2 units',
      matmulMinMacs: 0,
      spec: { inputSize: 5, probeRows: 3, hidden: [layer(9), layer(6, { bias: -0.5 }), layer(2, { activation: { kind: 'gelu' }, bias: -0.8 })] },
    },
  ];

  for (const { name, spec, matmulMinMacs } of cases) {
    it(`matches the CPU reference trial by trial: ${name}`, async () => {
      const runner = await BornDeadRunner.create(t.gpu, { maxWorkgroupsPerDimension: 16, matmulMinMacs });
      const trials = 150;
      const seed = 0xfffffff0; // wraps past 2^32 within the run
      // 37 trials per batch: batches that do not divide the trials.
      const result = await runner.run({ spec, trials, seed, batchTrials: 37 });
      expect(result.trials).toBe(trials);
      let undecided = 0;
      let dead = 0;
      for (let k = 0; k < trials; k++) {
        const expected = bornDeadTrialReference(spec, trialSeed(seed, k));
        const tol = 1e-4 * Math.max(1, Math.abs(expected.maxPre));
        expect(Math.abs(result.maxPre[k] - expected.maxPre), `trial ${k}: max pre-activation ${result.maxPre[k]} vs ${expected.maxPre}`).toBeLessThanOrEqual(
          tol,
        );
        // A pre-activation within rounding of 0 (but not exactly 0, as after a dead layer) may fall either way;
        // every other verdict must agree.
        if (Math.abs(expected.maxPre) <= tol && result.maxPre[k] !== expected.maxPre) undecided++;
        else
          expect(result.alive[k] === 0, `trial ${k}: dead on the GPU vs the reference (alive ${result.alive[k]} vs ${expected.alive})`).toBe(
            expected.alive === 0,
          );
        if (expected.alive === 0) dead++;
      }
      expect(undecided).toBeLessThan(3);
      expect(result.dead).toBe(Array.from(result.alive).filter((a) => a === 0).length);
      // Each case is built to have both outcomes, or the parity check would be vacuous.
      expect(dead).toBeGreaterThan(0);
      expect(dead).toBeLessThan(trials);
    });
  }

  it('is deterministic: the same seed gives the same bits, whatever the batch size', async () => {
    const runner = await BornDeadRunner.create(t.gpu);
    const spec: BornDeadSpec = { inputSize: 3, probeRows: 4, hidden: [layer(3), layer(3)] };
    const a = await runner.run({ spec, trials: 90, seed: 7, batchTrials: 90 });
    const b = await runner.run({ spec, trials: 90, seed: 7, batchTrials: 16 });
    expectBitExact(b.alive, a.alive, 'alive');
    expectBitExact(new Uint32Array(b.maxPre.buffer), new Uint32Array(a.maxPre.buffer), 'maxPre bits');
  });

  // Known answers. One ReLU unit with zero bias on one probe input: pre = w·x, symmetric about 0 and almost
  // surely non-zero, so P(dead) = 1/2. With n units (independent symmetric weights, same x): each is dead with
  // probability 1/2 given x, so P = 2^-n. One unit on two probe rows with one input: dead iff x1 and x2 have the
  // same sign and w the other, P = 1/2 · 1/2 = 1/4.
  const known: { name: string; spec: BornDeadSpec; p: number }[] = [
    { name: 'one unit, one probe row', spec: { inputSize: 4, probeRows: 1, hidden: [layer(1)] }, p: 0.5 },
    { name: 'three units, one probe row', spec: { inputSize: 1, probeRows: 1, hidden: [layer(3, { weights: { kind: 'uniform', limit: 1 } })] }, p: 0.125 },
    {
      name: 'one unit, two probe rows of one input',
      spec: { inputSize: 1, probeRows: 2, hidden: [layer(1, { weights: { kind: 'normal', std: 3 } })] },
      p: 0.25,
    },
  ];
  for (const { name, spec, p } of known) {
    it(`P(dead) = ${p} for ${name}: inside the 99.9% Wilson interval`, async () => {
      const runner = await BornDeadRunner.create(t.gpu);
      const result = await runner.run({ spec, trials: 20_000, seed: 11 });
      const ci = wilsonInterval(result.dead, result.trials, 0.999);
      expect(p, `p̂ = ${ci.estimate}, interval [${ci.low}, ${ci.high}]`).toBeGreaterThanOrEqual(ci.low);
      expect(p).toBeLessThanOrEqual(ci.high);
      // And not trivially wide.
      expect(ci.high - ci.low).toBeLessThan(0.03);
    });
  }

  it('bias -100 kills every network and bias +100 none (one layer)', async () => {
    const runner = await BornDeadRunner.create(t.gpu);
    const spec = (bias: number): BornDeadSpec => ({ inputSize: 8, probeRows: 16, hidden: [layer(4, { bias })] });
    expect((await runner.run({ spec: spec(-100), trials: 200, seed: 1 })).dead).toBe(200);
    expect((await runner.run({ spec: spec(100), trials: 200, seed: 1 })).dead).toBe(0);
  });
});
