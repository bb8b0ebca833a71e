// `deadunits run --data` as a user runs it, on files NumPy wrote: the run folder records the files, the probe set
// comes from them, resume refuses a changed file by name, and a CSV with a header and a label column trains too;
// a --config file and a sweep spec name the files relative to themselves.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/cli/data-files';
import { parseRunConfig } from '../../src/config';
import { parseNpy } from '../../src/data';
import { runPython } from '../python';
import { runCli } from './run-cli';
import { metricsRows, removeTempDirs, tempDir } from './run-fixtures';

const WRITE = `
import sys
import numpy as np
out = sys.argv[1]
rng = np.random.default_rng(7)
x = rng.normal(size=(96, 5)).astype(np.float32)
np.save(f"{out}/x.npy", x)
np.save(f"{out}/y.npy", (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.5))
np.save(f"{out}/t.npy", (x[:, :2] @ np.array([[0.5], [-1.0]])).astype(np.float64))
np.savetxt(f"{out}/table.csv", np.c_[x[:, :3], (x[:, 2] > 0)], delimiter=",", header="a,b,c,label", comments="", fmt="%.6g")
`;

const TINY = [
  '--set',
  'hidden=[{"width":12,"dropout":0.5},{"width":6}]',
  '--set',
  'batchSize=16',
  '--set',
  'stepsPerSubmit=4',
  '--steps',
  '20',
  '--every',
  '5',
];

afterAll(removeTempDirs);

describe('deadunits run --data', () => {
  it('trains on .npy files, records them, probes on them, and refuses to resume on a changed file', async () => {
    const dir = await tempDir('own-npy');
    runPython(['numpy'], WRITE, [dir]);
    const out = join(dir, 'run');
    const r = await runCli(['run', '--data', join(dir, 'x.npy'), '--targets', join(dir, 'y.npy'), ...TINY, '--out', out, '--progress', 'none']);
    expect(r.code, r.stderr).toBe(0);
    const config = parseRunConfig(JSON.parse(await readFile(join(out, 'config.json'), 'utf8')));
    expect(config).toMatchObject({ inputSize: 5, outputSize: 3, loss: 'softmax_ce', steps: 20 });
    for (const [field, name] of [
      ['inputs', 'x.npy'],
      ['targets', 'y.npy'],
    ] as const) {
      const bytes = await readFile(join(dir, name));
      expect(config.dataset.kind === 'file' && config.dataset[field]).toEqual({ path: join(dir, name), bytes: bytes.length, sha256: sha256Hex(bytes) });
    }
    // Every snapshot probes the user's own rows (all 96 of them: the probe size 256 is capped at the samples).
    const rows = await metricsRows(out);
    expect(rows.map((row) => row.step)).toEqual([0, 5, 10, 15, 20]);
    expect(rows.every((row) => Number.isFinite(row.loss ?? 0))).toBe(true);
    expect(await readFile(join(out, 'report.md'), 'utf8')).toMatch(/file\(x\.npy\)/);

    // The same run folder with a changed targets file: resume names the file and stops before training.
    const y = parseNpy(await readFile(join(dir, 'y.npy')));
    expect(y.shape).toEqual([96]);
    await writeFile(
      join(dir, 'y.npy'),
      (await readFile(join(dir, 'y.npy'))).map((b, i, a) => (i === a.length - 1 ? b ^ 1 : b)),
    );
    const again = await runCli(['resume', out, '--progress', 'none']);
    expect(again.code).toBe(2);
    expect(again.stderr).toContain(`dataset.targets: ${join(dir, 'y.npy')} has changed since the run recorded it`);
  });

  it('regression targets and a CSV with a header and a label column', async () => {
    const dir = await tempDir('own-csv');
    runPython(['numpy'], WRITE, [dir]);
    const reg = await runCli(['run', '--data', join(dir, 'x.npy'), '--targets', join(dir, 't.npy'), ...TINY, '--out', join(dir, 'reg'), '--progress', 'none']);
    expect(reg.code, reg.stderr).toBe(0);
    expect(JSON.parse(await readFile(join(dir, 'reg', 'config.json'), 'utf8'))).toMatchObject({ inputSize: 5, outputSize: 1, loss: 'mse' });

    const csvArgs = ['run', '--data', join(dir, 'table.csv'), '--label-column', 'label', ...TINY, '--out', join(dir, 'csv'), '--progress', 'none'];
    const unclear = await runCli(csvArgs);
    expect(unclear.code).toBe(2);
    expect(unclear.stderr).toMatch(/loss: the targets \(.*table\.csv, column "label"\) are whole numbers from 0 to 1 stored in a CSV/);
    const csv = await runCli([...csvArgs, '--set', 'loss=softmax_ce']);
    expect(csv.code, csv.stderr).toBe(0);
    expect(csv.stderr).toContain('table.csv: line 1 read as a header (a, b, c, label)');
    expect(JSON.parse(await readFile(join(dir, 'csv', 'config.json'), 'utf8'))).toMatchObject({ inputSize: 3, outputSize: 2, loss: 'softmax_ce' });
  });
  it('a --config file and a sweep base name the files relative to themselves; both record them', async () => {
    const dir = await tempDir('own-config');
    runPython(['numpy'], WRITE, [dir]);
    const recorded = async (name: string) => {
      const bytes = await readFile(join(dir, name));
      return { path: join(dir, name), bytes: bytes.length, sha256: sha256Hex(bytes) };
    };
    const base = {
      dataset: { kind: 'file', inputs: 'x.npy', targets: 'y.npy' },
      hidden: [{ width: 12, dropout: 0.5 }, { width: 6 }],
      batchSize: 16,
      stepsPerSubmit: 4,
      snapshot: { every: 5 },
    };
    await writeFile(join(dir, 'mine.json'), JSON.stringify({ ...base, steps: 10 }));
    const run = await runCli(['run', '--config', join(dir, 'mine.json'), '--out', join(dir, 'run'), '--progress', 'none']);
    expect(run.code, run.stderr).toBe(0);
    const config = parseRunConfig(JSON.parse(await readFile(join(dir, 'run', 'config.json'), 'utf8')));
    expect(config).toMatchObject({
      inputSize: 5,
      outputSize: 3,
      loss: 'softmax_ce',
      dataset: { inputs: await recorded('x.npy'), targets: await recorded('y.npy') },
    });

    await writeFile(join(dir, 'sweep.json'), JSON.stringify({ base, grid: { lr: [0.01, 0.1] }, steps: 10 }));
    const sweep = await runCli(['sweep', join(dir, 'sweep.json'), '--out', join(dir, 'sweep'), '--progress', 'none']);
    expect(sweep.code, sweep.stderr).toBe(0);
    const points = await readdir(join(dir, 'sweep', 'points'));
    expect(points).toHaveLength(2);
    for (const point of points) {
      const c = parseRunConfig(JSON.parse(await readFile(join(dir, 'sweep', 'points', point, 'config.json'), 'utf8')));
      expect(c).toMatchObject({
        inputSize: 5,
        outputSize: 3,
        loss: 'softmax_ce',
        dataset: { inputs: await recorded('x.npy'), targets: await recorded('y.npy') },
      });
      expect((await metricsRows(join(dir, 'sweep', 'points', point))).map((r) => r.step)).toEqual([0, 5, 10]);
    }
  });
});
