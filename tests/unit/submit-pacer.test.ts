// The host's pacing of training chunks, on a simulated GPU and clock (no timing of this machine involved): two
// chunks in flight, each waited for only after sleeping through most of its predicted time, the prediction
// learnt from the chunks before.
import { describe, expect, it } from 'vitest';
import { SubmitPacer, WAKE_FRACTION } from '../../src/engine/submit-pacer';

/** A GPU that runs submitted chunks back to back at `msPerStep`, and a host clock that sleeps exactly. */
class SimulatedGpu {
  time = 0;
  /** When each submitted chunk finishes. */
  private ends: number[] = [];
  readonly log: string[] = [];
  /** Host time spent with a work-done promise pending (what Dawn-for-Node spends polling). */
  pollingMs = 0;
  /** GPU time idle between chunks (waiting for the host). */
  idleMs = 0;

  constructor(private readonly msPerStep: (index: number) => number) {}

  clock = {
    now: () => this.time,
    sleep: async (ms: number) => {
      this.log.push(`sleep ${ms.toFixed(1)}`);
      this.time += ms;
    },
  };

  submit(index: number, steps: number): void {
    const last = this.ends.length ? this.ends[this.ends.length - 1] : 0;
    if (last < this.time) this.idleMs += this.ends.length ? this.time - last : 0;
    const start = Math.max(last, this.time);
    this.ends.push(start + steps * this.msPerStep(index));
    this.log.push(`submit ${index}`);
  }

  /** Resolves (in simulated time) when everything submitted so far has run. */
  workDone(): Promise<void> {
    const until = this.ends[this.ends.length - 1];
    const waited = Math.max(0, until - this.time);
    return Promise.resolve().then(() => {
      this.pollingMs += waited;
      this.time = Math.max(this.time, until);
    });
  }
}

async function run(pacer: SubmitPacer, gpu: SimulatedGpu, chunks: number[]) {
  await pacer.run(
    chunks,
    (i) => gpu.submit(i, chunks[i]),
    () => gpu.workDone(),
  );
}

describe('SubmitPacer', () => {
  it('runs every chunk once, in order, with at most two in flight', async () => {
    const gpu = new SimulatedGpu(() => 10);
    await run(new SubmitPacer(gpu.clock), gpu, [8, 8, 8, 3]);
    const submits = gpu.log.filter((l) => l.startsWith('submit'));
    expect(submits).toEqual(['submit 0', 'submit 1', 'submit 2', 'submit 3']);
    expect(gpu.time).toBe(270);
  });

  it('learns the time per step and then polls only the tail of each chunk, never idling the GPU', async () => {
    const gpu = new SimulatedGpu(() => 10);
    const pacer = new SubmitPacer(gpu.clock);
    await run(pacer, gpu, Array(20).fill(8));
    expect(pacer.estimateMsPerStep).toBeCloseTo(10, 6);
    // The first chunk is polled throughout (nothing known yet); every later one only for its last (1 - WAKE_FRACTION).
    expect(gpu.pollingMs).toBeCloseTo(80 + 19 * 80 * (1 - WAKE_FRACTION), 6);
    expect(gpu.idleMs).toBe(0);
    expect(gpu.time).toBe(20 * 80);
  });

  it('recovers when the GPU gets faster or slower', async () => {
    // 10 ms per step for 10 chunks, then 4, then 16.
    const gpu = new SimulatedGpu((i) => (i < 10 ? 10 : i < 20 ? 4 : 16));
    const pacer = new SubmitPacer(gpu.clock);
    await run(pacer, gpu, Array(30).fill(8));
    expect(pacer.estimateMsPerStep).toBeCloseTo(16, 0);
    // Waking late after the speed-up idles the GPU for a few chunks only, and never more than a chunk's worth each.
    expect(gpu.idleMs).toBeLessThan(5 * 8 * 10);
    const total = 10 * 80 + 10 * 32 + 10 * 128;
    expect(gpu.time).toBeLessThan(total + gpu.idleMs + 1);
  });

  it('keeps what it learnt across calls (Trainer.train is called chunk by chunk by the CLI)', async () => {
    const gpu = new SimulatedGpu(() => 10);
    const pacer = new SubmitPacer(gpu.clock);
    await run(pacer, gpu, [8, 8]);
    const polled = gpu.pollingMs;
    await run(pacer, gpu, [8]);
    expect(gpu.pollingMs - polled).toBeCloseTo(80 * (1 - WAKE_FRACTION), 6);
  });

  it('does nothing for no chunks', async () => {
    const gpu = new SimulatedGpu(() => 10);
    await run(new SubmitPacer(gpu.clock), gpu, []);
    expect(gpu.log).toEqual([]);
  });
});
