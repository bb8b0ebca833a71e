// The page's snapshot sink in the Worker (src/ui/worker/frame-outbox.ts): one frame in flight until the page acks it,
// rows and timeline columns never dropped and never sent twice, and only the newest bitmaps kept (the rest counted).
import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/engine/observatory';
import { FrameOutbox, type FrameEvent } from '../../src/ui/worker/frame-outbox';

const WIDTH = 40;

function snapshot(step: number): Snapshot {
  const buffer = new ArrayBuffer(5 * 8);
  const bitmap = (i: number) => new Uint32Array(buffer, i * 8, 2);
  return {
    step,
    gpuStep: step,
    layers: [
      {
        width: WIDTH,
        dead: bitmap(0),
        dropped: bitmap(1),
        revived: bitmap(2),
        frozen: bitmap(3),
        nonFinite: bitmap(4),
        counts: { dead: 0, revived: 0, everDead: 0, dropped: step % WIDTH, frozen: 0, nonFinite: 0 },
      },
    ],
    losses: new Float32Array(step > 0 ? [1] : []),
    skipped: 0,
    buffer,
  };
}

function setup() {
  const frames: FrameEvent[] = [];
  const timed: number[] = [];
  const outbox = new FrameOutbox(
    (frame) => frames.push(frame),
    (step) => {
      timed.push(step);
      return { elapsedSeconds: step / 10, stepsPerSecond: 10 };
    },
  );
  return { frames, timed, outbox };
}

describe('FrameOutbox', () => {
  it('sends the first snapshot at once: its row, its timeline column and its bitmaps', () => {
    const { frames, outbox } = setup();
    const s = snapshot(0);
    outbox.onSnapshot(s);
    expect(frames).toHaveLength(1);
    const [frame] = frames;
    expect(frame.rows.map((r) => [r.step, r.elapsedSeconds, r.stepsPerSecond])).toEqual([[0, 0, 10]]);
    expect(frame.columns.map((c) => c.step)).toEqual([0]);
    expect(frame.snapshot).toMatchObject({ step: 0, buffer: s.buffer });
    expect(frame.snapshot!.layers[0].dead).toBe(s.layers[0].dead);
    expect(frame.coalesced).toBe(0);
  });

  it('holds one frame in flight: rows and columns queue up in order, only the newest bitmaps travel', () => {
    const { frames, outbox } = setup();
    outbox.onSnapshot(snapshot(0));
    for (const step of [10, 20, 30]) outbox.onSnapshot(snapshot(step));
    expect(frames).toHaveLength(1);
    outbox.ack();
    expect(frames).toHaveLength(2);
    const frame = frames[1];
    expect(frame.rows.map((r) => r.step)).toEqual([10, 20, 30]);
    expect(frame.columns.map((c) => c.step)).toEqual([10, 20, 30]);
    expect(frame.snapshot!.step).toBe(30);
    expect(frame.coalesced).toBe(2);
  });

  it('sends nothing on an ack with nothing queued, and keeps the credit for the next snapshot', () => {
    const { frames, outbox } = setup();
    outbox.onSnapshot(snapshot(0));
    outbox.ack();
    outbox.ack();
    expect(frames).toHaveLength(1);
    outbox.onSnapshot(snapshot(10));
    expect(frames.map((f) => f.rows.map((r) => r.step))).toEqual([[0], [10]]);
  });

  it('does not send a row twice when a resumed run trains through steps already reported, but shows its bitmaps', () => {
    const { frames, timed, outbox } = setup();
    for (const step of [0, 10, 20]) {
      outbox.onSnapshot(snapshot(step));
      outbox.ack();
    }
    // Resumed from a state saved at step 10: steps 20 is trained (and snapshotted) again.
    outbox.onSnapshot(snapshot(20));
    outbox.ack();
    outbox.onSnapshot(snapshot(30));
    expect(frames.flatMap((f) => f.rows.map((r) => r.step))).toEqual([0, 10, 20, 30]);
    expect(frames.flatMap((f) => f.columns.map((c) => c.step))).toEqual([0, 10, 20, 30]);
    expect(frames.map((f) => f.snapshot?.step)).toEqual([0, 10, 20, 20, 30]);
    // The clock times each row once, in step order.
    expect(timed).toEqual([0, 10, 20, 30]);
  });

  it('clear() drops what was queued for the old run and takes step 0 again', () => {
    const { frames, outbox } = setup();
    outbox.onSnapshot(snapshot(0));
    outbox.onSnapshot(snapshot(10));
    outbox.clear();
    outbox.ack();
    expect(frames).toHaveLength(1);
    outbox.onSnapshot(snapshot(0));
    expect(frames[1].rows.map((r) => r.step)).toEqual([0]);
    expect(frames[1].coalesced).toBe(0);
  });
});
