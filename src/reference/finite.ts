// CPU mirror of shaders/finite.wgsl: how many elements of a tensor are NaN or ±Infinity, and the first one.
import { NO_INDEX, type FiniteCount } from '../spec/finite-count';

/** Counts the non-finite elements of data[offset, offset + count). */
export function countNonFinite(data: Float32Array, offset = 0, count = data.length - offset): FiniteCount {
  if (!Number.isInteger(offset) || !Number.isInteger(count) || offset < 0 || count < 0 || offset + count > data.length) {
    throw new RangeError(`elements [${offset}, ${offset + count}) are outside an array of ${data.length}`);
  }
  let bad = 0;
  let first = NO_INDEX;
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(data[offset + i])) {
      if (bad === 0) first = i;
      bad++;
    }
  }
  return { bad, first };
}
