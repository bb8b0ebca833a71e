// A short calibration of the adapter (a few tenths of a second on a software adapter, milliseconds on a GPU): the
// throughput the cost model (./cost-model.ts) turns into seconds. Three measurements with the engine's own kernels:
//   - a 256³ matrix product (the tiled kernel the trainer uses): floating-point operations per second;
//   - ReLU over 1M values (4 MiB in, 4 MiB out): bytes per second of a memory-bound kernel;
//   - ReLU over one value: the fixed cost of a dispatch.
// Each is recorded R times into one command buffer, R growing until the buffer takes at least `minSeconds` (after one
// warm-up run: shader compilation), then timed a few times more; the fastest run counts. The device should be otherwise idle: queued work would count as the kernels' time.
// The pipelines are the trainer's own (Dawn and browsers reuse a compiled pipeline of the same device), so calibrating
// before a run is built costs only the timed runs.
import { createStorage } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import type { Dispatch } from '../gpu/dispatch';
import { ActivationKernel } from '../gpu/kernels/activation';
import { MatmulKernel } from '../gpu/kernels/matmul';
import type { Throughput } from './cost-model';

export interface CalibrationOptions {
  /** Least wall time of a timed command buffer (default 0.03 s). */
  minSeconds?: number;
  /** Clock in milliseconds (default performance.now). */
  now?: () => number;
}

const MATMUL = 256;
const STREAM_VALUES = 1024 * 1024;
const MAX_REPETITIONS = 1024;
/** Timed runs once the repetitions are found; the fastest counts. */
const SAMPLES = 3;
const F32 = 4;

/** Measures `gpu`'s throughput with the engine's kernels. */
export async function calibrateThroughput(gpu: GpuContext, options: CalibrationOptions = {}): Promise<Throughput> {
  const minSeconds = options.minSeconds ?? 0.03;
  const now = options.now ?? (() => performance.now());
  const { device } = gpu;
  const buffers: GPUBuffer[] = [];
  const dispatches: Dispatch[] = [];
  const alloc = (label: string, values: number) => {
    const buffer = createStorage(device, `Calibration.${label}`, values * F32);
    buffers.push(buffer);
    return buffer;
  };
  const keep = (d: Dispatch) => {
    dispatches.push(d);
    return d;
  };
  try {
    const [matmul, activation] = await Promise.all([MatmulKernel.create(gpu), ActivationKernel.create(gpu)]);
    const n = MATMUL;
    const product = keep(
      matmul.prepare({
        label: 'Calibration.matmul',
        variant: 'nn',
        m: n,
        n,
        k: n,
        a: { buffer: alloc('a', n * n), ld: n },
        b: { buffer: alloc('b', n * n), ld: n },
        c: { buffer: alloc('c', n * n), ld: n },
      }),
    );
    const relu = (label: string, count: number) =>
      keep(
        activation.prepareForward({
          label: `Calibration.${label}`,
          activation: { kind: 'relu' },
          z: alloc(`${label}.z`, count),
          a: alloc(`${label}.a`, count),
          count,
        }),
      );
    const stream = relu('stream', STREAM_VALUES);
    const tiny = relu('tiny', 1);

    const time = (d: Dispatch) => secondsPerDispatch(device, d, minSeconds, now);
    const dispatchSeconds = await time(tiny);
    const matmulSeconds = await time(product);
    const streamSeconds = await time(stream);
    return {
      flopsPerSecond: (2 * n * n * n) / Math.max(1e-9, matmulSeconds - dispatchSeconds),
      bytesPerSecond: (2 * F32 * STREAM_VALUES) / Math.max(1e-9, streamSeconds - dispatchSeconds),
      secondsPerDispatch: dispatchSeconds,
    };
  } finally {
    for (const d of dispatches) d.destroy();
    for (const b of buffers) b.destroy();
  }
}

/** Wall seconds per dispatch of `d`, recorded repeatedly into one command buffer (after a warm-up). */
async function secondsPerDispatch(device: GPUDevice, d: Dispatch, minSeconds: number, now: () => number): Promise<number> {
  const run = async (repetitions: number): Promise<number> => {
    const encoder = device.createCommandEncoder({ label: `${d.label}.x${repetitions}` });
    const pass = encoder.beginComputePass({ label: d.label });
    for (let r = 0; r < repetitions; r++) d.encode(pass);
    pass.end();
    const started = now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return (now() - started) / 1000;
  };
  await run(1);
  let repetitions = 1;
  for (;;) {
    const seconds = await run(repetitions);
    if (seconds >= minSeconds || repetitions >= MAX_REPETITIONS) {
      // Other work on the machine only ever adds time: the best of a few runs is the adapter's own speed.
      let best = seconds;
      for (let sample = 1; sample < SAMPLES; sample++) best = Math.min(best, await run(repetitions));
      return best / repetitions;
    }
    // Aim a little past the minimum, at most 8x more at a time.
    repetitions = Math.min(MAX_REPETITIONS, repetitions * Math.min(8, Math.max(2, Math.ceil((1.5 * minSeconds) / Math.max(seconds, 1e-6)))));
  }
}
