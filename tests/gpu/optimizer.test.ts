import { describe, expect, it } from 'vitest';
import { OptimizerKernel } from '../../src/gpu/kernels/optimizer';
import type { OptimizerSpec } from '../../src/spec/optimizers';
import { biasCorrection, optimizerStep } from '../../src/reference/optimizer';
import { expectClose, randomArray, useGpu, writeStepState, runDispatches } from './harness';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';

const SPECS: Array<[string, OptimizerSpec]> = [
  ['sgd', { kind: 'sgd' }],
  ['sgd + L2', { kind: 'sgd', weightDecay: 0.05 }],
  ['momentum', { kind: 'momentum', momentum: 0.9 }],
  ['nesterov + L2', { kind: 'momentum', momentum: 0.8, nesterov: true, weightDecay: 0.01 }],
  ['adam', { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }],
  ['adam + L2', { kind: 'adam', beta1: 0.8, beta2: 0.99, eps: 1e-6, weightDecay: 0.1 }],
  ['adamw', { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.1 }],
];
const COUNTS = [1, 7, 33, 1025];
const STEPS = 5;

describe('optimizer on the GPU', () => {
  const t = useGpu();
  let kernel: OptimizerKernel;
  let folded: OptimizerKernel;

  it('creates its pipelines', async () => {
    kernel = await OptimizerKernel.create(t.gpu);
    folded = await OptimizerKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
  });

  /** STEPS updates with a decaying lr schedule and fresh gradients each step, on the GPU and in the reference. */
  async function compare(name: string, spec: OptimizerSpec, count: number, k: OptimizerKernel) {
    const w = randomArray(count, 100 + count);
    // Buffers hold TAIL sentinel elements past `count`: a missing bounds check in the shader would change them.
    const TAIL = 300;
    const withTail = (head: Float32Array) => {
      const a = new Float32Array(count + TAIL).fill(12345);
      a.set(head);
      return a;
    };
    const param = t.f32('param', withTail(w));
    const grad = t.f32('grad', withTail(new Float32Array(count)));
    const states = Array.from({ length: OptimizerKernel.stateBuffersNeeded(spec) }, (_, i) => t.f32(`state${i + 1}`, withTail(new Float32Array(count))));
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const d = k.prepare({ label: `Optimizer.${spec.kind}`, spec, param, grad, state1: states[0], state2: states[1], count, stepState });

    const ref = { param: Float32Array.from(w), state1: new Float32Array(count), state2: new Float32Array(count) };
    const beta1 = spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta1 : 0;
    const beta2 = spec.kind === 'adam' || spec.kind === 'adamw' ? spec.beta2 : 0;
    for (let step = 0; step < STEPS; step++) {
      const lr = Math.fround(0.1 * 0.7 ** step);
      const bc1 = biasCorrection(beta1, step);
      const bc2 = biasCorrection(beta2, step);
      // Gradients span magnitudes, with exact zeros: Adam then divides tiny numbers and must still agree.
      const g = randomArray(count, 7 * step + count, 10 ** ((step % 3) - 1)).map((v, i) => (i % 5 === 4 ? 0 : v));
      t.device.queue.writeBuffer(grad, 0, g); // the tail keeps its sentinels
      writeStepState(t.device, stepState, { step, lr, bc1, bc2 });
      runDispatches(t.device, 'optimizer test', [d]);
      optimizerStep({ spec, lr, biasCorrection1: bc1, biasCorrection2: bc2, param: ref.param, grad: g, state1: ref.state1, state2: ref.state2 });
    }
    d.destroy();
    // NOTE: the reference rounds after every operation in the shader's order, but the shader compiler may fuse
    // a*b + c into an FMA, and WGSL allows 2.5 ulp for division and sqrt; errors stay a few ulp per step and
    // do not grow over 5 steps. rtol 1e-5 (~80 ulp) plus a tiny atol for values that cancel to ~0.
    // (lavapipe happens to agree bit for bit.)
    const read = async (b: GPUBuffer) => {
      const all = await t.readF32(b, count + TAIL);
      expect(
        all.subarray(count).every((v) => v === 12345),
        `${name}: ${b.label} past count untouched`,
      ).toBe(true);
      return all.subarray(0, count);
    };
    expectClose(await read(param), ref.param, { atol: 1e-7, rtol: 1e-5, label: `${name} param, count ${count}` });
    if (states[0]) expectClose(await read(states[0]), ref.state1, { atol: 1e-9, rtol: 1e-5, label: `${name} state1` });
    if (states[1]) expectClose(await read(states[1]), ref.state2, { atol: 1e-12, rtol: 1e-5, label: `${name} state2` });
    // The test must be able to fail: the parameters really moved.
    expect(ref.param.some((v, i) => v !== w[i])).toBe(true);
  }

  for (const [name, spec] of SPECS) {
    it.each(COUNTS)(`${name}: matches the reference over ${STEPS} steps, count %i`, async (count) => {
      await compare(name, spec, count, kernel);
    });
  }

  it.each(SPECS)('%s: folds large dispatches over two dimensions', async (name, spec) => {
    // 1025 elements = 5 workgroups, folded to 3 x 2 (the 6th workgroup must do nothing).
    await compare(name, spec, 1025, folded);
  });

  it('reads lr from the step state: lr = 0 leaves the parameters unchanged', async () => {
    const w = randomArray(33, 1);
    const param = t.f32('param', w);
    const grad = t.f32('grad', randomArray(33, 2));
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    writeStepState(t.device, stepState, { step: 0, lr: 0, bc1: 1, bc2: 1 });
    const d = kernel.prepare({ label: 'Optimizer.sgd', spec: { kind: 'sgd' }, param, grad, count: 33, stepState });
    runDispatches(t.device, 'lr 0', [d]);
    d.destroy();
    expect([...(await t.readF32(param, 33))]).toEqual([...w]);
  });

  it('rejects missing state buffers and bad hyperparameters', () => {
    const b = t.zeros('b', 8);
    const base = { label: 'Optimizer.bad', param: b, grad: t.zeros('g', 8), count: 8, stepState: t.zeros('s', STEP_STATE_WORDS) };
    expect(() => kernel.prepare({ ...base, spec: { kind: 'momentum', momentum: 0.9 } })).toThrow(/state/);
    expect(() => kernel.prepare({ ...base, spec: { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, state1: t.zeros('m', 8) })).toThrow(/state/);
    expect(() => kernel.prepare({ ...base, spec: { kind: 'adam', beta1: 1, beta2: 0.999, eps: 1e-8 }, state1: b, state2: b })).toThrow(/beta1/);
    expect(() => kernel.prepare({ ...base, count: 9, spec: { kind: 'sgd' } })).toThrow(/count/);
  });

  it('tells how many state buffers each optimizer needs', () => {
    expect(OptimizerKernel.stateBuffersNeeded({ kind: 'sgd' })).toBe(0);
    expect(OptimizerKernel.stateBuffersNeeded({ kind: 'momentum', momentum: 0.9 })).toBe(1);
    expect(OptimizerKernel.stateBuffersNeeded({ kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 })).toBe(2);
  });
});
