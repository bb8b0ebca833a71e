import { describe, expect, it } from 'vitest';
import { TasksKernel } from '../../src/gpu/kernels/tasks';
import { permuteColumns, relabel, resetBlockAt, taskAt, taskPermutation } from '../../src/reference/tasks';
import { rngKey } from '../../src/spec/rng-streams';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import type { InitScheme } from '../../src/spec/init-schemes';
import { expectBitExact, expectClose, randomArray, runDispatches, useGpu, writeStepState } from './harness';

describe('task permutations (CPU)', () => {
  it.each([1, 2, 3, 7, 21, 784, 1000, 4096])('π_k is a permutation of [0, %i), and a different one for each task', (n) => {
    const key = rngKey(5, 'taskPermutation', 0);
    const perms = [0, 1, 2].map((task) => taskPermutation(n, key, task));
    for (const p of perms) expect(new Set(p).size).toBe(n);
    for (const p of perms) for (const v of p) expect(v).toBeLessThan(n);
    if (n >= 7) {
      expect(perms[0]).not.toEqual(perms[1]);
      expect(perms[1]).not.toEqual(perms[2]);
      // Not the identity either.
      expect(perms[0].filter((v, i) => v === i).length).toBeLessThan(n / 2);
    }
  });

  it('names the task of a step, and of the last completed step between steps', () => {
    expect([0, 9, 10, 19, 20].map((t) => taskAt(t, 10))).toEqual([0, 0, 1, 1, 2]);
    // After 10 completed steps the net has trained on task 0 only.
    expect([0, 1, 10, 11, 20].map((t) => taskAt(t, 10, true))).toEqual([0, 0, 0, 1, 1]);
    expect(taskAt(123, 0)).toBe(0);
  });
});

describe('task switches on the GPU', () => {
  const t = useGpu();

  it.each([
    { rows: 1, cols: 21, every: 3 },
    { rows: 5, cols: 130, every: 1 },
    { rows: 2, cols: 1, every: 2 },
  ])('permute_columns equals the reference bit for bit, across switches ($rows x $cols, T $every)', async ({ rows, cols, every }) => {
    const kernel = await TasksKernel.create(t.gpu, { maxWorkgroupsPerDimension: 2 });
    const key = rngKey(9, 'taskPermutation', 0);
    const input = randomArray(rows * cols, 3);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const src = t.f32('src', input);
    const dst = t.zeros('dst', rows * cols);
    for (const completed of [false, true]) {
      const d = kernel.preparePermuteColumns({ label: 'permute', key, stepState, taskEvery: every, completed, rows, cols, src, dst });
      for (const step of [0, 1, 2, 3, 4, 6, 7, 1000]) {
        writeStepState(t.device, stepState, { step });
        runDispatches(t.device, 'permute', [d]);
        const want = permuteColumns(input, rows, cols, key, taskAt(step, every, completed));
        expectBitExact(await t.readF32(dst, rows * cols), want, `step ${step} (completed ${completed})`);
      }
      d.destroy();
    }
  });

  it('relabel equals the reference bit for bit', async () => {
    const kernel = await TasksKernel.create(t.gpu);
    const key = rngKey(9, 'taskPermutation', 1);
    const rows = 70;
    const classes = 10;
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const original = Uint32Array.from({ length: rows }, (_, i) => (i * 7) % classes);
    for (const step of [0, 4, 5, 12]) {
      const labels = t.u32('labels', original);
      const d = kernel.prepareRelabel({ label: 'relabel', key, stepState, taskEvery: 5, rows, classes, labels });
      writeStepState(t.device, stepState, { step });
      runDispatches(t.device, 'relabel', [d]);
      expectBitExact(await t.readU32(labels, rows), relabel(original, classes, key, taskAt(step, 5)), `labels at step ${step}`);
      d.destroy();
    }
  });

  const schemes: InitScheme[] = [{ kind: 'xavier_uniform' }, { kind: 'he_normal' }, { kind: 'constant', value: 0.25 }];
  it.each(schemes)('reset_block redraws a block ($kind) only when a task begins, and zeroes its optimizer state', async (scheme) => {
    const kernel = await TasksKernel.create(t.gpu);
    const key = rngKey(4, 'taskReset', 3);
    // A column block (offset 32) of a 37 x 70 matrix, as a sharded layer holds it.
    const [rows, cols, globalCols, colOffset] = [37, 38, 70, 32];
    const initial = randomArray(rows * cols, 1);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    for (const states of [0, 1, 2]) {
      const param = t.f32('param', initial);
      const stateBuffers = Array.from({ length: states }, (_, s) => t.f32(`state${s}`, randomArray(rows * cols, 10 + s)));
      const args = { scheme, key, fanIn: 37, fanOut: globalCols, rows, cols, globalCols, colOffset };
      const d = kernel.prepareResetBlock({ label: 'reset', stepState, taskEvery: 4, param, states: stateBuffers, ...args });
      for (const step of [0, 3, 5]) {
        writeStepState(t.device, stepState, { step });
        runDispatches(t.device, 'reset', [d]);
      }
      expectBitExact(await t.readF32(param, rows * cols), initial, 'no reset inside a task');
      writeStepState(t.device, stepState, { step: 8 });
      runDispatches(t.device, 'reset', [d]);
      const want = resetBlockAt(args, 8, 4)!;
      // NOTE: normal draws go through the GPU's log/cos (see tests/gpu/init.test.ts): 1e-4·std covers them with margin.
      expectClose(await t.readF32(param, rows * cols), want, { atol: scheme.kind === 'he_normal' ? 1e-4 * Math.sqrt(2 / 37) : 0, cols, label: 'reset block' });
      for (const s of stateBuffers) expectBitExact(await t.readF32(s, rows * cols), new Float32Array(rows * cols), 'optimizer state');
      // A later task draws other numbers.
      if (scheme.kind !== 'constant') expect(resetBlockAt(args, 12, 4)).not.toEqual(want);
      d.destroy();
    }
  });
});
