// Resuming from a checkpoint: a run trained k steps, checkpointed (state -> safetensors bytes -> state),
// and continued by a NEW trainer (and observatory) must match the uninterrupted run bit for bit.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/engine/model-spec';
import { Observatory, type ObservatoryOptions, type Snapshot } from '../../src/engine/observatory';
import { Trainer, type TrainerState } from '../../src/engine/trainer';
import { checkpointFromSafetensors, checkpointToSafetensors, type Checkpoint } from '../../src/io/checkpoint';
import { UnitHistoryField } from '../../src/spec/unit-history';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, useGpu } from './harness';

const u32 = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Bit-exact comparison of two trainer states, tensor by tensor, naming the first difference. */
function expectSameState(actual: TrainerState, expected: TrainerState, label: string): void {
  expect(actual.step, `${label}: step`).toBe(expected.step);
  expectBitExact(actual.stepState, expected.stepState, `${label}: step state`);
  expectBitExact(u32(actual.lossHistory), u32(expected.lossHistory), `${label}: loss ring`);
  expect(actual.layers.length).toBe(expected.layers.length);
  expected.layers.forEach((e, l) => {
    const a = actual.layers[l];
    expectBitExact(u32(a.weights), u32(e.weights), `${label}: W${l + 1}`);
    expectBitExact(u32(a.bias), u32(e.bias), `${label}: b${l + 1}`);
    expect(a.weightState.length).toBe(e.weightState.length);
    e.weightState.forEach((s, i) => expectBitExact(u32(a.weightState[i]), u32(s), `${label}: W${l + 1} state${i + 1}`));
    e.biasState.forEach((s, i) => expectBitExact(u32(a.biasState[i]), u32(s), `${label}: b${l + 1} state${i + 1}`));
  });
}

describe('resuming a run from a checkpoint', () => {
  const t = useGpu();
  const data = smallClassification(200, 5, 3);
  const config = { note: 'the run configuration travels in the metadata' };

  async function checkpoint(trainer: Trainer, observatory?: Observatory): Promise<Checkpoint> {
    const bytes = checkpointToSafetensors({ trainer: await trainer.readState(), observatory: await observatory?.readState() }, config);
    const back = checkpointFromSafetensors(bytes);
    expect(back.config).toEqual(config);
    return back;
  }

  /** Trains `total` steps straight, and `k` + (total - k) with a checkpoint in between; compares everything. */
  async function resumeMatches(spec: ModelSpec, total: number, k: number): Promise<void> {
    const straight = await Trainer.create(t.gpu, spec, data);
    await straight.train(total);
    const expected = await straight.readState();
    const expectedLosses = await straight.readLosses(0, total);
    straight.destroy();

    const first = await Trainer.create(t.gpu, spec, data);
    await first.train(k);
    const saved = await checkpoint(first);
    first.destroy();
    expect(saved.step).toBe(k);
    expect(saved.trainer.stepState[0]).toBe(k);

    const resumed = await Trainer.create(t.gpu, spec, data);
    resumed.writeState(saved.trainer);
    expect(resumed.step).toBe(k);
    expectSameState(await resumed.readState(), saved.trainer, 'restored');
    await resumed.train(total - k);
    expectSameState(await resumed.readState(), expected, 'resumed');
    expectBitExact(u32(await resumed.readLosses(0, total)), u32(expectedLosses), 'losses of every step');
    resumed.destroy();
  }

  it('continues bit for bit with Adam, cosine warm-up, input and hidden dropout (k not a multiple of K)', async () => {
    await resumeMatches(smallSpec(), 40, 13);
  });

  it('continues bit for bit with Nesterov momentum, a step schedule and layers split into shards', async () => {
    const base = smallSpec();
    const spec = smallSpec({
      optimizer: { kind: 'momentum', momentum: 0.9, nesterov: true, weightDecay: 0.001 },
      schedule: { ...base.schedule, kind: 'step', warmupSteps: 3, decayEvery: 7, gamma: 0.5 },
      hidden: [{ ...base.hidden[0], width: 70 }, { ...base.hidden[1], width: 40 }, base.hidden[2]],
      shardColumns: 32,
      stepsPerSubmit: 5,
    });
    await resumeMatches(spec, 30, 11);
  });

  it('carries the latest losses into a loss ring of another capacity', async () => {
    const spec = smallSpec();
    const first = await Trainer.create(t.gpu, spec, data);
    await first.train(20);
    const saved = await checkpoint(first);
    const losses = await first.readLosses(0, 20);
    first.destroy();
    const small = await Trainer.create(t.gpu, spec, data, { lossHistoryCapacity: 8 });
    small.writeState(saved.trainer);
    expectBitExact(u32(await small.readLosses(12, 8)), u32(losses.subarray(12)), 'last 8 losses');
    await expect(small.readLosses(11, 1)).rejects.toThrow(/loss of step 11 is gone/);
    small.destroy();
  });

  it('writes parameters alone into a sharded model and reads them back unchanged', async () => {
    const base = smallSpec();
    const spec = smallSpec({ hidden: [{ ...base.hidden[0], width: 70 }, base.hidden[1], base.hidden[2]], shardColumns: 32 });
    const source = await Trainer.create(t.gpu, { ...spec, seed: 99 }, data);
    const params = await source.readParameters();
    source.destroy();
    const target = await Trainer.create(t.gpu, spec, data);
    target.writeParameters(params);
    const back = await target.readParameters();
    params.forEach((p, l) => {
      expectBitExact(u32(back[l].weights), u32(p.weights), `W${l + 1}`);
      expectBitExact(u32(back[l].bias), u32(p.bias), `b${l + 1}`);
    });
    expect(() => target.writeParameters(params.slice(1))).toThrow(/expected 4 layers of parameters, got 3/);
    target.destroy();
  });

  it('refuses a state that belongs to another model', async () => {
    const trainer = await Trainer.create(t.gpu, smallSpec(), data);
    await trainer.train(3);
    const state = await trainer.readState();
    trainer.destroy();
    const base = smallSpec();
    const wider = await Trainer.create(t.gpu, smallSpec({ hidden: [{ ...base.hidden[0], width: 34 }, base.hidden[1], base.hidden[2]] }), data);
    expect(() => wider.writeState(state)).toThrow(/layer 1 parameters: expected weights 5x34 and bias 34, got 165 and 33 values/);
    wider.destroy();
    const momentum = await Trainer.create(t.gpu, smallSpec({ optimizer: { kind: 'momentum', momentum: 0.9, nesterov: false } }), data);
    expect(() => momentum.writeState(state)).toThrow(/saved with optimizer adam; this trainer uses momentum/);
    const skewed = { ...state, stepState: state.stepState.slice() };
    skewed.stepState[0] = 2;
    const adam = await Trainer.create(t.gpu, smallSpec(), data);
    expect(() => adam.writeState(skewed)).toThrow(/step state names step 2, but the state is at step 3/);
    momentum.destroy();
    adam.destroy();
  });

  it('continues the observatory bit for bit: per-unit history, snapshots and their losses (sharded layer)', async () => {
    const base = smallSpec();
    const spec = smallSpec({
      hidden: [{ ...base.hidden[0], width: 70 }, base.hidden[1], base.hidden[2]],
      shardColumns: 32,
      stepsPerSubmit: 4,
      probeRows: 16,
    });
    // frozenWindow 3: units freeze (and thaw) within the run, so the record carried over matters.
    const options: ObservatoryOptions = { every: 5, probeInputs: data.inputs.slice(0, 16 * spec.inputSize), probeRows: 16, ringSize: 12, frozenWindow: 3 };
    const total = 40;
    const k = 17; // between snapshots: the first snapshot after resuming must pick up losses from before the checkpoint

    const drain = async (o: Observatory) => {
      o.close();
      const out: Snapshot[] = [];
      for await (const s of o.snapshots()) out.push(s);
      return out;
    };

    const straightTrainer = await Trainer.create(t.gpu, spec, data);
    const straight = await Observatory.create(straightTrainer, options);
    await straightTrainer.train(total);
    const expectedSnapshots = await drain(straight);
    const expectedObservatory = await straight.readState();
    const expectedTrainer = await straightTrainer.readState();
    straight.destroy();
    straightTrainer.destroy();
    expect(expectedSnapshots.map((s) => s.step)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);

    const firstTrainer = await Trainer.create(t.gpu, spec, data);
    const first = await Observatory.create(firstTrainer, options);
    await firstTrainer.train(k);
    const snapshots = await drain(first);
    const saved = await checkpoint(firstTrainer, first);
    first.destroy();
    firstTrainer.destroy();
    expect(saved.observatory?.lastSnapshotStep).toBe(15);
    // The history is not trivial at the checkpoint: units were dropped in runs, so losing it would show.
    const longest = saved.observatory!.unitHistory[0].filter((_, i) => i % 8 === UnitHistoryField.longestDropRun);
    expect(Math.max(...longest)).toBeGreaterThan(1);

    const trainer = await Trainer.create(t.gpu, spec, data);
    trainer.writeState(saved.trainer);
    const resumed = await Observatory.create(trainer, options);
    expect(() => resumed.writeState({ ...saved.observatory!, unitHistory: [new Uint32Array(8)] })).toThrow(
      /unit history for 1 hidden layers; this model has 3/,
    );
    expect(() => resumed.writeState({ ...saved.observatory!, lastSnapshotStep: 18 })).toThrow(/last snapshot step 18 is not in \[-1, 17\]/);
    resumed.writeState(saved.observatory!);
    await trainer.train(total - k);
    snapshots.push(...(await drain(resumed)));
    expectSameState(await trainer.readState(), expectedTrainer, 'resumed trainer');
    const actualObservatory = await resumed.readState();
    expect(actualObservatory.lastSnapshotStep).toBe(expectedObservatory.lastSnapshotStep);
    expect(actualObservatory.skipped).toBe(0);
    expectedObservatory.unitHistory.forEach((h, l) => expectBitExact(actualObservatory.unitHistory[l], h, `unit history of layer ${l + 1}`));
    // The training records behind "frozen" travel in the checkpoint too.
    expect(saved.observatory?.trainRecord?.length).toBe(spec.hidden.length);
    expectedObservatory.trainRecord!.forEach((r, l) => expectBitExact(actualObservatory.trainRecord![l], r, `training record of layer ${l + 1}`));

    expect(snapshots.map((s) => s.step)).toEqual(expectedSnapshots.map((s) => s.step));
    expectedSnapshots.forEach((e, i) => {
      const a = snapshots[i];
      expectBitExact(u32(a.losses), u32(e.losses), `snapshot ${e.step}: losses`);
      e.layers.forEach((el, l) => {
        const al = a.layers[l];
        expectBitExact(al.dead, el.dead, `snapshot ${e.step} layer ${l + 1}: dead`);
        expectBitExact(al.dropped, el.dropped, `snapshot ${e.step} layer ${l + 1}: dropped`);
        expectBitExact(al.revived, el.revived, `snapshot ${e.step} layer ${l + 1}: revived`);
        expectBitExact(al.frozen, el.frozen, `snapshot ${e.step} layer ${l + 1}: frozen`);
        expectBitExact(al.nonFinite, el.nonFinite, `snapshot ${e.step} layer ${l + 1}: non-finite`);
        expect(al.counts, `snapshot ${e.step} layer ${l + 1}: counts`).toEqual(el.counts);
      });
    });
    resumed.destroy();
    trainer.destroy();
  });
});
