// CPU mirror of shaders/gather.wgsl: which samples make up the minibatch of step t (with replacement).
import { mulHiU32, philox4x32, type Key } from './philox';

export function batchIndices(key: Key, step: number, batch: number, samples: number): Uint32Array {
  const out = new Uint32Array(batch);
  const words = new Uint32Array(4);
  for (let b = 0; b < batch; b++) {
    if ((b & 3) === 0) philox4x32([b >>> 2, step >>> 0, 0, 0], key, words);
    out[b] = mulHiU32(words[b & 3], samples);
  }
  return out;
}

/** Copies the chosen rows: inputs [samples, inputSize] -> [batch, inputSize]; same for targets. */
export function gatherRows<T extends Float32Array | Uint32Array>(source: T, width: number, indices: Uint32Array): T {
  const out = new (source.constructor as { new (n: number): T })(indices.length * width);
  indices.forEach((sample, row) => out.set(source.subarray(sample * width, (sample + 1) * width), row * width));
  return out;
}
