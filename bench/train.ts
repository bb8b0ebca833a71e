// Training-step cases: whole MLP steps (gather, forward, ReLU, dropout, softmax CE, backward, SGD) on our
// engine's Trainer, with the activation and dropout fused into the matmul epilogues (the default) and without,
// next to the same step in TensorFlow.js's WebGPU backend on the same adapter. Each of our cases records its
// dispatches and modelled bytes per step (src/engine/step-traffic.ts).
// Ours is timed on the GPU (timestamp queries around a pass of steps) and on the wall clock the way TF.js
// is (N steps submitted, then wait for the last one): the ratio to TF.js uses the wall-clock pair.
import type { GpuContext } from '../src/gpu/device';
import { Trainer, type TrainingData } from '../src/engine/trainer';
import type { ModelSpec } from '../src/engine/model-spec';
import { makeCase, type CaseResult, type Ratio } from './schema';
import { ratioOf, tuning, type BenchTask, type SuiteContext } from './task';
import { TfMlp, tfBatch, type Tf } from './tfjs-mlp';
import { timePasses, timeWall } from './timing';

export interface MlpShape {
  /** Short id used in case ids. */
  name: string;
  widths: number[];
  batch: number;
  dropout: number;
}

export const SMALL_MLP: MlpShape = { name: 'small', widths: [256, 512, 512, 10], batch: 64, dropout: 0.5 };
export const WIDE_MLP: MlpShape = { name: 'wide', widths: [1024, 4096, 4096, 10], batch: 128, dropout: 0.5 };
/** Quick-mode stand-ins: same structure, tiny. */
export const TINY_MLP: MlpShape = { name: 'tiny', widths: [32, 64, 64, 10], batch: 16, dropout: 0.5 };
export const TINY_WIDE_MLP: MlpShape = { name: 'tiny-wide', widths: [64, 256, 256, 10], batch: 32, dropout: 0.5 };

export const LEARNING_RATE = 0.01;

export const describeMlp = (shape: MlpShape) => `${shape.widths.join('→')} b${shape.batch}`;
export const mlpCaseId = (shape: MlpShape) => `${shape.name}-${shape.widths.join('-')}-b${shape.batch}`;

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
    schedule: { kind: 'constant', baseLr: LEARNING_RATE, warmupSteps: 0, totalSteps: 1, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 },
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

/** GPU milliseconds per step: one sample per timed pass of (calibrated) `inner` steps. */
export async function gpuStepSamplesMs(
  gpu: GpuContext,
  trainer: Trainer,
  steps: number,
  reps: number,
): Promise<{ samplesMs: number[]; method: 'timestamp-query' | 'wall-clock'; inner: number }> {
  const t = await timePasses(
    gpu,
    'bench.train',
    (pass) => {
      for (let s = 0; s < steps; s++) trainer.encodeStep(pass);
    },
    { warmup: 1, reps, wallSamples: reps },
  );
  return { samplesMs: t.samplesMs.map((ms) => ms / steps), method: t.method, inner: t.inner * steps };
}

/** Median GPU time of one training step. */
export async function gpuStepMs(gpu: GpuContext, trainer: Trainer, steps: number, reps: number): Promise<number> {
  const { samplesMs } = await gpuStepSamplesMs(gpu, trainer, steps, reps);
  return [...samplesMs].sort((a, b) => a - b)[samplesMs.length >> 1];
}

interface TrainPlan {
  shape: MlpShape;
  samples: number;
  /** Samples of the TF.js step (its wide step takes seconds on a CPU adapter). */
  tfSamples: number;
  /** The goal for deadunits / TF.js on this net, if any. */
  goal?: number;
  /** The goal for wall-clock / GPU-time steps per second, if any. */
  wallGoal?: number;
}

function plans(quick: boolean): TrainPlan[] {
  if (quick)
    return [
      { shape: TINY_MLP, samples: 3, tfSamples: 3 },
      { shape: TINY_WIDE_MLP, samples: 3, tfSamples: 3, goal: 5, wallGoal: 0.85 },
    ];
  return [
    { shape: SMALL_MLP, samples: 7, tfSamples: 7 },
    { shape: WIDE_MLP, samples: 5, tfSamples: 3, goal: 5, wallGoal: 0.85 },
  ];
}

/** Shortest wall-clock sample: long enough that one submit-and-wait (~1 ms) is noise. */
function minSampleMs(quick: boolean): number {
  return quick ? 10 : 100;
}

export function trainTasks(ctx: SuiteContext): BenchTask[] {
  return plans(ctx.quick).map((plan) => ({
    group: 'train',
    label: `training step ${describeMlp(plan.shape)}`,
    run: () => measureTraining(ctx, plan),
  }));
}

async function measureTraining(ctx: SuiteContext, plan: TrainPlan): Promise<{ cases: CaseResult[]; ratios: Ratio[] }> {
  const { shape } = plan;
  const spec = mlpSpec(shape);
  const data = benchData(spec);
  const flops = stepFlops(spec);
  const id = `train.${mlpCaseId(shape)}`;
  const params: Record<string, string | number | boolean> = {
    widths: shape.widths.join('-'),
    batch: shape.batch,
    dropout: shape.dropout,
    loss: 'softmax_ce',
    optimizer: 'sgd',
    flopsPerStep: flops,
  };
  const perSecond = (ms: number) => 1000 / ms;
  const withGflops = (c: CaseResult, stepsPerSample: number): CaseResult => ({ ...c, derived: { gflops: (c.median * flops) / 1e9, stepsPerSample } });
  const cases: CaseResult[] = [];
  const ratios: Ratio[] = [];

  // The step with the activation and dropout fused into the matmul epilogues (the default), and without, measured
  // in alternation so that a load that changes during the run weighs on both alike.
  const [fused, unfused] = await measureOurs(ctx, plan, { spec, data, params, id });
  cases.push(...fused.cases, ...unfused.cases);
  const oursWall = fused.wall;
  if (fused.gpu.timing === 'gpu-timestamp') {
    // How close the host keeps the wall clock to the GPU's own time (src/engine/submit-pacer.ts).
    ratios.push(ratioOf(`training step ${describeMlp(shape)}: wall / GPU time`, fused.wall, fused.gpu, plan.wallGoal));
    ratios.push(ratioOf(`training step ${describeMlp(shape)}: fused / unfused epilogues (GPU time)`, fused.gpu, unfused.gpu));
  }
  ratios.push(ratioOf(`training step ${describeMlp(shape)}: fused / unfused epilogues (wall)`, fused.wall, unfused.wall));

  if (ctx.tf) {
    const tf = await tfStepMs(ctx.tf, shape, data, plan.tfSamples, minSampleMs(ctx.quick));
    const tfCase = withGflops(
      makeCase({
        id: `${id}.tfjs`,
        group: 'train',
        impl: 'tfjs',
        label: `TF.js step ${describeMlp(shape)}`,
        params,
        unit: 'steps/s',
        timing: 'wall',
        samples: tf.samplesMs.map(perSecond),
      }),
      tf.inner,
    );
    cases.push(tfCase);
    ratios.push(ratioOf(`training step ${describeMlp(shape)}: deadunits / TF.js`, oursWall, tfCase, plan.goal));
    ratios.push(ratioOf(`training step ${describeMlp(shape)}: deadunits unfused / TF.js`, unfused.wall, tfCase));
  }
  return { cases, ratios };
}

interface OursInput {
  spec: ModelSpec;
  data: TrainingData;
  params: Record<string, string | number | boolean>;
  id: string;
}

interface OursCases {
  cases: CaseResult[];
  /** GPU-timed (the wall clock where the adapter has no timestamp queries). */
  gpu: CaseResult;
  wall: CaseResult;
}

/**
 * Our step fused and unfused, each timed on the GPU and on the wall clock, sample by sample in alternation, with
 * its dispatches and modelled bytes per step (src/engine/step-traffic.ts) in the cases' params.
 */
async function measureOurs(ctx: SuiteContext, plan: TrainPlan, input: OursInput): Promise<[OursCases, OursCases]> {
  const { gpu } = ctx;
  const { shape, samples } = plan;
  const { spec, data } = input;
  const flops = stepFlops(spec);
  const perSecond = (ms: number) => 1000 / ms;
  const withGflops = (c: CaseResult, stepsPerSample: number): CaseResult => ({ ...c, derived: { gflops: (c.median * flops) / 1e9, stepsPerSample } });
  const variants = [true, false].map((fuseEpilogues) => ({ fuseEpilogues, trainer: null as Trainer | null }));
  try {
    for (const v of variants) v.trainer = await Trainer.create(gpu, spec, data, { ...tuning(ctx), fuseEpilogues: v.fuseEpilogues });
    const trainers = variants.map((v) => v.trainer!);
    // Calibration (one sample each), then the samples in alternation.
    const gpuRuns: Array<{ samplesMs: number[]; method: string; inner: number }> = [];
    for (const trainer of trainers) gpuRuns.push(await gpuStepSamplesMs(gpu, trainer, 1, 1));
    for (let s = 1; s < samples; s++) {
      for (let i = 0; i < 2; i++) gpuRuns[i].samplesMs.push(...(await gpuStepSamplesMs(gpu, trainers[i], 1, 1)).samplesMs);
    }
    const wallRuns = trainers.map(() => ({ samplesMs: [] as number[], inner: 1 }));
    if (gpuRuns[0].method === 'timestamp-query') {
      for (let s = 0; s < samples; s++) {
        for (let i = 0; i < 2; i++) {
          // Trainer.train submits the steps and waits for them: the same contract as awaiting TF.js's loss.
          const w = await timeWall((n) => trainers[i].train(n), { warmup: 0, samples: 1, minSampleMs: minSampleMs(ctx.quick), start: wallRuns[i].inner });
          wallRuns[i].samplesMs.push(...w.samplesMs);
          wallRuns[i].inner = w.inner;
        }
      }
    }
    const out = variants.map((v, i): OursCases => {
      const trainer = trainers[i];
      const traffic = trainer.stepTraffic();
      // The kernel each product ran with (tuned, cached, default or forced), recorded with the cases.
      const kernels = trainer
        .matmulChoices()
        .map((c) => `${c.shape}=${c.kernel}${c.source === 'forced' ? '' : ` (${c.source})`}`)
        .join('; ');
      const params = {
        ...input.params,
        fuseEpilogues: v.fuseEpilogues,
        dispatchesPerStep: traffic.dispatches,
        bytesPerStep: traffic.bytes,
        matmulKernels: kernels,
      };
      const suffix = v.fuseEpilogues ? '' : '-unfused';
      const t = gpuRuns[i];
      const ours = withGflops(
        makeCase({
          id: `${input.id}.deadunits${suffix}`,
          group: 'train',
          impl: 'deadunits',
          label: `deadunits${v.fuseEpilogues ? '' : ' unfused'} step ${describeMlp(shape)}`,
          params,
          unit: 'steps/s',
          timing: t.method === 'timestamp-query' ? 'gpu-timestamp' : 'wall',
          samples: t.samplesMs.map(perSecond),
        }),
        t.inner,
      );
      if (ours.timing !== 'gpu-timestamp') return { cases: [ours], gpu: ours, wall: ours };
      const wall = withGflops(
        makeCase({
          ...ours,
          id: `${input.id}.deadunits${suffix}-wall`,
          label: `${ours.label} (wall)`,
          timing: 'wall',
          samples: wallRuns[i].samplesMs.map(perSecond),
        }),
        wallRuns[i].inner,
      );
      return { cases: [ours, wall], gpu: ours, wall };
    });
    return [out[0], out[1]];
  } finally {
    for (const v of variants) v.trainer?.destroy();
  }
}

/** Wall milliseconds per TF.js step: n steps, then reading the last loss forces completion. */
async function tfStepMs(tf: Tf, shape: MlpShape, data: TrainingData, samples: number, minSampleMs: number): Promise<{ samplesMs: number[]; inner: number }> {
  const mlp = TfMlp.create(tf, { widths: shape.widths, batch: shape.batch, dropout: shape.dropout, learningRate: LEARNING_RATE });
  const batch = tfBatch(tf, data.inputs, data.targets as Uint32Array, shape.batch, shape.widths[0], shape.widths[shape.widths.length - 1]);
  try {
    const run = async (n: number) => {
      let loss: ReturnType<TfMlp['step']> | undefined;
      for (let s = 0; s < n; s++) {
        loss?.dispose();
        loss = mlp.step(batch.x, batch.oneHot);
      }
      await loss!.data();
      loss!.dispose();
    };
    // Two warm-up steps (one plus the calibration's first): TF.js compiles some pipelines only at the second step.
    return await timeWall(run, { warmup: 1, samples, minSampleMs });
  } finally {
    batch.dispose();
    mlp.dispose();
  }
}
