// The step-0 snapshot taken in pieces by the engine Worker's session (src/ui/worker/session.ts), on a real adapter:
// partial frames (the units proven not dead so far) reach the page before the step-0 snapshot, training waits for that
// snapshot, and a Reset abandons a snapshot in progress. Small pieces are forced (one slice of 16 probe rows each, after a first of 1 row), so
// nothing here depends on how fast the adapter is.
import { afterAll, describe, expect, it } from 'vitest';
import type { WorkerEvent } from '../../src/ui/protocol';
import { Harness, tiny } from './session-harness';

type Partial = Extract<WorkerEvent, { type: 'partial' }>;

// tiny() probes every one of its 128 training rows (probe "auto").
const PROBE_ROWS = 128;
const SLICE_ROWS = 16;
/** A short first slice of 1 row, then slices of 16 rows (the last of 15). */
const PIECES = 1 + Math.ceil((PROBE_ROWS - 1) / SLICE_ROWS);
/** Rows measured after each piece but the last. */
const MEASURED = Array.from({ length: PIECES - 1 }, (_, i) => 1 + i * SLICE_ROWS);

const h = new Harness({ stepZeroPieces: { probeChunkRows: SLICE_ROWS, maxSlicesPerPiece: 1 } });

afterAll(async () => {
  await h.session.dispose();
  for (const gpu of h.gpus) gpu.device.destroy();
});

const bitSet = (words: Uint32Array, u: number) => ((words[u >>> 5] >>> (u & 31)) & 1) === 1;

describe('the step-0 snapshot in pieces, through the session', () => {
  it('posts partial frames before the step-0 snapshot; Start waits for that snapshot', async () => {
    await h.send({ type: 'configure', config: tiny(40), snapshotEvery: 10, stepsPerFrame: 7 });
    await h.waitFor('partial');
    // Start while the snapshot is being taken: training waits for it.
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished');
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 40));
    const firstFrame = h.events.findIndex((e) => e.type === 'frame');
    const partials = h.events.filter((e): e is Partial => e.type === 'partial');
    // One piece per slice; every piece but the last posts what it proved.
    expect(partials.map((p) => p.rowsMeasured)).toEqual(MEASURED);
    expect(h.events.lastIndexOf(partials[partials.length - 1])).toBeLessThan(firstFrame);
    expect(h.rowSteps()).toEqual([0, 10, 20, 30, 40]);
    const step0 = h.frames()[0].snapshot!;
    expect(step0.step).toBe(0);
    partials.forEach((p, i) => {
      expect(p.probeRows).toBe(PROBE_ROWS);
      expect(p.layers.map((l) => l.width)).toEqual([40, 40]);
      p.layers.forEach((layer, l) => {
        const next = partials[i + 1]?.layers[l].proven;
        for (let u = 0; u < layer.width; u++) {
          if (!bitSet(layer.proven, u)) continue;
          if (next) expect(bitSet(next, u), `layer ${l + 1} unit ${u} stays proven`).toBe(true);
          expect(bitSet(step0.layers[l].dead, u), `layer ${l + 1} unit ${u} proven, dead at step 0`).toBe(false);
        }
      });
    });
    // Something was proven early on.
    expect(partials[0].layers.some((l) => l.proven.some((w) => w !== 0))).toBe(true);
  });

  it('Reset abandons a step-0 snapshot in progress and takes the new one', async () => {
    const from = h.events.length;
    await h.send({ type: 'reset' });
    await h.waitFor('ready', () => true, from);
    await h.waitFor('partial', () => true, from);
    const resetAt = h.events.length;
    await h.send({ type: 'reset' });
    const ready = await h.waitFor('ready', () => true, resetAt);
    const readyAt = h.events.indexOf(ready);
    // The old snapshot went no further than a piece or two, and never reached the page.
    const abandoned = h.events.slice(from, readyAt).filter((e) => e.type === 'partial');
    expect(abandoned.length).toBeLessThan(PIECES - 1);
    expect(h.events.slice(from, readyAt).some((e) => e.type === 'frame')).toBe(false);
    // The new run measures from its first rows again and sends its step-0 snapshot.
    const frame = await h.waitFor('frame', (f) => f.snapshot?.step === 0, readyAt);
    const partials = h.events.slice(readyAt, h.events.indexOf(frame)).filter((e): e is Partial => e.type === 'partial');
    expect(partials.map((p) => p.rowsMeasured)).toEqual(MEASURED);
  });

  it('a new snapshot interval during the step-0 snapshot starts it over on the new observatory; training still waits for it', async () => {
    const from = h.events.length;
    await h.send({ type: 'reset' });
    const ready = await h.waitFor('ready', () => true, from);
    const readyAt = h.events.indexOf(ready);
    await h.waitFor('partial', () => true, readyAt);
    await h.send({ type: 'options', snapshotEvery: 20 });
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished', readyAt);
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 40), readyAt);
    expect(h.rowSteps(readyAt)).toEqual([0, 20, 40]);
    // Measured from the first rows again after the change, and every partial came before the step-0 snapshot.
    const rows = h.events.slice(readyAt).flatMap((e) => (e.type === 'partial' ? [e.rowsMeasured] : []));
    const restart = rows.findIndex((r, i) => i > 0 && r <= rows[i - 1]);
    expect(restart, `rows measured: ${rows.join(', ')}`).toBeGreaterThan(0);
    expect(rows.slice(restart)).toEqual(MEASURED);
    const firstFrame = h.events.findIndex((e, i) => i >= readyAt && e.type === 'frame');
    const lastPartial = h.events.reduce((last, e, i) => (e.type === 'partial' ? i : last), -1);
    expect(lastPartial).toBeLessThan(firstFrame);
  });
});
