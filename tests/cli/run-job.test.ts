// runJob end to end on the real adapter: what a run folder holds, that its parts agree with each other, and the
// folders it refuses.
import { readFile, writeFile, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { describe, expect, it } from 'vitest';
import { fromJson, type RunConfig } from '../../src/config';
import { parseNpy } from '../../src/data/npy';
import { checkpointFromSafetensors } from '../../src/io/checkpoint';
import { listCheckpoints } from '../../src/io/atomic-file';
import { runJob } from '../../src/cli/run-job';
import { readManifest } from '../../src/cli/run-dir';
import { imageGrid } from '../../src/report/unit-map-png';
import { rgbOf, UnitCode, UNIT_STATES } from '../../src/report/unit-states';
import { metricsRows, tempDir, tinyConfig, useRunGpu } from './run-fixtures';

describe('runJob', () => {
  const run = useRunGpu();

  it('writes config, manifest, metrics (JSONL + CSV), unit maps, checkpoints, charts and a report that agree', async () => {
    const config = tinyConfig();
    const outDir = await tempDir('run');
    const lines: string[] = [];
    const result = await runJob({
      config,
      outDir,
      checkpointEvery: 15,
      keepCheckpoints: 2,
      csv: true,
      unitMaps: 'both',
      gpu: run.gpu,
      log: (l) => lines.push(l),
    });
    expect(result.status).toBe('completed');
    expect(result.step).toBe(40);
    expect(lines.join('\n')).toMatch(/outputs in .*report\.md, metrics\.jsonl, metrics\.csv/);

    expect(fromJson(await readFile(join(outDir, 'config.json'), 'utf8'))).toEqual(config);
    expect(await readManifest(outDir)).toMatchObject({ status: 'completed', step: 40, checkpointEvery: 15, keepCheckpoints: 2, csv: true, unitMaps: 'both' });

    // One row per snapshot, step 0 included; the last row is the result's.
    const rows = await metricsRows(outDir);
    expect(rows.map((r) => r.step)).toEqual([0, 5, 10, 15, 20, 25, 30, 35, 40]);
    expect(rows[0].loss).toBeNull();
    expect(rows.slice(1).every((r) => r.loss !== null && Number.isFinite(r.loss) && r.stepsPerSecond! > 0)).toBe(true);
    expect(result.last).toEqual(rows[rows.length - 1]);
    const csv = (await readFile(join(outDir, 'metrics.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe(
      'step,elapsed_s,loss,steps_per_s,skipped,L1_width,L1_dead,L1_dropped,L1_revived,L1_ever_dead,L1_frozen,L1_non_finite,' +
        'L2_width,L2_dead,L2_dropped,L2_revived,L2_ever_dead,L2_frozen,L2_non_finite',
    );
    expect(csv.slice(1).map((l) => Number(l.split(',')[0]))).toEqual(rows.map((r) => r.step));

    // Checkpoints every 15 steps and at the end, the last two kept; the last is the final state.
    const checkpoints = await listCheckpoints(join(outDir, 'checkpoints'));
    expect(checkpoints.map((c) => c.step)).toEqual([30, 40]);
    const final = checkpointFromSafetensors(new Uint8Array(await readFile(checkpoints[1].path)));
    expect(final.step).toBe(40);
    expect(final.config).toEqual(JSON.parse(JSON.stringify(config)));
    expect(final.observatory?.lastSnapshotStep).toBe(40);

    // Unit maps: the .npy codes match the metrics counts, and the PNG shows the same codes in the palette.
    for (const [l, width] of [
      [1, 20],
      [2, 7],
    ] as const) {
      const names = await readdir(join(outDir, 'maps', `L${l}`));
      expect(names.filter((n) => n.endsWith('.npy'))).toHaveLength(rows.length);
      for (const row of [rows[0], rows[4], rows[8]]) {
        const stem = join(outDir, 'maps', `L${l}`, `step-${String(row.step).padStart(10, '0')}`);
        const npy = parseNpy(await readFile(`${stem}.npy`));
        expect(npy.dtype).toBe('uint8');
        expect(npy.shape).toEqual([width]);
        const codes = Array.from(npy.data as ArrayLike<number>);
        const count = (c: number) => codes.filter((v) => v === c).length;
        const m = row.layers[l - 1];
        expect(count(UnitCode.dead), `L${l} step ${row.step}: dead`).toBe(m.dead);
        expect(count(UnitCode.revived), `L${l} step ${row.step}: revived`).toBe(m.revived);
        expect(count(UnitCode.dropped)).toBeLessThanOrEqual(m.dropped);
        const png = decode(await readFile(`${stem}.png`));
        const { cols, scale } = imageGrid(width);
        codes.forEach((code, u) => {
          const at = (Math.floor(u / cols) * scale * png.width + (u % cols) * scale) * png.channels;
          expect(Array.from(png.data.slice(at, at + 3)), `L${l} unit ${u} pixel`).toEqual(rgbOf(UNIT_STATES[code].colour));
        });
      }
    }

    // The report answers from the same numbers and points at files that exist.
    const report = await readFile(join(outDir, 'report.md'), 'utf8');
    expect(report).toContain(result.answer.headline);
    for (const f of result.answer.findings) expect(report).toContain(f);
    expect(report).toMatch(/\| L2 \| 7 \| relu \| 0\.2 \|/);
    for (const link of report.matchAll(/\]\(([^)]+)\)/g)) await expect(readFile(join(outDir, link[1])), link[1]).resolves.toBeTruthy();
    expect(await readFile(join(outDir, 'charts', 'dead.svg'), 'utf8')).toMatch(/^<svg[^>]*>[\s\S]*L2 ever[\s\S]*<\/svg>\n$/);
    const summary = result.layers.map((s) => s.deadNow);
    expect(summary).toEqual(rows[rows.length - 1].layers.map((l) => l.dead));
  });

  it('continues when the folder holds this very run, and refuses any other non-empty folder', async () => {
    const config = tinyConfig({ steps: 10 });
    const outDir = await tempDir('same');
    await runJob({ config, outDir, checkpointEvery: 0, keepCheckpoints: 1, unitMaps: 'none', gpu: run.gpu });
    const lines: string[] = [];
    const again = await runJob({ config, outDir, checkpointEvery: 0, keepCheckpoints: 1, unitMaps: 'none', gpu: run.gpu, log: (l) => lines.push(l) });
    expect(again.status).toBe('completed');
    expect(lines[0]).toMatch(/already holds this run: continuing it/);
    expect((await metricsRows(outDir)).map((r) => r.step)).toEqual([0, 5, 10]);

    await expect(runJob({ config: tinyConfig({ steps: 20 }), outDir, checkpointEvery: 0, keepCheckpoints: 1, gpu: run.gpu })).rejects.toThrow(
      /holds another run .*choose another --out folder, or continue that run with `deadunits resume/,
    );
    const foreign = await tempDir('foreign');
    await writeFile(join(foreign, 'notes.txt'), 'mine');
    await expect(runJob({ config, outDir: foreign, checkpointEvery: 0, keepCheckpoints: 1, gpu: run.gpu })).rejects.toThrow(
      /is not empty and is not a deadunits run folder \(it holds notes\.txt\)/,
    );
  });

  it('refuses options and configurations it cannot run, naming the field', async () => {
    const outDir = await tempDir('bad');
    const off: RunConfig = tinyConfig({ snapshot: { every: 0, probeSize: 16 } });
    await expect(runJob({ config: off, outDir, checkpointEvery: 0, keepCheckpoints: 1, gpu: run.gpu })).rejects.toThrow(
      /snapshot\.every: 0 turns snapshots off/,
    );
    await expect(runJob({ config: tinyConfig(), outDir, checkpointEvery: -1, keepCheckpoints: 1, gpu: run.gpu })).rejects.toThrow(
      /checkpointEvery must be an integer >= 0/,
    );
    await expect(runJob({ config: tinyConfig(), outDir, checkpointEvery: 5, keepCheckpoints: 0, gpu: run.gpu })).rejects.toThrow(
      /keepCheckpoints must be an integer >= 1, got 0/,
    );
  });
});
