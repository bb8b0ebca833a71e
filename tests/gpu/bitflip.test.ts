import { describe, expect, it } from 'vitest';
import { makeBitflipProblem } from '../../src/data/bitflip';
import { BitflipKernel } from '../../src/gpu/kernels/bitflip';
import { bitflipBatchInputs, bitflipBitsAt, bitflipProbeInputs, bitflipSwitch, bitflipTargets } from '../../src/reference/bitflip';
import { bitflipProbeRows } from '../../src/spec/bitflip';
import { rngKey } from '../../src/spec/rng-streams';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import { expectBitExact, runDispatches, useGpu, writeStepState } from './harness';

describe('slowly-changing regression on the GPU', () => {
  const t = useGpu();

  it.each([
    { inputSize: 21, flipping: 15, width: 100, batch: 1, every: 3 },
    { inputSize: 21, flipping: 15, width: 100, batch: 5, every: 1 },
    // More than 128 random bits (several Philox blocks per row), a teacher width that is not a multiple of the workgroup.
    { inputSize: 300, flipping: 3, width: 67, batch: 3, every: 2 },
    { inputSize: 2, flipping: 1, width: 1, batch: 2, every: 1 },
    { inputSize: 9, flipping: 0, width: 5, batch: 4, every: 0 },
  ])(
    'switch, inputs and targets match the reference bit for bit ($inputSize bits, $flipping flipping, teacher $width, batch $batch, T $every)',
    async ({ inputSize, flipping, width, batch, every }) => {
      const kernel = await BitflipKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
      const problem = makeBitflipProblem(7, inputSize, flipping, width, 0.7);
      const key = rngKey(7, 'bitflip');
      const stepState = t.zeros('stepState', STEP_STATE_WORDS);
      const flipBits = t.u32('flipBits', flipping > 0 ? problem.initialBits : [0]);
      const teacher = t.f32('teacher', problem.teacher);
      const inputs = t.zeros('inputs', batch * inputSize);
      const targets = t.zeros('targets', batch);
      const common = { inputSize, flipping, teacherWidth: width, taskEvery: every, key, stepState, flipBits, teacher };
      const d = kernel.prepareStep({ label: 'bitflip', batch, inputs, targets, ...common });
      const bits = problem.initialBits.slice();
      let flips = 0;
      for (let step = 0; step < 7; step++) {
        writeStepState(t.device, stepState, { step });
        runDispatches(t.device, 'bitflip', [d]);
        const before = bits.slice();
        bitflipSwitch(bits, key, step, every);
        flips += before.some((b, i) => b !== bits[i]) ? 1 : 0;
        if (flipping > 0) expectBitExact(await t.readU32(flipBits, flipping), bits, `flipping bits at step ${step}`);
        const x = bitflipBatchInputs({ key, inputSize, bits, rows: batch, step });
        expectBitExact(await t.readF32(inputs, batch * inputSize), x, `inputs at step ${step}`);
        expectBitExact(await t.readF32(targets, batch), bitflipTargets(problem.teacher, width, x, inputSize), `targets at step ${step}`);
      }
      // Exactly one bit flips at each task switch (steps T, 2T, ... within the 7 steps), never in between.
      const switches = every === 0 || flipping === 0 ? 0 : Math.floor(6 / every);
      expect(flips).toBe(switches);
      expectBitExact(bits, bitflipBitsAt(problem.initialBits, key, 6, every), 'replayed bits');
      d.destroy();
    },
  );

  it.each([
    { inputSize: 21, flipping: 15, probeSize: 256 },
    { inputSize: 21, flipping: 10, probeSize: 100 },
    { inputSize: 140, flipping: 5, probeSize: 17 },
  ])('probe inputs are the current task: $inputSize bits, $flipping flipping, probe size $probeSize', async ({ inputSize, flipping, probeSize }) => {
    const kernel = await BitflipKernel.create(t.gpu);
    const problem = makeBitflipProblem(3, inputSize, flipping, 10, 0.7);
    const key = rngKey(3, 'bitflip');
    const { rows, exhaustive } = bitflipProbeRows(inputSize, flipping, probeSize);
    const flipBits = t.u32('flipBits', problem.initialBits);
    const inputs = t.zeros('probe', rows * inputSize);
    const d = kernel.prepareProbe({
      label: 'probe',
      rows,
      exhaustive,
      inputs,
      inputSize,
      flipping,
      teacherWidth: 10,
      taskEvery: 5,
      key,
      stepState: t.zeros('stepState', STEP_STATE_WORDS),
      flipBits,
      teacher: t.f32('teacher', problem.teacher),
    });
    runDispatches(t.device, 'probe', [d]);
    const want = bitflipProbeInputs({ key, inputSize, bits: problem.initialBits, rows, exhaustive });
    expectBitExact(await t.readF32(inputs, rows * inputSize), want, 'probe inputs');
    if (exhaustive) {
      // Every combination of the random bits exactly once.
      const free = inputSize - 1 - flipping;
      const seen = new Set<number>();
      for (let r = 0; r < rows; r++) {
        let code = 0;
        for (let k = 0; k < free; k++) code += want[r * inputSize + flipping + k] * 2 ** k;
        seen.add(code);
      }
      expect(seen.size).toBe(2 ** free);
    }
    d.destroy();
  });
});
