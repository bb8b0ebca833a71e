// Tuning changes speed, never numbers: whole training runs give the same bits whichever matmul configurations the
// tuner picks (driven here by made-up timings, so nothing depends on this machine's speed), a tuned choice is
// remembered in the store and used by the next trainer without measuring, and a run resumed on a device whose
// cache is empty (a cache miss: other choices) ends bit-identical to the uninterrupted one.
import { describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import { candidateConfigs, configName } from '../../src/gpu/kernels/matmul-configs';
import { matmulCapabilities } from '../../src/gpu/kernels/matmul';
import type { KernelPolicy } from '../../src/gpu/tuning/policy';
import { MemoryTuningStore } from '../../src/gpu/tuning/store';
import { Trainer } from '../../src/engine/trainer';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, useGpu } from './harness';

const u32 = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

describe('matmul tuning in training runs', () => {
  const t = useGpu();
  const data = smallClassification(120, 5, 3);
  // Wide enough for two column blocks (accumulating products) and shapes that are not multiples of any tile.
  const spec = smallSpec({ shardColumns: 32, stepsPerSubmit: 5 });

  /** The harness's device under another kernel policy (a host would pass it to acquireGpu). */
  const withPolicy = (kernels: Partial<KernelPolicy>): GpuContext => ({ ...t.gpu, kernels: { matmul: 'auto', store: null, budgetMs: 0, ...kernels } });

  /** Made-up timings: `winner` is 10x faster than the rest on every shape; each call is recorded. */
  function fakeTimings(winner: string, calls: string[]): KernelPolicy['measure'] {
    return async (shape, kernel) => {
      calls.push(`${shape}:${kernel}`);
      return kernel === winner ? 1 : 10;
    };
  }

  async function train(gpu: GpuContext, steps: number) {
    const trainer = await Trainer.create(gpu, spec, data);
    await trainer.train(steps);
    const state = await trainer.readState();
    const choices = trainer.matmulChoices();
    trainer.destroy();
    return { state, choices };
  }

  function expectSameParameters(a: Awaited<ReturnType<typeof train>>['state'], b: typeof a, label: string) {
    a.layers.forEach((layer, l) => {
      expectBitExact(u32(layer.weights), u32(b.layers[l].weights), `${label}: W${l + 1}`);
      expectBitExact(u32(layer.bias), u32(b.layers[l].bias), `${label}: b${l + 1}`);
    });
    expectBitExact(u32(a.lossHistory), u32(b.lossHistory), `${label}: losses`);
  }

  it('every candidate, forced or picked by the tuner, trains to the same bits', async () => {
    const names = candidateConfigs(matmulCapabilities(t.gpu)).map(configName);
    const reference = await train(withPolicy({ matmul: names[0] }), 12);
    expect(new Set(reference.choices.map((c) => c.source))).toEqual(new Set(['forced']));
    for (const name of names.slice(1)) {
      const forced = await train(withPolicy({ matmul: name }), 12);
      expect(forced.choices.every((c) => c.kernel === name)).toBe(true);
      expectSameParameters(forced.state, reference.state, `forced ${name}`);
    }
    const calls: string[] = [];
    const winner = names[names.length - 1];
    const tuned = await train(withPolicy({ budgetMs: Infinity, measure: fakeTimings(winner, calls) }), 12);
    expect(tuned.choices.length).toBeGreaterThan(3);
    expect(tuned.choices.every((c) => c.kernel === winner && c.source === 'tuned')).toBe(true);
    expect(calls.length).toBe(tuned.choices.length * names.length);
    expectSameParameters(tuned.state, reference.state, `tuned (${winner})`);
  });

  it('remembers choices in the store: the next trainer measures nothing and reports them as cached', async () => {
    const store = new MemoryTuningStore();
    const names = candidateConfigs(matmulCapabilities(t.gpu)).map(configName);
    const calls: string[] = [];
    const first = await train(withPolicy({ store, budgetMs: Infinity, measure: fakeTimings(names[1], calls) }), 1);
    expect(first.choices.every((c) => c.kernel === names[1] && c.source === 'tuned')).toBe(true);
    const measured = calls.length;
    // A new process would have a new policy object (and so no state in memory): the store alone carries the choice.
    const second = await train(withPolicy({ store, budgetMs: Infinity, measure: fakeTimings(names[0], calls) }), 1);
    expect(calls.length).toBe(measured);
    expect(second.choices.every((c) => c.kernel === names[1] && c.source === 'cached')).toBe(true);
  });

  it('a budget too small to measure everything keeps the default where nothing was timed', async () => {
    const names = candidateConfigs(matmulCapabilities(t.gpu)).map(configName);
    let clock = 0;
    const calls: string[] = [];
    const measure: KernelPolicy['measure'] = async (shape, kernel) => {
      clock++;
      return fakeTimings(names[1], calls)!(shape, kernel);
    };
    const now = performance.now;
    // The tuner reads performance.now(); a fake one makes the budget count measurements instead of milliseconds.
    performance.now = () => clock;
    try {
      const run = await train(withPolicy({ budgetMs: 2, measure }), 1);
      expect(calls.length).toBe(2);
      const tuned = run.choices.filter((c) => c.source === 'tuned');
      expect(tuned.length).toBe(1);
      expect(tuned[0].kernel).toBe(names[1]);
      expect(run.choices.filter((c) => c.source === 'default').every((c) => c.kernel === names[0])).toBe(true);
    } finally {
      performance.now = now;
    }
  });

  it('a run resumed on a device with an empty cache (other choices) ends bit-identical to the uninterrupted one', async () => {
    const names = candidateConfigs(matmulCapabilities(t.gpu)).map(configName);
    const straight = await train(withPolicy({ matmul: names[0] }), 23);

    const first = await Trainer.create(withPolicy({ matmul: names[0] }), spec, data);
    await first.train(9);
    const saved = await first.readState();
    first.destroy();

    const calls: string[] = [];
    const resumed = await Trainer.create(withPolicy({ store: new MemoryTuningStore(), budgetMs: Infinity, measure: fakeTimings(names[2], calls) }), spec, data);
    expect(resumed.matmulChoices().every((c) => c.kernel === names[2])).toBe(true);
    resumed.writeState(saved);
    await resumed.train(14);
    const state = await resumed.readState();
    resumed.destroy();
    expectSameParameters(state, straight.state, 'resumed after a cache miss');
    state.layers.forEach((layer, l) =>
      layer.weightState.forEach((s, i) => expectBitExact(u32(s), u32(straight.state.layers[l].weightState[i]), `W${l + 1} state${i + 1}`)),
    );
  });
});
