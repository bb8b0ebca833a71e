import { describe, it } from 'vitest';
import { PerturbKernel } from '../../src/gpu/kernels/perturb';
import { shrinkPerturbAt } from '../../src/reference/perturb';
import { rngKey } from '../../src/spec/rng-streams';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import { expectBitExact, expectClose, randomArray, runDispatches, useGpu, writeStepState } from './harness';

describe('Shrink & Perturb on the GPU', () => {
  const t = useGpu();

  it.each([
    // A column block of a sharded 9 x 70 weight matrix, its bias (row fanIn = 9), and an odd whole matrix.
    { rows: 9, cols: 38, globalCols: 70, rowOffset: 0, colOffset: 32, every: 1 },
    { rows: 1, cols: 70, globalCols: 70, rowOffset: 9, colOffset: 0, every: 3 },
    { rows: 5, cols: 3, globalCols: 3, rowOffset: 0, colOffset: 0, every: 2 },
  ])('matches the reference on its steps and leaves the others alone ($rows x $cols at ($rowOffset, $colOffset), every $every)', async (shape) => {
    const kernel = await PerturbKernel.create(t.gpu, { maxWorkgroupsPerDimension: 2 });
    const args = { key: rngKey(3, 'perturb', 2), shrink: 1e-2, noise: 0.05, ...shape };
    const initial = randomArray(shape.rows * shape.cols, 4);
    const buffer = t.f32('param', initial);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const d = kernel.prepare({ label: 'perturb', stepState, param: { buffer, ld: shape.cols }, ...args });
    let want = initial;
    for (let step = 0; step < 6; step++) {
      writeStepState(t.device, stepState, { step });
      runDispatches(t.device, 'perturb', [d]);
      const before = want;
      want = shrinkPerturbAt(args, want, step);
      const got = await t.readF32(buffer, shape.rows * shape.cols);
      if ((step + 1) % shape.every !== 0) expectBitExact(got, before, `step ${step} is not a perturb step`);
      // NOTE: z goes through the GPU's log/cos (worst 2e-5 absolute on lavapipe, tests/gpu/init.test.ts), times
      // noise 0.05 that is 1e-6; keep·p + noise·z may be contracted into an FMA (an ulp of |p| <= 1, 6e-8). Each step
      // starts from the GPU's own block, so errors do not carry over: 1e-5 absolute leaves a 10x margin.
      expectClose(got, want, { atol: 1e-5, cols: shape.cols, label: `step ${step}` });
      want = got;
    }
    d.destroy();
  });
});
