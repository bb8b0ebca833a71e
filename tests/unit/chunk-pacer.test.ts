// The chunk-size controller (src/engine/chunk-pacer.ts), on simulated adapters: chunk times are computed from a model of
// the machine (a fixed cost per chunk, a cost per step and per snapshot) and handed to the pacer; no real time is read.
// Whether chunking changes results on the GPU is checked in tests/ui/protocol-session.gpu.test.ts.
import { describe, expect, it } from 'vitest';
import { ChunkPacer, snapshotsBetween } from '../../src/engine/chunk-pacer';

interface Machine {
  /** Seconds every chunk costs (submit and wait). */
  overhead: number;
  perStep: number;
  perSnapshot: number;
}

interface Trained {
  chunks: { from: number; steps: number; seconds: number }[];
  /** Every step in the order trained. */
  steps: number[];
}

/** Trains `total` steps in chunks the pacer sizes, `every` steps a snapshot, at most `cap` steps a chunk. */
function simulate(pacer: ChunkPacer, machine: Machine, total: number, every: number, cap = Infinity): Trained {
  const trained: Trained = { chunks: [], steps: [] };
  let step = 0;
  while (step < total) {
    const from = step;
    const steps = pacer.next({ maxSteps: Math.min(total - step, cap), snapshotsIn: (s) => snapshotsBetween(from, s, every) });
    const snapshots = snapshotsBetween(from, steps, every);
    const seconds = machine.overhead + steps * machine.perStep + snapshots * machine.perSnapshot;
    for (let s = from + 1; s <= from + steps; s++) trained.steps.push(s);
    pacer.record(steps, seconds, snapshots);
    trained.chunks.push({ from, steps, seconds });
    step += steps;
  }
  return trained;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('ChunkPacer', () => {
  it('starts with a single step, then sizes chunks to the target on a fast adapter', () => {
    const pacer = new ChunkPacer({ targetSeconds: 0.5, snapshotWeight: 3 });
    const machine = { overhead: 0.002, perStep: 0.0001, perSnapshot: 0.0003 };
    const { chunks } = simulate(pacer, machine, 200_000, 100);
    expect(chunks[0].steps).toBe(1);
    // It grows at most 4x a chunk, so it takes a few chunks to get there; after that every chunk is near the target.
    const settled = chunks.slice(12, -1);
    expect(settled.length).toBeGreaterThan(10);
    for (const c of settled) {
      expect(c.seconds).toBeLessThanOrEqual(0.5 * 1.1);
      expect(c.seconds).toBeGreaterThan(0.5 * 0.8);
    }
    expect(pacer.secondsPerStep).toBeGreaterThan(machine.perStep);
    expect(pacer.secondsPerStep).toBeLessThan(machine.perStep * 1.2);
  });

  it('trains one step a chunk on an adapter whose step takes longer than the target', () => {
    const pacer = new ChunkPacer({ targetSeconds: 0.5 });
    const { chunks } = simulate(pacer, { overhead: 0.01, perStep: 6, perSnapshot: 8 }, 30, 10);
    expect(chunks.map((c) => c.steps)).toEqual(Array(30).fill(1));
  });

  it('finds chunks of a few steps when a step takes a fraction of the target', () => {
    const pacer = new ChunkPacer({ targetSeconds: 1 });
    const { chunks } = simulate(pacer, { overhead: 0, perStep: 0.3, perSnapshot: 0 }, 60, 1000);
    expect(chunks.slice(3, -1).every((c) => c.steps === 3)).toBe(true);
  });

  it('plans a chunk that holds a snapshot as that many steps more', () => {
    const pacer = new ChunkPacer({ targetSeconds: 1, snapshotWeight: 4 });
    pacer.record(10, 1); // 0.1 s a step
    // 10 steps fit, but a snapshot in step 5 costs 4 steps: 6 steps with it.
    expect(pacer.next({ maxSteps: 100, snapshotsIn: (s) => snapshotsBetween(0, s, 5) })).toBe(6);
    expect(pacer.next({ maxSteps: 100 })).toBe(10);
    expect(pacer.expectedSeconds(6, 1)).toBeCloseTo(1, 12);
  });

  it('follows a change of speed, and starts over from one step after a reset', () => {
    const pacer = new ChunkPacer({ targetSeconds: 0.5 });
    simulate(pacer, { overhead: 0, perStep: 0.001, perSnapshot: 0 }, 5000, 1_000_000);
    const slow = simulate(pacer, { overhead: 0, perStep: 0.01, perSnapshot: 0 }, 2000, 1_000_000);
    expect(slow.chunks.at(-2)!.seconds).toBeLessThanOrEqual(0.55);
    expect(slow.chunks.at(-2)!.steps).toBeGreaterThanOrEqual(45);
    pacer.reset();
    expect(pacer.secondsPerStep).toBeNull();
    expect(pacer.next({ maxSteps: 1000 })).toBe(1);
  });

  it('keeps within the limits it is given, and never skips or repeats a step', () => {
    for (const machine of [
      { overhead: 0, perStep: 1e-7, perSnapshot: 0 },
      { overhead: 0.001, perStep: 0.02, perSnapshot: 0.05 },
      { overhead: 0, perStep: 5, perSnapshot: 5 },
    ]) {
      const pacer = new ChunkPacer();
      const { chunks, steps } = simulate(pacer, machine, 1234, 10, 37);
      expect(steps).toEqual(range(1234));
      expect(Math.max(...chunks.map((c) => c.steps))).toBeLessThanOrEqual(37);
    }
    // A chunk measured as taking no time at all (a coarse clock) still gives a finite estimate.
    const pacer = new ChunkPacer();
    pacer.record(1, 0);
    expect(Number.isFinite(pacer.secondsPerStep)).toBe(true);
    expect(pacer.next({ maxSteps: 1_000_000 })).toBe(4);
  });

  it('refuses nonsense', () => {
    expect(() => new ChunkPacer({ targetSeconds: 0 })).toThrow(/chunk target must be > 0 seconds/);
    expect(() => new ChunkPacer({ snapshotWeight: -1 })).toThrow(/snapshot weight/);
    expect(() => new ChunkPacer().next({ maxSteps: 0 })).toThrow(/at least 1 step/);
    expect(() => new ChunkPacer().record(0, 1)).toThrow(/at least 1 step/);
  });

  it('counts the snapshots a chunk takes', () => {
    expect(snapshotsBetween(0, 10, 10)).toBe(1);
    expect(snapshotsBetween(0, 9, 10)).toBe(0);
    expect(snapshotsBetween(5, 30, 10)).toBe(3);
    expect(snapshotsBetween(10, 1, 1)).toBe(1);
  });
});
