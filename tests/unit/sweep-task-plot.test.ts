// `sweep collect` on non-stationary runs: tasks.svg, the dead fraction and the loss at the end of each task per cure,
// mean over seeds with a lowest-to-highest band, from each point's run folder (no GPU: a fake runner writes them).
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { toJson } from '../../src/config';
import { runPaths } from '../../src/cli/run-dir';
import { collectSweep } from '../../src/cli/sweep/collect';
import { sweepPaths } from '../../src/cli/sweep/folder';
import { runSweep, type PointOutcome, type PointRunRequest } from '../../src/cli/sweep/run-sweep';
import type { SweepSpec } from '../../src/cli/sweep/spec';
import { type BandPoint, taskSeries } from '../../src/cli/sweep/task-plot';
import type { MetricsRow } from '../../src/report/metrics';
import { TaskEnds } from '../../src/report/tasks';

const EVERY = 100;
const base = {
  inputSize: 21,
  hidden: [{ width: 5, dropout: 0 }],
  dataset: { kind: 'slowly_changing', flipping: 15, teacherWidth: 100, beta: 0.7 },
  batchSize: 1,
  lr: 0.01,
  tasks: { every: EVERY },
  snapshot: { every: 50, probeSize: 32 },
};
const spec: SweepSpec = {
  base,
  axes: [
    { path: 'weightDecay', values: [0, 0.01] },
    { path: 'seed', values: [1, 2, 3] },
  ],
  steps: 300,
};

/** Dead units at a row: the seed's count, one more per task with weight decay (so the bands are known). */
function deadAt(config: PointRunRequest['config'], step: number): number {
  const task = Math.floor((step - 1) / EVERY);
  return Math.min(5, config.seed - 1 + (config.weightDecay > 0 ? task : 0));
}

/** A fake run that writes what a real one would: config.json and one metrics row per snapshot. */
async function fakeRun(r: PointRunRequest): Promise<PointOutcome> {
  const c = r.config;
  await mkdir(r.outDir, { recursive: true });
  await writeFile(runPaths(r.outDir).config, toJson(c));
  const rows: MetricsRow[] = [];
  for (let step = 0; step <= c.steps; step += c.snapshot.every)
    rows.push({
      step,
      elapsedSeconds: step / 1000,
      loss: step === 0 ? null : c.seed / 10 + step / 10_000,
      stepsPerSecond: 1000,
      skipped: 0,
      layers: [{ width: 5, dead: step === 0 ? 0 : deadAt(c, step), dropped: 0, revived: 0, everDead: 0, frozen: 0, nonFinite: 0 }],
    });
  await writeFile(runPaths(r.outDir).metrics, rows.map((row) => JSON.stringify(row) + '\n').join(''));
  const last = rows[rows.length - 1];
  return {
    status: 'completed',
    step: c.steps,
    last,
    layers: [{ width: 5, deadNow: last.layers[0].dead, everDead: last.layers[0].dead, revivedUnits: 0, totalRevivals: 0, everDropped: 0, longestDropRun: 0 }],
  };
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deadunits-task-plot-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('sweep collect: task-by-task curves per cure', () => {
  it('writes tasks.svg with one series per cure: mean, lowest and highest seed at the end of each task', async () => {
    const dir = await tempDir();
    await runSweep({ spec, outDir: dir, shard: { index: 0, count: 1 }, runPoint: fakeRun });
    const result = await collectSweep(dir);
    expect(result.tasksSvg).not.toBeNull();
    expect(await readFile(sweepPaths(dir).tasksSvg, 'utf8')).toBe(result.tasksSvg);

    // The same grouping the plot draws, from the same run folders.
    const tasks = new Map(
      await Promise.all(
        result.manifest.points.map(async (p) => {
          const ends = new TaskEnds(EVERY);
          const text = await readFile(runPaths(join(dir, 'points', p.id)).metrics, 'utf8');
          for (const line of text.trim().split('\n')) ends.push(JSON.parse(line) as MetricsRow);
          return [p.id, ends.list()] as const;
        }),
      ),
    );
    const series = taskSeries(result.manifest, tasks);
    expect(series.map((s) => s.label)).toEqual(['weightDecay=0', 'weightDecay=0.01']);
    // Without weight decay seed s has s - 1 of 5 dead in every task: mean 1/5, band 0 to 2/5.
    const rounded = (p: BandPoint) => ({ ...p, mean: Number(p.mean.toFixed(12)) });
    expect(series[0].dead.map(rounded)).toEqual([0, 1, 2].map((task) => ({ task, mean: 0.2, min: 0, max: 0.4, seeds: 3 })));
    // With it, one more per task: task 2 (index 2) has 2, 3, 4 dead.
    expect(rounded(series[1].dead[2])).toEqual({ task: 2, mean: 0.6, min: 0.4, max: 0.8, seeds: 3 });
    // Loss at the end of task 0 (row at step 100): seed/10 + 0.01.
    expect(series[0].loss[0].min).toBeCloseTo(0.11, 12);
    expect(series[0].loss[0].max).toBeCloseTo(0.31, 12);
    expect(series[0].loss[0].mean).toBeCloseTo(0.21, 12);
    // Two bands and two mean lines per panel.
    expect(result.tasksSvg!.match(/fill-opacity="0.18" stroke="none"/g)).toHaveLength(4);
    expect(result.tasksSvg).toContain('mean over 3 seeds, band: lowest to highest seed');
  });

  it('a task not yet completed by every seed is drawn from the seeds that completed it', async () => {
    const dir = await tempDir();
    await runSweep({ spec, outDir: dir, shard: { index: 0, count: 1 }, runPoint: fakeRun });
    const manifest = (await collectSweep(dir)).manifest;
    const ends = (step: number, dead: number) => {
      const e = new TaskEnds(EVERY);
      e.push({ step, elapsedSeconds: 0, loss: 1, stepsPerSecond: null, skipped: 0, layers: [{ width: 5, dead, dropped: 0, revived: 0, everDead: 0 }] });
      return e.list();
    };
    // Seed 1 stopped inside task 0 (step 50): it counts for no task.
    const tasks = new Map([
      [manifest.points[0].id, ends(50, 5)],
      [manifest.points[1].id, ends(100, 1)],
    ]);
    const [s] = taskSeries(manifest, tasks);
    expect(s.dead).toEqual([{ task: 0, mean: 0.2, min: 0.2, max: 0.2, seeds: 1 }]);
  });

  it('a sweep of stationary runs writes no tasks.svg', async () => {
    const dir = await tempDir();
    const stationary: SweepSpec = { ...spec, base: { ...base, tasks: { every: 0 } } };
    await runSweep({ spec: stationary, outDir: dir, shard: { index: 0, count: 1 }, runPoint: fakeRun });
    const result = await collectSweep(dir);
    expect(result.tasksSvg).toBeNull();
    expect(await stat(sweepPaths(dir).tasksSvg).catch(() => null)).toBeNull();
  });
});
