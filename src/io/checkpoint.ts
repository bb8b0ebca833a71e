// A training checkpoint as a safetensors file, readable as-is by PyTorch (safetensors.torch.load_file) and
// numpy users. Browser-safe; writing it to disk atomically is src/io/atomic-file.ts's job.
//
// Tensors (l = 1-based weight layer: hidden layers then output; h = 1-based hidden layer):
//   layers.l.weight            F32 [fanIn, fanOut]   (x @ W + b, row-major)
//   layers.l.bias              F32 [fanOut]
//   layers.l.{weight,bias}.S   optimizer state of the same shape, S = momentum | adam_m, adam_v (none for SGD)
//   step_state                 U32 [8]   StepState words (step, lr, bias corrections, beta powers; f32 as bits)
//   loss_history               F32 [capacity]   mean loss of step t at t % capacity
//   unit_history.h             U32 [width, 8]   the observatory's per-unit history (only with an observatory)
//   train_record.h             U32 [width, 4]   the per-unit training record behind "frozen" (src/spec/train-record.ts);
//                                               absent in checkpoints written before it existed
//   task_bits                  U32 [flipping]   slowly-changing regression: the current task's flipping bits
//   cbp.h.units                U32 [width, 6]   continual backprop: per unit utility, decay^age, age, score, activity,
//                                               outgoing (f32 as bits; src/spec/cbp.ts)
//   cbp.h.accumulator          U32 [2]          continual backprop: replacements owed, whole part and fraction · 2^32
// Metadata: format, version, step, optimizer, config (JSON); with an observatory also
// observatory.last_snapshot_step and observatory.skipped.
import type { ObservatoryState } from '../engine/observatory';
import type { ContinualState, LayerState, TrainerState } from '../engine/trainer';
import { CBP_UNIT_WORDS } from '../spec/cbp';
import { STEP_STATE_WORDS } from '../spec/step-state';
import { TRAIN_RECORD_WORDS } from '../spec/train-record';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type SafetensorsLimits, type Tensor } from './safetensors';

export { CheckpointError };

export const CHECKPOINT_FORMAT = 'deadunits-checkpoint';
export const CHECKPOINT_VERSION = 1;

const MAX_STEP = 0xffff_ffff;

/** Names of the optimizer state buffers, in the order of the optimizer kernel's state1, state2. */
const OPTIMIZER_STATE_NAMES: Record<TrainerState['optimizer'], readonly string[]> = {
  sgd: [],
  momentum: ['momentum'],
  adam: ['adam_m', 'adam_v'],
  adamw: ['adam_m', 'adam_v'],
};

export interface CheckpointState {
  trainer: TrainerState;
  /** Present when the run had an observatory. */
  observatory?: ObservatoryState;
}

export interface Checkpoint extends CheckpointState {
  step: number;
  /** The run configuration as saved (parsed JSON, not validated here: parse it with the config schema). */
  config: unknown;
}

/** Encodes a trainer's (and observatory's) state and the run configuration as safetensors bytes. */
export function checkpointToSafetensors(state: CheckpointState, config: object): Uint8Array {
  const { trainer, observatory } = state;
  const stateNames = OPTIMIZER_STATE_NAMES[trainer.optimizer];
  if (!stateNames) throw new CheckpointError(`optimizer ${JSON.stringify(trainer.optimizer)} is unknown`, undefined, 'optimizer');
  const tensors: Record<string, Tensor> = {};
  trainer.layers.forEach((layer, index) => {
    const l = index + 1;
    const fanOut = layer.bias.length;
    const fanIn = layer.weights.length / fanOut;
    if (!Number.isInteger(fanIn))
      throw new CheckpointError(`layer ${l}: ${layer.weights.length} weights do not divide into rows of ${fanOut}`, `layers.${l}.weight`, 'shape');
    if (layer.weightState.length !== stateNames.length || layer.biasState.length !== stateNames.length) {
      throw new CheckpointError(
        `layer ${l}: ${trainer.optimizer} keeps ${stateNames.length} state buffers, got ${layer.weightState.length} and ${layer.biasState.length}`,
        `layers.${l}`,
        'optimizer',
      );
    }
    tensors[`layers.${l}.weight`] = { dtype: 'F32', shape: [fanIn, fanOut], data: layer.weights };
    tensors[`layers.${l}.bias`] = { dtype: 'F32', shape: [fanOut], data: layer.bias };
    stateNames.forEach((name, s) => {
      tensors[`layers.${l}.weight.${name}`] = { dtype: 'F32', shape: [fanIn, fanOut], data: layer.weightState[s] };
      tensors[`layers.${l}.bias.${name}`] = { dtype: 'F32', shape: [fanOut], data: layer.biasState[s] };
    });
  });
  tensors.step_state = { dtype: 'U32', shape: [trainer.stepState.length], data: trainer.stepState };
  tensors.loss_history = { dtype: 'F32', shape: [trainer.lossHistory.length], data: trainer.lossHistory };
  const continual = trainer.continual;
  if (continual?.taskBits) tensors.task_bits = { dtype: 'U32', shape: [continual.taskBits.length], data: continual.taskBits };
  continual?.cbp?.forEach(({ units, accumulator }, index) => {
    tensors[`cbp.${index + 1}.units`] = { dtype: 'U32', shape: [units.length / CBP_UNIT_WORDS, CBP_UNIT_WORDS], data: units };
    tensors[`cbp.${index + 1}.accumulator`] = { dtype: 'U32', shape: [2], data: accumulator };
  });
  const metadata: Record<string, string> = {
    format: CHECKPOINT_FORMAT,
    version: String(CHECKPOINT_VERSION),
    step: String(trainer.step),
    optimizer: trainer.optimizer,
    config: JSON.stringify(config),
  };
  if (observatory) {
    observatory.unitHistory.forEach((words, index) => {
      tensors[`unit_history.${index + 1}`] = { dtype: 'U32', shape: [words.length / UNIT_HISTORY_WORDS, UNIT_HISTORY_WORDS], data: words };
    });
    observatory.trainRecord?.forEach((words, index) => {
      tensors[`train_record.${index + 1}`] = { dtype: 'U32', shape: [words.length / TRAIN_RECORD_WORDS, TRAIN_RECORD_WORDS], data: words };
    });
    metadata['observatory.last_snapshot_step'] = String(observatory.lastSnapshotStep);
    metadata['observatory.skipped'] = String(observatory.skipped);
  }
  return encodeSafetensors(tensors, metadata);
}

function integerField(metadata: Record<string, string>, key: string, min: number, max: number): number {
  const text = metadata[key];
  if (text === undefined) throw new CheckpointError(`metadata "${key}" is missing`, '__metadata__', key);
  const value = /^-?\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new CheckpointError(`metadata "${key}" = ${JSON.stringify(text)} is not an integer in [${min}, ${max}]`, '__metadata__', key);
  return value;
}

/**
 * Decodes and checks a checkpoint: format and version, every tensor a layer needs with matching shapes
 * (each layer's fanIn is the previous layer's fanOut), no unknown tensors, finite parameters and optimizer
 * state, step_state naming the same step as the metadata. Throws CheckpointError naming the tensor.
 */
export function checkpointFromSafetensors(bytes: Uint8Array, limits?: SafetensorsLimits): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, limits);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `metadata "format" is ${JSON.stringify(metadata.format)}; expected "${CHECKPOINT_FORMAT}" (not a deadunits checkpoint)`,
      '__metadata__',
      'format',
    );
  }
  const version = integerField(metadata, 'version', 0, Number.MAX_SAFE_INTEGER);
  if (version !== CHECKPOINT_VERSION)
    throw new CheckpointError(`checkpoint version ${version} is not supported (this build reads version ${CHECKPOINT_VERSION})`, '__metadata__', 'version');
  const step = integerField(metadata, 'step', 0, MAX_STEP);
  const optimizer = metadata.optimizer as TrainerState['optimizer'];
  if (!Object.prototype.hasOwnProperty.call(OPTIMIZER_STATE_NAMES, optimizer)) {
    throw new CheckpointError(
      `metadata "optimizer" = ${JSON.stringify(optimizer)} is not one of ${Object.keys(OPTIMIZER_STATE_NAMES).join(', ')}`,
      '__metadata__',
      'optimizer',
    );
  }
  let config: unknown;
  if (metadata.config === undefined) throw new CheckpointError('metadata "config" is missing', '__metadata__', 'config');
  try {
    config = JSON.parse(metadata.config);
  } catch (error) {
    throw new CheckpointError(`metadata "config" is not valid JSON: ${(error as Error).message}`, '__metadata__', 'config');
  }

  const used = new Set<string>();
  const take = (name: string, dtype: Tensor['dtype'], shape: number[] | ((shape: number[]) => boolean), what: string): Tensor => {
    const tensor = tensors[name];
    if (!tensor) throw new CheckpointError(`tensor "${name}" is missing`, name, 'name');
    if (tensor.dtype !== dtype) throw new CheckpointError(`tensor "${name}": dtype ${tensor.dtype}; expected ${dtype}`, name, 'dtype');
    const ok = typeof shape === 'function' ? shape(tensor.shape) : tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
    if (!ok) throw new CheckpointError(`tensor "${name}": shape [${tensor.shape.join(', ')}]; expected ${what}`, name, 'shape');
    used.add(name);
    return tensor;
  };
  const finite = (name: string, data: Float32Array): Float32Array => {
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new CheckpointError(`tensor "${name}": element ${i} is ${data[i]}; parameters and optimizer state must be finite`, name, 'data');
    }
    return data;
  };

  const stateNames = OPTIMIZER_STATE_NAMES[optimizer];
  const layers: LayerState[] = [];
  let fanIn: number | undefined;
  for (let l = 1; tensors[`layers.${l}.weight`] !== undefined; l++) {
    const weightName = `layers.${l}.weight`;
    const w = take(
      weightName,
      'F32',
      (s) => s.length === 2 && s[0] > 0 && s[1] > 0 && (fanIn === undefined || s[0] === fanIn),
      fanIn === undefined ? '[fanIn, fanOut]' : `[${fanIn}, fanOut] (fanOut of layer ${l - 1})`,
    );
    const shape = w.shape;
    const biasName = `layers.${l}.bias`;
    const layer: LayerState = {
      weights: finite(weightName, w.data as Float32Array),
      bias: finite(biasName, take(biasName, 'F32', [shape[1]], `[${shape[1]}]`).data as Float32Array),
      weightState: [],
      biasState: [],
    };
    for (const s of stateNames) {
      layer.weightState.push(finite(`${weightName}.${s}`, take(`${weightName}.${s}`, 'F32', shape, `[${shape.join(', ')}]`).data as Float32Array));
      layer.biasState.push(finite(`${biasName}.${s}`, take(`${biasName}.${s}`, 'F32', [shape[1]], `[${shape[1]}]`).data as Float32Array));
    }
    layers.push(layer);
    fanIn = shape[1];
  }
  if (layers.length === 0) throw new CheckpointError('tensor "layers.1.weight" is missing', 'layers.1.weight', 'name');

  const stepState = take('step_state', 'U32', [STEP_STATE_WORDS], `[${STEP_STATE_WORDS}]`).data as Uint32Array;
  if (stepState[0] !== step) throw new CheckpointError(`tensor "step_state": names step ${stepState[0]}, metadata "step" is ${step}`, 'step_state', 'data');
  const lossHistory = take('loss_history', 'F32', (s) => s.length === 1 && s[0] > 0, '[capacity > 0]').data as Float32Array;

  let continual: ContinualState | undefined;
  if (tensors.task_bits !== undefined) continual = { taskBits: take('task_bits', 'U32', (s) => s.length === 1, '[flipping]').data as Uint32Array };
  if (tensors['cbp.1.units'] !== undefined) {
    const cbp: NonNullable<ContinualState['cbp']> = [];
    for (let h = 1; h < layers.length; h++) {
      const width = layers[h - 1].bias.length;
      cbp.push({
        units: take(`cbp.${h}.units`, 'U32', [width, CBP_UNIT_WORDS], `[${width}, ${CBP_UNIT_WORDS}] (width of hidden layer ${h})`).data as Uint32Array,
        accumulator: take(`cbp.${h}.accumulator`, 'U32', [2], '[2]').data as Uint32Array,
      });
    }
    continual = { ...continual, cbp };
  }

  let observatory: ObservatoryState | undefined;
  if (metadata['observatory.last_snapshot_step'] !== undefined || tensors['unit_history.1'] !== undefined) {
    const unitHistory: Uint32Array[] = [];
    // One history per hidden layer: every weight layer but the output.
    for (let h = 1; h < layers.length; h++) {
      const width = layers[h - 1].bias.length;
      unitHistory.push(
        take(`unit_history.${h}`, 'U32', [width, UNIT_HISTORY_WORDS], `[${width}, ${UNIT_HISTORY_WORDS}] (width of hidden layer ${h})`).data as Uint32Array,
      );
    }
    // Checkpoints from before the frozen statistic have no training records: the observatory then assumes
    // every unit active at the last step (Observatory.writeState), so none is called frozen unwatched.
    let trainRecord: Uint32Array[] | undefined;
    if (tensors['train_record.1'] !== undefined) {
      trainRecord = [];
      for (let h = 1; h < layers.length; h++) {
        const width = layers[h - 1].bias.length;
        trainRecord.push(
          take(`train_record.${h}`, 'U32', [width, TRAIN_RECORD_WORDS], `[${width}, ${TRAIN_RECORD_WORDS}] (width of hidden layer ${h})`).data as Uint32Array,
        );
      }
    }
    const lastSnapshotStep = integerField(metadata, 'observatory.last_snapshot_step', -1, step);
    const skipped = integerField(metadata, 'observatory.skipped', 0, MAX_STEP);
    observatory = { unitHistory, ...(trainRecord ? { trainRecord } : {}), lastSnapshotStep, skipped };
  }

  for (const name of Object.keys(tensors)) {
    if (!used.has(name))
      throw new CheckpointError(`tensor "${name}" is not part of a ${optimizer} checkpoint with ${layers.length} weight layers`, name, 'name');
  }
  const trainer: TrainerState = { step, optimizer, stepState, layers, lossHistory };
  if (continual) trainer.continual = continual;
  return { step, config, trainer, observatory };
}
