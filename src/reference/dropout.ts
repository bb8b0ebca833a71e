// Inverted dropout on the CPU: the oracle for shaders/dropout.wgsl, bit for bit.
// keep(unit) <=> (philox(key, (unit >> 2, sample, step, 0))[unit & 3] >>> 8) >= threshold; y = keep ? x * scale : 0.
import { bitmapWords } from '../spec/bitmaps';
import { dropoutScale, dropoutThreshold } from '../spec/dropout-rate';
import { philox4x32, type Key } from '../spec/philox';

/** Whether `unit` (global index in the layer) of batch row `sample` is kept at training step `step`. */
export function dropoutKeep(key: Key, step: number, sample: number, unit: number, threshold: number): boolean {
  const word = philox4x32([unit >>> 2, sample, step, 0], key)[unit & 3];
  return word >>> 8 >= threshold;
}

export interface DropoutReferenceArgs {
  p: number;
  key: Key;
  step: number;
  rows: number;
  /** Units in this block. */
  cols: number;
  /** Global unit index of the block's first column. */
  unitOffset?: number;
}

function applyMask(args: DropoutReferenceArgs, x: Float32Array): Float32Array {
  const { p, key, step, rows, cols, unitOffset = 0 } = args;
  if (x.length !== rows * cols) throw new RangeError(`dropout: input has ${x.length} elements, expected ${rows}x${cols}`);
  const threshold = dropoutThreshold(p);
  const scale = dropoutScale(p);
  const y = new Float32Array(rows * cols);
  const words = new Uint32Array(4);
  for (let r = 0; r < rows; r++) {
    let group = -1;
    for (let c = 0; c < cols; c++) {
      const unit = unitOffset + c;
      if (unit >>> 2 !== group) {
        group = unit >>> 2;
        philox4x32([group, r, step, 0], key, words);
      }
      y[r * cols + c] = words[unit & 3] >>> 8 >= threshold ? Math.fround(x[r * cols + c] * scale) : 0;
    }
  }
  return y;
}

/** y = mask ⊙ input · scale, input [rows, cols] row-major (dense). */
export function dropoutForward(args: DropoutReferenceArgs & { input: Float32Array }): Float32Array {
  return applyMask(args, args.input);
}

/** dX = mask ⊙ dY · scale: the forward formula with the same mask. */
export function dropoutBackward(args: DropoutReferenceArgs & { dY: Float32Array }): Float32Array {
  return applyMask(args, args.dY);
}

/** ceil(cols / 32) words; bit (u % 32) of word (u / 32) is set when block column u of row `sample` is dropped. */
export function dropoutMaskBits(args: Omit<DropoutReferenceArgs, 'rows'> & { sample: number }): Uint32Array {
  const { p, key, step, sample, cols, unitOffset = 0 } = args;
  const threshold = dropoutThreshold(p);
  const bits = new Uint32Array(bitmapWords(cols));
  for (let c = 0; c < cols; c++) {
    if (!dropoutKeep(key, step, sample, unitOffset + c, threshold)) bits[c >>> 5] |= 1 << (c & 31);
  }
  return bits;
}
