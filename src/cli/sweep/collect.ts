// Node-only: `sweep collect` merges the points of a sweep, wherever the shards wrote them (one shared folder or
// one folder per shard), into one table (summary.csv) and one plot (summary.svg), plus, for non-stationary runs,
// the task-by-task plot (tasks.svg), and lists what is missing.
import { mkdir, stat } from 'node:fs/promises';
import { writeFileAtomic } from '../../io/atomic-file';
import { TaskEnds, type TaskEnd } from '../../report/tasks';
import { readMetricsRows } from '../outputs/metrics-writer';
import { readRunConfig, runPaths } from '../run-dir';
import { isFinished, type PointResult, pointRunDir, readPointResult, readSweepManifest, type SweepManifest, SweepFolderError, sweepPaths } from './folder';
import { summaryPlotSvg } from './plot';
import { taskPlotSvg } from './task-plot';
import { parseShard, shardOfPoint } from './shard';

export interface MissingPoint {
  index: number;
  id: string;
  /** The shard that should run it (i/n), when the shard count is known from the results found. */
  shard: string | null;
  /** 'interrupted' or 'gpu-error' when a result exists but the run did not finish (the next run of its shard resumes it). */
  reason: 'no result' | 'interrupted' | 'gpu-error' | 'does-not-fit';
}

export interface CollectResult {
  manifest: SweepManifest;
  results: PointResult[];
  missing: MissingPoint[];
  csv: string;
  svg: string;
  /** tasks.svg: null (and no file) when no point's run has task switches. */
  tasksSvg: string | null;
}

/** A point's task ends from its run folder, or null when it has no run folder or its run has no task switches. */
async function pointTaskEnds(runDir: string): Promise<TaskEnd[] | null> {
  if ((await stat(runPaths(runDir).config).catch(() => null)) === null) return null;
  const config = await readRunConfig(runDir);
  if (config.tasks.every === 0) return null;
  const ends = new TaskEnds(config.tasks.every);
  for await (const row of readMetricsRows(runPaths(runDir).metrics)) ends.push(row);
  return ends.list();
}

const DEAD_DIGITS = 6;

/** A folder given to collect must exist and hold results of a sweep. */
async function checkShardFolder(dir: string): Promise<void> {
  const info = await stat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw error;
  });
  if (!info) throw new SweepFolderError(dir, 'does not exist: give the folders the shards wrote (each holds sweep.json and results/)');
  if (!info.isDirectory()) throw new SweepFolderError(dir, 'is not a folder: give the folders the shards wrote (each holds sweep.json and results/)');
  const paths = sweepPaths(dir);
  const has = async (path: string) => (await stat(path).catch(() => null)) !== null;
  if (!(await has(paths.manifest)) && !(await has(paths.results)))
    throw new SweepFolderError(dir, 'holds no sweep results (neither sweep.json nor results/): is it the right folder?');
}

/** A CSV cell: numbers as JS prints them, strings quoted when they hold a comma, quote or newline. */
function csvCell(v: string | number | boolean | null): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const LAYER_COLUMNS = [
  'width',
  'dead_frac',
  'dead',
  'ever_dead',
  'revived_units',
  'revivals',
  'ever_dropped',
  'longest_drop_run',
  'frozen',
  'non_finite',
] as const;

/**
 * One row per point, in point order: index, id, one column per grid axis, status, step, final_loss,
 * steps_per_s, then per hidden layer l: Ll_width, Ll_dead_frac, Ll_dead, Ll_ever_dead, Ll_revived_units,
 * Ll_revivals, Ll_ever_dropped, Ll_longest_drop_run, Ll_frozen, Ll_non_finite (the last two empty for results written
 * before the frozen statistic). Points without a result have only index, id and axes.
 */
export function summaryCsv(manifest: SweepManifest, results: Map<string, PointResult>): string {
  const layerCount = Math.max(0, ...[...results.values()].map((r) => r.layers.length));
  const header = ['index', 'id', ...manifest.axes.map((a) => a.path), 'status', 'step', 'final_loss', 'steps_per_s'];
  for (let l = 1; l <= layerCount; l++) header.push(...LAYER_COLUMNS.map((c) => `L${l}_${c}`));
  const lines = [header.map(csvCell).join(',')];
  for (const p of manifest.points) {
    const r = results.get(p.id);
    const cells: (string | number | boolean | null)[] = [p.index, p.id, ...p.overrides.map(([, v]) => v)];
    if (r) {
      cells.push(r.status, r.step, r.finalLoss, r.stepsPerSecond === null ? null : Number(r.stepsPerSecond.toFixed(3)));
      for (let l = 0; l < layerCount; l++) {
        const s = r.layers[l];
        if (!s) cells.push(...LAYER_COLUMNS.map(() => null));
        else
          cells.push(
            s.width,
            Number((s.deadNow / s.width).toFixed(DEAD_DIGITS)),
            s.deadNow,
            s.everDead,
            s.revivedUnits,
            s.totalRevivals,
            s.everDropped,
            s.longestDropRun,
            s.training?.frozenNow ?? null,
            s.training?.nonFiniteNow ?? null,
          );
      }
    }
    lines.push(cells.map(csvCell).join(','));
  }
  return lines.join('\n') + '\n';
}

/**
 * Reads the sweep of `outDir` and the results of its points from `outDir` and every folder in `extraDirs`
 * (shard folders). Where several folders hold a point, a finished result wins over an interrupted one.
 */
export async function collectSweep(outDir: string, extraDirs: string[] = []): Promise<CollectResult> {
  const dirs = [outDir, ...extraDirs];
  // A shard folder that is missing (a typo, an unmounted share) would otherwise just look like missing points.
  for (const dir of extraDirs) await checkShardFolder(dir);
  let manifest: SweepManifest | null = null;
  for (const dir of dirs) {
    const m = await readSweepManifest(dir);
    if (!m) continue;
    if (!manifest) manifest = m;
    else if (m.points.map((p) => p.id).join() !== manifest.points.map((p) => p.id).join()) {
      throw new SweepFolderError(sweepPaths(dir).manifest, `belongs to another sweep than ${sweepPaths(dirs.find((d) => d !== dir) ?? outDir).manifest}`);
    }
  }
  if (!manifest) throw new SweepFolderError(sweepPaths(outDir).manifest, `is missing: no sweep.json in ${dirs.join(', ')} (run \`deadunits sweep\` first)`);

  const results = new Map<string, PointResult>();
  /** The folder each held result came from: its run folder is there too. */
  const resultDirs = new Map<string, string>();
  for (const p of manifest.points) {
    for (const dir of dirs) {
      const r = await readPointResult(dir, p.id);
      if (!r) continue;
      if (r.index !== p.index) throw new SweepFolderError(`${dir}/results/${p.id}.json`, `index ${r.index} does not match the sweep's ${p.index}`);
      const held = results.get(p.id);
      if (!held || (!isFinished(held) && isFinished(r))) {
        results.set(p.id, r);
        resultDirs.set(p.id, dir);
      }
    }
  }
  const tasks = new Map<string, TaskEnd[]>();
  for (const [id, dir] of resultDirs) {
    const ends = await pointTaskEnds(pointRunDir(dir, id));
    if (ends) tasks.set(id, ends);
  }
  const counts = new Set([...results.values()].map((r) => parseShard(r.shard).count));
  const shardCount = counts.size === 1 ? [...counts][0] : null;
  const missing: MissingPoint[] = manifest.points
    .filter((p) => results.get(p.id)?.status !== 'completed' && results.get(p.id)?.status !== 'non-finite')
    .map((p) => ({
      index: p.index,
      id: p.id,
      shard: shardCount === null ? null : `${shardOfPoint(p.index, shardCount)}/${shardCount}`,
      reason: missingReason(results.get(p.id)),
    }));

  const csv = summaryCsv(manifest, results);
  const svg = summaryPlotSvg(manifest, results);
  const tasksSvg = taskPlotSvg(manifest, tasks);
  const paths = sweepPaths(outDir);
  // OUT may be a fresh folder that only gathers the shard folders' results.
  await mkdir(outDir, { recursive: true });
  await writeFileAtomic(paths.summaryCsv, new TextEncoder().encode(csv));
  await writeFileAtomic(paths.summarySvg, new TextEncoder().encode(svg));
  if (tasksSvg !== null) await writeFileAtomic(paths.tasksSvg, new TextEncoder().encode(tasksSvg));
  return { manifest, results: [...results.values()].sort((a, b) => a.index - b.index), missing, csv, svg, tasksSvg };
}

/** Why a point has no finished result: the status of an unfinished one, or none at all. */
function missingReason(result: PointResult | undefined): MissingPoint['reason'] {
  if (!result) return 'no result';
  return result.status === 'gpu-error' || result.status === 'does-not-fit' ? result.status : 'interrupted';
}
