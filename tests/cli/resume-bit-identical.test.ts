// A run interrupted and resumed ends bit-identical to one that never stopped: the final checkpoints (weights,
// optimizer state, step state, loss ring, per-unit history), every metrics row apart from its timing fields, the
// CSV, and every unit map file.
import { appendFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { resumeJob, runJob, type RunJobOptions } from '../../src/cli/run-job';
import { readManifest } from '../../src/cli/run-dir';
import { expectSameFiles, listFiles, metricsRows, tempDir, tinyConfig, useRunGpu, withoutTiming } from './run-fixtures';

/** CSV without its timing columns (elapsed_s, steps_per_s). */
async function csvWithoutTiming(dir: string): Promise<string[]> {
  const text = await readFile(join(dir, 'metrics.csv'), 'utf8');
  return text
    .trimEnd()
    .split('\n')
    .map((line) =>
      line
        .split(',')
        .filter((_, i) => i !== 1 && i !== 3)
        .join(','),
    );
}

describe('resume', () => {
  const run = useRunGpu();

  it('interrupted at step 14 (between snapshots) and resumed to 40 equals the uninterrupted run, file for file', async () => {
    const config = tinyConfig();
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 7, keepCheckpoints: 3, csv: true, unitMaps: 'both', gpu: run.gpu };

    const straightDir = await tempDir('straight');
    const straight = await runJob({ ...common, outDir: straightDir });
    expect(straight.status).toBe('completed');

    const dir = await tempDir('resumed');
    const controller = new AbortController();
    const first = await runJob({
      ...common,
      outDir: dir,
      signal: controller.signal,
      testHooks: { afterChunk: ({ step }) => void (step >= 14 && controller.abort('test stop')) },
    });
    expect(first).toMatchObject({ status: 'interrupted', step: 14, message: 'test stop' });
    expect(await readManifest(dir)).toMatchObject({ status: 'interrupted', step: 14 });
    expect((await metricsRows(dir)).map((r) => r.step)).toEqual([0, 5, 10]);

    // Resume takes the options from run.json; only the device is given.
    const resumed = await resumeJob(dir, { gpu: run.gpu });
    expect(resumed.status).toBe('completed');
    expect(resumed.step).toBe(40);
    expect(resumed.answer).toEqual(straight.answer);
    expect(resumed.layers).toEqual(straight.layers);

    const files = await listFiles(straightDir);
    expect(await listFiles(dir)).toEqual(files);
    expect(files.filter((f) => f.startsWith('checkpoints/'))).toEqual([
      'checkpoints/checkpoint-0000000028.safetensors',
      'checkpoints/checkpoint-0000000035.safetensors',
      'checkpoints/checkpoint-0000000040.safetensors',
    ]);
    await expectSameFiles(
      straightDir,
      dir,
      files.filter((f) => f.startsWith('checkpoints/') || f.startsWith('maps/') || f === 'config.json' || f.startsWith('charts/')),
    );
    expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
    expect(await csvWithoutTiming(dir)).toEqual(await csvWithoutTiming(straightDir));
  });

  it('cuts metrics written after the checkpoint (a crash mid-interval, a torn last line) and produces them again', async () => {
    const config = tinyConfig({ steps: 20 });
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 10, keepCheckpoints: 1, csv: true, unitMaps: 'none', gpu: run.gpu };
    const straightDir = await tempDir('straight2');
    await runJob({ ...common, outDir: straightDir });

    const dir = await tempDir('crashed');
    const controller = new AbortController();
    await runJob({ ...common, outDir: dir, signal: controller.signal, testHooks: { afterChunk: ({ step }) => void (step >= 10 && controller.abort()) } });
    // As if the process had died after writing rows past its checkpoint, the last one half-written.
    const path = join(dir, 'metrics.jsonl');
    const rows = await readFile(path, 'utf8');
    await appendFile(path, rows.split('\n')[1].replace('"step":5', '"step":15') + '\n{"step":20,"elapsedSec');
    const resumed = await resumeJob(dir, { gpu: run.gpu });
    expect(resumed.status).toBe('completed');
    expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
    expect(await csvWithoutTiming(dir)).toEqual(await csvWithoutTiming(straightDir));
  });

  it('stopped before its first step, starts afresh on resume (no duplicate step-0 row)', async () => {
    const config = tinyConfig({ steps: 10 });
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 0, keepCheckpoints: 1, unitMaps: 'none', gpu: run.gpu };
    const straightDir = await tempDir('straight3');
    await runJob({ ...common, outDir: straightDir });
    const dir = await tempDir('at-zero');
    const controller = new AbortController();
    controller.abort();
    expect(await runJob({ ...common, outDir: dir, signal: controller.signal })).toMatchObject({ status: 'interrupted', step: 0 });
    expect((await metricsRows(dir)).map((r) => r.step)).toEqual([0]);
    expect((await resumeJob(dir, { gpu: run.gpu })).status).toBe('completed');
    expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
  });

  it('refuses a folder that is not a run, naming what is missing', async () => {
    const dir = await tempDir('empty');
    await expect(resumeJob(dir, { gpu: run.gpu })).rejects.toThrow(/is not a deadunits run folder \(no run\.json\)/);
  });
});
