// Node-only: the layout of a sweep folder, shared by every shard (on one machine or many, through a shared file
// system). Every file is written atomically (temp + rename), each point by the one shard that owns it, so
// shards never clash.
//
//   sweep.json            the sweep: spec and the list of points (index, id, overrides); identical from every shard
//   points/<id>/          the point's run folder (src/cli/run-dir.ts: config.json, run.json, metrics, checkpoints, ...)
//   results/<id>.json     the point's outcome, written when its run stops (completed, interrupted or non-finite)
//   summary.csv, summary.svg   written by `sweep collect` (and tasks.svg when the runs have task switches)
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, jsonTreeIssue } from '../../config';
import { writeFileAtomic } from '../../io/atomic-file';
import { readRegularTextIfExists } from '../../io/regular-file';
import { parseShard, type Shard } from './shard';
import type { SweepPoint, SweepSpec } from './spec';

export const SWEEP_FORMAT = 'deadunits-sweep';
export const POINT_RESULT_FORMAT = 'deadunits-sweep-point';

export const sweepPaths = (dir: string) => ({
  manifest: join(dir, 'sweep.json'),
  points: join(dir, 'points'),
  results: join(dir, 'results'),
  summaryCsv: join(dir, 'summary.csv'),
  summarySvg: join(dir, 'summary.svg'),
  tasksSvg: join(dir, 'tasks.svg'),
});

/** A point's run folder. `id` must be a point id (POINT_ID): it becomes a path. */
export const pointRunDir = (dir: string, id: string) => join(dir, 'points', checkedId(id));
export const pointResultPath = (dir: string, id: string) => join(dir, 'results', `${checkedId(id)}.json`);

function checkedId(id: string): string {
  if (!POINT_ID.test(id)) throw new SweepFolderError(id, 'is not a point id (p<index>-<8 hex digits>): refusing to use it as a file name');
  return id;
}

const gridValue = z.union([z.number(), z.string(), z.boolean()]);
/**
 * A point id as expandSweep makes them (p<index>-<8 hex digits>). Ids become folder and file names, so one read
 * from a file must be exactly that: never "../x", a path, or a name of another kind.
 */
export const POINT_ID = /^p\d{1,6}-[0-9a-f]{8}$/;
/**
 * What a point's run folder lock names as its owner (the lock's `command`): the point and the shard running it, so
 * that `sweep status` knows the shard count from a running point before any point has a result.
 */
export const pointLockOwner = (id: string, shard: string) => `sweep point ${id} shard ${shard}`;

/** The shard a point's lock owner names; null for another owner (a plain run, an older sweep) or one that is not i/n. */
export function shardOfLockOwner(command: string): Shard | null {
  const named = /^sweep point \S+ shard (\d+\/\d+)$/.exec(command)?.[1];
  try {
    return named === undefined ? null : parseShard(named);
  } catch {
    return null;
  }
}

const pointId = z.string().regex(POINT_ID, { error: (iss) => `${JSON.stringify(iss.input)} is not a point id (p<index>-<8 hex digits>)` });
/** Largest sweep.json read: MAX_POINTS points with their overrides. */
const MAX_SWEEP_MANIFEST_BYTES = 64 << 20;
/** Largest results/<id>.json read. */
const MAX_POINT_RESULT_BYTES = 1 << 20;
const overrides = z.array(z.tuple([z.string(), gridValue]));

const SweepManifestSchema = z.strictObject({
  format: z.literal(SWEEP_FORMAT),
  version: z.literal(1),
  axes: z.array(z.strictObject({ path: z.string(), values: z.array(gridValue) })),
  base: z.union([z.string(), z.record(z.string(), z.unknown())]),
  steps: z.number().optional(),
  points: z.array(z.strictObject({ index: z.number().int().min(0), id: pointId, overrides })),
});
export type SweepManifest = z.infer<typeof SweepManifestSchema>;

const layerSummary = z.strictObject({
  width: z.number().int().min(1),
  deadNow: z.number().int().min(0),
  everDead: z.number().int().min(0),
  revivedUnits: z.number().int().min(0),
  totalRevivals: z.number().int().min(0),
  everDropped: z.number().int().min(0),
  longestDropRun: z.number().int().min(0),
  inDropRunNow: z.number().int().min(0).optional(),
  longestRunOngoing: z.number().int().min(0).optional(),
  training: z
    .strictObject({
      window: z.number().int().min(1),
      frozenNow: z.number().int().min(0),
      deadNotFrozen: z.number().int().min(0),
      frozenNotDead: z.number().int().min(0),
      nonFiniteNow: z.number().int().min(0),
      firstNonFiniteStep: z.number().int().min(0).nullable(),
      thawedUnits: z.number().int().min(0),
    })
    .optional(),
});

const PointResultSchema = z.strictObject({
  format: z.literal(POINT_RESULT_FORMAT),
  version: z.literal(1),
  index: z.number().int().min(0),
  id: pointId,
  overrides,
  /** The shard that ran it, i/n. */
  shard: z.string(),
  status: z.enum(['completed', 'interrupted', 'non-finite', 'gpu-error', 'does-not-fit']),
  step: z.number().int().min(0),
  steps: z.number().int().min(1),
  /** Mean loss of the last snapshot interval; "NaN"/"Infinity" strings when non-finite. */
  finalLoss: z.union([z.number(), z.enum(['NaN', 'Infinity', '-Infinity']), z.null()]),
  /** Throughput of the last snapshot interval. */
  stepsPerSecond: z.number().min(0).nullable(),
  layers: z.array(layerSummary),
  message: z.string().optional(),
});
export type PointResult = z.infer<typeof PointResultSchema>;

export class SweepFolderError extends ConfigError {
  constructor(path: string, message: string) {
    super([{ path, message }], 'sweep folder');
  }
}

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value, null, 2) + '\n');

export function sweepManifest(spec: SweepSpec, points: SweepPoint[]): SweepManifest {
  return {
    format: SWEEP_FORMAT,
    version: 1,
    axes: spec.axes,
    base: spec.base,
    ...(spec.steps === undefined ? {} : { steps: spec.steps }),
    points: points.map((p) => ({ index: p.index, id: p.id, overrides: p.overrides })),
  };
}

export async function readSweepManifest(dir: string): Promise<SweepManifest | null> {
  const path = sweepPaths(dir).manifest;
  const text = await readRegularTextIfExists(path, MAX_SWEEP_MANIFEST_BYTES, 'sweep.json');
  if (text === null) return null;
  return parseJsonFile(path, text, SweepManifestSchema);
}

function parseJsonFile<T>(path: string, text: string, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new SweepFolderError(path, `is not valid JSON: ${(error as Error).message}`);
  }
  const tree = jsonTreeIssue(value);
  if (tree) throw new SweepFolderError(path, `${tree.path ? `${tree.path}: ` : ''}${tree.message}`);
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0];
    throw new SweepFolderError(path, `field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return r.data;
}

/**
 * Creates the sweep folder or checks that it holds this same sweep (same point ids in the same order); a
 * folder of another sweep is refused rather than mixed.
 */
export async function claimSweepFolder(dir: string, manifest: SweepManifest): Promise<void> {
  const existing = await readSweepManifest(dir);
  if (existing) {
    const ids = (m: SweepManifest) => m.points.map((p) => p.id).join(',');
    if (ids(existing) !== ids(manifest)) {
      throw new SweepFolderError(sweepPaths(dir).manifest, `holds another sweep (${existing.points.length} points, different ids): use another --out folder`);
    }
    return;
  }
  const paths = sweepPaths(dir);
  await mkdir(paths.points, { recursive: true });
  await mkdir(paths.results, { recursive: true });
  await writeFileAtomic(paths.manifest, encode(manifest));
}

export async function writePointResult(dir: string, result: Omit<PointResult, 'format' | 'version'>): Promise<void> {
  await mkdir(sweepPaths(dir).results, { recursive: true });
  await writeFileAtomic(pointResultPath(dir, result.id), encode({ format: POINT_RESULT_FORMAT, version: 1, ...result }));
}

/** The point's result in `dir`, or null when it has none yet. */
export async function readPointResult(dir: string, id: string): Promise<PointResult | null> {
  const path = pointResultPath(dir, id);
  const text = await readRegularTextIfExists(path, MAX_POINT_RESULT_BYTES, 'a point result');
  if (text === null) return null;
  return parseJsonFile(path, text, PointResultSchema);
}

/**
 * Terminal outcomes: the point is done and is not run again (a non-finite run would diverge again). Interrupted points
 * and points a GPU error stopped are resumed from their last good checkpoint.
 */
export function isFinished(result: PointResult | null): result is PointResult & { status: 'completed' | 'non-finite' } {
  // A point that did not fit the GPU is tried again by the next run of its shard (perhaps on a bigger GPU).
  return result !== null && (result.status === 'completed' || result.status === 'non-finite');
}
