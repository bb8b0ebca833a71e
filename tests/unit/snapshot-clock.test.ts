// The metrics rows' timing is per snapshot: each row gets the time training reached its own step, and the rate
// since the previous snapshot, even when one chunk of training holds several snapshots (a fake clock: no real time).
import { describe, expect, it } from 'vitest';
import { SnapshotClock } from '../../src/cli/snapshot-clock';

describe('SnapshotClock', () => {
  it('times the snapshots of one chunk by their steps, not all at the end of the chunk', () => {
    let now = 1500;
    const clock = new SnapshotClock(1000, () => now);
    // The step-0 snapshot: before training, timed when it comes, no rate.
    expect(clock.timing({ step: 0 })).toEqual({ elapsedSeconds: 0.5, stepsPerSecond: null });
    // One chunk of 60 steps from t = 2000 to t = 8000 (10 steps/s), read at t = 9000: snapshots at 20, 40 and 60.
    clock.chunkDone(0, 2000, 60, 8000);
    now = 9000;
    expect(clock.timing({ step: 20 })).toEqual({ elapsedSeconds: 3, stepsPerSecond: 10 });
    expect(clock.timing({ step: 40 })).toEqual({ elapsedSeconds: 5, stepsPerSecond: 10 });
    expect(clock.timing({ step: 60 })).toEqual({ elapsedSeconds: 7, stepsPerSecond: 10 });
    // The next chunk runs at 40 steps/s from t = 9000: the rate up to its step 80 counts the second between chunks
    // (20 steps in 1.5 s), and wall time it is.
    clock.chunkDone(60, 9000, 100, 10000);
    expect(clock.timing({ step: 80 })).toEqual({ elapsedSeconds: 8.5, stepsPerSecond: 20 / 1.5 });
    expect(clock.timing({ step: 100 })).toEqual({ elapsedSeconds: 9, stepsPerSecond: 40 });
  });

  it('the first snapshot after a resume counts from where training resumed', () => {
    const clock = new SnapshotClock(0, () => 0);
    clock.chunkDone(500, 1000, 600, 3000);
    expect(clock.timing({ step: 550 })).toEqual({ elapsedSeconds: 2, stepsPerSecond: 50 });
  });
});
