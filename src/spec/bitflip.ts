// Slowly-changing regression ("the bit-flipping problem" of Dohare et al.): what the GPU generator
// (shaders/bitflip.wgsl), the host that builds its teacher (src/data/bitflip.ts) and the CPU oracle
// (src/reference/bitflip.ts) agree on.
//
// An input has m + 1 bits: bits [0, flipping) are the task's flipping bits (fixed within a task, one of them
// flips at each task switch), bits [flipping, m) are drawn afresh for every sample, bit m is always 1.
// The teacher: `width` linear threshold units over all m + 1 bits with weights in {−1, +1}; unit h fires when
// x·W[:, h] > tau[h] = beta·(m + 1) − S_h (S_h: its number of −1 weights); target = Σ_h v[h]·fire_h + c, v and c in {−1, +1}.

/** Where each part of the teacher sits in its one f32 buffer: W [(m + 1), width] row-major, then tau, v, c. */
export interface TeacherLayout {
  /** m + 1: the input size, constant bit included. */
  inputs: number;
  width: number;
  tauOffset: number;
  outWeightsOffset: number;
  outBiasOffset: number;
  /** f32 words of the whole buffer. */
  words: number;
}

export function teacherLayout(inputs: number, width: number): TeacherLayout {
  const tauOffset = inputs * width;
  return { inputs, width, tauOffset, outWeightsOffset: tauOffset + width, outBiasOffset: tauOffset + 2 * width, words: tauOffset + 2 * width + 1 };
}

/** A teacher and the flipping bits of task 0: what the host hands the engine for a slowly_changing run. */
export interface BitflipProblem {
  /** m + 1. */
  inputSize: number;
  flipping: number;
  /** [teacherLayout(inputSize, width).words] f32. */
  teacher: Float32Array;
  teacherWidth: number;
  /** [flipping] 0 or 1: the flipping bits of task 0. */
  initialBits: Uint32Array;
}

/** Random bits of one Philox call: the counter's third word walks them in blocks of 128. */
export const RANDOM_BITS_PER_DRAW = 128;

/**
 * Rows of the probe set: every combination of the m − flipping random bits when there are at most `probeSize` of
 * them (the whole current task: 32 for the papers' 5 random bits), else `probeSize` rows of fixed random bits.
 */
export function bitflipProbeRows(inputSize: number, flipping: number, probeSize: number): { rows: number; exhaustive: boolean } {
  const free = inputSize - 1 - flipping;
  if (free <= 30 && 2 ** free <= probeSize) return { rows: 2 ** free, exhaustive: true };
  return { rows: probeSize, exhaustive: false };
}
