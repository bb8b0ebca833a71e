// Online continual learning: the slowly-changing regression generated on the GPU, batch 1, with continual
// backprop on, as the continual_* presets run it. Reports steps/s and the time 10^6 steps take at that rate.
import { makeBitflipProblem } from '../src/data/bitflip';
import type { ModelSpec } from '../src/engine/model-spec';
import { Trainer, type TrainingData } from '../src/engine/trainer';
import { makeCase, type CaseResult } from './schema';
import { tuning, type BenchTask, type SuiteContext } from './task';
import { timeWall } from './timing';
import { gpuStepSamplesMs, mlpSpec } from './train';

export function continualTasks(ctx: SuiteContext): BenchTask[] {
  return continualShapes(ctx.quick).map((widths) => ({
    group: 'continual',
    label: `online continual step ${widths.join('→')} b1`,
    run: () => measureContinual(ctx, widths),
  }));
}

/**
 * The slowly-changing regression's learners: the papers' 21 -> 5 -> 1, a deeper, wider one, and the same regime at
 * the widths this tool is for (4,096 and 65,536 units; continual backprop's 1e-4 replaces at most 7 of them a step).
 */
function continualShapes(quick: boolean): number[][] {
  return quick
    ? [[21, 5, 1]]
    : [
        [21, 5, 1],
        [21, 100, 100, 1],
        [21, 4096, 1],
        [21, 65_536, 1],
      ];
}

/**
 * Online learning (batch 1) on the slowly-changing regression generated on the GPU, with continual backprop on
 * (its utility, selection and resets run every step): steps/s of the GPU work alone (timestamp queries around a
 * pass of up to 256 steps) and on the wall clock as Trainer.train runs them (256 steps per submit, then wait), with
 * what the wall-clock rate makes of 10^6 steps (derived.secondsPer1e6Steps, a projection: 10^6 / rate).
 */
async function measureContinual(ctx: SuiteContext, widths: number[]): Promise<{ cases: CaseResult[] }> {
  const inputSize = widths[0];
  const spec: ModelSpec = {
    ...mlpSpec({ name: 'continual', widths, batch: 1, dropout: 0 }),
    loss: 'mse',
    stepsPerSubmit: 256,
    tasks: { every: 10_000, permuteInputs: false, shuffleLabels: false, resetOutput: false },
    continualBackprop: { replacementRate: 1e-4, decay: 0.99, maturity: 100 },
  };
  const data: TrainingData = { inputs: new Float32Array(0), targets: new Float32Array(0), samples: 0, bitflip: makeBitflipProblem(7, inputSize, 15, 100, 0.7) };
  const id = `continual.${widths.join('-')}-b1`;
  const label = `deadunits online step ${widths.join('→')} b1 (slowly-changing regression, continual backprop)`;
  const params = {
    widths: widths.join('-'),
    batch: 1,
    loss: 'mse',
    optimizer: 'sgd',
    stepsPerSubmit: 256,
    data: 'slowly_changing',
    cure: 'continual backprop',
  };
  const reps = ctx.quick ? 2 : 5;
  // 256 steps a pass for the small nets; fewer for the widest, whose step lasts long enough alone on a CPU adapter
  // (a pass of 256 steps of 21 -> 65,536 -> 1 would take minutes there).
  const hiddenUnits = widths.slice(1, -1).reduce((a, b) => a + b, 0);
  const stepsPerPass = Math.max(1, Math.min(256, Math.floor(2 ** 20 / hiddenUnits)));
  const trainer = await Trainer.create(ctx.gpu, spec, data, tuning(ctx));
  try {
    await trainer.train(stepsPerPass);
    const cases: CaseResult[] = [];
    const gpu = await gpuStepSamplesMs(ctx.gpu, trainer, stepsPerPass, reps);
    cases.push({
      ...makeCase({
        id: `${id}.deadunits`,
        group: 'continual',
        impl: 'deadunits',
        label,
        params,
        unit: 'steps/s',
        timing: gpu.method === 'timestamp-query' ? 'gpu-timestamp' : 'wall',
        samples: gpu.samplesMs.map((ms) => 1000 / ms),
      }),
      derived: { stepsPerSample: gpu.inner },
    });
    const wall = await timeWall((n) => trainer.train(n), { warmup: 0, samples: reps, minSampleMs: ctx.quick ? 50 : 2000, start: stepsPerPass });
    const c = makeCase({
      id: `${id}.deadunits-wall`,
      group: 'continual',
      impl: 'deadunits',
      label: `${label} (wall)`,
      params,
      unit: 'steps/s',
      timing: 'wall',
      samples: wall.samplesMs.map((ms) => 1000 / ms),
    });
    cases.push({ ...c, derived: { stepsPerSample: wall.inner, secondsPer1e6Steps: 1e6 / c.median } });
    return { cases };
  } finally {
    trainer.destroy();
  }
}
