// Node-only: crash-safe checkpoint files. A checkpoint is written to a temporary file in the same folder,
// flushed, and renamed over the target (rename is atomic within a file system), then the folder itself is
// flushed so that the rename survives a power cut. A reader therefore sees the old file or the new one,
// never half of one.
import { randomBytes } from 'node:crypto';
import { open, readdir, readFile, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { CheckpointError } from './safetensors';

/** The text of `path`, or null when there is no such file (a manifest or result not written yet). */
export async function readTextIfExists(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

/**
 * The name of a temporary file for `path`: hidden, in the same folder (so the rename is atomic), naming the
 * process. TEMP_FILE_PATTERN recognizes these names, so that the orphans of a killed process can be removed.
 */
export function tempFileFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
}

/** Names made by tempFileFor: `.<name>.<pid>.<12 hex digits>.tmp`. */
export const TEMP_FILE_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{12}\.tmp$/;

/** Writes `bytes` to `path` atomically: temp file in the same folder + fsync + rename + fsync of the folder. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  await writeFileAtomicWith(path, (handle) => handle.writeFile(bytes).then(() => undefined));
}

/**
 * Writes `path` atomically with `write`, which writes the whole file through the handle (for files too big to
 * build in memory first); then as writeFileAtomic: fsync, rename, fsync of the folder.
 */
export async function writeFileAtomicWith(path: string, write: (handle: FileHandle) => Promise<void>): Promise<void> {
  const temp = tempFileFor(path);
  const handle = await open(temp, 'wx', 0o644);
  try {
    try {
      await write(handle);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dirname(path));
}

/** Writes all of `bytes` at `position` (several calls when the system writes less, or the bytes exceed one call's limit). */
export async function writeFully(handle: FileHandle, bytes: Uint8Array, position: number, chunkBytes = IO_CHUNK_BYTES): Promise<void> {
  for (let done = 0; done < bytes.length; ) {
    const { bytesWritten } = await handle.write(bytes, done, Math.min(chunkBytes, bytes.length - done), position + done);
    done += bytesWritten;
  }
}

/** One read or write call moves at most this much (a call is limited to 2^31 - 1 bytes; smaller keeps memory and latency low). */
export const IO_CHUNK_BYTES = 64 * 2 ** 20;

async function syncDirectory(dir: string): Promise<void> {
  let handle;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch (error) {
    // Some platforms (Windows) cannot open or fsync a folder; the rename itself has still happened.
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EISDIR' && code !== 'EPERM' && code !== 'EINVAL' && code !== 'EBADF') throw error;
  } finally {
    await handle?.close();
  }
}

const CHECKPOINT_NAME = /^checkpoint-(\d+)\.safetensors$/;

/** Refuses a checkpoint whose file name (checkpoint-<step>.safetensors) names another step than the one inside it. */
export function checkFileNameStep(path: string, step: number): void {
  const m = CHECKPOINT_NAME.exec(basename(path));
  if (m && Number(m[1]) !== step)
    throw new CheckpointError(
      `${path}: the file name says step ${Number(m[1])} but the checkpoint inside is of step ${step} (a file renamed or copied over another?)`,
      undefined,
      'step',
    );
}

/** The file name of the checkpoint taken after `step` steps; zero-padded so names sort like steps. */
export function checkpointFileName(step: number): string {
  if (!Number.isSafeInteger(step) || step < 0) throw new RangeError(`checkpoint step must be a non-negative integer, got ${step}`);
  return `checkpoint-${String(step).padStart(10, '0')}.safetensors`;
}

/** Checkpoints in `dir` (named by checkpointFileName), oldest step first. A missing folder has none. */
export async function listCheckpoints(dir: string): Promise<{ step: number; path: string }[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw error;
  }
  return names
    .map((name) => ({ name, match: CHECKPOINT_NAME.exec(name) }))
    .filter((e): e is { name: string; match: RegExpExecArray } => e.match !== null)
    .map((e) => ({ step: Number(e.match[1]), path: join(dir, e.name) }))
    .sort((a, b) => a.step - b.step);
}

/** The checkpoint with the highest step in `dir`, or null when there is none. */
export async function latestCheckpoint(dir: string): Promise<{ step: number; path: string } | null> {
  const all = await listCheckpoints(dir);
  return all.length > 0 ? all[all.length - 1] : null;
}

/** Deletes all but the `keep` checkpoints with the highest steps in `dir`; returns the deleted paths. */
export async function pruneCheckpoints(dir: string, keep: number): Promise<string[]> {
  if (!Number.isInteger(keep) || keep < 1) throw new RangeError(`checkpoints to keep must be an integer >= 1, got ${keep}`);
  const all = await listCheckpoints(dir);
  const doomed = all.slice(0, Math.max(0, all.length - keep)).map((c) => c.path);
  for (const path of doomed) await unlink(path);
  return doomed;
}
