// The cost of watching: training steps per second with the observatory off, snapshotting every 100
// steps and every 10 steps, on a 1-hidden-layer net of 1,048,576 units (input 64, output 10, batch 32)
// and on the wide MLP. Each part is timed on the GPU with timestamp queries in the same run — a training
// step, the per-step drop-run update, one snapshot — and the rate at interval k is composed as
// 1 / (step + perStep + snapshot / k). The staging-ring copies are asynchronous and not on the GPU path.
import type { GpuContext } from '../src/gpu/device.js';
import { Observatory } from '../src/engine/observatory.js';
import { Trainer } from '../src/engine/trainer.js';
import { formatTable, timePasses, type SectionResult } from './timing.js';
import { WIDE_MLP, benchData, gpuStepMs, mlpSpec, type MlpShape } from './train.js';

const MILLION: MlpShape = { name: '1-hidden 64-1048576-10', widths: [64, 1_048_576, 10], batch: 32, dropout: 0.5 };
const PROBE_ROWS = 64;

export async function benchMonitoring(gpu: GpuContext): Promise<SectionResult> {
  const rows: SectionResult['rows'] = [];
  const table: Array<Array<string | number>> = [];
  for (const shape of [MILLION, WIDE_MLP]) {
    const spec = mlpSpec(shape, { probeRows: PROBE_ROWS, stepsPerSubmit: 1 });
    const data = benchData(spec, 256);
    const trainer = await Trainer.create(gpu, spec, data);
    const observatory = await Observatory.create(trainer, { every: 10, probeInputs: data.inputs.subarray(0, PROBE_ROWS * spec.inputSize), probeRows: PROBE_ROWS });
    try {
      const stepMs = await gpuStepMs(gpu, trainer, 1, 3);
      const perStepMs = (await timePasses(gpu, 'bench.perStep', (pass) => observatory.encodePerStepWork(pass), { warmup: 1, reps: 5 })).medianMs;
      const snapshotMs = (await timePasses(gpu, 'bench.snapshot', (pass) => observatory.encodeSnapshotWork(pass), { warmup: 1, reps: 3 })).medianMs;
      const rate = (every: number) => 1000 / (stepMs + perStepMs + snapshotMs / every);
      const off = 1000 / stepMs;
      const row = {
        model: shape.name,
        stepMs,
        perStepMs,
        snapshotMs,
        stepsPerSecondOff: off,
        stepsPerSecondEvery100: rate(100),
        stepsPerSecondEvery10: rate(10),
        slowdownEvery100: 1 - rate(100) / off,
        slowdownEvery10: 1 - rate(10) / off,
      };
      rows.push(row);
      const pct = (x: number) => `${(100 * x).toFixed(1)} %`;
      table.push([row.model, row.stepMs, row.snapshotMs, row.stepsPerSecondOff, row.stepsPerSecondEvery100, pct(row.slowdownEvery100), row.stepsPerSecondEvery10, pct(row.slowdownEvery10)]);
    } finally {
      observatory.destroy();
      trainer.destroy();
    }
  }
  return {
    title: `Monitoring overhead (probe set ${PROBE_ROWS} rows; composed from GPU-timed parts)`,
    table: formatTable(['model', 'step ms', 'snapshot ms', 'off steps/s', 'every 100', 'slowdown', 'every 10', 'slowdown'], table),
    notes: ['target: <= 5 % slowdown at one snapshot per 100 steps'],
    rows,
  };
}
