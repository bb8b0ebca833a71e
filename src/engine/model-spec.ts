// What the engine needs to know about a network, in kernel terms. src/engine/from-config.ts derives it
// from a validated RunConfig; tests build it directly.
import type { ActivationSpec } from '../spec/activations';
import type { InitScheme } from '../spec/init-schemes';
import type { LossKind } from '../spec/loss-kinds';
import type { OptimizerSpec } from '../spec/optimizers';
import type { ScheduleParams } from '../spec/lr-schedule';

export interface LayerInit {
  weights: InitScheme;
  bias: InitScheme;
}

export interface HiddenLayerSpec {
  width: number;
  activation: ActivationSpec;
  /** Dropout probability applied to this layer's output, in [0, 1). */
  dropout: number;
  init: LayerInit;
}

/** Task switches: task k covers steps [k·every, (k+1)·every). See TasksSchema in src/config/schema.ts. */
export interface TasksSpec {
  every: number;
  permuteInputs: boolean;
  shuffleLabels: boolean;
  resetOutput: boolean;
}

/** Continual backprop (shaders/cbp.wgsl), on every hidden layer. */
export interface ContinualBackpropSpec {
  replacementRate: number;
  decay: number;
  maturity: number;
}

/** Shrink & Perturb (shaders/perturb.wgsl), on every parameter. */
export interface ShrinkPerturbSpec {
  shrink: number;
  noise: number;
  every: number;
}

export interface ModelSpec {
  inputSize: number;
  outputSize: number;
  loss: LossKind;
  batch: number;
  /** Dropout on the network's input, in [0, 1). */
  inputDropout: number;
  hidden: HiddenLayerSpec[];
  outputInit: LayerInit;
  optimizer: OptimizerSpec;
  schedule: ScheduleParams;
  seed: number;
  /** Training steps recorded into one command buffer. */
  stepsPerSubmit: number;
  /** Upper bound on columns per shard; unset: as wide as the device's binding limit allows. */
  shardColumns?: number;
  /** Task switches; absent: one task (stationary data). */
  tasks?: TasksSpec;
  /** Absent: off. */
  continualBackprop?: ContinualBackpropSpec;
  /** Absent: off. */
  shrinkPerturb?: ShrinkPerturbSpec;
  /** Rows of the probe set the observatory evaluates (0 when off). */
  probeRows?: number;
  /**
   * Probe rows evaluated per pass (the observatory walks the probe set in chunks of this many rows, so its
   * buffers hold chunk × width values, not probeRows × width); unset: see probeChunkRows in layout.ts.
   */
  probeChunkRows?: number;
}

/** Probe pre-activations of one chunk are kept to this many bytes per layer (unless one row is wider). */
export const PROBE_CHUNK_BYTES = 64 * 1024 * 1024;

/**
 * Rows of the probe set evaluated per pass: all of them when every layer's chunk stays within
 * PROBE_CHUNK_BYTES, else as many as fit (at least 1). A 1,048,576-unit layer with 256 probe rows would
 * otherwise need 1 GiB for its probe pre-activations alone; in chunks of 16 rows it needs 64 MiB.
 */
export function probeChunkRows(spec: ModelSpec): number {
  const rows = spec.probeRows ?? 0;
  if (rows === 0) return 0;
  if (spec.probeChunkRows !== undefined) return Math.min(rows, spec.probeChunkRows);
  const widest = Math.max(...spec.hidden.map((h) => h.width));
  return Math.max(1, Math.min(rows, Math.floor(PROBE_CHUNK_BYTES / (4 * widest))));
}

/**
 * Rows of each slice the probe pass walks over `rows` probe rows: one slice when they fit probeChunkRows, else a short
 * first slice (1/16 of a chunk, at least 1 row: the first piece of a step-0 snapshot taken in pieces is one slice, so
 * the first proven units show after a fraction of a slice's time) and then chunks of probeChunkRows rows.
 */
export function probeSliceRows(spec: ModelSpec, rows: number): number[] {
  const chunk = Math.max(1, Math.min(rows, probeChunkRows(spec)));
  if (rows <= chunk) return rows > 0 ? [rows] : [];
  const out = [Math.max(1, Math.floor(chunk / 16))];
  for (let first = out[0]; first < rows; first += chunk) out.push(Math.min(chunk, rows - first));
  return out;
}

/** Widths of the activations: input, each hidden layer, output. */
export function activationWidths(spec: ModelSpec): number[] {
  return [spec.inputSize, ...spec.hidden.map((h) => h.width), spec.outputSize];
}
