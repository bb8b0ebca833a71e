// The way back of snapshots: a ring of staging buffers that snapshot copies are recorded into, inside the
// training command buffers, and that are mapped once their chunk is submitted. Training never waits for a
// reader: when every staging buffer is busy, a snapshot is skipped and counted (its statistics on the GPU
// are still kept, only the copy is lost).
// A snapshot is handed on only once the chunk that filled it (and every chunk before it) resolved clean on the GPU
// (its ChunkCheck); after a fault, nothing later is: next() hands on the good snapshots still on their way and then
// throws the fault.
import type { GpuRunError } from './gpu-faults';
import { bitmapWords } from '../spec/bitmaps';
import { LAYER_COUNTS, LayerCount } from '../spec/layer-counts';
import type { Snapshot } from './snapshot';
import type { ChunkCheck } from './training-hooks';

/** The GPU buffers a snapshot is copied from. */
export interface SnapshotSources {
  /** Per hidden layer, LAYER_COUNTS words. */
  counts: GPUBuffer;
  /** Per hidden layer, its bitmaps. */
  layers: readonly { dead: GPUBuffer; dropped: GPUBuffer; revived: GPUBuffer; frozen: GPUBuffer; nonFinite: GPUBuffer }[];
  /** The trainer's loss ring: mean loss of step t at element t % lossHistoryCapacity. */
  lossHistory: GPUBuffer;
  lossHistoryCapacity: number;
  /** The trainer's StepState: its first word, the GPU's step counter, rides along as the snapshot's canary. */
  stepState: GPUBuffer;
}

/** Where a snapshot's parts sit in a staging buffer, in u32 words. */
interface SlotLayout {
  /** The GPU's step counter. */
  gpuStep: number;
  counts: number;
  layers: { dead: number; dropped: number; revived: number; frozen: number; nonFinite: number; words: number }[];
  losses: number;
  lossCapacity: number;
  totalWords: number;
}

type SlotState = 'free' | 'encoded' | 'mapping' | 'ready';

interface Slot {
  buffer: GPUBuffer;
  state: SlotState;
  step: number;
  lossCount: number;
  /** Snapshots skipped before this one was taken. */
  skipped: number;
}

/** Creates a staging buffer (an AllocationCheck's, so that a ring that does not fit is caught before training). */
export type CreateBuffer = (descriptor: GPUBufferDescriptor & { label: string }) => GPUBuffer;

const U32 = 4;

export class SnapshotRing {
  private readonly slots: Slot[];
  private readonly layout: SlotLayout;
  private readonly ready: Slot[] = [];
  private waiter: (() => void) | null = null;
  /** Step of the latest snapshot taken or skipped; -1 before any. */
  private lastStep = -1;
  private skippedCount = 0;
  private closed = false;
  private destroyed = false;
  /** Once set, no snapshot recorded after the last good one is handed on; next() throws it. */
  private fault: GpuRunError | null = null;

  /**
   * `size` staging buffers, each holding the bitmaps and counts of hidden layers of `widths` and the losses
   * of up to `lossCapacity` steps.
   */
  constructor(
    create: CreateBuffer,
    private readonly widths: readonly number[],
    lossCapacity: number,
    size: number,
  ) {
    if (!Number.isInteger(size) || size < 1) throw new RangeError(`snapshot ring size must be an integer >= 1, got ${size}`);
    this.layout = slotLayout(widths, lossCapacity);
    this.slots = Array.from({ length: size }, (_, i) => ({
      buffer: create({
        label: `Observatory.staging${i}`,
        size: this.layout.totalWords * U32,
        usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
      }),
      state: 'free' as SlotState,
      step: 0,
      lossCount: 0,
      skipped: 0,
    }));
  }

  /** Snapshots skipped so far because every staging buffer was busy. */
  get skipped(): number {
    return this.skippedCount;
  }

  /** Step of the latest snapshot taken or skipped; -1 before any. */
  get lastSnapshotStep(): number {
    return this.lastStep;
  }

  /** Continues the bookkeeping of a resumed run. */
  restore(lastSnapshotStep: number, skipped: number): void {
    this.lastStep = lastSnapshotStep;
    this.skippedCount = skipped;
  }

  /**
   * Records copies of the snapshot of `step` into a free staging buffer: counts, bitmaps and the losses of the
   * steps since the previous snapshot. Counts a skip when none is free.
   */
  record(encoder: GPUCommandEncoder, sources: SnapshotSources, step: number): void {
    const slot = this.slots.find((s) => s.state === 'free');
    if (!slot) {
      this.skippedCount++;
      this.lastStep = step;
      return;
    }
    const layout = this.layout;
    encoder.copyBufferToBuffer(sources.stepState, 0, slot.buffer, layout.gpuStep * U32, U32);
    encoder.copyBufferToBuffer(sources.counts, 0, slot.buffer, layout.counts * U32, this.widths.length * LAYER_COUNTS * U32);
    layout.layers.forEach((l, i) => {
      const from = sources.layers[i];
      encoder.copyBufferToBuffer(from.dead, 0, slot.buffer, l.dead * U32, l.words * U32);
      encoder.copyBufferToBuffer(from.dropped, 0, slot.buffer, l.dropped * U32, l.words * U32);
      encoder.copyBufferToBuffer(from.revived, 0, slot.buffer, l.revived * U32, l.words * U32);
      encoder.copyBufferToBuffer(from.frozen, 0, slot.buffer, l.frozen * U32, l.words * U32);
      encoder.copyBufferToBuffer(from.nonFinite, 0, slot.buffer, l.nonFinite * U32, l.words * U32);
    });
    // Losses of steps (lastStep, step], read from the loss ring (at most two contiguous runs).
    const capacity = sources.lossHistoryCapacity;
    const first = Math.max(this.lastStep, step - layout.lossCapacity, 0);
    const lossCount = step - first;
    let written = 0;
    while (written < lossCount) {
      const ringIndex = (first + written) % capacity;
      const run = Math.min(lossCount - written, capacity - ringIndex);
      encoder.copyBufferToBuffer(sources.lossHistory, ringIndex * U32, slot.buffer, (layout.losses + written) * U32, run * U32);
      written += run;
    }
    slot.state = 'encoded';
    slot.step = step;
    slot.lossCount = lossCount;
    slot.skipped = this.skippedCount;
    this.lastStep = step;
  }

  /**
   * The command buffer holding every copy recorded so far was submitted: map their staging buffers, in step order,
   * and make them ready once `check` resolved clean (a chunk that failed leaves its copies unread).
   */
  submitted(check: ChunkCheck): void {
    const encoded = this.slots.filter((s) => s.state === 'encoded').sort((a, b) => a.step - b.step);
    for (const slot of encoded) this.map(slot, check);
  }

  private map(slot: Slot, check: ChunkCheck): void {
    slot.state = 'mapping';
    Promise.all([slot.buffer.mapAsync(GPUMapMode.READ), check]).then(
      ([, fault]) => {
        if (this.destroyed) return;
        if (fault || this.fault) {
          this.poison(fault ?? this.fault!);
          slot.buffer.unmap();
          slot.state = 'free';
        } else {
          slot.state = 'ready';
          this.ready.push(slot);
          this.ready.sort((a, b) => a.step - b.step);
        }
        this.wake();
      },
      () => {
        // Mapping fails only when the buffer was destroyed (ring destroyed or device lost).
        slot.state = 'free';
        this.wake();
      },
    );
  }

  /**
   * The run failed: hand on no snapshot recorded from now on, nor any not yet known good; next() throws `fault` once
   * the good ones still on their way were read. With `dropReady` (a canary failed on the snapshot just read), the
   * later snapshots already made ready are dropped too.
   */
  poison(fault: GpuRunError, dropReady = false): void {
    this.fault ??= fault;
    // Copies recorded into a chunk that was never submitted will never be mapped.
    for (const slot of this.slots) if (slot.state === 'encoded') slot.state = 'free';
    if (dropReady) {
      for (const slot of this.ready) {
        slot.buffer.unmap();
        slot.state = 'free';
      }
      this.ready.length = 0;
    }
    this.wake();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = null;
    waiter?.();
  }

  /** Snapshots still on their way back from the GPU. */
  private pending(): number {
    return this.slots.filter((s) => s.state === 'encoded' || s.state === 'mapping').length;
  }

  /** See Observatory.next. */
  async next(): Promise<Snapshot | null> {
    for (;;) {
      // After destroy() the staging buffers are gone, mapped or not: nothing is left to read.
      if (this.destroyed) return null;
      const slot = this.ready.shift();
      if (slot) return this.take(slot);
      if (this.fault && this.pending() === 0) throw this.fault;
      if (this.closed && this.pending() === 0) return null;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** No more snapshots will be recorded: next() returns null once those in flight are read. */
  close(): void {
    this.closed = true;
    this.wake();
  }

  private take(slot: Slot): Snapshot {
    const layout = this.layout;
    const buffer = slot.buffer.getMappedRange().slice(0);
    slot.buffer.unmap();
    slot.state = 'free';
    const words = new Uint32Array(buffer);
    const layers = layout.layers.map((l, i) => {
      const c = layout.counts + i * LAYER_COUNTS;
      return {
        width: this.widths[i],
        dead: new Uint32Array(buffer, l.dead * U32, l.words),
        dropped: new Uint32Array(buffer, l.dropped * U32, l.words),
        revived: new Uint32Array(buffer, l.revived * U32, l.words),
        frozen: new Uint32Array(buffer, l.frozen * U32, l.words),
        nonFinite: new Uint32Array(buffer, l.nonFinite * U32, l.words),
        counts: {
          dead: words[c + LayerCount.dead],
          revived: words[c + LayerCount.revived],
          everDead: words[c + LayerCount.everDead],
          dropped: words[c + LayerCount.dropped],
          frozen: words[c + LayerCount.frozen],
          nonFinite: words[c + LayerCount.nonFinite],
        },
      };
    });
    return {
      step: slot.step,
      gpuStep: words[layout.gpuStep],
      layers,
      losses: new Float32Array(buffer, layout.losses * U32, slot.lossCount),
      skipped: slot.skipped,
      buffer,
    };
  }

  /** Frees the staging buffers; a reader waiting in next() gets null. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    for (const s of this.slots) s.buffer.destroy();
    this.ready.length = 0;
    this.wake();
  }
}

function slotLayout(widths: readonly number[], lossCapacity: number): SlotLayout {
  let offset = 0;
  const gpuStep = offset++;
  const counts = offset;
  offset += widths.length * LAYER_COUNTS;
  const layers = widths.map((width) => {
    const words = bitmapWords(width);
    const entry = { dead: offset, dropped: offset + words, revived: offset + 2 * words, frozen: offset + 3 * words, nonFinite: offset + 4 * words, words };
    offset += 5 * words;
    return entry;
  });
  const losses = offset;
  offset += lossCapacity;
  return { gpuStep, counts, layers, losses, lossCapacity, totalWords: Math.max(4, offset) };
}
