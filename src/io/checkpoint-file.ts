// Node-only: checkpoint files (src/io/checkpoint.ts) read and written tensor by tensor (src/io/safetensors-file.ts),
// so that any checkpoint the engine can write can be read back, whatever its size: memory holds the tensors (which
// a resume needs anyway), never a second copy of the whole file. Every tensor is checked against its checksum as it
// is read. Errors are CheckpointErrors whose message starts with the file's path.
import type { Tensor } from './safetensors';
import {
  assembleCheckpoint,
  type Checkpoint,
  CheckpointError,
  type CheckpointPlan,
  type CheckpointState,
  checkpointContents,
  checkTensorData,
  planCheckpoint,
} from './checkpoint';
import { openSafetensorsFile, type ReadOptions, writeSafetensorsFile } from './safetensors-file';

/** Writes a checkpoint atomically, streaming its tensors to disk (the same bytes as checkpointToSafetensors). */
export async function writeCheckpointFile(path: string, state: CheckpointState, config: object, options: { chunkBytes?: number } = {}): Promise<void> {
  const { tensors, metadata } = checkpointContents(state, config);
  await writeSafetensorsFile(path, tensors, metadata, options);
}

/** Reads and checks a whole checkpoint file. */
export async function readCheckpointFile(path: string, options: ReadOptions = {}): Promise<Checkpoint> {
  const tensors: Record<string, Tensor> = Object.create(null);
  const { plan } = await scanCheckpointFile(path, (name, tensor) => void (tensors[name] = tensor), options);
  return assembleCheckpoint(plan, tensors);
}

/**
 * Checks a checkpoint file tensor by tensor: the header first (planCheckpoint), then each tensor as it is read
 * (checkTensorData), handed to `visit` and not kept here. Memory: the largest tensor.
 */
export async function scanCheckpointFile(
  path: string,
  visit: (name: string, tensor: Tensor) => void,
  options: ReadOptions = {},
): Promise<{ plan: CheckpointPlan; metadata: Record<string, string>; fileBytes: number }> {
  const file = await openSafetensorsFile(path, options);
  try {
    const shapes = Object.fromEntries(file.entries.map((e) => [e.name, { dtype: e.dtype, shape: e.shape }]));
    const plan = named(path, () => planCheckpoint(shapes, file.metadata));
    for (const { name } of plan.tensors) {
      const { tensor, crc } = await file.readTensor(name);
      named(path, () => checkTensorData(plan, name, tensor, crc));
      visit(name, tensor);
    }
    return { plan, metadata: file.metadata, fileBytes: file.size };
  } finally {
    await file.close();
  }
}

function named<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof CheckpointError) throw new CheckpointError(`${path}: ${error.message}`, error.tensor, error.field);
    throw error;
  }
}
