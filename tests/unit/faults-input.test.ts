// Hostile input (issue 16, items 5, 6 and 7): "__proto__", "constructor" and "prototype" never reach an object's
// prototype from --set, a sweep grid, a JSON file or a URL; JSON nested 100,000 deep is refused instead of
// overflowing the stack; sweep collect never follows a point id out of the sweep folder and reports a shard folder
// that does not exist; inspect refuses devices and FIFOs instead of reading forever or blocking, and so does a
// resume for a metrics.jsonl, which it reads as a stream however long.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { applySet, configFromFlags } from '../../src/cli/commands/run-options';
import { readMetricsRows, truncateMetrics } from '../../src/cli/outputs/metrics-writer';
import { collectSweep } from '../../src/cli/sweep/collect';
import { pointResultPath, pointRunDir, readSweepManifest, SweepFolderError } from '../../src/cli/sweep/folder';
import { runSweep, type PointRunRequest } from '../../src/cli/sweep/run-sweep';
import { expandSweep, sweepSpecFromJson, type SweepSpec } from '../../src/cli/sweep/spec';
import { sweepStatus } from '../../src/cli/sweep/status';
import { ConfigError, fromJson, fromQueryString, parseJsonInput, parseRunConfig, presetConfig } from '../../src/config';
import { InputFileError } from '../../src/io/regular-file';
import { configFromUrl } from '../../src/ui/url-state';
import { runCli } from '../cli/run-cli';

const DEEP = 100_000;
const deepArray = '['.repeat(DEEP) + ']'.repeat(DEEP);

/** Object.prototype must come out of every case untouched. */
function expectNoPollution(): void {
  for (const key of ['x', 'polluted', 'steps']) expect(Object.prototype.hasOwnProperty.call(Object.prototype, key), `Object.prototype.${key}`).toBe(false);
  expect(({} as Record<string, unknown>).x).toBeUndefined();
}

function configError(f: () => unknown): ConfigError {
  try {
    f();
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

async function configErrorAsync(p: Promise<unknown>): Promise<ConfigError> {
  try {
    await p;
  } catch (error) {
    expect(error, String(error)).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deadunits-hostile-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  // Clean up whatever a failing case may have written, so that one failure does not fail the others.
  for (const key of ['x', 'polluted']) delete (Object.prototype as Record<string, unknown>)[key];
});
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('prototype pollution', () => {
  it('--set refuses __proto__, constructor and prototype anywhere in the path, naming the flag', () => {
    for (const assignment of ['__proto__.x=1', '__proto__=1', 'optimizer.__proto__.x=1', 'constructor.prototype.x=1', 'hidden[0].prototype=1']) {
      const config = structuredClone(presetConfig('dropout_only')) as unknown as Record<string, unknown>;
      const e = configError(() => applySet(config, assignment));
      expect(e.issues[0].path).toBe(`--set ${assignment.slice(0, assignment.indexOf('='))}`);
      expect(e.issues[0].message).toMatch(/^"(__proto__|constructor|prototype)" is not allowed as a field name/);
      expectNoPollution();
    }
    // Inherited names are not fields either (`in` would have found toString on every object).
    const config = structuredClone(presetConfig('dropout_only')) as unknown as Record<string, unknown>;
    expect(configError(() => applySet(config, 'toString.x=1')).issues[0].message).toMatch(/is not a field of the configuration/);
  });

  it('a sweep grid key or spec file with __proto__ is refused before any point is built', () => {
    for (const path of ['__proto__.x', 'optimizer.__proto__.x', 'hidden[*].constructor']) {
      const e = configError(() => expandSweep({ base: {}, axes: [{ path, values: [1] }] }));
      expect(e.issues[0].path).toBe(`grid ${path}`);
      expect(e.issues[0].message).toMatch(/is not allowed as a field name/);
      expectNoPollution();
    }
    for (const text of [
      '{"grid": {"__proto__": [1]}}',
      '{"grid": {"lr": [1]}, "base": {"__proto__": {"polluted": 1}}}',
      '{"grid": {"lr": [1]}, "constructor": 1}',
    ]) {
      const e = configError(() => sweepSpecFromJson(JSON.parse(text), 'sweep.json'));
      expect(e.issues[0].path).toMatch(/^sweep\.json: /);
      expectNoPollution();
    }
  });

  it('a config file or JSON with __proto__ is refused, naming the file and the key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'evil.json');
    await writeFile(file, JSON.stringify({ steps: 10 }).replace('{', '{"__proto__": {"polluted": true},'));
    const e = await configErrorAsync(configFromFlags({ config: file }));
    expect(e.issues[0].path).toBe(`--config ${file}: __proto__`);
    expect(configError(() => fromJson('{"constructor": {"prototype": {"x": 1}}}')).issues[0].path).toBe('constructor');
    expect(configError(() => parseRunConfig(JSON.parse('{"hidden": [{"width": 4, "__proto__": {"x": 1}}]}'))).issues[0].path).toBe('hidden[0].__proto__');
    expect(configError(() => parseJsonInput('{"a": {"prototype": 1}}', 'x.json')).issues[0].path).toBe('x.json: a.prototype');
    expectNoPollution();
  });

  it('URL parameters named __proto__ or constructor are unknown parameters, named', () => {
    const e = configError(() => fromQueryString('v=1&__proto__=1&constructor=2'));
    expect(e.issues.map((i) => i.path)).toEqual(['__proto__', 'constructor']);
    expect(configFromUrl('?__proto__[x]=1').error).toMatch(/URL parameter __proto__\[x\]: unknown URL parameter/);
    expectNoPollution();
  });
});

describe('JSON nested deeper than any configuration', () => {
  it('is refused with a message, not a stack overflow, wherever it comes from', async () => {
    const dir = await tempDir();
    const file = join(dir, 'deep.json');
    await writeFile(file, `{"hidden": ${deepArray}}`);
    expect((await configErrorAsync(configFromFlags({ config: file }))).issues[0].message).toBe(
      'nests deeper than 32 levels; no configuration is nested that deep',
    );
    expect(configError(() => fromJson(`{"hidden": ${deepArray}}`)).issues[0].path).toMatch(/^hidden(\[0\])+$/);
    expect(configError(() => sweepSpecFromJson(JSON.parse(`{"grid": {"lr": [1]}, "base": {"x": ${deepArray}}}`))).issues[0].message).toMatch(/nests deeper/);
    let deep: unknown = 1;
    for (let i = 0; i < DEEP; i++) deep = { a: deep };
    expect(configError(() => parseRunConfig(deep)).issues[0].message).toMatch(/nests deeper than 32 levels/);
    // What a configuration really needs passes.
    expect(parseRunConfig({ hidden: [{ width: 3, init: { weights: { kind: 'normal', std: 0.1 } } }] }).hidden[0].width).toBe(3);
  });
});

const spec: SweepSpec = {
  base: {
    inputSize: 4,
    hidden: [{ width: 8 }],
    dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
    batchSize: 8,
    snapshot: { every: 5, probeSize: 16 },
  },
  axes: [{ path: 'lr', values: [0.01, 1] }],
  steps: 10,
};

function outcome(r: PointRunRequest) {
  return {
    status: 'completed' as const,
    step: r.config.steps,
    last: null,
    layers: [{ width: 8, deadNow: 1, everDead: 1, revivedUnits: 0, totalRevivals: 0, everDropped: 0, longestDropRun: 0 }],
  };
}

describe('sweep folders from elsewhere', () => {
  it('a point id that is not p<index>-<hash> (e.g. ../../x) is refused, never followed out of the folder', async () => {
    const root = await tempDir();
    const out = join(root, 'sweep');
    await runSweep({ spec, outDir: out, shard: { index: 0, count: 1 }, runPoint: async (r) => outcome(r) });
    // A file outside the sweep folder that a traversing id would read as a result.
    await mkdir(join(root, 'elsewhere'), { recursive: true });
    await writeFile(join(root, 'elsewhere', 'secret.json'), '{}');
    const manifestPath = join(out, 'sweep.json');
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as { points: { id: string }[] };
    manifest.points[1].id = '../../elsewhere/secret';
    await writeFile(manifestPath, JSON.stringify(manifest));
    await expect(readSweepManifest(out)).rejects.toThrow(SweepFolderError);
    await expect(collectSweep(out)).rejects.toThrow(/sweep\.json: field points\.1\.id: "\.\.\/\.\.\/elsewhere\/secret" is not a point id/);
    expect(() => pointResultPath(out, '../x')).toThrow(/is not a point id/);
  });

  it('a shard folder that does not exist, is a file or holds no sweep is reported, not taken for missing points', async () => {
    const out = await tempDir();
    await runSweep({ spec, outDir: out, shard: { index: 0, count: 1 }, runPoint: async (r) => outcome(r) });
    const gone = join(out, 'no-such-shard');
    await expect(collectSweep(out, [gone])).rejects.toThrow(`${gone}: does not exist`);
    await writeFile(join(out, 'a-file'), 'x');
    await expect(collectSweep(out, [join(out, 'a-file')])).rejects.toThrow(/a-file: is not a folder/);
    await mkdir(join(out, 'empty'));
    await expect(collectSweep(out, [join(out, 'empty')])).rejects.toThrow(/empty: holds no sweep results/);
    expect((await collectSweep(out)).missing).toEqual([]);
  });
});

describe('sweep status on point folders holding FIFOs', () => {
  it('reads past a FIFO config.json or metrics.jsonl (open() on one used to wait forever)', async () => {
    const out = await tempDir();
    await runSweep({ spec, outDir: out, shard: { index: 0, count: 1 }, runPoint: async (r) => outcome(r) });
    const [done, stopped] = expandSweep(spec).map((p) => pointRunDir(out, p.id));
    await mkdir(done, { recursive: true });
    execFileSync('mkfifo', [join(done, 'config.json')]);
    await mkdir(stopped, { recursive: true });
    execFileSync('mkfifo', [join(stopped, 'metrics.jsonl')]);
    await rm(pointResultPath(out, expandSweep(spec)[1].id));
    const status = await sweepStatus(out);
    expect(status.list.map((p) => [p.state, p.steps])).toEqual([
      ['done', null],
      ['missing', null],
    ]);
  });
});

describe('inspect on files that are not regular files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await tempDir();
  });

  it('refuses /dev/zero at once (it used to read it without end) and a FIFO (it used to block forever), exit 2', async () => {
    const fifo = join(dir, 'checkpoint.fifo');
    execFileSync('mkfifo', [fifo]);
    for (const [path, kind] of [
      ['/dev/zero', 'a device'],
      [fifo, 'a FIFO (named pipe)'],
    ]) {
      const r = await runCli(['inspect', path], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(`error: ${path}: is ${kind}, not a regular file`);
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
  });
});

describe("a run folder's metrics.jsonl that is not a regular file, or is long", () => {
  const paths = (dir: string) => ({ metrics: join(dir, 'metrics.jsonl'), csv: join(dir, 'metrics.csv') });
  const line = (step: number) =>
    JSON.stringify({
      step,
      elapsedSeconds: step / 10,
      loss: 1,
      stepsPerSecond: 10,
      skipped: 0,
      layers: [{ width: 4, dead: 1, dropped: 2, revived: 0, everDead: 1 }],
    });

  it('a FIFO in its place is refused by the resume that cuts it back and by its readers (both used to block forever)', async () => {
    const dir = await tempDir();
    execFileSync('mkfifo', [paths(dir).metrics]);
    await expect(truncateMetrics(paths(dir), 10, { csv: true, layerCount: 1 })).rejects.toThrow(
      `${paths(dir).metrics}: is a FIFO (named pipe), not a regular file`,
    );
    await expect(readMetricsRows(paths(dir).metrics).next()).rejects.toBeInstanceOf(InputFileError);
  });

  it('is cut back as it is read, in batches: rows past the step and a torn last line go, the CSV is rebuilt', async () => {
    const dir = await tempDir();
    // About 3 MiB: more than one write batch.
    const rows = Array.from({ length: 20_000 }, (_, i) => line(i * 10));
    await writeFile(paths(dir).metrics, rows.join('\n') + '\n{"step":200000,"elaps');
    expect(await truncateMetrics(paths(dir), 149_990, { csv: true, layerCount: 1 })).toBe(15_000);
    expect(await readFile(paths(dir).metrics, 'utf8')).toBe(rows.slice(0, 15_000).join('\n') + '\n');
    const csv = (await readFile(paths(dir).csv, 'utf8')).split('\n');
    expect(csv).toHaveLength(15_002);
    expect(csv[1].split(',')[0]).toBe('0');
    expect(csv[15_000].split(',')[0]).toBe('149990');
    let n = 0;
    for await (const row of readMetricsRows(paths(dir).metrics)) expect(row.step).toBe(10 * n++);
    expect(n).toBe(15_000);
  });
});
