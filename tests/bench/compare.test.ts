import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { compareResults, formatComparison } from '../../bench/compare';
import { benchResultToJson } from '../../bench/schema';
import { sampleResult } from './fixtures';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

describe('comparing two results', () => {
  const a = sampleResult(10, 5);
  const b = sampleResult(30, 10, {
    host: 'browser',
    node: undefined,
    userAgent: 'Mozilla/5.0 Test',
    adapter: { ...sampleResult(1, 1).adapter, vendor: 'nvidia', isSoftware: false },
  });

  it("matches cases by id and gives B over A, and both runs' ratios", () => {
    const c = compareResults(a, b);
    expect(c.cases.map((r) => [r.id, r.a, r.b, r.ratio])).toEqual([
      ['matmul.nn.64x64x64.deadunits', 10, 30, 3],
      ['matmul.nn.64x64x64.tfjs', 5, 10, 2],
    ]);
    expect(c.ratios).toEqual([{ name: 'matmul 64x64x64 nn: deadunits / TF.js', a: 2, b: 3 }]);
    expect(c.warnings).toEqual([]);
    const text = formatComparison(c);
    expect(text).toContain('A: mesa / software / llvmpipe (software adapter) — Node v20.19.0');
    expect(text).toContain('B: nvidia / software / llvmpipe — Mozilla/5.0 Test');
    expect(text).toMatch(/deadunits matmul\.nn\.64x64x64\.deadunits\s+GFLOP\/s\s+10\.0\s+30\.0\s+3\.00×/);
  });

  it('keeps cases only one run has, and warns when a quick run meets a full one', () => {
    const full = sampleResult(10, 5, { quick: false, cases: [sampleResult(10, 5).cases[0]], ratios: [] });
    const c = compareResults(a, full);
    expect(c.cases.find((r) => r.id.endsWith('.tfjs'))).toMatchObject({ a: 5, b: null, ratio: null });
    expect(c.warnings.join(' ')).toMatch(/quick smoke run/);
    expect(c.ratios).toEqual([{ name: 'matmul 64x64x64 nn: deadunits / TF.js', a: 2, b: null }]);
  });

  it('npm run bench -- --compare prints the table, and names the bad field of an invalid file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'bench-compare-'));
    try {
      const [fa, fb, bad] = ['a.json', 'b.json', 'bad.json'].map((f) => join(dir, f));
      await writeFile(fa, benchResultToJson(a));
      await writeFile(fb, benchResultToJson(b));
      const broken = JSON.parse(benchResultToJson(b));
      broken.cases[0].timing = 'stopwatch';
      await writeFile(bad, JSON.stringify(broken));
      const cli = (...args: string[]) =>
        run(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'bench/run.ts', ...args], { cwd: ROOT });
      const ok = await cli('--compare', fa, fb);
      expect(ok.stdout).toMatch(/matmul\.nn\.64x64x64\.tfjs\s+GFLOP\/s\s+5\.00\s+10\.0\s+2\.00×/);
      const failure = await cli('--compare', fa, bad).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(failure?.code).toBe(1);
      expect(failure?.stderr).toContain(`${bad}: cases[0].timing:`);
      const one = await cli('--compare', fa).then(
        () => null,
        (e: { code: number; stderr: string }) => e,
      );
      expect(one?.stderr).toMatch(/--compare takes exactly two result files, got 1/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
