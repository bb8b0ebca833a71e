// The observatory's per-layer totals, written by history_update in shaders/unitstats.wgsl (dead .. dropped)
// and frozen_pack in shaders/frozen.wgsl (frozen, nonFinite).

/** Index of each total: counts[countsOffset + i]. */
export const LayerCount = {
  /** Units dead at this snapshot. */
  dead: 0,
  /** Units alive at this snapshot that were dead at an earlier one (popcount of revivedBits). */
  revived: 1,
  /** Units dead at this snapshot or any earlier one (first_death_step != NEVER). */
  everDead: 2,
  /** Units set in droppedBits (dropped for sample 0 at the step the bitmap was made for). */
  dropped: 3,
  /** Units frozen over the last W training steps (no batch row with z > 0 or non-finite in any of them). */
  frozen: 4,
  /** Units with a non-finite pre-activation on a probe row or a batch row of the snapshot's last step. */
  nonFinite: 5,
} as const;
export const LAYER_COUNTS = 6;
