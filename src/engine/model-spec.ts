// What the engine needs to know about a network, in kernel terms. src/engine/from-config.ts derives it
// from a validated RunConfig; tests build it directly.
import type { ActivationSpec } from '../gpu/kernels/activation';
import type { InitScheme } from '../gpu/kernels/init';
import type { LossKind } from '../gpu/kernels/loss';
import type { OptimizerSpec } from '../gpu/kernels/optimizer';
import type { ScheduleParams } from '../reference/schedule';

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
  /** Rows of the probe set the observatory evaluates (0 when off); bounds shard sizes like the batch. */
  probeRows?: number;
}

/** Number of layers with weights: the hidden layers and the output layer. */
export function weightLayerCount(spec: ModelSpec): number {
  return spec.hidden.length + 1;
}

/** Widths of the activations: input, each hidden layer, output. */
export function activationWidths(spec: ModelSpec): number[] {
  return [spec.inputSize, ...spec.hidden.map((h) => h.width), spec.outputSize];
}
