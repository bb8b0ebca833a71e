// The observatory's per-layer totals, written by history_update in shaders/unitstats.wgsl.

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
} as const;
export const LAYER_COUNTS = 4;
