// The in-memory data set the engine uploads once, plus validation of user arrays and the observatory's probe set.

import { ConfigError, type ConfigIssue, DATASET_MAX_VALUES, LIMITS, naturalLoss, type RunConfig } from '../config/schema';
import type { BitflipProblem } from '../spec/bitflip';
import { rngKey } from '../spec/rng-streams';
import { PhiloxStream } from './rng';

export type DatasetKind = 'classification' | 'regression';

export interface Dataset {
  /** [samples, inputSize] row-major. */
  inputs: Float32Array;
  /** classification: Uint32Array [samples] of labels in [0, outputSize); regression: Float32Array [samples, outputSize]. */
  targets: Float32Array | Uint32Array;
  samples: number;
  inputSize: number;
  outputSize: number;
  kind: DatasetKind;
  /** A streamed problem generated on the GPU (then inputs and targets are empty and samples is 0). */
  bitflip?: BitflipProblem;
}

/** A fixed subset of a data set (rows `indices`, ascending), used by the observatory's probe pass. */
export interface ProbeSet extends Dataset {
  indices: Uint32Array;
}

/** A problem with user data: the message names the source, and the row / column where it applies. */
export class DataError extends Error {
  override name = 'DataError';
}

/** Any n-d array: values in C order plus shape. `NpyArray` and parsed CSV columns satisfy it. */
export interface ArrayInput {
  data: ArrayLike<number>;
  shape: readonly number[];
}

export const fmtShape = (shape: readonly number[]) => `(${shape.join(', ')}${shape.length === 1 ? ',' : ''})`;

/** Throws DataError naming row and column of the first NaN or infinity in a [rows, cols] array. */
export function checkFinite(data: ArrayLike<number>, cols: number, what: string): void {
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (!Number.isFinite(v)) {
      throw new DataError(`${what}: ${Number.isNaN(v) ? 'NaN' : String(v)} at row ${Math.floor(i / cols)}, column ${i % cols} (0-based); data must be finite`);
    }
  }
}

export interface FromArraysOptions {
  kind: DatasetKind;
  /** Number of classes (classification); default: largest label + 1. */
  classes?: number;
  /** Shown in error messages, e.g. the file name. */
  name?: string;
  /** Largest samples × features accepted (default DATASET_MAX_VALUES). */
  maxValues?: number;
}

/**
 * Validate user arrays and build a Dataset. Inputs must be 2-D [samples, features]; classification targets 1-D
 * integer labels ([samples] or [samples, 1]); regression targets [samples] or [samples, outputs].
 */
export function datasetFromArrays(x: ArrayInput, y: ArrayInput, options: FromArraysOptions): Dataset {
  const name = options.name ?? 'data set';
  const maxValues = options.maxValues ?? DATASET_MAX_VALUES;
  const checkLength = (a: ArrayInput, what: string) => {
    const n = a.shape.reduce((p, s) => p * s, 1);
    if (a.shape.some((s) => !Number.isInteger(s) || s < 0)) throw new DataError(`${name}: ${what} shape ${fmtShape(a.shape)} is not a shape`);
    if (a.data.length !== n) throw new DataError(`${name}: ${what} shape ${fmtShape(a.shape)} needs ${n} values, got ${a.data.length}`);
  };
  checkLength(x, 'inputs');
  checkLength(y, 'targets');
  if (x.shape.length !== 2) throw new DataError(`${name}: inputs must be 2-D [samples, features], got shape ${fmtShape(x.shape)}`);
  const [samples, inputSize] = x.shape;
  if (samples < 1) throw new DataError(`${name}: inputs have no rows`);
  if (inputSize < 1 || inputSize > LIMITS.inputSize.max) throw new DataError(`${name}: ${inputSize} input features is not in [1, ${LIMITS.inputSize.max}]`);
  if (samples > LIMITS.samples.max) throw new DataError(`${name}: ${samples} samples exceeds the limit of ${LIMITS.samples.max}`);
  if (samples * inputSize > maxValues)
    throw new DataError(`${name}: inputs ${fmtShape(x.shape)} = ${samples * inputSize} values exceed the limit of ${maxValues}`);
  if (y.shape.length < 1 || y.shape.length > 2) throw new DataError(`${name}: targets must be 1-D or 2-D, got shape ${fmtShape(y.shape)}`);
  if (y.shape[0] !== samples) throw new DataError(`${name}: inputs have ${samples} rows but targets have ${y.shape[0]}`);
  const inputs = Float32Array.from(x.data);
  checkFinite(inputs, inputSize, `${name} inputs`);

  if (options.kind === 'classification') {
    if (y.shape.length === 2 && y.shape[1] !== 1) {
      throw new DataError(`${name}: classification targets must be integer labels of shape (${samples},), got ${fmtShape(y.shape)} (one-hot? take the argmax)`);
    }
    const labels = new Uint32Array(samples);
    let max = 0;
    for (let i = 0; i < samples; i++) {
      const v = y.data[i];
      if (!Number.isInteger(v) || v < 0) throw new DataError(`${name}: label ${String(v)} at row ${i} is not a non-negative integer`);
      if (options.classes !== undefined && v >= options.classes)
        throw new DataError(`${name}: label ${v} at row ${i} is not in [0, ${options.classes}) (classes = ${options.classes})`);
      labels[i] = v;
      if (v > max) max = v;
    }
    const classes = options.classes ?? max + 1;
    if (classes < LIMITS.classes.min || classes > LIMITS.classes.max)
      throw new DataError(`${name}: ${classes} classes is not in [${LIMITS.classes.min}, ${LIMITS.classes.max}]`);
    return { inputs, targets: labels, samples, inputSize, outputSize: classes, kind: 'classification' };
  }
  const outputSize = y.shape.length === 2 ? y.shape[1] : 1;
  if (outputSize < 1 || outputSize > LIMITS.outputSize.max)
    throw new DataError(`${name}: ${outputSize} target columns is not in [1, ${LIMITS.outputSize.max}]`);
  if (samples * outputSize > maxValues)
    throw new DataError(`${name}: targets ${fmtShape(y.shape)} = ${samples * outputSize} values exceed the limit of ${maxValues}`);
  const targets = Float32Array.from(y.data);
  checkFinite(targets, outputSize, `${name} targets`);
  return { inputs, targets, samples, inputSize, outputSize, kind: 'regression' };
}

/**
 * Check that a (loaded) data set fits the run: inputSize, outputSize, loss and batchSize against its shape.
 * Throws ConfigError naming the config field and the data set's number.
 */
export function checkDatasetForConfig(dataset: Dataset, config: RunConfig): void {
  const issues: ConfigIssue[] = [];
  if (config.inputSize !== dataset.inputSize)
    issues.push({ path: 'inputSize', message: `${config.inputSize} does not match the data set's ${dataset.inputSize} input features` });
  if (config.outputSize !== dataset.outputSize) {
    const what = dataset.kind === 'classification' ? 'classes' : 'target columns';
    issues.push({ path: 'outputSize', message: `${config.outputSize} does not match the data set's ${dataset.outputSize} ${what}` });
  }
  const want = dataset.kind === 'regression' ? 'mse' : naturalLoss('gaussian_mixture');
  if (config.loss !== want) issues.push({ path: 'loss', message: `"${config.loss}" does not fit a ${dataset.kind} data set (it needs loss "${want}")` });
  if (config.batchSize > dataset.samples)
    issues.push({ path: 'batchSize', message: `${config.batchSize} is larger than the data set's ${dataset.samples} samples` });
  if (issues.length > 0) throw new ConfigError(issues, 'run configuration for this data set');
}

/** Rows `indices` of a data set, as a new data set. */
export function selectRows(dataset: Dataset, indices: Uint32Array): ProbeSet {
  const { inputSize, outputSize } = dataset;
  const inputs = new Float32Array(indices.length * inputSize);
  const classification = dataset.kind === 'classification';
  const targets = classification ? new Uint32Array(indices.length) : new Float32Array(indices.length * outputSize);
  indices.forEach((row, i) => {
    inputs.set(dataset.inputs.subarray(row * inputSize, (row + 1) * inputSize), i * inputSize);
    if (classification) targets[i] = dataset.targets[row];
    else targets.set(dataset.targets.subarray(row * outputSize, (row + 1) * outputSize), i * outputSize);
  });
  return { ...dataset, inputs, targets, samples: indices.length, indices };
}

/**
 * A fixed random subset of `min(size, samples)` distinct rows (Philox stream 'probeSet'; partial Fisher–Yates),
 * in ascending row order. The same seed always picks the same rows.
 */
export function probeSet(dataset: Dataset, size: number, seed: number): ProbeSet {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`probe size must be a positive integer, got ${size}`);
  const n = dataset.samples;
  const k = Math.min(size, n);
  const perm = new Uint32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const rng = new PhiloxStream(rngKey(seed, 'probeSet'), 0);
  for (let i = 0; i < k; i++) {
    const j = i + rng.below(n - i);
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return selectRows(dataset, perm.slice(0, k).sort());
}
