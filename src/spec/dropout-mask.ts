// Dropout's mask on the CPU, for production code that must know what the GPU drew: one Philox4x32-10 call at
// counter (unit >> 2, row, step, 0) gives the words of units 4g .. 4g + 3; a unit is kept when (word >> 8) >= the
// threshold (./dropout-rate.ts). The same formula as shaders/dropout_mask.wgsl; src/reference/dropout.ts is the
// independent oracle the tests check both against.
import { philox4x32, type Key } from './philox';

/** How many of a layer's first `width` units dropout drops for batch row `row` at the 0-based step `stepIndex`. */
export function droppedUnitCount(key: Key, stepIndex: number, row: number, width: number, threshold: number): number {
  const words = new Uint32Array(4);
  let dropped = 0;
  for (let group = 0; group * 4 < width; group++) {
    philox4x32([group, row, stepIndex, 0], key, words);
    const units = Math.min(4, width - group * 4);
    for (let i = 0; i < units; i++) if (words[i] >>> 8 < threshold) dropped++;
  }
  return dropped;
}
