// The TF.js side of the benchmark must train the same network as our engine. Checked on TF.js's CPU
// backend (same graph as its WebGPU backend, no adapter needed) against our CPU reference trainer: same
// parameters in, same loss out, same parameters after one SGD step (dropout off, so both are deterministic).
import * as tf from '@tensorflow/tfjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TfMlp, tfBatch } from '../../bench/tfjs-mlp';
import { LEARNING_RATE, benchData, mlpSpec, type MlpShape } from '../../bench/train';
import { batchIndices, gatherRows } from '../../src/reference/gather';
import { ReferenceTrainer } from '../../src/reference/mlp';
import { rngKey } from '../../src/spec/rng-streams';

const SHAPE: MlpShape = { name: 'check', widths: [5, 7, 6, 3], batch: 4, dropout: 0 };

/** Largest |a - b| / (1 + |b|) and where it is. */
function worst(a: ArrayLike<number>, b: ArrayLike<number>): { error: number; at: number } {
  expect(a.length).toBe(b.length);
  let out = { error: 0, at: -1 };
  for (let i = 0; i < a.length; i++) {
    const error = Math.abs(a[i] - b[i]) / (1 + Math.abs(b[i]));
    if (error > out.error) out = { error, at: i };
  }
  return out;
}

describe('TF.js MLP step (the benchmark peer)', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
    await tf.ready();
  });
  afterAll(() => tf.disposeVariables());

  const spec = mlpSpec(SHAPE);
  const data = benchData(spec, 16);
  const indices = batchIndices(rngKey(spec.seed, 'batchOrder'), 0, spec.batch, data.samples);
  const x = gatherRows(data.inputs, spec.inputSize, indices);
  const targets = gatherRows(data.targets as Uint32Array, 1, indices);

  it('computes the same loss and the same SGD update as our CPU reference', async () => {
    const reference = new ReferenceTrainer(spec, data);
    const mlp = TfMlp.create(tf, { widths: SHAPE.widths, batch: SHAPE.batch, dropout: 0, learningRate: LEARNING_RATE }, reference.parameters());
    const batch = tfBatch(tf, x, targets, spec.batch, spec.inputSize, spec.outputSize);
    try {
      const tfLoss = mlp.loss(batch.x, batch.oneHot, false);
      const expectedLoss = reference.trainStep();
      expect((await tfLoss.data())[0]).toBeCloseTo(expectedLoss, 5);
      tfLoss.dispose();

      mlp.step(batch.x, batch.oneHot).dispose();
      const ours = reference.parameters();
      const theirs = await mlp.parameters();
      ours.forEach((layer, l) => {
        const w = worst(theirs[l].weights, layer.weights);
        const b = worst(theirs[l].bias, layer.bias);
        expect(w.error, `layer ${l + 1} weights, worst at ${w.at}`).toBeLessThan(1e-5);
        expect(b.error, `layer ${l + 1} bias, worst at ${b.at}`).toBeLessThan(1e-5);
      });
      // The step really moved the parameters (so the comparison above is not of two untouched copies).
      expect(worst(ours[0].weights, new ReferenceTrainer(spec, data).parameters()[0].weights).error).toBeGreaterThan(1e-4);
    } finally {
      batch.dispose();
      mlp.dispose();
    }
  });

  it('applies inverted dropout only when training', async () => {
    const mlp = TfMlp.create(tf, { widths: [8, 512, 3], batch: 4, dropout: 0.5, learningRate: LEARNING_RATE });
    const input = tf.ones([4, 8]) as tf.Tensor2D;
    try {
      const a = await mlp.forward(input, false).data();
      const b = await mlp.forward(input, false).data();
      const c = await mlp.forward(input, true).data();
      expect(Array.from(a)).toEqual(Array.from(b));
      expect(worst(c, a).error).toBeGreaterThan(1e-3);
    } finally {
      input.dispose();
      mlp.dispose();
    }
  });

  it('refuses parameters of the wrong shape', () => {
    const params = new ReferenceTrainer(spec, data).parameters();
    expect(() => TfMlp.create(tf, { widths: [5, 7, 6, 4], batch: 4, dropout: 0, learningRate: 0.1 }, params)).toThrow(
      /layer 3: parameters \[18\], \[3\] do not match 6 x 4/,
    );
  });
});
