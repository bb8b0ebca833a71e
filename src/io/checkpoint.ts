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
// observatory.last_snapshot_step and observatory.skipped; and checksums: crc32.<tensor> (CRC-32 of the tensor's
// bytes as stored, 8 hex digits, what Python's zlib.crc32 gives) for every tensor and crc32.__metadata__ over the
// other metadata entries (see metadataChecksum). Tensor bytes are exactly the state's: checksums live in the header.
// A file without any crc32.* entry (written before checksums) is read unverified.
//
// Reading is split so that a file bigger than memory allows can be checked tensor by tensor
// (src/io/checkpoint-file.ts): planCheckpoint checks the header (names, dtypes, shapes, metadata),
// checkTensorData one tensor's bytes (checksum, finite parameters, step), assembleCheckpoint puts them together.
import type { RunConfig } from '../config';
import type { ObservatoryState } from '../engine/observatory';
import type { ContinualState, LayerState, TrainerState } from '../engine/trainer';
import { CBP_UNIT_WORDS } from '../spec/cbp';
import { STEP_STATE_WORDS } from '../spec/step-state';
import { TRAIN_RECORD_WORDS } from '../spec/train-record';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import { crc32, formatCrc32 } from './crc32';
import { CheckpointError, decodeSafetensors, encodeSafetensors, fileBytesOf, type SafetensorsDtype, type SafetensorsLimits, type Tensor } from './safetensors';

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

/** Prefix of the checksum metadata keys: crc32.<tensor name>, and crc32.__metadata__ for the other metadata. */
export const CHECKSUM_PREFIX = 'crc32.';
const METADATA_CHECKSUM_KEY = `${CHECKSUM_PREFIX}__metadata__`;

/** CRC-32 over the metadata entries that are not checksums, as JSON [[key, value], ...] sorted by key. */
function metadataChecksum(metadata: Record<string, string>): string {
  const entries = Object.keys(metadata)
    .filter((k) => !k.startsWith(CHECKSUM_PREFIX))
    .sort()
    .map((k) => [k, metadata[k]]);
  return formatCrc32(crc32(new TextEncoder().encode(JSON.stringify(entries))));
}

/**
 * `metadata` with fresh checksums of `tensors` and of itself (any old crc32.* entries dropped). Exported for tools
 * and tests that edit a checkpoint and must re-seal it; `checksum` (CRC-32 of a tensor's file bytes) may be a
 * faster or memoized one.
 */
export function sealCheckpoint(
  tensors: Record<string, Tensor>,
  metadata: Record<string, string>,
  checksum: (tensor: Tensor) => number = (t) => crc32(fileBytesOf(t)),
): Record<string, string> {
  const sealed: Record<string, string> = {};
  for (const [k, v] of Object.entries(metadata)) if (!k.startsWith(CHECKSUM_PREFIX)) sealed[k] = v;
  for (const [name, tensor] of Object.entries(tensors)) sealed[`${CHECKSUM_PREFIX}${name}`] = formatCrc32(checksum(tensor));
  sealed[METADATA_CHECKSUM_KEY] = metadataChecksum(sealed);
  return sealed;
}

/** The tensors and (sealed) metadata of a checkpoint: what checkpointToSafetensors and the streaming writer store. */
export function checkpointContents(state: CheckpointState, config: object): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
  const { tensors, metadata } = unsealedContents(state, config);
  return { tensors, metadata: sealCheckpoint(tensors, metadata) };
}

/** As checkpointContents, without the checksums (for tools that seal with a faster CRC; see sealCheckpoint). */
export function unsealedContents(state: CheckpointState, config: object): { tensors: Record<string, Tensor>; metadata: Record<string, string> } {
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
  return { tensors, metadata };
}

/** Encodes a trainer's (and observatory's) state and the run configuration as safetensors bytes. */
export function checkpointToSafetensors(state: CheckpointState, config: object): Uint8Array {
  const { tensors, metadata } = checkpointContents(state, config);
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

/** What a tensor's data must satisfy beyond its checksum. */
type TensorRole = 'finite' | 'step_state' | 'any';

/** A checkpoint's header, checked: everything but the tensors' bytes. */
export interface CheckpointPlan {
  step: number;
  optimizer: TrainerState['optimizer'];
  /** The run configuration as saved (parsed JSON, not validated here). */
  config: unknown;
  /** [fanIn, fanOut] of each weight layer, hidden layers first. */
  layerShapes: [number, number][];
  /** Which continual-learning state the file holds (task bits, continual backprop per hidden layer). */
  continual: { taskBits: boolean; cbp: boolean };
  /** With an observatory: whether the file has training records (checkpoints from before them have none). */
  observatory: { lastSnapshotStep: number; skipped: number; trainRecord: boolean } | null;
  /** Every tensor of the file, in the order assembleCheckpoint uses them. */
  tensors: { name: string; dtype: SafetensorsDtype; shape: number[]; role: TensorRole }[];
  /** CRC-32 per tensor name; null for a file written before checksums. */
  checksums: Map<string, number> | null;
}

/**
 * Checks a checkpoint's header: format and version, every tensor a layer needs with matching shapes (each layer's
 * fanIn is the previous layer's fanOut), no unknown tensors, the metadata fields, and the checksums' presence and
 * the metadata's own checksum. `shapes` holds every tensor's dtype and shape by name. Throws CheckpointError naming
 * the tensor or metadata field.
 */
export function planCheckpoint(shapes: Record<string, { dtype: SafetensorsDtype; shape: number[] }>, metadata: Record<string, string>): CheckpointPlan {
  const has = (name: string) => Object.prototype.hasOwnProperty.call(shapes, name);
  if (metadata.format !== CHECKPOINT_FORMAT) {
    throw new CheckpointError(
      `metadata "format" is ${JSON.stringify(metadata.format)}; expected "${CHECKPOINT_FORMAT}" (not a deadunits checkpoint)`,
      '__metadata__',
      'format',
    );
  }
  const checksums = readChecksums(Object.keys(shapes), metadata);
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

  const tensors: CheckpointPlan['tensors'] = [];
  const take = (name: string, dtype: SafetensorsDtype, shape: number[] | ((shape: number[]) => boolean), what: string, role: TensorRole): number[] => {
    if (!has(name)) throw new CheckpointError(`tensor "${name}" is missing`, name, 'name');
    const tensor = shapes[name];
    if (tensor.dtype !== dtype) throw new CheckpointError(`tensor "${name}": dtype ${tensor.dtype}; expected ${dtype}`, name, 'dtype');
    const ok = typeof shape === 'function' ? shape(tensor.shape) : tensor.shape.length === shape.length && tensor.shape.every((d, i) => d === shape[i]);
    if (!ok) throw new CheckpointError(`tensor "${name}": shape [${tensor.shape.join(', ')}]; expected ${what}`, name, 'shape');
    tensors.push({ name, dtype, shape: [...tensor.shape], role });
    return tensor.shape;
  };

  const stateNames = OPTIMIZER_STATE_NAMES[optimizer];
  const layerShapes: [number, number][] = [];
  let fanIn: number | undefined;
  for (let l = 1; has(`layers.${l}.weight`); l++) {
    const weightName = `layers.${l}.weight`;
    const shape = take(
      weightName,
      'F32',
      (s) => s.length === 2 && s[0] > 0 && s[1] > 0 && (fanIn === undefined || s[0] === fanIn),
      fanIn === undefined ? '[fanIn, fanOut]' : `[${fanIn}, fanOut] (fanOut of layer ${l - 1})`,
      'finite',
    );
    const biasName = `layers.${l}.bias`;
    take(biasName, 'F32', [shape[1]], `[${shape[1]}]`, 'finite');
    for (const s of stateNames) {
      take(`${weightName}.${s}`, 'F32', shape, `[${shape.join(', ')}]`, 'finite');
      take(`${biasName}.${s}`, 'F32', [shape[1]], `[${shape[1]}]`, 'finite');
    }
    layerShapes.push([shape[0], shape[1]]);
    fanIn = shape[1];
  }
  if (layerShapes.length === 0) throw new CheckpointError('tensor "layers.1.weight" is missing', 'layers.1.weight', 'name');

  take('step_state', 'U32', [STEP_STATE_WORDS], `[${STEP_STATE_WORDS}]`, 'step_state');
  take('loss_history', 'F32', (s) => s.length === 1 && s[0] > 0, '[capacity > 0]', 'any');
  // Non-stationary runs: the task's flipping bits; continual backprop: per hidden layer its unit state.
  const taskBits = has('task_bits');
  if (taskBits) take('task_bits', 'U32', (s) => s.length === 1, '[flipping]', 'any');
  const cbp = has('cbp.1.units');
  if (cbp) {
    for (let h = 1; h < layerShapes.length; h++) {
      const width = layerShapes[h - 1][1];
      take(`cbp.${h}.units`, 'U32', [width, CBP_UNIT_WORDS], `[${width}, ${CBP_UNIT_WORDS}] (width of hidden layer ${h})`, 'any');
      take(`cbp.${h}.accumulator`, 'U32', [2], '[2]', 'any');
    }
  }

  let observatory: CheckpointPlan['observatory'] = null;
  if (metadata['observatory.last_snapshot_step'] !== undefined || has('unit_history.1')) {
    // One history per hidden layer: every weight layer but the output.
    for (let h = 1; h < layerShapes.length; h++) {
      const width = layerShapes[h - 1][1];
      take(`unit_history.${h}`, 'U32', [width, UNIT_HISTORY_WORDS], `[${width}, ${UNIT_HISTORY_WORDS}] (width of hidden layer ${h})`, 'any');
    }
    // Checkpoints from before the frozen statistic have no training records: the observatory then assumes
    // every unit active at the last step (Observatory.writeState), so none is called frozen unwatched.
    const trainRecord = has('train_record.1');
    if (trainRecord) {
      for (let h = 1; h < layerShapes.length; h++) {
        const width = layerShapes[h - 1][1];
        take(`train_record.${h}`, 'U32', [width, TRAIN_RECORD_WORDS], `[${width}, ${TRAIN_RECORD_WORDS}] (width of hidden layer ${h})`, 'any');
      }
    }
    const lastSnapshotStep = integerField(metadata, 'observatory.last_snapshot_step', -1, step);
    const skipped = integerField(metadata, 'observatory.skipped', 0, MAX_STEP);
    observatory = { lastSnapshotStep, skipped, trainRecord };
  }

  const used = new Set(tensors.map((t) => t.name));
  for (const name of Object.keys(shapes)) {
    if (!used.has(name))
      throw new CheckpointError(`tensor "${name}" is not part of a ${optimizer} checkpoint with ${layerShapes.length} weight layers`, name, 'name');
  }
  return { step, optimizer, config, layerShapes, continual: { taskBits, cbp }, observatory, tensors, checksums };
}

/** The crc32.* entries: all of them (one per tensor, one for the metadata) or none (a file from before checksums). */
function readChecksums(names: string[], metadata: Record<string, string>): Map<string, number> | null {
  const keys = Object.keys(metadata).filter((k) => k.startsWith(CHECKSUM_PREFIX));
  if (keys.length === 0) return null;
  const parse = (key: string): number => {
    const text = metadata[key];
    if (text === undefined) throw new CheckpointError(`metadata "${key}" is missing (the other tensors have checksums)`, '__metadata__', key);
    if (!/^[0-9a-f]{8}$/.test(text)) throw new CheckpointError(`metadata "${key}" = ${JSON.stringify(text)} is not 8 hex digits`, '__metadata__', key);
    return parseInt(text, 16);
  };
  const stored = parse(METADATA_CHECKSUM_KEY);
  const actual = metadataChecksum(metadata);
  if (formatCrc32(stored) !== actual)
    throw new CheckpointError(
      `the metadata's checksum (${METADATA_CHECKSUM_KEY} = ${formatCrc32(stored)}) does not match its contents (${actual}): the header is damaged`,
      '__metadata__',
      METADATA_CHECKSUM_KEY,
    );
  const checksums = new Map<string, number>();
  for (const name of names) checksums.set(name, parse(`${CHECKSUM_PREFIX}${name}`));
  const known = new Set([METADATA_CHECKSUM_KEY, ...names.map((n) => `${CHECKSUM_PREFIX}${n}`)]);
  const stray = keys.find((k) => !known.has(k));
  if (stray !== undefined) throw new CheckpointError(`metadata "${stray}" is the checksum of a tensor the file does not hold`, '__metadata__', stray);
  return checksums;
}

/**
 * Checks one tensor's data against the plan: its checksum (`crc` = CRC-32 of its file bytes; computed here
 * when not given), finite parameters and optimizer state, step_state naming the metadata's step.
 */
export function checkTensorData(plan: CheckpointPlan, name: string, tensor: Tensor, crc?: number): void {
  const entry = plan.tensors.find((t) => t.name === name);
  if (!entry) throw new CheckpointError(`tensor "${name}" is not part of this checkpoint`, name, 'name');
  const expected = plan.checksums?.get(name);
  if (expected !== undefined) {
    const actual = crc ?? crc32(fileBytesOf(tensor));
    if (actual >>> 0 !== expected)
      throw new CheckpointError(
        `tensor "${name}": checksum ${formatCrc32(actual)} does not match the stored ${formatCrc32(expected)}: its data is damaged`,
        name,
        'checksum',
      );
  }
  if (entry.role === 'finite') {
    const data = tensor.data as Float32Array;
    for (let i = 0; i < data.length; i++) {
      if (!Number.isFinite(data[i]))
        throw new CheckpointError(`tensor "${name}": element ${i} is ${data[i]}; parameters and optimizer state must be finite`, name, 'data');
    }
  } else if (entry.role === 'step_state') {
    const words = tensor.data as Uint32Array;
    if (words[0] !== plan.step) throw new CheckpointError(`tensor "step_state": names step ${words[0]}, metadata "step" is ${plan.step}`, 'step_state', 'data');
  }
}

/** The checkpoint of a plan whose every tensor has passed checkTensorData. */
export function assembleCheckpoint(plan: CheckpointPlan, tensors: Record<string, Tensor>): Checkpoint {
  const stateNames = OPTIMIZER_STATE_NAMES[plan.optimizer];
  const f32 = (name: string) => tensors[name].data as Float32Array;
  const layers: LayerState[] = plan.layerShapes.map((_, i) => {
    const l = i + 1;
    return {
      weights: f32(`layers.${l}.weight`),
      bias: f32(`layers.${l}.bias`),
      weightState: stateNames.map((s) => f32(`layers.${l}.weight.${s}`)),
      biasState: stateNames.map((s) => f32(`layers.${l}.bias.${s}`)),
    };
  });
  const stepState = tensors.step_state.data as Uint32Array;
  const lossHistory = f32('loss_history');
  const hidden = plan.layerShapes.slice(0, -1);
  const observatory: ObservatoryState | undefined = plan.observatory
    ? {
        unitHistory: hidden.map((_, h) => tensors[`unit_history.${h + 1}`].data as Uint32Array),
        ...(plan.observatory.trainRecord ? { trainRecord: hidden.map((_, h) => tensors[`train_record.${h + 1}`].data as Uint32Array) } : {}),
        lastSnapshotStep: plan.observatory.lastSnapshotStep,
        skipped: plan.observatory.skipped,
      }
    : undefined;
  const step = plan.step;
  const trainer: TrainerState = { step, optimizer: plan.optimizer, stepState, layers, lossHistory };
  if (plan.continual.taskBits || plan.continual.cbp) {
    const continual: ContinualState = {};
    if (plan.continual.taskBits) continual.taskBits = tensors.task_bits.data as Uint32Array;
    if (plan.continual.cbp)
      continual.cbp = hidden.map((_, h) => ({
        units: tensors[`cbp.${h + 1}.units`].data as Uint32Array,
        accumulator: tensors[`cbp.${h + 1}.accumulator`].data as Uint32Array,
      }));
    trainer.continual = continual;
  }
  return { step, config: plan.config, trainer, observatory };
}

/**
 * Decodes and checks a checkpoint held in memory (planCheckpoint, then checkTensorData for every tensor).
 * Throws CheckpointError naming the tensor.
 */
export function checkpointFromSafetensors(bytes: Uint8Array, limits?: SafetensorsLimits): Checkpoint {
  const { tensors, metadata } = decodeSafetensors(bytes, limits);
  const plan = planCheckpoint(tensors, metadata);
  for (const { name } of plan.tensors) checkTensorData(plan, name, tensors[name]);
  return assembleCheckpoint(plan, tensors);
}

/**
 * Checks that a checkpoint's layer shapes are those of `config` (input size, hidden widths, output size, one unit
 * history per hidden layer). Throws CheckpointError naming the first tensor that differs and the config field.
 */
export function checkShapesMatchConfig(plan: Pick<CheckpointPlan, 'layerShapes' | 'observatory'>, config: RunConfig): void {
  const widths = [config.inputSize, ...config.hidden.map((h) => h.width), config.outputSize];
  const field = (i: number) => (i === 0 ? 'inputSize' : i === widths.length - 1 ? 'outputSize' : `hidden[${i - 1}].width`);
  if (plan.layerShapes.length !== widths.length - 1)
    throw new CheckpointError(
      `holds ${plan.layerShapes.length} weight layers; its configuration has ${config.hidden.length} hidden layers and an output layer (${widths.length - 1})`,
      `layers.${Math.min(plan.layerShapes.length, widths.length - 1) + 1}.weight`,
      'shape',
    );
  plan.layerShapes.forEach(([fanIn, fanOut], i) => {
    const expected = [widths[i], widths[i + 1]];
    if (fanIn !== expected[0] || fanOut !== expected[1]) {
      const bad = fanIn !== expected[0] ? i : i + 1;
      throw new CheckpointError(
        `tensor "layers.${i + 1}.weight": shape [${fanIn}, ${fanOut}]; its configuration (${field(bad)} = ${widths[bad]}) needs [${expected.join(', ')}]`,
        `layers.${i + 1}.weight`,
        'shape',
      );
    }
  });
}
