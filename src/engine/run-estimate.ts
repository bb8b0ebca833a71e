// What a run will cost on this adapter, before it starts: seconds per step and per snapshot (the cost model,
// ./cost-model.ts, at the adapter's measured throughput, ./calibration.ts) and GPU memory (the layout's estimate,
// ./layout.ts). When a step would be slow, the smaller width, batch or probe set that would bring it under the limit:
// the user decides, nothing is forbidden.
import { LIMITS } from '../config/schema';
import { secondsFor, snapshotWork, stepWork, workTotals, type ActivationBlocks, type KernelWork, type Throughput } from './cost-model';
import type { ModelLayout } from './layout';
import type { ModelSpec } from './model-spec';

/** A step (or a snapshot) slower than this gets a warning and suggestions. */
export const SLOW_STEP_SECONDS = 10;

export interface RunEstimate {
  stepSeconds: number;
  snapshotSeconds: number;
  /** GPU memory the run's buffers take. */
  memoryBytes: number;
  /** Totals behind the seconds. */
  step: KernelWork & { dispatches: number };
  snapshot: KernelWork & { dispatches: number };
  /** Present when a step or a snapshot would take longer than SLOW_STEP_SECONDS. */
  faster?: FasterAlternatives;
}

/** Changes that would bring a step (and a snapshot) under SLOW_STEP_SECONDS, each alone; absent where none does. */
export interface FasterAlternatives {
  /** Every hidden layer at most this wide. */
  width?: number;
  batch?: number;
  /** Probe rows (for a slow snapshot). */
  probeRows?: number;
}

export interface EstimateInput {
  spec: ModelSpec;
  probeRows: number;
  throughput: Throughput;
  memoryBytes: number;
  /** The layout's column blocks (a sharded layer costs a dispatch per block). */
  blocks?: ActivationBlocks;
}

export function estimateRun(input: EstimateInput): RunEstimate {
  const { spec, probeRows, throughput, blocks } = input;
  const step = stepWork(spec, blocks);
  const snapshot = snapshotWork(spec, probeRows, blocks);
  const estimate: RunEstimate = {
    stepSeconds: secondsFor(step, throughput),
    snapshotSeconds: secondsFor(snapshot, throughput),
    memoryBytes: input.memoryBytes,
    step: workTotals(step),
    snapshot: workTotals(snapshot),
  };
  if (estimate.stepSeconds > SLOW_STEP_SECONDS || estimate.snapshotSeconds > SLOW_STEP_SECONDS)
    estimate.faster = fasterAlternatives(spec, probeRows, throughput);
  return estimate;
}

/** The estimate of a built run, from its trainer's spec (with the probe rows) and layout. */
export function estimateBuiltRun(trainer: { spec: ModelSpec; layout: ModelLayout }, throughput: Throughput): RunEstimate {
  const { spec, layout } = trainer;
  return estimateRun({
    spec,
    probeRows: spec.probeRows ?? 0,
    throughput,
    memoryBytes: layout.memory.total,
    blocks: layout.activations.map((a) => a.blocks),
  });
}

/** Halves width, batch and probe rows (each alone, within the config's limits) until a step and a snapshot fit SLOW_STEP_SECONDS. */
function fasterAlternatives(spec: ModelSpec, probeRows: number, throughput: Throughput): FasterAlternatives {
  const fits = (s: ModelSpec, rows: number) =>
    secondsFor(stepWork(s), throughput) <= SLOW_STEP_SECONDS && secondsFor(snapshotWork(s, rows), throughput) <= SLOW_STEP_SECONDS;
  const found: FasterAlternatives = {};
  const widest = Math.max(...spec.hidden.map((h) => h.width));
  for (let width = Math.floor(widest / 2); width >= LIMITS.width.min; width = Math.floor(width / 2)) {
    if (fits({ ...spec, hidden: spec.hidden.map((h) => ({ ...h, width: Math.min(h.width, width) })) }, probeRows)) {
      found.width = width;
      break;
    }
  }
  for (let batch = Math.floor(spec.batch / 2); batch >= LIMITS.batchSize.min; batch = Math.floor(batch / 2)) {
    if (fits({ ...spec, batch }, probeRows)) {
      found.batch = batch;
      break;
    }
  }
  if (secondsFor(snapshotWork(spec, probeRows), throughput) > SLOW_STEP_SECONDS) {
    for (let rows = Math.floor(probeRows / 2); rows >= LIMITS.probeSize.min; rows = Math.floor(rows / 2)) {
      if (secondsFor(snapshotWork(spec, rows), throughput) <= SLOW_STEP_SECONDS) {
        found.probeRows = rows;
        break;
      }
    }
  }
  return found;
}
