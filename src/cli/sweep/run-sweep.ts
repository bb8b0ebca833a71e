// Node-only: runs this shard's points of a sweep, one after the other. A finished point (a result saying
// completed or non-finite) is skipped; an interrupted one, or one whose run folder exists without a result
// (the process died), is resumed from its latest checkpoint; the rest start fresh. The runner that trains
// one point is injected (the CLI passes runJob / resumeJob), so this logic is tested without a GPU.
import { stat } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { ConfigError, type ConfigIssue, type RunConfig } from '../../config';
import type { MetricsRow } from '../../report/metrics';
import type { LayerHistorySummary } from '../../report/seed-answer';
import { GpuAllocationError } from '../../engine/gpu-faults';
import { HEARTBEAT_MS, RunLockedError, STALE_MS } from '../../io/run-lock';
import { removeOrphanTempFiles } from '../run-folder';
import { claimSweepFolder, isFinished, pointRunDir, readPointResult, sweepManifest, writePointResult } from './folder';
import { formatShard, pointsOfShard, type Shard } from './shard';
import { expandSweep, formatOverrides, type SweepPoint, type SweepSpec } from './spec';

/** What a point's run reports when it stops (the subset of RunJobResult the sweep keeps). */
export interface PointOutcome {
  /**
   * 'gpu-error': stopped by a GPU error; like 'interrupted', the next run of the shard resumes it from its last good
   * checkpoint. 'does-not-fit': the GPU could not hold the point's net (GpuAllocationError, `message` says what to
   * change); nothing ran, the shard goes on with its other points and its next run tries this one again.
   */
  status: 'completed' | 'interrupted' | 'non-finite' | 'gpu-error' | 'does-not-fit';
  step: number;
  last: MetricsRow | null;
  layers: LayerHistorySummary[];
  message?: string;
}

export interface PointRunRequest {
  point: SweepPoint;
  config: RunConfig;
  /** The point's run folder. */
  outDir: string;
  /** 'resume': continue the run folder's latest checkpoint. */
  mode: 'fresh' | 'resume';
  /** The shard running it, i/n (the run folder's lock names it: `sweep status` groups by it before any result exists). */
  shard: string;
  signal?: AbortSignal;
}

export type PointRunner = (request: PointRunRequest) => Promise<PointOutcome>;

export interface SweepRunOptions {
  spec: SweepSpec;
  outDir: string;
  shard: Shard;
  runPoint: PointRunner;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** How long a point locked from another host is waited for before it is left as busy (default LOCK_WAIT_MS). */
  lockWaitMs?: number;
  /** How often it is tried again meanwhile (default LOCK_POLL_MS). */
  lockPollMs?: number;
}

/**
 * A point locked by a process on another host may belong to a dead one (a lost node, an OOM-killed pod): its lock
 * looks alive until its heartbeat is STALE_MS old, and is taken over then. A retried task would give up on exactly
 * the points it was retried for, so it waits that long (and two heartbeats more); a live owner keeps renewing its
 * lock and keeps its point.
 */
export const LOCK_WAIT_MS = STALE_MS + 2 * HEARTBEAT_MS;
export const LOCK_POLL_MS = 5_000;

export interface SweepRunSummary {
  points: number;
  mine: number;
  skipped: number;
  ran: { id: string; status: PointOutcome['status'] }[];
  /** True when the signal stopped the shard before its last point. */
  interrupted: boolean;
  /** Points skipped because another process holds their run folder (e.g. an earlier attempt of this shard). */
  busy: string[];
}

/** A temp file this old in the shared sweep folder belongs to no write in progress (each is a small JSON file). */
const ORPHAN_AGE_MS = 10 * 60_000;

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * What a headless run needs beyond a valid configuration (runJob refuses the rest): snapshots on (metrics and
 * the report come from them).
 */
export function checkHeadless(points: SweepPoint[]): void {
  const issues: ConfigIssue[] = [];
  for (const p of points) {
    const where = `point ${p.index} (${p.id}: ${formatOverrides(p.overrides)})`;
    if (p.config.snapshot.every < 1)
      issues.push({ path: `${where} snapshot.every`, message: `0 turns snapshots off; a sweep point needs them: use an interval in [1, ${p.config.steps}]` });
  }
  if (issues.length) throw new ConfigError(issues, 'sweep');
}

export async function runSweep(options: SweepRunOptions): Promise<SweepRunSummary> {
  const { spec, outDir, shard, runPoint, signal } = options;
  const log = options.log ?? (() => undefined);
  // Every point is validated before anything runs, on every shard: a bad point fails all shards at once.
  const points = expandSweep(spec);
  checkHeadless(points);
  await claimSweepFolder(outDir, sweepManifest(spec, points));
  const mine = pointsOfShard(points, shard);
  const summary: SweepRunSummary = { points: points.length, mine: mine.length, skipped: 0, ran: [], interrupted: false, busy: [] };
  // Temp files of a shard killed mid-write; other shards may be writing theirs right now, so only old ones.
  await removeOrphanTempFiles(outDir, { depth: 2, olderThanMs: ORPHAN_AGE_MS });
  log(`sweep: ${points.length} points; shard ${formatShard(shard)} runs ${mine.length}`);
  const lowered = [...new Set(points.flatMap((p) => (p.loweredEvery === undefined ? [] : [p.loweredEvery])))];
  if (lowered.length) log(`snapshot interval: ${spec.steps} steps (the base's ${lowered.join(', ')} is more than steps ${spec.steps})`);
  for (const [n, point] of mine.entries()) {
    if (signal?.aborted) {
      summary.interrupted = true;
      break;
    }
    const where = `[${n + 1}/${mine.length}] ${point.id} ${formatOverrides(point.overrides)}`;
    const outcome = await runOrWait(point, where, options, summary).catch((error: unknown) => {
      // One point too big for this GPU must not cost the shard its other points.
      if (error instanceof GpuAllocationError) return { status: 'does-not-fit' as const, step: 0, last: null, layers: [], message: error.message };
      throw error;
    });
    if (outcome === null) continue;
    const last = outcome.last;
    await writePointResult(outDir, {
      index: point.index,
      id: point.id,
      overrides: point.overrides,
      shard: formatShard(shard),
      status: outcome.status,
      step: outcome.step,
      steps: point.config.steps,
      finalLoss: last?.loss == null ? null : Number.isFinite(last.loss) ? last.loss : (String(last.loss) as 'NaN' | 'Infinity' | '-Infinity'),
      stepsPerSecond: last?.stepsPerSecond ?? null,
      layers: outcome.layers,
      ...(outcome.message ? { message: outcome.message } : {}),
    });
    summary.ran.push({ id: point.id, status: outcome.status });
    const deadNow = outcome.layers.map((l, i) => `L${i + 1} ${l.deadNow}/${l.width} dead`).join(', ');
    log(
      `${where}: ${outcome.status} at step ${outcome.step}${last?.loss == null ? '' : `, loss ${last.loss.toPrecision(4)}`}${deadNow ? `, ${deadNow}` : ''}${outcome.message ? ` (${outcome.message})` : ''}`,
    );
    if (outcome.status === 'interrupted') {
      summary.interrupted = true;
      break;
    }
  }
  return summary;
}

/** Sleeps `ms`, or less when `signal` aborts. */
function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}

/**
 * Runs one point (fresh or resumed), or skips it: finished already (counted in summary.skipped), or held by a live
 * process (summary.busy; one on another host is waited for first, see LOCK_WAIT_MS). Null when skipped.
 */
async function runOrWait(point: SweepPoint, where: string, options: SweepRunOptions, summary: SweepRunSummary): Promise<PointOutcome | null> {
  const { outDir, runPoint, signal } = options;
  const log = options.log ?? (() => undefined);
  const waitUntil = Date.now() + (options.lockWaitMs ?? LOCK_WAIT_MS);
  for (;;) {
    // Read again after a wait: the owner may have finished the point meanwhile.
    const previous = await readPointResult(outDir, point.id);
    if (isFinished(previous)) {
      summary.skipped++;
      log(`${where}: already ${previous!.status} at step ${previous!.step}, skipped`);
      return null;
    }
    const outDirOfPoint = pointRunDir(outDir, point.id);
    const mode = (await exists(join(outDirOfPoint, 'run.json'))) ? 'resume' : 'fresh';
    log(`${where}: ${mode === 'resume' ? 'resuming' : 'starting'}`);
    try {
      return await runPoint({ point, config: point.config, outDir: outDirOfPoint, mode, shard: formatShard(options.shard), signal });
    } catch (error) {
      if (!(error instanceof RunLockedError)) throw error;
      const left = waitUntil - Date.now();
      // On this host the owner is alive (a dead one's lock is taken over at once): another attempt runs it.
      if (error.owner.host === hostname() || left <= 0 || signal?.aborted) {
        summary.busy.push(point.id);
        log(`${where}: skipped, ${error.message}`);
        return null;
      }
      const age = error.heartbeatAgeMs === null ? '' : `, last heartbeat ${Math.round(error.heartbeatAgeMs / 1000)} s ago`;
      log(
        `${where}: held by PID ${error.owner.pid} on host ${error.owner.host}${age}; waiting up to ${Math.ceil(left / 1000)} s for it to finish, or for its lock to go stale`,
      );
      await pause(Math.min(options.lockPollMs ?? LOCK_POLL_MS, left), signal);
    }
  }
}
