import { describe, expect, it } from 'vitest';
import { calibrateRepetitions, formatTable, timeWall } from '../../bench/timing';

describe('repetition calibration', () => {
  it('grows the repetitions until one call lasts the target, at least doubling each time', async () => {
    const calls: number[] = [];
    // A fake workload of 0.3 ms per repetition.
    const n = await calibrateRepetitions(async (reps) => {
      calls.push(reps);
      return reps * 0.3;
    }, 5);
    expect(calls).toEqual([1, 17]);
    expect(n * 0.3).toBeGreaterThanOrEqual(5);
    // A workload that never registers (0 ms) stops at the cap instead of looping for ever.
    const capped: number[] = [];
    expect(await calibrateRepetitions(async (reps) => (capped.push(reps), 0), 5)).toBe(4096);
    expect(capped).toEqual([1, 64, 4096]);
  });

  it('keeps one repetition when one already lasts the target', async () => {
    expect(await calibrateRepetitions(async () => 2000, 100)).toBe(1);
  });

  it('reports wall time per repetition of the calibrated count', async () => {
    const runs: number[] = [];
    const t = await timeWall(
      async (n) => {
        runs.push(n);
        await new Promise((r) => setTimeout(r, 2 * n));
      },
      { warmup: 1, samples: 3, minSampleMs: 10 },
    );
    expect(runs[0]).toBe(1);
    expect(runs.slice(-3)).toEqual([t.inner, t.inner, t.inner]);
    expect(t.inner).toBeGreaterThanOrEqual(4);
    for (const ms of t.samplesMs) {
      expect(ms).toBeGreaterThanOrEqual(1.5);
      expect(ms).toBeLessThan(50); // generous: timers run late on a busy machine
    }
  });
});

describe('console table', () => {
  it('right-aligns columns and formats numbers by size', () => {
    expect(
      formatTable(
        ['case', 'x'],
        [
          ['a', 1234.5],
          ['bb', 0.01234],
          ['c', 12.345],
        ],
      ),
    ).toBe(['case      x', '----  -----', '   a   1235', '  bb  0.012', '   c   12.3'].join('\n'));
  });
});
