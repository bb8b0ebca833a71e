// The page's engine session on GPU errors (issue 18), on the real adapter: a net whose buffers the device refuses is
// never built (one message, no training, nothing shown), and a GPU error mid-run stops it with nothing sent that was
// computed after its last good snapshot; resuming continues from the last saved state.
import { afterAll, describe, expect, it } from 'vitest';
import type { GpuContext } from '../../src/gpu/device';
import type { WorkerEvent } from '../../src/ui/protocol';
import { Harness, tiny } from './session-harness';

/** Makes the device refuse to create the buffer labelled `label`, as an adapter out of memory would. */
function refuse(label: string): (gpu: GpuContext) => void {
  return (gpu) => {
    const device = gpu.device;
    const create = device.createBuffer;
    device.createBuffer = (descriptor: GPUBufferDescriptor) =>
      create.call(device, descriptor.label === label ? { ...descriptor, size: device.limits.maxBufferSize + 4 } : descriptor);
  };
}

const harnesses: Harness[] = [];
afterAll(async () => {
  for (const h of harnesses) {
    await h.session.dispose();
    for (const gpu of h.gpus) gpu.device.destroy();
  }
});

const ofType = <T extends WorkerEvent['type']>(events: WorkerEvent[], type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);

describe('EngineSession on GPU errors', () => {
  it('a net the device cannot hold: one message naming the tensor, never ready, never trains', async () => {
    const h = new Harness({ prepare: refuse('Trainer.W2.0.0') });
    harnesses.push(h);
    await h.send({ type: 'configure', config: tiny(40), snapshotEvery: 10, stepsPerFrame: 7 });
    await h.send({ type: 'run' });
    await h.send({ type: 'step' });
    const errors = ofType(h.events, 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/^The GPU could not allocate the weights \(40 x 40\) of hidden layer 2 \(Trainer\.W2\.0\.0, .*\): refused: /);
    expect(errors[0].message).toMatch(/This run needs about .* of GPU memory in all .* Nothing was trained\./);
    expect(ofType(h.events, 'ready')).toEqual([]);
    expect(ofType(h.events, 'frame')).toEqual([]);
    expect(ofType(h.events, 'summary')).toEqual([]);
    expect(ofType(h.events, 'state').at(-1)).toMatchObject({ state: 'error', step: 0 });
    expect(ofType(h.events, 'state').some((e) => e.state === 'running')).toBe(false);
  });

  it('a GPU error mid-run: the run stops at its last good snapshot, nothing later is sent, and it resumes from the saved state', async () => {
    const h = new Harness();
    harnesses.push(h);
    await h.send({ type: 'configure', config: tiny(40), snapshotEvery: 10, stepsPerFrame: 7 });
    await h.waitFor('state', (e) => e.state === 'paused');
    // Up to the snapshot of step 10, paused there (its state saved for recovery), then the error, then run.
    await h.send({ type: 'step' });
    await h.waitFor('state', (e) => e.state === 'paused' && e.step === 10, 1);
    await h.waitFor('frame', (f) => f.rows.some((r) => r.step === 10));
    await h.send({ type: 'force-gpu-error' });
    const from = h.events.length;
    await h.send({ type: 'run' });
    const failed = await h.waitFor('run-failed', () => true, from);
    expect(failed.lastGoodStep).toBe(10);
    expect(failed.resumeStep).toBe(10);
    expect(failed.message).toMatch(
      /^GPU validation error: .*Trainer\.W1\.0\.0.* \[kernel Trainer\.forward1\.0\.0, command buffer Trainer\.steps\]\. Training stopped/,
    );
    const stopped = await h.waitFor('state', (e) => e.state === 'failed', from);
    expect(stopped.step).toBe(10);
    // Commands that would compute more numbers do nothing now.
    await h.send({ type: 'run' });
    await h.send({ type: 'unit-info', id: 1, layer: 1, unit: 0 });
    const after = h.events.slice(from);
    expect(h.rowSteps().every((s) => s <= 10)).toBe(true);
    expect(ofType(after, 'frame').every((f) => f.snapshot === null || f.snapshot.step <= 10)).toBe(true);
    expect(ofType(after, 'summary').every((e) => e.step <= 10)).toBe(true);
    expect(ofType(after, 'unit-info')).toEqual([]);
    expect(
      ofType(after, 'state')
        .filter((e) => e.state !== 'running')
        .every((e) => e.step <= 10),
    ).toBe(true);
    expect(ofType(after, 'state').at(-1)).toMatchObject({ state: 'failed', step: 10 });
    expect(ofType(after, 'error')).toEqual([]);

    const back = h.events.length;
    await h.send({ type: 'resume' });
    const ready = await h.waitFor('ready', () => true, back);
    expect(ready).toMatchObject({ step: 10, resumed: true });
    await h.send({ type: 'run' });
    await h.waitFor('state', (e) => e.state === 'finished', back);
    expect(h.rowSteps(back)).toEqual([20, 30, 40]);
  });
});
