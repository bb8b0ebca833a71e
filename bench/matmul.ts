// Matmul cases: our kernel configurations against the naive WGSL kernel (the floor) and tf.matMul (TF.js
// WebGPU) on the same adapter, square shapes and the tall/skinny GEMMs of one wide layer (NN forward, NT dX,
// TN dW). Every candidate configuration of the adapter (src/gpu/kernels/matmul-configs.ts) is timed on the GPU
// (timestamp queries: the kernel's own speed); the pick is the one the tuner would choose from those timings
// (src/gpu/tuning/choose.ts), reported as `deadunits` and compared with the better of the two kernels the engine
// had before tuning. The pick is also timed on the wall clock exactly as TF.js is (N products submitted, then
// wait for the result), so the ratio to TF.js compares like with like.
import type { GpuContext } from '../src/gpu/device';
import type { Dispatch } from '../src/gpu/dispatch';
import { MatmulKernel, matmulCapabilities, NaiveMatmulKernel, resolveKernelName, type MatmulVariant } from '../src/gpu/kernels/matmul';
import { candidateConfigs, configName } from '../src/gpu/kernels/matmul-configs';
import { chooseConfig } from '../src/gpu/tuning/choose';
import { makeCase, type CaseResult, type Ratio } from './schema';
import { ratioOf, type BenchTask, type SuiteContext } from './task';
import type { Tf } from './tfjs-mlp';
import { timePasses, timeWall } from './timing';

export interface MatmulShape {
  variant: MatmulVariant;
  m: number;
  n: number;
  k: number;
  what: string;
}

/** The GEMMs of a fanIn -> fanOut layer at batch b: forward, dX and dW. */
function layerShapes(batch: number, fanIn: number, fanOut: number): MatmulShape[] {
  return [
    { variant: 'nn', m: batch, n: fanOut, k: fanIn, what: 'Y = X·W' },
    { variant: 'nt', m: batch, n: fanIn, k: fanOut, what: 'dX = dY·Wᵀ' },
    { variant: 'tn', m: fanIn, n: fanOut, k: batch, what: 'dW = Xᵀ·dY' },
  ];
}

const square = (size: number): MatmulShape => ({ variant: 'nn', m: size, n: size, k: size, what: `${size}³` });

export function matmulShapes(quick: boolean): MatmulShape[] {
  // The wide layer is 1024 -> 4096 at batch 128 (the wide MLP's first layer).
  return quick ? [square(64), square(128), ...layerShapes(16, 64, 256)] : [square(256), square(512), square(1024), ...layerShapes(128, 1024, 4096)];
}

export const matmulShapeId = (s: MatmulShape) => `matmul.${s.variant}.${s.m}x${s.n}x${s.k}`;

/** Stored [rows, cols] of A and B for a variant (see MatmulVariant). */
function storedShapes(s: MatmulShape): { a: [number, number]; b: [number, number] } {
  return { a: s.variant === 'tn' ? [s.k, s.m] : [s.m, s.k], b: s.variant === 'nt' ? [s.n, s.k] : [s.k, s.n] };
}

/** Deterministic values in [-0.5, 0.5): speed does not depend on them, but NaN or denormals could. */
function pattern(count: number): Float32Array<ArrayBuffer> {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = ((i * 7919) % 13) / 13 - 0.5;
  return data;
}

function filled(device: GPUDevice, label: string, count: number): GPUBuffer {
  const buffer = device.createBuffer({ label, size: count * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, pattern(count));
  return buffer;
}

/** Samples per case: fewer where one product takes seconds on a CPU adapter. */
function samplesFor(flops: number, quick: boolean): number {
  if (quick) return 3;
  return flops >= 1e9 ? 5 : 9;
}

/** Shortest wall-clock sample: long enough that one submit-and-wait (~1 ms) is noise. */
const minSampleMs = (quick: boolean) => (quick ? 10 : 100);

/**
 * The engine's two kernels before tuning existed: the subgroup path and the portable path, 8 lanes on CPU adapters
 * and 64 on GPUs. The pick is compared with the better of the two (goal: 1.2x).
 */
const BEFORE_TUNING = { software: ['sg8-16x8-w8', 'reg16x8-w8'], gpu: ['sg8-16x8-w64', 'reg16x8-w64'] };
const PICK_GOAL = 1.2;

interface MatmulKernels {
  /** Candidate name -> a kernel forced to it, in candidate order (the adapter's default first). */
  candidates: Map<string, MatmulKernel>;
  naive: NaiveMatmulKernel;
}

export function matmulTasks(ctx: SuiteContext): BenchTask[] {
  let kernels: Promise<MatmulKernels> | undefined;
  const getKernels = () =>
    (kernels ??= (async () => {
      // A quick run is a smoke run: the adapter's default alone (compiling every candidate takes minutes on SwiftShader).
      const caps = matmulCapabilities(ctx.gpu);
      const all = candidateConfigs(caps).map(configName);
      const names = ctx.matmulCandidates ? ctx.matmulCandidates.map((name) => configName(resolveKernelName(name, caps))) : ctx.quick ? all.slice(0, 1) : all;
      const forced = await Promise.all(names.map((name) => MatmulKernel.create(ctx.gpu, { kernels: name })));
      return { candidates: new Map(names.map((name, i) => [name, forced[i]])), naive: await NaiveMatmulKernel.create(ctx.gpu) };
    })());
  return matmulShapes(ctx.quick).map((shape) => ({
    group: 'matmul',
    label: `matmul ${shape.variant} ${shape.m}x${shape.n}x${shape.k} (${shape.what})`,
    run: async () => measureShape(ctx, shape, await getKernels()),
  }));
}

async function measureShape(ctx: SuiteContext, shape: MatmulShape, kernels: MatmulKernels): Promise<{ cases: CaseResult[]; ratios: Ratio[] }> {
  const { gpu, quick } = ctx;
  const { device } = gpu;
  const id = matmulShapeId(shape);
  const flops = 2 * shape.m * shape.n * shape.k;
  const samples = samplesFor(flops, quick);
  const gflops = (ms: number) => flops / (ms * 1e6);
  const stored = storedShapes(shape);
  const params = { variant: shape.variant, m: shape.m, n: shape.n, k: shape.k, what: shape.what };
  const derived = (inner: number) => ({ repetitionsPerSample: inner });
  const a = filled(device, 'bench.a', stored.a[0] * stored.a[1]);
  const b = filled(device, 'bench.b', stored.b[0] * stored.b[1]);
  const c = filled(device, 'bench.c', shape.m * shape.n);
  const args = {
    variant: shape.variant,
    m: shape.m,
    n: shape.n,
    k: shape.k,
    a: { buffer: a, ld: stored.a[1] },
    b: { buffer: b, ld: stored.b[1] },
    c: { buffer: c, ld: shape.n },
  };
  const cases: CaseResult[] = [];
  const ratios: Ratio[] = [];
  const dispatches: Dispatch[] = [];
  try {
    const gpuTimed = gpu.hasTimestamps;
    // Every candidate, timed alike; a candidate's case id names it.
    const timed = new Map<string, { case: CaseResult; dispatch: Dispatch; ms: number }>();
    for (const [name, kernel] of kernels.candidates) {
      const dispatch = kernel.prepare({ ...args, label: `bench.${name}.${id}` });
      dispatches.push(dispatch);
      const t = await timePasses(gpu, dispatch.label, (pass) => dispatch.encode(pass), {
        warmup: 1,
        reps: samples,
        wallSamples: samples,
        minSampleMs: minSampleMs(quick),
      });
      const c = makeCase({
        id: `${id}.kernel.${name}`,
        group: 'matmul',
        impl: 'deadunits',
        label: `deadunits ${name} ${shape.variant} ${shape.m}x${shape.n}x${shape.k}`,
        params: { ...params, kernel: name },
        unit: 'GFLOP/s',
        timing: t.method === 'timestamp-query' ? 'gpu-timestamp' : 'wall',
        samples: t.samplesMs.map(gflops),
        derived: derived(t.inner),
      });
      timed.set(name, { case: c, dispatch, ms: t.medianMs });
      cases.push(c);
    }
    const pickName = chooseConfig([...timed.keys()], Object.fromEntries([...timed].map(([name, t]) => [name, t.ms])));
    const pick = timed.get(pickName)!;
    const oursCase: CaseResult = {
      ...pick.case,
      id: `${id}.deadunits`,
      label: `deadunits ${shape.variant} ${shape.m}x${shape.n}x${shape.k} (pick: ${pickName})`,
    };
    cases.push(oursCase);
    const before = (gpu.adapter.isSoftware ? BEFORE_TUNING.software : BEFORE_TUNING.gpu).filter((n) => timed.has(n));
    const bestBefore = before.map((n) => timed.get(n)!.case).sort((a, b) => b.median - a.median)[0];
    if (bestBefore) {
      ratios.push(
        ratioOf(
          `matmul ${shape.m}x${shape.n}x${shape.k} ${shape.variant}: pick (${pickName}) / better before tuning (${bestBefore.params.kernel})`,
          oursCase,
          bestBefore,
          PICK_GOAL,
        ),
      );
    }
    const tuned = pick.dispatch;

    // Square shapes only: the naive kernel is the floor, not a contender, and at 1024³ it takes seconds.
    if (shape.m === shape.n && shape.n === shape.k) {
      const naive = kernels.naive.prepare({ ...args, label: `bench.naive.${id}` });
      dispatches.push(naive);
      const t = await timePasses(gpu, naive.label, (pass) => naive.encode(pass), {
        warmup: 1,
        reps: Math.min(3, samples),
        wallSamples: 3,
        minSampleMs: minSampleMs(quick),
      });
      const naiveCase = makeCase({
        id: `${id}.naive`,
        group: 'matmul',
        impl: 'naive',
        label: `naive WGSL ${shape.variant} ${shape.m}x${shape.n}x${shape.k}`,
        params,
        unit: 'GFLOP/s',
        timing: t.method === 'timestamp-query' ? 'gpu-timestamp' : 'wall',
        samples: t.samplesMs.map(gflops),
        derived: derived(t.inner),
      });
      cases.push(naiveCase);
      ratios.push(ratioOf(`matmul ${shape.m}x${shape.n}x${shape.k} ${shape.variant}: deadunits / naive`, oursCase, naiveCase));
    }

    if (ctx.tf) {
      // Our wall-clock figure, measured the way TF.js's is: n products per submit, then wait.
      let oursWall = oursCase;
      if (gpuTimed) {
        const w = await timePasses(gpu, tuned.label, (pass) => tuned.encode(pass), {
          warmup: 0,
          wallClock: true,
          wallSamples: samples,
          minSampleMs: minSampleMs(quick),
        });
        oursWall = makeCase({
          ...oursCase,
          id: `${id}.deadunits-wall`,
          label: `${oursCase.label} (wall)`,
          timing: 'wall',
          samples: w.samplesMs.map(gflops),
          derived: derived(w.inner),
        });
        cases.push(oursWall);
      }
      const tf = await tfMatmulMs(ctx.tf, shape, stored, samples, minSampleMs(quick));
      const tfCase = makeCase({
        id: `${id}.tfjs`,
        group: 'matmul',
        impl: 'tfjs',
        label: `TF.js matMul ${shape.variant} ${shape.m}x${shape.n}x${shape.k}`,
        params,
        unit: 'GFLOP/s',
        timing: 'wall',
        samples: tf.samplesMs.map(gflops),
        derived: derived(tf.inner),
      });
      cases.push(tfCase);
      ratios.push(ratioOf(`matmul ${shape.m}x${shape.n}x${shape.k} ${shape.variant}: deadunits / TF.js`, oursWall, tfCase, 1));
    }
  } finally {
    for (const d of dispatches) d.destroy();
    for (const buffer of [a, b, c]) buffer.destroy();
  }
  return { cases, ratios };
}

/** Wall milliseconds per tf.matMul: n products, then a one-element readback forces completion. */
async function tfMatmulMs(
  tf: Tf,
  shape: MatmulShape,
  stored: { a: [number, number]; b: [number, number] },
  samples: number,
  minSampleMs: number,
): Promise<{ samplesMs: number[]; inner: number }> {
  const a = tf.tensor2d(pattern(stored.a[0] * stored.a[1]), stored.a);
  const b = tf.tensor2d(pattern(stored.b[0] * stored.b[1]), stored.b);
  const [transposeA, transposeB] = [shape.variant === 'tn', shape.variant === 'nt'];
  try {
    const run = async (n: number) => {
      let last: ReturnType<Tf['matMul']> | undefined;
      for (let i = 0; i < n; i++) {
        last?.dispose();
        last = tf.matMul(a, b, transposeA, transposeB);
      }
      const corner = tf.slice(last!, [0, 0], [1, 1]);
      await corner.data();
      tf.dispose([corner, last!]);
    };
    return await timeWall(run, { warmup: 1, samples, minSampleMs });
  } finally {
    tf.dispose([a, b]);
  }
}
