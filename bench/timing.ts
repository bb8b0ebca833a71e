// Timing helpers shared by every benchmark case, in Node and in the browser.
// NOTE (Dawn-for-Node on lavapipe): while a promise such as onSubmittedWorkDone() or mapAsync() is pending,
// Dawn polls busily on one core, which the software adapter then cannot use. So each measurement records
// many dispatches in one submit and awaits once at the end; per-dispatch times come from timestamp queries
// (one compute pass per sample, resolved once per group) where the adapter has them.
// NOTE (real GPUs, browsers): a small kernel runs in microseconds, browsers quantize timestamps (Chrome:
// 100 µs unless its WebGPU developer features are on), and one submit-and-wait costs about a millisecond.
// So every sample is calibrated to last long enough (minPassMs on the GPU, minSampleMs on the wall clock)
// by repeating the work inside it, and the time per repetition is reported.
import type { GpuContext } from '../src/gpu/device.js';
import { median } from './stats.js';
import { timestampedPasses } from '../src/gpu/tuning/gpu-timer.js';

export interface TimingOptions {
  /** Untimed repetitions first (pipeline compilation, caches). Default 2. */
  warmup?: number;
  /** Timed samples. Default 7. */
  reps?: number;
  /** Force wall-clock timing even where timestamp-query exists. */
  wallClock?: boolean;
  /** Wall-clock samples. Default 3. */
  wallSamples?: number;
  /** Shortest timestamped pass: repetitions per pass grow until one lasts this long. Default 5 ms. */
  minPassMs?: number;
  /** Shortest wall-clock sample (one submit and wait). Default 50 ms. */
  minSampleMs?: number;
}

/** Most repetitions one sample may hold (a kernel that takes nanoseconds is not worth more). */
const MAX_INNER = 4096;

export interface Timing {
  /** Median time of one repetition, milliseconds. */
  medianMs: number;
  minMs: number;
  /** Per sample, the time of one repetition. */
  samplesMs: number[];
  method: 'timestamp-query' | 'wall-clock';
  /** Repetitions per sample (calibrated). */
  inner: number;
}

/** Next repetition count: enough to reach `targetMs` from `ms` measured with `inner`, at least doubling. */
function grow(inner: number, ms: number, targetMs: number): number {
  const factor = Math.ceil(targetMs / Math.max(ms, targetMs / 64));
  return Math.min(MAX_INNER, inner * Math.min(64, Math.max(2, factor)));
}

/**
 * Calls `run(n)` (which must return the milliseconds n repetitions took) with growing n until one call
 * lasts `targetMs`; the calls double as warm-up. Returns n.
 */
export async function calibrateRepetitions(run: (n: number) => Promise<number>, targetMs: number, start = 1): Promise<number> {
  let n = Math.max(1, start);
  for (;;) {
    const ms = await run(n);
    if (ms >= targetMs || n >= MAX_INNER) return n;
    n = grow(n, ms, targetMs);
  }
}

/**
 * Times `encode` (one repetition = whatever it records into a compute pass), per repetition.
 * With timestamp queries: each sample is one pass of `inner` repetitions, all samples in one submit.
 * Otherwise each sample is one submit of `inner` repetitions and a wait.
 */
export async function timePasses(gpu: GpuContext, label: string, encode: (pass: GPUComputePassEncoder) => void, options: TimingOptions = {}): Promise<Timing> {
  const { device } = gpu;
  const warmup = options.warmup ?? 2;
  const reps = options.reps ?? 7;

  const submitAndWait = async (inner: number): Promise<number> => {
    const encoder = device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    for (let i = 0; i < inner; i++) encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    return performance.now() - t0;
  };
  for (let i = 0; i < warmup; i++) await submitAndWait(1);

  if (gpu.hasTimestamps && !options.wallClock) {
    const minPassMs = options.minPassMs ?? 5;
    let passMs = 0;
    // The shorter of two probe passes: one preempted pass must not stop the calibration early.
    const inner = await calibrateRepetitions(async (n) => (passMs = Math.min(...(await timestampedPasses(gpu.device, label, encode, n, 2, 0)))), minPassMs);
    // Sleep (no pending Dawn promise, so no busy polling) through most of the expected GPU time.
    const passes = await timestampedPasses(gpu.device, label, encode, inner, reps, passMs * reps * 0.9);
    const samplesMs = passes.map((ms) => ms / inner);
    // A zero means the timestamps could not resolve even MAX_INNER repetitions: fall back to the wall clock.
    if (samplesMs.every((ms) => ms > 0)) return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs, method: 'timestamp-query', inner };
  }

  const inner = await calibrateRepetitions(submitAndWait, options.minSampleMs ?? 50);
  const samplesMs: number[] = [];
  for (let s = 0; s < (options.wallSamples ?? 3); s++) samplesMs.push((await submitAndWait(inner)) / inner);
  return { medianMs: median(samplesMs), minMs: Math.min(...samplesMs), samplesMs, method: 'wall-clock', inner };
}

/**
 * Wall-clock milliseconds per repetition of `run(n)` (which must not return before its n repetitions are
 * complete, e.g. by reading a result back): n is calibrated so one call lasts `minSampleMs` (the calibration
 * calls are the warm-up, after `warmup` extra calls of n = 1), then `samples` calls are timed.
 */
export async function timeWall(
  run: (n: number) => Promise<void>,
  options: { warmup: number; samples: number; minSampleMs: number; start?: number },
): Promise<{ samplesMs: number[]; inner: number }> {
  const timed = async (n: number) => {
    const t0 = performance.now();
    await run(n);
    return performance.now() - t0;
  };
  for (let i = 0; i < options.warmup; i++) await run(1);
  const inner = await calibrateRepetitions(timed, options.minSampleMs, options.start);
  const samplesMs: number[] = [];
  for (let s = 0; s < options.samples; s++) samplesMs.push((await timed(inner)) / inner);
  return { samplesMs, inner };
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
