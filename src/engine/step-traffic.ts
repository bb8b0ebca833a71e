// What one training step costs in GPU work items, read off its dispatch list (./step-graph.ts): how many compute
// dispatches it encodes, and a traffic model of the bytes they move. Used by bench/train.ts to compare the fused
// and unfused steps; no GPU work is submitted.
import type { Dispatch } from '../gpu/dispatch';

export interface StepTraffic {
  /** Compute dispatches one step encodes (dispatchWorkgroups calls). */
  dispatches: number;
  /**
   * Bytes the step reads and writes, modelled as: each storage buffer a dispatch binds, counted once at its full
   * size (an operand read once, a result written once; a buffer both read and written, e.g. an accumulated C, once).
   * Uniforms are left out. It overstates what a dispatch binding a whole buffer touches only a part of (the gather
   * binds the whole data set and reads a batch of it), the same way with and without fusion.
   */
  bytes: number;
}

/** Encodes the dispatches into a pass that only counts, and sums the bytes of the buffers each one binds. */
export function stepTraffic(dispatches: readonly Dispatch[]): StepTraffic {
  let count = 0;
  const counter = {
    setPipeline() {},
    setBindGroup() {},
    dispatchWorkgroups() {
      count++;
    },
    dispatchWorkgroupsIndirect() {
      count++;
    },
  } as unknown as GPUComputePassEncoder;
  let bytes = 0;
  for (const d of dispatches) {
    d.encode(counter);
    for (const buffer of new Set(d.buffers)) {
      if ((buffer.usage & GPUBufferUsage.UNIFORM) === 0) bytes += buffer.size;
    }
  }
  return { dispatches: count, bytes };
}
