// The GPU buffers of a model in training, as the Trainer allocates them (src/engine/trainer.ts) and as the
// graphs built over them read them: the step (./step-graph.ts), the observatory (./observatory-graph.ts) and
// the parameter check (./parameter-check.ts). The Trainer owns every buffer here; the graphs only bind them.
import type { ActivationKernel } from '../gpu/kernels/activation';
import type { BiasKernel } from '../gpu/kernels/bias';
import type { DropoutKernel } from '../gpu/kernels/dropout';
import type { GatherKernel } from '../gpu/kernels/gather';
import type { InitKernel } from '../gpu/kernels/init';
import type { LossKernel } from '../gpu/kernels/loss';
import type { MatmulKernel } from '../gpu/kernels/matmul';
import type { OptimizerKernel } from '../gpu/kernels/optimizer';
import type { ScheduleKernel } from '../gpu/kernels/schedule';
import type { ColumnBlock } from './layout';

/** A data set as the engine holds it: inputs [samples, inputSize]; targets u32 classes [samples] or f32 [samples, outputSize]. */
export interface TrainingData {
  inputs: Float32Array;
  targets: Float32Array | Uint32Array;
  samples: number;
}

export interface ParamBlock {
  value: GPUBuffer;
  grad: GPUBuffer;
  state: GPUBuffer[];
  count: number;
}

/** One column block of a layer's activations, and the buffers it needs through the step. */
export interface ActivationBlock extends ColumnBlock {
  /** Pre-activation Z [batch, width]; kept for act'(Z) in the backward pass. */
  z: GPUBuffer;
  /** act(Z) before dropout; reused for dL/dA in the backward pass. Absent without dropout. */
  h?: GPUBuffer;
  /** Layer output Y (after dropout): the next layer's input; reused for dL/dZ in the backward pass. */
  y: GPUBuffer;
  /** dL/dY, written by the next layer's backward pass. */
  g: GPUBuffer;
}

export interface WeightLayer {
  /** weights[i][j]: rows from input block i, columns from output block j. */
  weights: ParamBlock[][];
  bias: ParamBlock[];
}

/** The kernels, created once per trainer (pipelines are cached per device). */
export interface Kernels {
  matmul: MatmulKernel;
  bias: BiasKernel;
  activation: ActivationKernel;
  dropout: DropoutKernel;
  loss: LossKernel;
  optimizer: OptimizerKernel;
  init: InitKernel;
  gather: GatherKernel;
  schedule: ScheduleKernel;
}

/** What graphs built beside the step bind (with the trainer's kernels): they record dispatches over them, never free them. */
export interface ModelBuffers {
  /** Per activation (0 = input, 1..L hidden, L+1 logits), its column blocks. */
  blocks: readonly ActivationBlock[][];
  /** Per weight layer (hidden layers, then output), its parameter blocks. */
  layers: readonly WeightLayer[];
  /** The StepState words: the step counter and schedule the kernels derive their randomness and rates from. */
  stepState: GPUBuffer;
  /** Mean loss of step t at element t % lossHistoryCapacity. */
  lossHistory: GPUBuffer;
  lossHistoryCapacity: number;
}
