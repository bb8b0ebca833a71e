// The catalogue of RNG streams, so no two uses of the RNG collide.
import type { Key } from './philox';

/**
 * Every use of the RNG draws from its own stream: key = (seed, stream). A stream id packs the purpose
 * in the high 16 bits and the layer in the low 16, so e.g. layer 2's dropout never shares numbers with
 * layer 2's weight init.
 */
export const RngPurpose = {
  dropout: 1,
  initWeights: 2,
  initBias: 3,
  batchOrder: 4,
  dataset: 5,
  probeSet: 6,
  /** Slowly-changing regression: the bit that flips at each task switch, and the bits drawn every step. */
  bitflip: 7,
  /** Task switches: the input permutation (layer 0) and the class relabelling (layer 1) of each task. */
  taskPermutation: 8,
  /** Task switches: the re-initialised output layer (layer = its weight layer index). */
  taskReset: 9,
  /** Continual backprop: the incoming weights of replaced units (layer = the unit's layer). */
  cbpInit: 10,
  /** Shrink & Perturb: the noise added to every parameter (layer = the weight layer). */
  perturb: 11,
} as const;
export type RngPurpose = keyof typeof RngPurpose;

export function rngKey(seed: number, purpose: RngPurpose, layer = 0): Key {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a u32, got ${seed}`);
  if (!Number.isInteger(layer) || layer < 0 || layer > 0xffff) throw new RangeError(`layer must be in [0, 65535], got ${layer}`);
  return [seed >>> 0, ((RngPurpose[purpose] << 16) | layer) >>> 0];
}
