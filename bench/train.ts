// Training-step throughput: whole MLP steps (dropout, ReLU, softmax CE, SGD) on the GPU engine, next to
// the CPU reference trainer (src/reference/mlp.ts, the same math in plain TypeScript) in the same run.
import type { GpuContext } from '../src/gpu/device.js';
import { Trainer, type TrainingData } from '../src/engine/trainer.js';
import type { ModelSpec } from '../src/engine/model-spec.js';
import { ReferenceTrainer } from '../src/reference/mlp.js';
import { formatTable, timePasses, type SectionResult } from './timing.js';

export interface MlpShape {
  name: string;
  widths: number[];
  batch: number;
  dropout: number;
}

export const SMALL_MLP: MlpShape = { name: 'small 256-512-512-10', widths: [256, 512, 512, 10], batch: 64, dropout: 0.5 };
export const WIDE_MLP: MlpShape = { name: 'wide 1024-4096-4096-10', widths: [1024, 4096, 4096, 10], batch: 128, dropout: 0.5 };

export function mlpSpec(shape: MlpShape, overrides: Partial<ModelSpec> = {}): ModelSpec {
  const w = shape.widths;
  return {
    inputSize: w[0],
    outputSize: w[w.length - 1],
    loss: 'softmax_ce',
    batch: shape.batch,
    inputDropout: 0,
    hidden: w.slice(1, -1).map((width) => ({
      width,
      activation: { kind: 'relu' },
      dropout: shape.dropout,
      init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } },
    })),
    outputInit: { weights: { kind: 'xavier_normal' }, bias: { kind: 'constant', value: 0 } },
    optimizer: { kind: 'sgd' },
    schedule: { kind: 'constant', baseLr: 0.01, warmupSteps: 0, totalSteps: 1, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 },
    seed: 7,
    stepsPerSubmit: 8,
    ...overrides,
  };
}

/** Random inputs and labels: throughput does not depend on what is learned. */
export function benchData(spec: ModelSpec, samples = 1024): TrainingData {
  const inputs = new Float32Array(samples * spec.inputSize);
  for (let i = 0; i < inputs.length; i++) inputs[i] = ((i * 2654435761) % 1000) / 500 - 1;
  const targets = new Uint32Array(samples).map((_, i) => i % spec.outputSize);
  return { inputs, targets, samples };
}

/** Multiply-adds x2 of one step: forward X·W, backward dW = Xᵀ·dZ and dX = dZ·Wᵀ (none into the data). */
export function stepFlops(spec: ModelSpec): number {
  const w = [spec.inputSize, ...spec.hidden.map((h) => h.width), spec.outputSize];
  let flops = 0;
  for (let l = 1; l < w.length; l++) flops += 2 * spec.batch * w[l - 1] * w[l] * (l === 1 ? 2 : 3);
  return flops;
}

/** Median GPU time of `steps` training steps recorded in one pass. */
export async function gpuStepMs(gpu: GpuContext, trainer: Trainer, steps: number, reps: number): Promise<number> {
  const t = await timePasses(gpu, 'bench.train', (pass) => {
    for (let s = 0; s < steps; s++) trainer.encodeStep(pass);
  }, { warmup: 1, reps });
  return t.medianMs / steps;
}

export async function benchTrain(gpu: GpuContext): Promise<SectionResult> {
  const rows: SectionResult['rows'] = [];
  const table: Array<Array<string | number>> = [];
  const notes: string[] = [];
  for (const shape of [SMALL_MLP, WIDE_MLP]) {
    const spec = mlpSpec(shape);
    const data = benchData(spec);
    const trainer = await Trainer.create(gpu, spec, data);
    const flops = stepFlops(spec);
    const steps = shape === SMALL_MLP ? 8 : 2;
    const gpuMs = await gpuStepMs(gpu, trainer, steps, shape === SMALL_MLP ? 5 : 3);
    trainer.destroy();

    // The CPU reference: a step of the wide net is ~16 GFLOP of f32-rounded scalar loops (minutes), so it
    // runs only when asked (BENCH_CPU_WIDE=1); the small net's step takes about a second.
    let cpuMs = NaN;
    if (shape === SMALL_MLP || process.env.BENCH_CPU_WIDE === '1') {
      const reference = new ReferenceTrainer(spec, data);
      const cpuSteps = shape === SMALL_MLP ? 2 : 1;
      const t0 = performance.now();
      for (let s = 0; s < cpuSteps; s++) reference.trainStep();
      cpuMs = (performance.now() - t0) / cpuSteps;
    }

    const row = {
      model: shape.name,
      batch: spec.batch,
      gpuStepsPerSecond: 1000 / gpuMs,
      gpuGflops: flops / (gpuMs * 1e6),
      cpuStepsPerSecond: 1000 / cpuMs,
      cpuGflops: flops / (cpuMs * 1e6),
      speedup: cpuMs / gpuMs,
    };
    rows.push(row);
    const cpu = Number.isNaN(cpuMs) ? ['(BENCH_CPU_WIDE=1)', '-', '-'] : [row.cpuStepsPerSecond, row.cpuGflops, `${row.speedup.toFixed(1)}x`];
    table.push([row.model, String(row.batch), row.gpuStepsPerSecond, row.gpuGflops, ...cpu]);
  }
  notes.push('one step = forward, softmax CE, backward and SGD with dropout 0.5 on both hidden layers; GPU time from timestamp queries (warm)');
  notes.push('CPU = the TypeScript reference trainer (f32-rounded scalar loops, one core): the oracle of the parity tests, not a tuned BLAS');
  return {
    title: 'Training step throughput (GPU engine vs CPU reference, same run)',
    table: formatTable(['model', 'batch', 'GPU steps/s', 'GPU GFLOP/s', 'CPU steps/s', 'CPU GFLOP/s', 'GPU/CPU'], table),
    notes,
    rows,
  };
}
