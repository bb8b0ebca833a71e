// Node-only: `sweep status` — where a sweep stands, read from its folder alone (from a login node, while the
// tasks run elsewhere). Each point is
//   done     its result says completed or non-finite;
//   running  its run folder is locked by a live process: the lock names the host and PID, the metrics the step;
//   missing  neither: not started, or stopped part way (it resumes from its last checkpoint when its shard runs
//            again), or locked by a process that is gone (a stale lock, taken over by the next attempt).
// Points are grouped by shard when the shard count is known: given, or the one the results were written with and the
// locks of running points name.
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { openRegularFile, readRegularTextIfExists } from '../../io/regular-file';
import { LOCK_FILE, lockOwner, STALE_MS } from '../../io/run-lock';
import { metricsFromJsonLine } from '../../report/metrics';
import { readManifest, runPaths } from '../run-dir';
import { isFinished, pointRunDir, readPointResult, readSweepManifest, shardOfLockOwner, SweepFolderError, sweepPaths } from './folder';
import { formatShard, parseShard, shardOfPoint } from './shard';

/** A point's config.json is a few KiB; more is not one this status reads. */
const MAX_CONFIG_BYTES = 1 << 20;

/** The last metrics row is found in the file's last bytes (a row is well under 64 KiB for any width). */
const TAIL_BYTES = 64 * 1024;

export interface LockInfo {
  host: string;
  pid: number;
  command: string;
  /** Age of the last heartbeat by the lock file's mtime. */
  heartbeatAgeMs: number;
}

export type PointState =
  | { state: 'done'; status: 'completed' | 'non-finite'; step: number }
  | { state: 'running'; step: number | null; owner: LockInfo }
  | { state: 'missing'; reason: 'not started' | 'interrupted' | 'stale lock' | 'does not fit'; step: number | null; owner?: LockInfo; message?: string };

export type PointStatus = { index: number; id: string; steps: number | null; shard: string | null } & PointState;

export interface SweepStatus {
  dir: string;
  points: number;
  /** Shard count used for grouping, or null when unknown. */
  shards: number | null;
  list: PointStatus[];
}

/** The run folder's lock, if any; null also when it cannot be read (being replaced). */
async function readLock(dir: string, now: number): Promise<LockInfo | null> {
  const owner = await lockOwner(dir).catch(() => null);
  const info = await stat(join(dir, LOCK_FILE)).catch(() => null);
  if (!owner || !info) return null;
  return { host: owner.host, pid: owner.pid, command: owner.command, heartbeatAgeMs: Math.max(0, now - info.mtimeMs) };
}

function isStale(lock: LockInfo): boolean {
  if (lock.host === hostname()) {
    try {
      process.kill(lock.pid, 0);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
    }
  }
  return lock.heartbeatAgeMs > STALE_MS;
}

/** Step of the last complete row of metrics.jsonl; null when there is none. */
async function lastMetricsStep(path: string): Promise<number | null> {
  let handle;
  try {
    // A regular file only: open() on a FIFO put there would wait for a writer forever.
    handle = (await openRegularFile(path)).handle;
  } catch {
    return null;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString('utf8').split('\n');
    // The last piece is an unterminated line (or ''): skip it; the first may be cut by the window.
    for (let i = lines.length - 2; i >= (size > length ? 1 : 0); i--) {
      try {
        return metricsFromJsonLine(lines[i]).step;
      } catch {
        // a damaged line: look at the one before
      }
    }
    return null;
  } finally {
    await handle.close();
  }
}

async function totalSteps(dir: string): Promise<number | null> {
  const text = await readRegularTextIfExists(runPaths(dir).config, MAX_CONFIG_BYTES, 'a run configuration').catch(() => null);
  if (text === null) return null;
  try {
    const steps = (JSON.parse(text) as { steps?: unknown }).steps;
    return typeof steps === 'number' ? steps : null;
  } catch {
    return null;
  }
}

/** The state of every point of the sweep in `dir`; `shards` groups them (default: the count the results name). */
export async function sweepStatus(dir: string, shards?: number, now = Date.now()): Promise<SweepStatus> {
  const manifest = await readSweepManifest(dir);
  if (!manifest) throw new SweepFolderError(sweepPaths(dir).manifest, `is missing: ${dir} is not a sweep folder (no sweep.json)`);
  const results = await Promise.all(manifest.points.map((p) => readPointResult(dir, p.id)));
  const locks = await Promise.all(manifest.points.map((p, k) => (results[k] && isFinished(results[k]) ? null : readLock(pointRunDir(dir, p.id), now))));
  // The shard count the points were run with: from their results, and from the locks of running points (which name
  // their shard), so that a sweep whose points all still run is grouped too.
  const counts = new Set([
    ...results.filter((r) => r !== null).map((r) => parseShard(r!.shard).count),
    ...locks.map((l) => (l ? shardOfLockOwner(l.command)?.count : undefined)).filter((c) => c !== undefined),
  ]);
  const count = shards ?? (counts.size === 1 ? [...counts][0] : null);
  const list: PointStatus[] = [];
  for (const [k, p] of manifest.points.entries()) {
    const runDir = pointRunDir(dir, p.id);
    const base = {
      index: p.index,
      id: p.id,
      steps: await totalSteps(runDir),
      shard: count === null ? null : formatShard({ index: shardOfPoint(p.index, count), count }),
    };
    const result = results[k];
    if (result && isFinished(result)) {
      list.push({ ...base, state: 'done', status: result.status, step: result.step });
      continue;
    }
    const lock = locks[k];
    const step = (await lastMetricsStep(runPaths(runDir).metrics)) ?? (await readManifest(runDir).catch(() => null))?.step ?? null;
    if (lock && !isStale(lock)) list.push({ ...base, state: 'running', step, owner: lock });
    else if (lock) list.push({ ...base, state: 'missing', reason: 'stale lock', step, owner: lock });
    else if (result?.status === 'does-not-fit') list.push({ ...base, state: 'missing', reason: 'does not fit', step, message: result.message });
    else list.push({ ...base, state: 'missing', reason: result || step !== null ? 'interrupted' : 'not started', step });
  }
  return { dir, points: manifest.points.length, shards: count, list };
}

function counts(list: PointStatus[]): string {
  const n = (s: PointState['state']) => list.filter((p) => p.state === s).length;
  return `done ${n('done')}, running ${n('running')}, missing ${n('missing')}`;
}

const seconds = (ms: number) => `${Math.round(ms / 1000)} s`;
const stepOf = (p: PointStatus) => (p.step === null ? '' : `step ${p.step}${p.steps === null ? '' : ` of ${p.steps}`}`);

function pointLine(p: PointStatus): string {
  switch (p.state) {
    case 'done':
      return `  done     ${p.id}  ${p.status} at step ${p.step}`;
    case 'running':
      return `  running  ${p.id}  ${stepOf(p) || 'starting'}, on ${p.owner.host} (PID ${p.owner.pid}), heartbeat ${seconds(p.owner.heartbeatAgeMs)} ago`;
    case 'missing': {
      const why =
        p.reason === 'not started'
          ? 'not started'
          : p.reason === 'does not fit'
            ? `does not fit the GPU of its last attempt: ${p.message ?? ''}`
            : p.reason === 'interrupted'
              ? `stopped at ${stepOf(p) || 'its start'}; resumes from its last checkpoint`
              : `stale lock of ${p.owner!.host} PID ${p.owner!.pid} (heartbeat ${seconds(p.owner!.heartbeatAgeMs)} ago), ${stepOf(p) || 'no step yet'}; the next attempt takes it over`;
      return `  missing  ${p.id}  ${why}`;
    }
  }
}

/** The status as text: a total, then per shard its counts and its running and missing points (and done ones with `all`). */
export function formatStatus(status: SweepStatus, all = false): string {
  const shards = status.shards === null ? '' : ` in ${status.shards} shard${status.shards === 1 ? '' : 's'}`;
  const lines = [`${status.dir}: ${status.points} point${status.points === 1 ? '' : 's'}${shards}: ${counts(status.list)}`];
  const groups = new Map<string, PointStatus[]>();
  for (const p of status.list) {
    const key = p.shard ?? 'all points';
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const [key, list] of groups) {
    lines.push(`${status.shards === null ? key : `shard ${key}`}: ${counts(list)}`);
    for (const p of list) if (all || p.state !== 'done') lines.push(pointLine(p));
  }
  if (status.shards === null && status.list.every((p) => p.state !== 'done')) lines.push('(give --shards N to group the points by shard)');
  return lines.join('\n') + '\n';
}
