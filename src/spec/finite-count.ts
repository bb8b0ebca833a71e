// What the non-finite scan (shaders/finite.wgsl) reports about a tensor.

/** Index value meaning "no non-finite element" (as the GPU writes it). */
export const NO_INDEX = 0xffffffff;

export interface FiniteCount {
  /** Elements that are NaN or ±Infinity. */
  bad: number;
  /** Lowest index of such an element, or NO_INDEX. */
  first: number;
}
