// Node-only: what `run`, `resume` and each sweep point do around the training itself, so that a run folder has
// one owner at a time and a failed start leaves nothing behind:
// - the folder's lock (src/io/run-lock.ts) is taken first and held to the end; losing it aborts the job;
// - temporary files that a killed process left mid-write (src/io/atomic-file.ts tempFileFor) are removed;
// - a fresh start that fails before any work is saved (a model too big for the adapter, no adapter, a full disk)
//   removes what it wrote, and the folder itself if it created it: a refused run leaves no folder.
import { mkdir, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { TEMP_FILE_PATTERN, listCheckpoints } from '../io/atomic-file';
import { LOCK_FILE, RunLock } from '../io/run-lock';
import { readMetricsRows } from './outputs/metrics-writer';
import { RunDirError, runPaths } from './run-dir';

export interface HeldRunFolder {
  /** `signal` (if any) combined with the loss of the folder's lock. */
  signal(signal?: AbortSignal): AbortSignal;
  /** Marks the job as a fresh start: if it fails before saving any work, its files are removed again. */
  freshStart(): void;
}

export interface HoldOptions {
  /** What holds the folder, for the lock's record (shown to a process that is refused). */
  command: string;
  log?: (line: string) => void;
  /** `resume`: the folder must exist (it is never created). */
  mustExist?: boolean;
}

/** Runs `job` as the one owner of the run folder `dir` (created unless `mustExist`). */
export async function holdRunFolder<T>(dir: string, options: HoldOptions, job: (held: HeldRunFolder) => Promise<T>): Promise<T> {
  const existed = await isDirectory(dir);
  // The first folder mkdir created (dir or a parent of it): what a rollback removes, if empty.
  let created: string | undefined;
  if (!existed) {
    if (options.mustExist)
      throw new RunDirError(
        `${dir} is not a deadunits run folder (no run.json): the folder does not exist; give the folder of a run started with \`deadunits run --out\``,
      );
    created = await mkdir(dir, { recursive: true });
  }
  let lock: RunLock;
  try {
    lock = await RunLock.acquire(dir, { command: options.command, log: options.log });
  } catch (error) {
    await removeCreated(dir, created);
    throw error;
  }
  let fresh = false;
  let rollback = false;
  try {
    const removed = await removeOrphanTempFiles(dir);
    if (removed.length)
      options.log?.(
        `removed ${removed.length} temporary file${removed.length > 1 ? 's' : ''} left by an interrupted write: ${removed.map((p) => relative(dir, p)).join(', ')}`,
      );
    return await job({
      signal: (signal) => (signal ? AbortSignal.any([signal, lock.lost]) : lock.lost),
      freshStart: () => void (fresh = true),
    });
  } catch (error) {
    rollback = fresh && !(await hasSavedWork(dir));
    if (rollback) await removeContents(dir, [LOCK_FILE]);
    throw error;
  } finally {
    await lock.release();
    if (rollback) await removeCreated(dir, created);
  }
}

/** Removes `dir` and its parents up to `created` (the first folder mkdir made), each only if empty: another process's files stay. */
async function removeCreated(dir: string, created: string | undefined): Promise<void> {
  if (created === undefined) return;
  for (let path = resolve(dir); ; path = dirname(path)) {
    if (
      !(await rmdir(path).then(
        () => true,
        () => false,
      ))
    )
      return;
    if (path === resolve(created) || dirname(path) === path) return;
  }
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
}

/**
 * Removes the temporary files of interrupted atomic writes under `dir` (down to `depth` folder levels: the run
 * folder, checkpoints/, maps/L<l>/, charts/). Only safe while holding the folder's lock, or for files older than
 * `olderThanMs` (a shared sweep folder, where other shards may be writing). Returns the removed paths.
 */
export async function removeOrphanTempFiles(dir: string, options: { depth?: number; olderThanMs?: number } = {}): Promise<string[]> {
  const depth = options.depth ?? 3;
  const removed: string[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return removed;
    throw error;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (depth > 1) removed.push(...(await removeOrphanTempFiles(path, { ...options, depth: depth - 1 })));
    } else if (entry.isFile() && TEMP_FILE_PATTERN.test(entry.name)) {
      if (options.olderThanMs !== undefined) {
        const info = await stat(path).catch(() => null);
        if (!info || Date.now() - info.mtimeMs < options.olderThanMs) continue;
      }
      await unlink(path).catch(() => undefined);
      removed.push(path);
    }
  }
  return removed;
}

/** Does the folder hold work worth keeping: a checkpoint, or a metrics row past step 0? */
async function hasSavedWork(dir: string): Promise<boolean> {
  const paths = runPaths(dir);
  if ((await listCheckpoints(paths.checkpoints).catch(() => [])).length > 0) return true;
  try {
    for await (const row of readMetricsRows(paths.metrics)) if (row.step > 0) return true;
  } catch {
    // A metrics file that cannot be read is kept, to be safe.
    return true;
  }
  return false;
}

async function removeContents(dir: string, keep: string[]): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    if (!keep.includes(name)) await rm(join(dir, name), { recursive: true, force: true }).catch(() => undefined);
  }
}
