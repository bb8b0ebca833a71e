// The pieces of a run folder without a GPU: unit map codes and images, metrics files (append, torn lines,
// truncation on resume), the manifest and the folder-claiming rules.
import { appendFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from 'fast-png';
import { afterAll, describe, expect, it } from 'vitest';
import { toJson } from '../../src/config';
import { parseNpy } from '../../src/data/npy';
import { metricsFromJsonLine, type MetricsRow } from '../../src/report/metrics';
import { MetricsWriter, readMetricsRows, truncateMetrics } from '../../src/cli/outputs/metrics-writer';
import { unitMapInterval, unitMapNpy } from '../../src/cli/outputs/unit-maps';
import { imageGrid, unitMapImage, unitMapPng } from '../../src/report/unit-map-png';
import { rgbOf, UnitCode, unitCodes, UNIT_STATES } from '../../src/report/unit-states';
import { claimRunDir, readManifest, runPaths, unitMapFile, writeManifest } from '../../src/cli/run-dir';
import { removeTempDirs, tempDir, tinyConfig } from './run-fixtures';

afterAll(removeTempDirs);

const bits = (width: number, units: number[]) => {
  const words = new Uint32Array(Math.ceil(width / 32));
  for (const u of units) words[u >>> 5] |= 1 << (u & 31);
  return words;
};

describe('unit maps', () => {
  it('codes each unit by precedence dead > revived > dropped > alive', () => {
    const width = 70;
    const layer = {
      width,
      dead: bits(width, [1, 2, 65]),
      revived: bits(width, [3, 4]),
      dropped: bits(width, [2, 4, 5, 69]),
      frozen: bits(width, []),
      nonFinite: bits(width, []),
    };
    const codes = unitCodes(layer);
    expect(codes.length).toBe(70);
    expect(Array.from(codes.slice(0, 7))).toEqual([
      UnitCode.alive,
      UnitCode.dead,
      UnitCode.dead,
      UnitCode.revived,
      UnitCode.revived,
      UnitCode.dropped,
      UnitCode.alive,
    ]);
    expect(codes[65]).toBe(UnitCode.dead);
    expect(codes[69]).toBe(UnitCode.dropped);
  });

  it('codes frozen 4 and non-finite 5 (after the documented 0-3), non-finite > frozen > dead', () => {
    expect([UnitCode.alive, UnitCode.dead, UnitCode.dropped, UnitCode.revived, UnitCode.frozen, UnitCode.nonFinite]).toEqual([0, 1, 2, 3, 4, 5]);
    const width = 40;
    // Unit 0: dead on the probe and frozen; 1: frozen only; 2: non-finite (and, wrongly, also frozen and dead); 3: dead only.
    const layer = {
      width,
      dead: bits(width, [0, 2, 3]),
      revived: bits(width, []),
      dropped: bits(width, [1, 3]),
      frozen: bits(width, [0, 1, 2]),
      nonFinite: bits(width, [2]),
    };
    expect(Array.from(unitCodes(layer).slice(0, 5))).toEqual([UnitCode.frozen, UnitCode.frozen, UnitCode.nonFinite, UnitCode.dead, UnitCode.alive]);
  });

  it('lays units on a near-square grid, scaled up when small, padding in white', () => {
    expect(imageGrid(1)).toEqual({ cols: 1, rows: 1, scale: 256 });
    expect(imageGrid(20)).toEqual({ cols: 5, rows: 4, scale: 51 });
    expect(imageGrid(1_048_576)).toEqual({ cols: 1024, rows: 1024, scale: 1 });
    expect(() => imageGrid(0)).toThrow(/positive integer, got 0/);
    const codes = Uint8Array.from([0, 1, 2, 3, 1]); // 3 x 2 grid, last cell padding
    const image = unitMapImage(codes);
    const { scale } = imageGrid(5);
    expect([image.width, image.height]).toEqual([3 * scale, 2 * scale]);
    const pixel = (cell: number) => {
      const at = (Math.floor(cell / 3) * scale * image.width + (cell % 3) * scale) * 3;
      return Array.from(image.data.slice(at, at + 3));
    };
    codes.forEach((c, u) => expect(pixel(u)).toEqual(rgbOf(UNIT_STATES[c].colour)));
    expect(pixel(5)).toEqual([255, 255, 255]);
    // The last pixel of a cell still has the cell's colour (whole squares, no gaps).
    const end = ((scale - 1) * image.width + (scale - 1)) * 3;
    expect(Array.from(image.data.slice(end, end + 3))).toEqual(rgbOf(UNIT_STATES[0].colour));
  });

  it('encodes PNG and .npy files that decode to the same codes', () => {
    const codes = Uint8Array.from({ length: 37 }, (_, i) => i % 4);
    const png = decode(unitMapPng(codes));
    const image = unitMapImage(codes);
    expect([png.width, png.height, png.channels, png.depth]).toEqual([image.width, image.height, 3, 8]);
    expect(Array.from(png.data)).toEqual(Array.from(image.data));
    const npy = parseNpy(unitMapNpy(codes));
    expect(npy.dtype).toBe('uint8');
    expect(npy.shape).toEqual([37]);
    expect(Array.from(npy.data as ArrayLike<number>)).toEqual(Array.from(codes));
  });

  it('caps the maps of long runs at about 64 per layer', () => {
    expect(unitMapInterval(40, 5)).toBe(5);
    expect(unitMapInterval(10_000_000, 100)).toBe(156_300);
    expect(10_000_000 / unitMapInterval(10_000_000, 100)).toBeLessThanOrEqual(64);
    expect(unitMapInterval(10_000_000, 100) % 100).toBe(0);
    expect(unitMapFile(2, 1234, 'npy')).toBe('maps/L2/step-0000001234.npy');
  });
});

const row = (step: number): MetricsRow => ({
  step,
  elapsedSeconds: step / 10,
  loss: step ? 1 / step : null,
  stepsPerSecond: step ? 10 : null,
  skipped: 0,
  layers: [{ width: 4, dead: 1, dropped: 2, revived: 0, everDead: 1 }],
});

describe('metrics files', () => {
  it('appends whole lines, skips a torn last line, and truncates to a checkpoint step (JSONL and CSV)', async () => {
    const dir = await tempDir('metrics');
    const paths = runPaths(dir);
    const writer = await MetricsWriter.open(paths, { csv: true, layerCount: 1 });
    for (const s of [0, 5, 10, 15]) await writer.append(row(s));
    await writer.close();
    await appendFile(paths.metrics, '{"step":20,"elapsed');
    const read: MetricsRow[] = [];
    for await (const r of readMetricsRows(paths.metrics)) read.push(r);
    expect(read).toEqual([0, 5, 10, 15].map(row));

    expect(await truncateMetrics(paths, 10, { csv: true, layerCount: 1 })).toBe(3);
    expect(
      (await readFile(paths.metrics, 'utf8'))
        .trimEnd()
        .split('\n')
        .map((l) => metricsFromJsonLine(l).step),
    ).toEqual([0, 5, 10]);
    const csv = (await readFile(paths.csv, 'utf8')).split('\n');
    expect(csv[0]).toBe('step,elapsed_s,loss,steps_per_s,skipped,L1_width,L1_dead,L1_dropped,L1_revived,L1_ever_dead,L1_frozen,L1_non_finite');
    expect(csv.slice(1, -1).map((l) => l.split(',')[0])).toEqual(['0', '5', '10']);
    expect(csv[csv.length - 1]).toBe('');

    // Reopened after truncation, a CSV that has a header gets no second one.
    const again = await MetricsWriter.open(paths, { csv: true, layerCount: 1 });
    await again.append(row(15));
    await again.close();
    expect((await readFile(paths.csv, 'utf8')).match(/^step,/gm)).toHaveLength(1);
    expect(await truncateMetrics(paths, -1, { csv: false, layerCount: 1 })).toBe(0);
    expect(await readFile(paths.metrics, 'utf8')).toBe('');
  });

  it('names the line of a malformed row and reads a missing file as empty', async () => {
    const dir = await tempDir('bad-metrics');
    const paths = runPaths(dir);
    await writeFile(paths.metrics, `${JSON.stringify({ ...row(0), loss: null })}\n{"step":-1}\n`);
    const rows: MetricsRow[] = [];
    await expect(
      (async () => {
        for await (const r of readMetricsRows(paths.metrics)) rows.push(r);
      })(),
    ).rejects.toThrow(/metrics\.jsonl line 2: metrics line: field step/);
    await expect(truncateMetrics(paths, 5, { csv: false, layerCount: 1 })).rejects.toThrow(/line 2/);
    const none: MetricsRow[] = [];
    for await (const r of readMetricsRows(join(dir, 'nothing.jsonl'))) none.push(r);
    expect(none).toEqual([]);
  });
});

describe('run folders', () => {
  it('writes and validates the manifest, naming a bad field', async () => {
    const dir = await tempDir('manifest');
    expect(await readManifest(dir)).toBeNull();
    await writeManifest(dir, { checkpointEvery: 10, keepCheckpoints: 2, csv: false, unitMaps: 'png', status: 'running', step: 0 });
    expect(await readManifest(dir)).toMatchObject({ format: 'deadunits-run', version: 1, status: 'running' });
    await writeFile(
      runPaths(dir).manifest,
      JSON.stringify({ format: 'deadunits-run', version: 1, checkpointEvery: -3, keepCheckpoints: 2, csv: false, unitMaps: 'png', status: 'running', step: 0 }),
    );
    await expect(readManifest(dir)).rejects.toThrow(/run\.json: field checkpointEvery/);
    await writeFile(runPaths(dir).manifest, '{');
    await expect(readManifest(dir)).rejects.toThrow(/run\.json is not valid JSON/);
  });

  it('claims a missing or empty folder, recognises its own run, refuses the rest', async () => {
    const root = await tempDir('claim');
    const config = tinyConfig();
    expect(await claimRunDir(join(root, 'new', 'deep'), config)).toBe('fresh');
    const dir = join(root, 'run');
    await mkdir(dir);
    expect(await claimRunDir(dir, config)).toBe('fresh');
    await writeFile(runPaths(dir).config, toJson(config));
    await writeManifest(dir, { checkpointEvery: 10, keepCheckpoints: 2, csv: false, unitMaps: 'png', status: 'running', step: 0 });
    expect(await claimRunDir(dir, config)).toBe('same-run');
    await expect(claimRunDir(dir, tinyConfig({ seed: 4 }))).rejects.toThrow(/holds another run/);
  });
});
