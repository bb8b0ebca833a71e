// Timing helpers shared by every benchmark section.
// NOTE (Dawn-for-Node on lavapipe): while a promise such as onSubmittedWorkDone() or mapAsync() is pending,
// Dawn polls busily on one core, which the software adapter then cannot use. So each measurement records
// many dispatches in one submit and awaits once at the end; per-dispatch times come from timestamp queries
// (one compute pass per repetition, resolved once per group) where the adapter has them.
import type { GpuContext } from '../src/gpu/device.js';
import { median } from './stats.js';

export interface TimingOptions {
  /** Untimed repetitions first (pipeline compilation, caches). Default 2. */
  warmup?: number;
  /** Timed repetitions. Default 7. */
  reps?: number;
  /** Force wall-clock timing even where timestamp-query exists. */
  wallClock?: boolean;
  /** Await immediately after submitting (Dawn then polls busily while the work runs). */
  busyWait?: boolean;
  /** Wall-clock samples (each one submit of `reps` repetitions). Default 3. */
  wallSamples?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export interface Timing {
  /** Median time of one repetition, milliseconds. */
  medianMs: number;
  minMs: number;
  samplesMs: number[];
  method: 'timestamp-query' | 'wall-clock';
}

/**
 * Times `encode` (one repetition = whatever it records into a compute pass). Warm-up runs are submitted
 * and awaited once; timed repetitions go into one command buffer with a single await at the end.
 */
export async function timePasses(gpu: GpuContext, label: string, encode: (pass: GPUComputePassEncoder) => void, options: TimingOptions = {}): Promise<Timing> {
  const { device } = gpu;
  const warmup = options.warmup ?? 2;
  const reps = options.reps ?? 7;

  // The last warm-up repetition is timed on the wall clock to know how long to sleep before awaiting.
  let estimateMs = 0;
  for (let i = 0; i < warmup; i++) {
    const encoder = device.createCommandEncoder({ label: `${label}.warmup` });
    const pass = encoder.beginComputePass({ label: `${label}.warmup` });
    encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    estimateMs = performance.now() - t0;
  }

  if (gpu.hasTimestamps && !options.wallClock) {
    const querySet = device.createQuerySet({ label: `${label}.timestamps`, type: 'timestamp', count: 2 * reps });
    const resolve = device.createBuffer({ label: `${label}.resolve`, size: 16 * reps, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
    const staging = device.createBuffer({ label: `${label}.staging`, size: 16 * reps, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const encoder = device.createCommandEncoder({ label });
      for (let i = 0; i < reps; i++) {
        const pass = encoder.beginComputePass({
          label,
          timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 },
        });
        encode(pass);
        pass.end();
      }
      encoder.resolveQuerySet(querySet, 0, 2 * reps, resolve, 0);
      encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16 * reps);
      device.queue.submit([encoder.finish()]);
      // Sleep (no pending Dawn promise, so no busy polling) through most of the expected run time.
      if (!options.busyWait) await sleep(estimateMs * reps * 0.9);
      await staging.mapAsync(GPUMapMode.READ);
      const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
      const samplesMs: number[] = [];
      for (let i = 0; i < reps; i++) samplesMs.push(Number(ticks[2 * i + 1] - ticks[2 * i]) / 1e6);
      return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs, method: 'timestamp-query' };
    } finally {
      querySet.destroy();
      resolve.destroy();
      staging.destroy();
    }
  }

  // Wall clock: each sample is one submit of `reps` repetitions; fewer, longer samples keep the await rare.
  const samplesMs: number[] = [];
  const samples = options.wallSamples ?? 3;
  for (let s = 0; s < samples; s++) {
    const encoder = device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    for (let i = 0; i < reps; i++) encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    samplesMs.push((performance.now() - t0) / reps);
  }
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs, method: 'wall-clock' };
}

/**
 * Wall-clock samples of `run` (which must not return before its work is complete, e.g. by reading a
 * result back), after `warmup` untimed calls. Each sample is divided by `per` (the operations one call runs).
 */
export async function timeWall(run: () => Promise<void>, options: { warmup: number; samples: number; per: number }): Promise<number[]> {
  for (let i = 0; i < options.warmup; i++) await run();
  const samplesMs: number[] = [];
  for (let s = 0; s < options.samples; s++) {
    const t0 = performance.now();
    await run();
    samplesMs.push((performance.now() - t0) / options.per);
  }
  return samplesMs;
}

/** Fixed-width table for the console. */
export function formatTable(headers: string[], rows: Array<Array<string | number>>): string {
  const cells = rows.map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) => r.map((c, i) => c.padStart(widths[i])).join('  ');
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (Math.abs(x) >= 100) return x.toFixed(0);
  if (Math.abs(x) >= 10) return x.toFixed(1);
  if (Math.abs(x) >= 0.1 || x === 0) return x.toFixed(2);
  return x.toPrecision(2);
}

