// Times one piece of GPU work for the autotuner: timestamp queries around compute passes where the device has
// them (the kernel's own time, immune to the host), the wall clock of a submit-and-wait where it does not.
// NOTE (Dawn-for-Node on CPU adapters): a pending onSubmittedWorkDone()/mapAsync() busy-polls a core the adapter
// then lacks, so the host sleeps through most of the expected GPU time before it waits (as bench/timing.ts does).

export interface TimerOptions {
  /** Timed samples (the fastest counts: the tuner wants the kernel's speed, not the machine's load). Default 3. */
  samples?: number;
  /** A sample repeats the work until it lasts this long, so coarse timestamps do not matter. Default 2 ms. */
  minSampleMs?: number;
  /** Most repetitions per sample. Default 64. */
  maxRepetitions?: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Milliseconds of one repetition of `encode` (the fastest sample), after one untimed run (first-dispatch
 * compilation on llvmpipe, caches).
 */
export async function timeWork(device: GPUDevice, label: string, encode: (pass: GPUComputePassEncoder) => void, options: TimerOptions = {}): Promise<number> {
  const samples = options.samples ?? 3;
  const minSampleMs = options.minSampleMs ?? 2;
  const maxRepetitions = options.maxRepetitions ?? 64;
  const timed = device.features.has('timestamp-query');
  const run = (repetitions: number, count: number, sleepMs: number) =>
    timed ? timestampedPasses(device, label, encode, repetitions, count, sleepMs) : wallPasses(device, label, encode, repetitions, count);

  await wallPasses(device, label, encode, 1, 1);
  const [probe] = await run(1, 1, 0);
  const repetitions = Math.max(1, Math.min(maxRepetitions, Math.ceil(minSampleMs / Math.max(probe, 1e-3))));
  const times = await run(repetitions, samples, probe * repetitions * samples * 0.8);
  const best = Math.min(...times.filter((t) => t > 0));
  // Timestamps that never advanced (a coarse clock): the wall clock has to do.
  if (!Number.isFinite(best)) return Math.min(...(await wallPasses(device, label, encode, repetitions, samples))) / repetitions;
  return best / repetitions;
}

async function wallPasses(
  device: GPUDevice,
  label: string,
  encode: (pass: GPUComputePassEncoder) => void,
  repetitions: number,
  count: number,
): Promise<number[]> {
  const out: number[] = [];
  for (let s = 0; s < count; s++) {
    const encoder = device.createCommandEncoder({ label });
    const pass = encoder.beginComputePass({ label });
    for (let r = 0; r < repetitions; r++) encode(pass);
    pass.end();
    const t0 = performance.now();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
    out.push(performance.now() - t0);
  }
  return out;
}

/**
 * GPU milliseconds of `count` passes of `repetitions` each, in one submit (also the benchmark's, bench/timing.ts).
 * The host sleeps `sleepMs` before it waits (see the note above).
 */
export async function timestampedPasses(
  device: GPUDevice,
  label: string,
  encode: (pass: GPUComputePassEncoder) => void,
  repetitions: number,
  count: number,
  sleepMs: number,
): Promise<number[]> {
  const querySet = device.createQuerySet({ label: `${label}.timestamps`, type: 'timestamp', count: 2 * count });
  const resolve = device.createBuffer({ label: `${label}.resolve`, size: 16 * count, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const staging = device.createBuffer({ label: `${label}.staging`, size: 16 * count, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label });
    for (let i = 0; i < count; i++) {
      const pass = encoder.beginComputePass({ label, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } });
      for (let r = 0; r < repetitions; r++) encode(pass);
      pass.end();
    }
    encoder.resolveQuerySet(querySet, 0, 2 * count, resolve, 0);
    encoder.copyBufferToBuffer(resolve, 0, staging, 0, 16 * count);
    device.queue.submit([encoder.finish()]);
    if (sleepMs > 1) await sleep(sleepMs);
    await staging.mapAsync(GPUMapMode.READ);
    const ticks = new BigInt64Array(staging.getMappedRange().slice(0));
    // Nanoseconds; an end before its beginning (a reset counter) reads as 0, i.e. unresolved.
    return Array.from({ length: count }, (_, i) => Math.max(0, Number(ticks[2 * i + 1] - ticks[2 * i])) / 1e6);
  } finally {
    querySet.destroy();
    resolve.destroy();
    staging.destroy();
  }
}
