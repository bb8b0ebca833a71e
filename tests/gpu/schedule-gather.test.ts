import { describe, expect, it } from 'vitest';
import { GatherKernel } from '../../src/gpu/kernels/gather';
import { ScheduleKernel, STEP_STATE_BYTES } from '../../src/gpu/kernels/schedule';
import { batchIndices, gatherRows } from '../../src/reference/gather';
import { rngKey } from '../../src/spec/rng-streams';
import { StepStateReference } from '../../src/reference/schedule';
import { initialStepState, STEP_STATE_WORDS } from '../../src/spec/step-state';
import type { ScheduleParams } from '../../src/spec/lr-schedule';
import { expectBitExact, expectClose, randomArray, useGpu, runDispatches } from './harness';

describe('step schedule on the GPU', () => {
  const t = useGpu();

  const cases: ScheduleParams[] = [
    { kind: 'constant', baseLr: 0.1, warmupSteps: 0, totalSteps: 100, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 },
    { kind: 'step', baseLr: 0.5, warmupSteps: 3, totalSteps: 100, decayEvery: 4, gamma: 0.5, minLr: 0, beta1: 0.8, beta2: 0.99 },
    { kind: 'cosine', baseLr: 1, warmupSteps: 5, totalSteps: 20, decayEvery: 1, gamma: 1, minLr: 0.01, beta1: 0.9, beta2: 0.999 },
  ];

  it.each(cases)('$kind schedule matches the reference over 30 steps', async (p) => {
    const kernel = await ScheduleKernel.create(t.gpu);
    const state = t.zeros('stepState', STEP_STATE_BYTES / 4);
    t.device.queue.writeBuffer(state, 0, initialStepState());
    const { begin, end } = kernel.prepare('schedule', state, p);
    const reference = new StepStateReference(p);
    for (let step = 0; step < 30; step++) {
      runDispatches(t.device, 'schedule', [begin]);
      const raw = await t.readU32(state, 4);
      const values = new Float32Array(raw.buffer);
      expect(raw[0]).toBe(step);
      const want = reference.values();
      // NOTE: the GPU's f32 pow/cos differ from Math's by a few ulps; 1e-5 relative is well above that and far below any schedule change.
      expectClose([values[1]], [want.lr], { atol: 1e-7, rtol: 1e-5, label: `lr at step ${step}` });
      expectBitExact([values[2], values[3]], [want.biasCorrection1, want.biasCorrection2], `bias corrections at step ${step}`);
      runDispatches(t.device, 'schedule', [end]);
      reference.advance();
    }
    begin.destroy();
    end.destroy();
  });
});

describe('minibatch gather on the GPU', () => {
  const t = useGpu();

  it.each([
    { batch: 1, samples: 1, inputSize: 1, targetSize: 1 },
    { batch: 7, samples: 33, inputSize: 5, targetSize: 1 },
    { batch: 130, samples: 1000, inputSize: 3, targetSize: 9 },
  ])('gathers the same rows as the reference ($batch of $samples)', async ({ batch, samples, inputSize, targetSize }) => {
    const kernel = await GatherKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
    const key = rngKey(42, 'batchOrder');
    const inputs = randomArray(samples * inputSize, 1);
    const targets = new Uint32Array(samples * targetSize).map((_, i) => i * 7 + 1);
    const state = t.zeros('stepState', STEP_STATE_WORDS);
    const bufs = {
      inputs: t.f32('inputs', inputs),
      targets: t.u32('targets', targets),
      indices: t.zeros('indices', batch),
      batchInputs: t.zeros('batchInputs', batch * inputSize),
      batchTargets: t.zeros('batchTargets', batch * targetSize),
    };
    const d = kernel.prepare({ label: 'gather', key, stepState: state, batch, samples, inputSize, targetSize, ...bufs });
    for (const step of [0, 1, 12345]) {
      t.device.queue.writeBuffer(state, 0, new Uint32Array([step]));
      runDispatches(t.device, 'gather', [d]);
      const idx = batchIndices(key, step, batch, samples);
      expectBitExact(await t.readU32(bufs.indices, batch), idx, `indices at step ${step}`);
      expectBitExact(await t.readF32(bufs.batchInputs, batch * inputSize), gatherRows(inputs, inputSize, idx), 'batch inputs');
      expectBitExact(await t.readU32(bufs.batchTargets, batch * targetSize), gatherRows(targets, targetSize, idx), 'batch targets');
    }
    d.destroy();
  });

  it('draws every sample about equally often (sampling with replacement)', () => {
    const samples = 10;
    const counts = new Array(samples).fill(0);
    for (let step = 0; step < 1000; step++) for (const i of batchIndices(rngKey(1, 'batchOrder'), step, 100, samples)) counts[i]++;
    // 100,000 draws, expected 10,000 each, binomial sd ≈ 95: 6 sd is a generous bound that still catches a biased mapping.
    for (const c of counts) expect(Math.abs(c - 10_000)).toBeLessThan(570);
  });
});
