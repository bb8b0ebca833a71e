import { describe, expect, it } from 'vitest';
import { Trainer } from '../../src/engine/trainer';
import { ReferenceTrainer } from '../../src/reference/mlp';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, expectClose, useGpu } from './harness';

function bits(params: { weights: Float32Array; bias: Float32Array }[]): Uint32Array[] {
  return params.flatMap((p) => [new Uint32Array(p.weights.buffer.slice(0)), new Uint32Array(p.bias.buffer.slice(0))]);
}

describe('Trainer on the GPU', () => {
  const t = useGpu();
  const data = smallClassification(200, 5, 3);

  it('follows the CPU reference trajectory for 120 steps (3 activations, dropout, Adam, cosine schedule)', async () => {
    const spec = smallSpec();
    const trainer = await Trainer.create(t.gpu, spec, data);
    const reference = new ReferenceTrainer(spec, data);

    // Parameters right after init: uniform and constant draws are bit-exact, normal ones within GPU cos/log error.
    const initial = await trainer.readParameters();
    reference.parameters().forEach((p, l) => {
      expectClose(initial[l].weights, p.weights, { atol: 1e-5, rtol: 1e-4, label: `initial W${l + 1}` });
      expectBitExact(initial[l].bias, p.bias, `initial b${l + 1}`);
    });

    await trainer.train(120);
    for (let s = 0; s < 120; s++) reference.trainStep();
    expect(trainer.step).toBe(120);
    // NOTE: fp32 sums run in a different order on the GPU (tiles, tree reductions), GELU/exp/log differ
    // by ulps, and Adam divides by sqrt(v) + eps, which amplifies tiny gradient differences. On lavapipe
    // the worst difference after 120 steps is ~3e-7 (loss and parameters); 2e-5 leaves room for other
    // adapters' exp/tanh while a wrong mask, batch or gradient diverges by >1e-2 within a few steps.
    expectClose(await trainer.readLosses(0, 120), reference.losses, { atol: 2e-5, rtol: 2e-5, label: 'loss per step' });
    const final = await trainer.readParameters();
    reference.parameters().forEach((p, l) => {
      expectClose(final[l].weights, p.weights, { atol: 2e-5, rtol: 1e-4, label: `final W${l + 1}` });
      expectClose(final[l].bias, p.bias, { atol: 2e-5, rtol: 1e-4, label: `final b${l + 1}` });
    });
    // And it learns: the loss of the last 20 steps is below the first 20.
    const losses = reference.losses;
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    expect(mean(losses.slice(-20))).toBeLessThan(mean(losses.slice(0, 20)));
    trainer.destroy();
  });

  it('replays bit for bit: two runs, and different steps per submit', async () => {
    const runs: Uint32Array[][] = [];
    const losses: Float32Array[] = [];
    for (const stepsPerSubmit of [16, 16, 1, 7, 64]) {
      const trainer = await Trainer.create(t.gpu, smallSpec({ stepsPerSubmit }), data);
      await trainer.train(40);
      runs.push(bits(await trainer.readParameters()));
      losses.push(await trainer.readLosses(0, 40));
      trainer.destroy();
    }
    for (let r = 1; r < runs.length; r++) {
      runs[r].forEach((tensor, i) => expectBitExact(tensor, runs[0][i], `run ${r} tensor ${i}`));
      expectBitExact(new Uint32Array(losses[r].buffer), new Uint32Array(losses[0].buffer), `run ${r} losses`);
    }
  });

  it('gives the same parameters with layers forced into shards', async () => {
    const base = smallSpec();
    const spec = smallSpec({
      optimizer: { kind: 'momentum', momentum: 0.9, nesterov: true },
      hidden: [{ ...base.hidden[0], width: 70 }, { ...base.hidden[1], width: 40 }, base.hidden[2]],
    });
    const plain = await Trainer.create(t.gpu, spec, data);
    const sharded = await Trainer.create(t.gpu, { ...spec, shardColumns: 32 }, data);
    expect(sharded.layout.activations[1].blocks.map((b) => b.width)).toEqual([32, 32, 6]);
    expect(sharded.layout.activations[2].blocks.map((b) => b.width)).toEqual([32, 8]);
    // Init and dropout are defined per global index, so they agree bit for bit from the start.
    const initialPlain = bits(await plain.readParameters());
    bits(await sharded.readParameters()).forEach((tensor, i) => expectBitExact(tensor, initialPlain[i], `init tensor ${i}`));
    await plain.train(30);
    await sharded.train(30);
    // NOTE: a product over a split input dimension sums block by block, a different fp32 order than one
    // matmul, so the runs agree to rounding (1e-5), not bit for bit.
    const [a, b] = [await plain.readParameters(), await sharded.readParameters()];
    a.forEach((p, l) => {
      expectClose(b[l].weights, p.weights, { atol: 1e-5, rtol: 1e-4, label: `W${l + 1}` });
      expectClose(b[l].bias, p.bias, { atol: 1e-5, rtol: 1e-4, label: `b${l + 1}` });
    });
    plain.destroy();
    sharded.destroy();
  });

  it('frees every buffer: 100 trainers created and destroyed leave none alive', async () => {
    const before = t.liveBuffers();
    for (let i = 0; i < 100; i++) {
      const trainer = await Trainer.create(t.gpu, smallSpec({ stepsPerSubmit: 2 }), data);
      if (i % 25 === 0) await trainer.train(2);
      trainer.destroy();
    }
    expect(t.liveBuffers()).toBe(before);
  });

  it('refuses data that does not match the model', async () => {
    await expect(Trainer.create(t.gpu, smallSpec(), { ...data, samples: 199 })).rejects.toThrow(/inputs hold 1000 values; 199 samples/);
    await expect(Trainer.create(t.gpu, smallSpec({ loss: 'mse' }), data)).rejects.toThrow(/targets hold 200 values; expected 600/);
  });
});
