// The cost of watching: training steps per second with the observatory off, snapshotting every 100 steps
// and every 10 steps. Each part is timed on the GPU in the same run — a training step, the per-step
// drop-run update, one snapshot — and the rate at interval k is composed as 1 / (step + perStep + snapshot / k)
// sample by sample (running 100 real steps per sample would take minutes on a CPU adapter). The staging-ring
// copies are asynchronous and off the GPU path; the readback group measures them.
// The frozen statistic (the training scan of every hidden block, part of the per-step work) is also timed on its
// own and reported as steps/s with only it on: the target is at most 2 % slower than off.
import { Observatory } from '../src/engine/observatory';
import { Trainer } from '../src/engine/trainer';
import { makeCase, type CaseResult, type Ratio } from './schema';
import { observatoryTuning, ratioOf, tuning, type BenchTask, type SuiteContext } from './task';
import { median } from './stats';
import { timePasses } from './timing';
import { TINY_WIDE_MLP, WIDE_MLP, benchData, describeMlp, gpuStepSamplesMs, mlpCaseId, mlpSpec, type MlpShape } from './train';

export const PROBE_ROWS = 64;
const INTERVALS = [100, 10];

export function monitoringTasks(ctx: SuiteContext): BenchTask[] {
  const shape = ctx.quick ? TINY_WIDE_MLP : WIDE_MLP;
  return [{ group: 'monitoring', label: `monitoring overhead ${describeMlp(shape)}`, run: () => measureMonitoring(ctx, shape, 'monitoring', 3) }];
}

/** Steps/s with monitoring off, every 100 and every 10 steps; ratios on/off. Shared with the million group. */
export async function measureMonitoring(
  ctx: SuiteContext,
  shape: MlpShape,
  group: 'monitoring' | 'million',
  samples: number,
): Promise<{ cases: CaseResult[]; ratios: Ratio[] }> {
  const { gpu } = ctx;
  const probeRows = Math.min(PROBE_ROWS, ctx.quick ? 16 : PROBE_ROWS);
  const spec = mlpSpec(shape, { probeRows, stepsPerSubmit: 1 });
  const data = benchData(spec, 256);
  const trainer = await Trainer.create(gpu, spec, data, tuning(ctx));
  let observatory: Observatory | undefined;
  try {
    observatory = await Observatory.create(trainer, {
      every: 10,
      probeInputs: data.inputs.subarray(0, probeRows * spec.inputSize),
      probeRows,
      ...observatoryTuning(ctx),
    });
    const obs = observatory;
    const step = await gpuStepSamplesMs(gpu, trainer, 1, samples);
    const perStep = await timePasses(gpu, 'bench.perStep', (pass) => obs.encodePerStepWork(pass), { warmup: 1, reps: samples, wallSamples: samples });
    const trainScan = await timePasses(gpu, 'bench.trainScan', (pass) => obs.encodeTrainingScans(pass), { warmup: 1, reps: samples, wallSamples: samples });
    const snapshot = await timePasses(gpu, 'bench.snapshot', (pass) => obs.encodeSnapshotWork(pass), { warmup: 1, reps: samples, wallSamples: samples });
    const timing = [step, perStep, trainScan, snapshot].every((t) => t.method === 'timestamp-query') ? 'gpu-timestamp' : 'wall';
    const id = `${group}.${mlpCaseId(shape)}`;
    const params = { widths: shape.widths.join('-'), batch: shape.batch, dropout: shape.dropout, probeRows };
    const rate = (every: number | null) => step.samplesMs.map((ms, i) => 1000 / (ms + (every ? perStep.samplesMs[i] + snapshot.samplesMs[i] / every : 0)));
    const off = makeCase({
      id: `${id}.snapshots-off`,
      group,
      impl: 'deadunits',
      label: `${describeMlp(shape)}, snapshots off`,
      params,
      unit: 'steps/s',
      timing,
      samples: rate(null),
    });
    const frozen = makeCase({
      id: `${id}.frozen-statistic`,
      group,
      impl: 'deadunits',
      label: `${describeMlp(shape)}, frozen statistic only (training scan every step)`,
      params,
      unit: 'steps/s',
      timing,
      samples: step.samplesMs.map((ms, i) => 1000 / (ms + trainScan.samplesMs[i])),
      derived: { stepMs: median(step.samplesMs), trainScanMs: median(trainScan.samplesMs), share: median(trainScan.samplesMs) / median(step.samplesMs) },
    });
    const cases = [off, frozen];
    // The target: the frozen statistic costs at most 2 % of a step.
    const ratios: Ratio[] = [ratioOf(`frozen statistic ${describeMlp(shape)}: on / off`, frozen, off, 0.98)];
    for (const every of INTERVALS) {
      const on = makeCase({
        id: `${id}.snapshots-every-${every}`,
        group,
        impl: 'deadunits',
        label: `${describeMlp(shape)}, snapshot every ${every} steps`,
        params: { ...params, every },
        unit: 'steps/s',
        timing,
        samples: rate(every),
        derived: {
          stepMs: median(step.samplesMs),
          perStepMs: median(perStep.samplesMs),
          trainScanMs: median(trainScan.samplesMs),
          snapshotMs: median(snapshot.samplesMs),
        },
      });
      cases.push(on);
      // The target: at most 5 % slower with a snapshot every 100 steps.
      ratios.push(ratioOf(`monitoring ${describeMlp(shape)}: every ${every} / off`, on, off, every === 100 ? 0.95 : undefined));
    }
    return { cases, ratios };
  } finally {
    observatory?.destroy();
    trainer.destroy();
  }
}
