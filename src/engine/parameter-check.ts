// Checks every parameter of a model for NaN / ±Infinity on the GPU (shaders/finite.wgsl): one dispatch per
// weight and bias block, one small readback of 2 u32 per block. Runs use it (Trainer.firstNonFiniteLayer)
// before every checkpoint, so that a checkpoint of a diverged state is never written, and to name the first
// layer that went bad.
import { readU32, uploadStorage } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import type { Dispatch } from '../gpu/dispatch';
import { FiniteKernel, finiteResultInit, finiteSlot, FINITE_SLOT_WORDS } from '../gpu/kernels/finite';
import type { WeightLayer } from './model-buffers';
import type { ChunkRecorder } from './training-hooks';

export interface NonFiniteParameters {
  /** 1-based weight layer (hidden layers, then the output layer). */
  layer: number;
  /** Non-finite weights and biases of that layer. */
  weights: number;
  bias: number;
}

export class ParameterCheck {
  private constructor(
    private readonly device: GPUDevice,
    private readonly dispatches: Dispatch[],
    /** Per slot, its weight layer (0-based) and whether it is a bias block. */
    private readonly slots: { layer: number; bias: boolean }[],
    private readonly result: GPUBuffer,
  ) {}

  static async create(gpu: GpuContext, layers: readonly WeightLayer[]): Promise<ParameterCheck> {
    const kernel = await FiniteKernel.create(gpu);
    const slots: { layer: number; bias: boolean; value: GPUBuffer; count: number }[] = [];
    layers.forEach((layer, l) => {
      for (const row of layer.weights) for (const block of row) slots.push({ layer: l, bias: false, value: block.value, count: block.count });
      for (const block of layer.bias) slots.push({ layer: l, bias: true, value: block.value, count: block.count });
    });
    const result = uploadStorage(gpu.device, 'ParameterCheck.result', finiteResultInit(slots.length));
    const dispatches = slots.map((s, slot) =>
      kernel.prepare({ label: `ParameterCheck.L${s.layer + 1}${s.bias ? 'b' : 'W'}.${slot}`, data: s.value, count: s.count, result, slot }),
    );
    return new ParameterCheck(gpu.device, dispatches, slots, result);
  }

  /** Resets the result words and records the checks; read() the outcome once the chunk is submitted. */
  record(chunk: ChunkRecorder): void {
    const init = finiteResultInit(this.slots.length);
    this.device.queue.writeBuffer(this.result, 0, init.buffer, init.byteOffset, init.byteLength);
    for (const d of this.dispatches) chunk.dispatch(d);
  }

  /** The first weight layer holding a non-finite parameter, or null when every parameter is finite. */
  async read(): Promise<NonFiniteParameters | null> {
    const words = await readU32(this.device, this.result, this.slots.length * FINITE_SLOT_WORDS);
    let found: NonFiniteParameters | null = null;
    this.slots.forEach((s, slot) => {
      const { bad } = finiteSlot(words, slot);
      if (bad === 0 || (found && found.layer !== s.layer + 1)) return;
      found ??= { layer: s.layer + 1, weights: 0, bias: 0 };
      if (s.bias) found.bias += bad;
      else found.weights += bad;
    });
    return found;
  }

  destroy(): void {
    for (const d of this.dispatches) d.destroy();
    this.result.destroy();
  }
}
