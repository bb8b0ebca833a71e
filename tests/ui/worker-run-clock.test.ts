// The Worker's training clock (src/ui/worker/run-clock.ts): only running time counts, and a snapshot is timed where its
// step was trained (interpolated inside its chunk), not when it came back from the GPU.
import { describe, expect, it } from 'vitest';
import { RunClock } from '../../src/ui/worker/run-clock';

function setup() {
  const time = { ms: 0 };
  return { time, clock: new RunClock(() => time.ms) };
}

describe('RunClock', () => {
  it('counts only the time spent running', () => {
    const { time, clock } = setup();
    time.ms = 5000; // paused: does not count
    clock.setRunning(true);
    time.ms = 7000;
    expect(clock.elapsedSeconds()).toBe(2);
    clock.setRunning(false);
    time.ms = 60_000;
    expect(clock.elapsedSeconds()).toBe(2);
    clock.setRunning(true);
    clock.setRunning(true); // already running: the start stays where it was
    time.ms = 61_000;
    expect(clock.elapsedSeconds()).toBe(3);
  });

  it('rates the latest chunk, and times snapshots inside the chunk that trained them', async () => {
    const { time, clock } = setup();
    clock.setRunning(true);
    expect(clock.chunkRate).toBeNull();
    // Steps (0, 100] take 2 s, then steps (100, 200] take 1 s.
    await clock.timeChunk(0, 100, async () => void (time.ms += 2000));
    expect(clock.chunkRate).toBe(50);
    await clock.timeChunk(100, 100, async () => void (time.ms += 1000));
    expect(clock.chunkRate).toBe(100);
    time.ms += 5000; // the snapshots come back late, all at once
    expect(clock.snapshotTiming(50)).toEqual({ elapsedSeconds: 1, stepsPerSecond: null });
    expect(clock.snapshotTiming(100)).toEqual({ elapsedSeconds: 2, stepsPerSecond: 50 });
    expect(clock.snapshotTiming(200)).toEqual({ elapsedSeconds: 3, stepsPerSecond: 100 });
    // A step no remembered chunk trained is timed now.
    expect(clock.snapshotTiming(300)).toEqual({ elapsedSeconds: 8, stepsPerSecond: 20 });
  });

  it('forgets the chunk rate on a new device, and everything on reset', async () => {
    const { time, clock } = setup();
    clock.setRunning(true);
    await clock.timeChunk(0, 10, async () => void (time.ms += 1000));
    clock.snapshotTiming(10);
    clock.setRunning(false);
    clock.forgetChunkRate();
    expect(clock.chunkRate).toBeNull();
    expect(clock.elapsedSeconds()).toBe(1);
    clock.reset();
    expect(clock.elapsedSeconds()).toBe(0);
    // No earlier snapshot to measure throughput from, no chunk to time step 10 with.
    expect(clock.snapshotTiming(10)).toEqual({ elapsedSeconds: 0, stepsPerSecond: null });
  });
});
