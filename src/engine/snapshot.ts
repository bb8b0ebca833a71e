// A snapshot: what the observatory reads back at a snapshot step (./observatory.ts), and what every host
// consumes, through a SnapshotSink (./snapshot-sink.ts).

export interface LayerCounts {
  /** Units dead at this snapshot. */
  dead: number;
  /** Units alive now that were dead at an earlier snapshot. */
  revived: number;
  /** Units dead at this or any earlier snapshot. */
  everDead: number;
  /** Units dropped for probe sample 0 at the snapshot's last step. */
  dropped: number;
  /** Units frozen: no training batch row with z > 0 over the last W steps (exactly zero gradient in all of them). */
  frozen: number;
  /** Units with a NaN or ±Inf pre-activation on a probe row or a batch row of the last step: the run diverged. */
  nonFinite: number;
}

export interface LayerSnapshot {
  width: number;
  /** 1 bit per unit: bit (u % 32) of word (u / 32). */
  dead: Uint32Array;
  dropped: Uint32Array;
  revived: Uint32Array;
  frozen: Uint32Array;
  nonFinite: Uint32Array;
  counts: LayerCounts;
}

export interface Snapshot {
  /** Training steps completed when the snapshot was taken (0: before the first step). */
  step: number;
  /**
   * The GPU's own step counter (StepState.step) copied with the snapshot: the canary that says the step ran (it equals
   * `step` on a healthy run; an Observatory checks it before handing the snapshot on).
   */
  gpuStep: number;
  layers: LayerSnapshot[];
  /** Mean loss of each step since the previous snapshot (at most lossHistoryCapacity of them). */
  losses: Float32Array;
  /** Snapshots skipped before this one because every staging buffer was busy (a slow reader). */
  skipped: number;
  /** The single buffer every array above views: transfer it to move a snapshot across a Worker boundary. */
  buffer: ArrayBuffer;
}

/**
 * The step-0 snapshot while it is taken in pieces (Observatory.initialPiece): how far the probe pass got, and per hidden
 * layer the units already proven not dead on the probe set (a positive or non-finite pre-activation on a row measured
 * so far: whatever the other rows give, such a unit is not dead). Every other unit is not decided yet.
 */
export interface PartialSnapshot {
  /** Probe rows measured so far, of probeRows. */
  rowsMeasured: number;
  probeRows: number;
  layers: { width: number; proven: Uint32Array }[];
}
