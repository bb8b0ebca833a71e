// GPU errors stop a run, on the real adapter (issue 18): a buffer that cannot be created fails the run before any step
// with one message; a chunk that fails on the GPU, an error nobody captured, or a snapshot whose canary disagrees stops
// it, and nothing computed after the last good snapshot is handed on. Errors are made real, not mocked: a buffer the
// adapter refuses (larger than maxBufferSize), a buffer destroyed mid-run, a dispatch that records nothing.
import { describe, expect, it } from 'vitest';
import { GpuAllocationError, GpuRunError } from '../../src/engine/gpu-faults';
import type { ModelSpec } from '../../src/engine/model-spec';
import { Observatory, type Snapshot } from '../../src/engine/observatory';
import { Trainer } from '../../src/engine/trainer';
import { readBack } from '../../src/gpu/buffers';
import { acquireNodeGpu } from '../../src/gpu/dawn';
import type { Dispatch } from '../../src/gpu/dispatch';
import { GpuScopeError } from '../../src/gpu/error-scopes';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { useGpu } from './harness';

const PROBE_ROWS = 6;

function spec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return smallSpec({ probeRows: PROBE_ROWS, ...overrides });
}

const data = () => smallClassification(40, 5, 3);

/** Makes the device refuse to create the buffer labelled `label` (asks for more than maxBufferSize); returns the undo. */
function refuseBuffer(device: GPUDevice, label: string): () => void {
  const create = device.createBuffer;
  device.createBuffer = (descriptor: GPUBufferDescriptor) =>
    create.call(device, descriptor.label === label ? { ...descriptor, size: device.limits.maxBufferSize + 4 } : descriptor);
  return () => {
    device.createBuffer = create;
  };
}

/** Makes a prepared dispatch record nothing from now on: a kernel that silently does not run. */
function silence(dispatch: Dispatch): void {
  (dispatch as { encode: Dispatch['encode'] }).encode = () => undefined;
}

async function observe(trainer: Trainer, every: number): Promise<Observatory> {
  const { inputs } = data();
  return Observatory.create(trainer, { every, probeInputs: inputs.slice(0, PROBE_ROWS * 5), probeRows: PROBE_ROWS });
}

/** Reads snapshots until next() ends or throws: the steps handed on, and the error. */
async function drain(observatory: Observatory): Promise<{ steps: number[]; error: unknown }> {
  const steps: number[] = [];
  try {
    for (let s: Snapshot | null; (s = await observatory.next()); ) steps.push(s.step);
    return { steps, error: null };
  } catch (error) {
    return { steps, error };
  }
}

describe('GPU errors stop a run', () => {
  const ctx = useGpu();

  it('a weight buffer the adapter refuses fails Trainer.create with one message, and frees everything', async () => {
    const before = ctx.liveBuffers();
    const undo = refuseBuffer(ctx.device, 'Trainer.W2.0.0');
    try {
      const error = await Trainer.create(ctx.gpu, spec(), data()).then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(GpuAllocationError);
      const message = (error as Error).message;
      expect(message).toContain('the weights (33 x 18) of hidden layer 2 (Trainer.W2.0.0,');
      expect(message).toMatch(/refused: Buffer size .* exceeds the max buffer size/);
      expect(message).toMatch(/This run needs about [\d.]+ KiB of GPU memory in all \(parameters/);
      expect(message).toContain(ctx.gpu.adapter.description);
      expect(message).toContain('narrower hidden layers (hidden[i].width');
      expect(message).toContain('Nothing was trained');
    } finally {
      undo();
    }
    expect(ctx.liveBuffers()).toBe(before);
  });

  it('a probe buffer the adapter refuses fails Observatory.create, naming the probe set first', async () => {
    const trainer = await Trainer.create(ctx.gpu, spec(), data());
    const undo = refuseBuffer(ctx.device, 'Observatory.probe');
    try {
      await expect(observe(trainer, 4)).rejects.toThrow(/probe set's activations \(Observatory\.probe, .*try a smaller probe set \(snapshot\.probeSize\)/);
    } finally {
      undo();
      trainer.destroy();
    }
  });

  it('a buffer destroyed mid-run: train() rejects naming the error and a kernel that binds it; later snapshots and states are never handed on', async () => {
    const trainer = await Trainer.create(ctx.gpu, spec(), data());
    const observatory = await observe(trainer, 4);
    await trainer.train(8);
    expect([(await observatory.next())!.step, (await observatory.next())!.step, (await observatory.next())!.step]).toEqual([0, 4, 8]);
    const good = await trainer.readState();
    expect(good.step).toBe(8);

    trainer.buffers.layers[1].weights[0][0].value.destroy();
    const error = await trainer.train(8).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(GpuRunError);
    const fault = (error as GpuRunError).fault;
    expect(fault).toMatchObject({ kind: 'gpu-error', filter: 'validation', chunk: 'Trainer.steps', kernel: 'Trainer.forward2.0.0', lastGoodStep: 8 });
    expect(fault.detail).toContain('Trainer.W2.0.0');
    expect((error as Error).message).toMatch(
      /GPU validation error: .*Trainer\.W2\.0\.0.* \[kernel Trainer\.forward2\.0\.0, command buffer Trainer\.steps\]\. Training stopped; nothing computed after step 8 is used\./,
    );
    // The snapshots of steps 12 and 16 came from the failed chunk: none is handed on.
    observatory.close();
    expect(await drain(observatory)).toEqual({ steps: [], error });
    await expect(trainer.readState()).rejects.toBe(error);
    await expect(trainer.train(1)).rejects.toBe(error);
    expect(trainer.fault).toBe(error);
    observatory.destroy();
    trainer.destroy();
  });

  it('canary: a step counter that stops advancing stops the run at the next snapshot', async () => {
    const trainer = await Trainer.create(ctx.gpu, spec({ stepsPerSubmit: 4 }), data());
    const observatory = await observe(trainer, 4);
    await trainer.train(8);
    // Read as they come (the ring holds 3): a reader that lets them pile up makes later snapshots skip.
    expect([(await observatory.next())!.step, (await observatory.next())!.step, (await observatory.next())!.step]).toEqual([0, 4, 8]);
    silence((trainer as unknown as { stepEnd: Dispatch }).stepEnd);
    await trainer.train(4); // the chunk itself is valid: only the canary can tell
    const { steps, error } = await drain(observatory);
    expect(steps).toEqual([]);
    expect(error).toBeInstanceOf(GpuRunError);
    expect((error as GpuRunError).fault).toMatchObject({ kind: 'canary', kernel: 'Trainer.schedule.end', lastGoodStep: 8 });
    expect((error as Error).message).toContain("the GPU's step counter reads 8 at the snapshot of step 12");
    await expect(trainer.train(4)).rejects.toBe(error);
    await expect(trainer.readState()).rejects.toBe(error);
    observatory.destroy();
    trainer.destroy();
  });

  it("canary: a dropout bitmap kernel that never runs (zeros) stops the run: sample 0's drops are known to the host", async () => {
    const trainer = await Trainer.create(ctx.gpu, spec(), data());
    const observatory = await observe(trainer, 4);
    const maskBits = (observatory as unknown as { graph: { maskBits: Dispatch[] } }).graph.maskBits.find((d) => d.label === 'Observatory.maskBits1')!;
    silence(maskBits);
    await trainer.train(4);
    const { steps, error } = await drain(observatory);
    // Step 0 has no mask yet; at step 4 the bitmap of hidden layer 1 (33 units, p = 0.5) is still all zeros.
    expect(steps).toEqual([0]);
    expect((error as GpuRunError).fault).toMatchObject({ kind: 'canary', kernel: 'Observatory.maskBits1', lastGoodStep: 0 });
    expect((error as Error).message).toMatch(/hidden layer 1 dropped 0 units for sample 0 at step 4; its dropout stream drops [1-9]\d*/);
    await expect(trainer.train(1)).rejects.toBe(error);
    observatory.destroy();
    trainer.destroy();
  });

  it('readBack goes in bounded pieces (bit for bit) and rejects, instead of returning zeros, when its copy fails', async () => {
    const values = Float32Array.from({ length: 2501 }, (_, i) => i * 0.5 - 7);
    const buffer = ctx.f32('Test.pieces', values);
    expect(new Float32Array(await readBack(ctx.device, buffer, values.byteLength, 0, 1000))).toEqual(values);
    expect(new Float32Array(await readBack(ctx.device, buffer, 40 * 4, 7 * 4, 12))).toEqual(values.subarray(7, 47));
    buffer.destroy();
    await expect(readBack(ctx.device, buffer, values.byteLength)).rejects.toThrow(GpuScopeError);
    await expect(readBack(ctx.device, buffer, values.byteLength)).rejects.toThrow(/GPU validation error while reading back Test\.pieces: .*Test\.pieces/);
  });
});

describe('an error the device reports outside every scope', () => {
  it('stops the run: nothing only logs it', async () => {
    // A device of its own: the harness's scopes would capture the error.
    const gpu = await acquireNodeGpu();
    try {
      const trainer = await Trainer.create(gpu, spec(), data());
      await trainer.train(2);
      const reported = new Promise<GPUError>((resolve) => gpu.onError(resolve));
      gpu.device.createBuffer({ label: 'Test.refused', size: gpu.device.limits.maxBufferSize + 4, usage: GPUBufferUsage.STORAGE });
      await reported;
      const error = trainer.fault;
      expect(error).toBeInstanceOf(GpuRunError);
      expect(error!.fault).toMatchObject({ kind: 'uncaptured', filter: 'validation', kernel: 'Test.refused', lastGoodStep: 2 });
      await expect(trainer.train(1)).rejects.toBe(error);
      trainer.destroy();
    } finally {
      gpu.device.destroy();
    }
  });
});
