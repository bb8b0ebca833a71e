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
import type { BitflipKernel } from '../gpu/kernels/bitflip';
import type { CbpKernel } from '../gpu/kernels/cbp';
import type { PerturbKernel } from '../gpu/kernels/perturb';
import type { TasksKernel } from '../gpu/kernels/tasks';
import type { BitflipProblem } from '../spec/bitflip';
import type { ColumnBlock } from './layout';

/**
 * A data set as the engine holds it: inputs [samples, inputSize]; targets u32 classes [samples] or f32 [samples, outputSize].
 * A streamed problem (`bitflip`: the slowly-changing regression) is generated on the GPU every step instead: then
 * inputs and targets are empty and samples is 0.
 */
export interface TrainingData {
  inputs: Float32Array;
  targets: Float32Array | Uint32Array;
  samples: number;
  bitflip?: BitflipProblem;
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
  /** Only for the runs that need them (non-stationary data, cures). */
  bitflip?: BitflipKernel;
  tasks?: TasksKernel;
  cbp?: CbpKernel;
  perturb?: PerturbKernel;
}

/** Continual backprop's buffers of one hidden layer (src/spec/cbp.ts). */
export interface CbpLayerBuffers {
  /** [width] CbpUnit. */
  units: GPUBuffer;
  /** [CBP_SELECTION_HEADER + maxReplace] u32. */
  selection: GPUBuffer;
  maxReplace: number;
}

/** What non-stationary training and its cures keep on the GPU between steps (checkpointed with the trainer). */
export interface ContinualBuffers {
  /** The slowly-changing regression: the task's flipping bits and the teacher. */
  bitflip?: { problem: BitflipProblem; flipBits: GPUBuffer; teacher: GPUBuffer };
  /** Continual backprop: per hidden layer. */
  cbp?: CbpLayerBuffers[];
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
  /** The current step's targets: [batch] u32 class labels or [batch, outputSize] f32 (the inputs are blocks[0][0].z). */
  batchTargets: GPUBuffer;
  continual: ContinualBuffers;
}
