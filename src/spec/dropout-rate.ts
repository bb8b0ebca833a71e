// What a dropout rate p becomes on the device: the integer drop threshold and the scale of kept units.
// The mask itself is defined in shaders/dropout.wgsl (CPU oracle: src/reference/dropout.ts).

const TWO_24 = 2 ** 24;

function checkP(p: number): void {
  if (!(p >= 0 && p < 1)) throw new RangeError(`dropout p must be in [0, 1), got p = ${p}`);
}

/**
 * The integer drop threshold on the top 24 bits of a Philox word: P(keep) = 1 - threshold / 2^24.
 * NOTE: an exact integer comparison, so CPU and GPU agree on every mask bit. p is quantised to 2^-24.
 */
export function dropoutThreshold(p: number): number {
  checkP(p);
  const threshold = Math.round(p * TWO_24);
  // p within 2^-25 of 1 would round to "drop everything" (and scale ~1/(1-p) is then meaningless).
  if (threshold >= TWO_24) throw new RangeError(`dropout p = ${p} is too close to 1 (rounds to dropping every unit)`);
  return threshold;
}

/** The f32 factor applied to kept units, so E[y] = x. NOTE: f32 x * scale is IEEE-exact on both sides. */
export function dropoutScale(p: number): number {
  checkP(p);
  return Math.fround(1 / (1 - p));
}
