// The engine Worker's session, driven through its protocol on a real WebGPU adapter (Dawn on lavapipe): frames carry
// every snapshot's row and timeline column once and in order under the page's flow control, unit-info and checkpoints
// answer, the same seed gives the same bits, chunks sized by time change no bit, and a lost device resumes from the saved
// state into the same run.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { checkpointFromSafetensors } from '../../src/io/checkpoint';
import { bucketShape, CELL_BYTES } from '../../src/ui/timeline/columns';
import { LiveRun } from '../../src/ui/worker/live-run';
import { Harness, tiny } from './session-harness';

const h = new Harness();

beforeAll(async () => {
  await h.send({ type: 'configure', config: tiny(40), snapshotEvery: 10, stepsPerFrame: 7 });
});

afterAll(async () => {
  await h.session.dispose();
  for (const gpu of h.gpus) gpu.device.destroy();
});

describe('EngineSession', () => {
  it('builds the run paused at step 0 and sends the step-0 snapshot', async () => {
    const ready = await h.waitFor('ready');
    expect(ready.step).toBe(0);
    expect(ready.widths).toEqual([40, 40]);
    expect(ready.resumed).toBe(false);
    await h.waitFor('state', (e) => e.state === 'paused');
    const frame = (await h.waitFor('frame')).snapshot!;
    expect(frame.step).toBe(0);
    expect(frame.layers.map((l) => l.width)).toEqual([40, 40]);
    expect(frame.layers[0].dead.buffer).toBe(frame.buffer);
  });

  it("estimates the run's cost on this adapter before it starts", async () => {
    const { estimate } = await h.waitFor('estimate');
    for (const seconds of [estimate.stepSeconds, estimate.snapshotSeconds]) {
      expect(Number.isFinite(seconds)).toBe(true);
      expect(seconds).toBeGreaterThan(0);
    }
    expect(estimate.memoryBytes).toBeGreaterThan(0);
    expect(estimate.step.flops).toBeGreaterThan(0);
    expect(estimate.faster).toBeUndefined();
    // Sent right after `ready`, before any training.
    const types = h.events.map((e) => e.type);
    expect(types.indexOf('estimate')).toBeGreaterThan(types.indexOf('ready'));
  });

  it('trains to the end: one row and one timeline column per snapshot, in order, never twice', async () => {
    const from = h.events.length;
    await h.send({ type: 'run' });
    const finished = await h.waitFor('state', (e) => e.state === 'finished', from);
    expect(finished.step).toBe(40);
    // The last snapshot may still be on its way back from the GPU.
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 40));
    const steps = h.rowSteps();
    expect(steps).toEqual([0, 10, 20, 30, 40]);
    const columns = h.frames().flatMap((f) => f.columns);
    expect(columns.map((c) => c.step)).toEqual(steps);
    const { rows } = bucketShape(40);
    for (const c of columns) for (const layer of c.layers) expect(layer.length).toBe(rows * CELL_BYTES);
    // Dropout 0.5 drops units of probe sample 0 at every snapshot after step 0; a tiny lr kills none.
    const last = h.frames().at(-1)!.rows.at(-1)!;
    expect(last.layers[0].dropped).toBeGreaterThan(0);
    expect(last.loss).not.toBeNull();
    const summary = await h.waitFor('summary', (e) => e.step === 40);
    expect(summary.layers[0].width).toBe(40);
    expect(summary.layers[0].everDropped).toBeGreaterThan(0);
  });

  it('answers unit-info with the unit history of the current step', async () => {
    const from = h.events.length;
    await h.send({ type: 'unit-info', id: 7, layer: 2, unit: 39 });
    const info = await h.waitFor('unit-info', (e) => e.id === 7, from);
    expect(info).toMatchObject({ layer: 2, unit: 39, step: 40 });
    expect(info.record.longestDropRun).toBeGreaterThanOrEqual(info.record.dropRun);
    await h.send({ type: 'unit-info', id: 8, layer: 2, unit: 40 });
    await expect(h.waitFor('unit-info', (e) => e.id === 8, from, 2000)).rejects.toThrow(/unit 40 of layer 2 does not exist/);
    h.events.splice(h.events.findIndex((e) => e.type === 'error'));
  });

  it('sends the death order of a layer as a permutation', async () => {
    const from = h.events.length;
    await h.send({ type: 'order', layer: 1, enabled: true });
    const order = await h.waitFor('order', (e) => e.layer === 1, from);
    expect([...order.permutation].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i));
  });

  it('exports a checkpoint at the current step, and the same seed gives the same bytes after a reset', async () => {
    const first = await h.checkpoint(1);
    const decoded = checkpointFromSafetensors(first);
    expect(decoded.step).toBe(40);
    expect(decoded.config).toEqual(JSON.parse(JSON.stringify(tiny(40))));
    expect(decoded.observatory?.unitHistory).toHaveLength(2);

    const from = h.events.length;
    await h.send({ type: 'reset' });
    await h.waitFor('ready', (e) => e.step === 0, from);
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished', from);
    const again = await h.checkpoint(2);
    expect(Buffer.from(again).equals(Buffer.from(first))).toBe(true);
  });

  it('single-steps one snapshot interval, and keeps training after `steps` is raised', async () => {
    let from = h.events.length;
    await h.send({ type: 'configure', config: tiny(60), snapshotEvery: 10, stepsPerFrame: 7 });
    // Only `steps` changed: the same run goes on (no new `ready`).
    await h.waitFor('state', (e) => e.state === 'paused' && e.step === 40, from);
    expect(h.events.slice(from).some((e) => e.type === 'ready')).toBe(false);
    from = h.events.length;
    await h.send({ type: 'step' });
    await h.waitFor('state', (e) => e.state === 'paused' && e.step === 50, from);
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 50), from);
  });

  it('after a device loss resumes from the saved state into the same run', async () => {
    // The uninterrupted reference is the checkpoint of this run at step 60, from a second session.
    const reference = new Harness();
    await reference.send({ type: 'configure', config: tiny(60), snapshotEvery: 10, stepsPerFrame: 7 });
    await reference.waitFor('state', (e) => e.state === 'paused');
    await reference.send({ type: 'run' });
    await reference.waitFor('state', (e) => e.state === 'finished');
    const expected = await reference.checkpoint(1);
    await reference.session.dispose();

    let from = h.events.length;
    await h.send({ type: 'lose-device' });
    const lost = await h.waitFor('device-lost', () => true, from);
    expect(lost.resumeStep).toBe(50);
    expect(lost.message).toMatch(/lost/);
    from = h.events.length;
    await h.send({ type: 'resume' });
    const ready = await h.waitFor('ready', () => true, from);
    expect(ready).toMatchObject({ step: 50, resumed: true });
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished' && e.step === 60, from);
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 60), from);
    // Rows already sent before the loss are not sent again.
    expect(h.rowSteps(from)).toEqual([60]);
    const resumed = await h.checkpoint(3);
    expect(Buffer.from(resumed).equals(Buffer.from(expected))).toBe(true);
  });

  it('keeps at most one frame in flight and coalesces the bitmaps it could not send', async () => {
    const from = h.events.length;
    h.autoAck = false;
    await h.send({ type: 'configure', config: tiny(80), snapshotEvery: 10, stepsPerFrame: 80 });
    await h.send({ type: 'reset' });
    await h.waitFor('frame', () => true, from);
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished', from);
    await new Promise((resolve) => setTimeout(resolve, 500));
    const before = h.frames(from).length;
    h.autoAck = true;
    await h.send({ type: 'ack' });
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 80), from);
    const frames = h.frames(from);
    expect(frames.length).toBeLessThanOrEqual(before + 2);
    const last = frames.find((f) => f.rows.some((r) => r.step === 80))!;
    // A row and a column for every snapshot the observatory took (one it had to skip, its staging ring full, is
    // counted in `skipped`); only the newest bitmaps travel.
    const steps = h.rowSteps(from).filter((s) => s > 0);
    expect(steps).toEqual([...steps].sort((a, b) => a - b));
    expect(new Set(steps).size).toBe(steps.length);
    expect(steps.length + last.rows.at(-1)!.skipped).toBe(8);
    expect(
      h
        .frames(from)
        .flatMap((f) => f.columns.map((c) => c.step))
        .filter((s) => s > 0),
    ).toEqual(steps);
    expect(last.coalesced).toBeGreaterThan(0);
    expect(last.snapshot!.step).toBe(80);
  });

  it('sizes chunks by the clock without changing a bit: one step a chunk or many, the same rows, maps and state', async () => {
    // Two clocks, no real time: on the slow one every chunk seems to take 5 s (one step a chunk, as on a software
    // adapter with a wide net); on the fast one a few microseconds (chunks grow to the snapshot ring's limit).
    const clocks = { slow: 5000, fast: 0.001 };
    const results: { chunks: number[]; rows: unknown[]; maps: Uint32Array[]; state: Uint8Array }[] = [];
    for (const tick of Object.values(clocks)) {
      let ms = 0;
      const session = new Harness({ now: () => (ms += tick) });
      const train = vi.spyOn(LiveRun.prototype, 'train');
      try {
        await session.send({ type: 'configure', config: tiny(90), snapshotEvery: 10, stepsPerFrame: null });
        await session.waitFor('state', (e) => e.state === 'paused');
        await session.send({ type: 'run' });
        await session.waitFor('state', (e) => e.state === 'finished');
        await session.waitFor('frame', (f) => f.rows.some((r) => r.step === 90));
        const frames = session.frames();
        results.push({
          chunks: train.mock.calls.map(([steps]) => steps),
          rows: frames.flatMap((f) => f.rows).map(({ elapsedSeconds: _e, stepsPerSecond: _r, ...row }) => row),
          maps: frames.at(-1)!.snapshot!.layers.flatMap((l) => [l.dead, l.dropped, l.revived]),
          state: await session.checkpoint(1),
        });
      } finally {
        train.mockRestore();
        await session.session.dispose();
      }
    }
    const [slow, fast] = results;
    expect(slow.chunks).toEqual(Array(90).fill(1));
    expect(fast.chunks[0]).toBe(1);
    expect(Math.max(...fast.chunks)).toBeGreaterThanOrEqual(16);
    expect(fast.chunks.reduce((a, b) => a + b)).toBe(90);
    expect(fast.rows).toEqual(slow.rows);
    expect(fast.rows.map((r) => (r as { step: number }).step)).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
    fast.maps.forEach((words, i) =>
      expect(
        Buffer.from(words.buffer, words.byteOffset, words.byteLength).equals(
          Buffer.from(slow.maps[i].buffer, slow.maps[i].byteOffset, slow.maps[i].byteLength),
        ),
      ).toBe(true),
    );
    expect(Buffer.from(fast.state).equals(Buffer.from(slow.state))).toBe(true);
  });

  it('changes the snapshot interval mid-run, keeping the per-unit history', async () => {
    const from = h.events.length;
    const before = await h.checkpoint(4);
    await h.send({ type: 'options', snapshotEvery: 5 });
    await h.waitFor('state', (e) => e.snapshotEvery === 5, from);
    // Same per-unit history as before the new observatory took over.
    const after = checkpointFromSafetensors(await h.checkpoint(5));
    expect(after.observatory!.unitHistory).toEqual(checkpointFromSafetensors(before).observatory!.unitHistory);
    await h.send({ type: 'configure', config: tiny(100), snapshotEvery: 5, stepsPerFrame: 7 });
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished' && e.step === 100, from);
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 100), from);
    expect(h.rowSteps(from)).toEqual([85, 90, 95, 100]);
  });
});
