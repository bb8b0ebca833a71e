import { describe, expect, it } from 'vitest';
import { BenchResultError, benchResultFromJson, benchResultToJson, parseBenchResult, resultFileName } from '../../bench/schema';
import { sampleResult } from './fixtures';

/** The message parseBenchResult throws for `value`, or '' when it accepts it. */
function rejection(value: unknown): string {
  try {
    parseBenchResult(value, 'x.json');
    return '';
  } catch (error) {
    expect(error).toBeInstanceOf(BenchResultError);
    return (error as Error).message;
  }
}

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x));

describe('benchmark result schema', () => {
  it('round trips a valid result through JSON', () => {
    const result = sampleResult(10, 5);
    expect(benchResultFromJson(benchResultToJson(result))).toEqual(result);
  });

  it('names the file and the field of the first problem', () => {
    const result = clone(sampleResult(10, 5));
    expect(rejection({ ...result, version: 2 })).toMatch(/^x\.json: version: /);
    expect(rejection({ ...result, host: 'deno' })).toMatch(/^x\.json: host: /);
    const noSamples = clone(result);
    noSamples.cases[1].samples = [];
    expect(rejection(noSamples)).toMatch(/^x\.json: cases\[1\]\.samples: /);
    const negative = clone(result);
    negative.cases[0].samples[0] = -1;
    expect(rejection(negative)).toMatch(/cases\[0\]\.samples\[0\]: must be > 0/);
    const badUnit = clone(result);
    (badUnit.cases[0] as { unit: string }).unit = 'FLOPS';
    expect(rejection(badUnit)).toMatch(/cases\[0\]\.unit: /);
  });

  it('rejects a summary that does not match its samples (a hand-edited median)', () => {
    const edited = clone(sampleResult(10, 5));
    edited.cases[0].median *= 2;
    expect(rejection(edited)).toMatch(/cases\[0\]\.median: is 20 but the samples give 10/);
  });

  it('rejects duplicate case ids and ratios naming missing cases', () => {
    const result = sampleResult(10, 5);
    expect(rejection({ ...result, cases: [result.cases[0], result.cases[0], result.cases[1]] })).toMatch(
      /cases\[1\]\.id: "matmul\.nn\.64x64x64\.deadunits" appears twice/,
    );
    const dangling = clone(result);
    dangling.ratios[0].denominator = 'matmul.nn.1x1x1.tfjs';
    expect(rejection(dangling)).toMatch(/ratios\[0\]\.denominator: names no case/);
  });

  it('requires the host version matching the host', () => {
    const { node: _node, ...withoutNode } = sampleResult(10, 5);
    expect(rejection(withoutNode)).toMatch(/^x\.json: node: is required/);
    expect(rejection({ ...withoutNode, host: 'browser' })).toMatch(/userAgent: is required/);
    expect(rejection({ ...withoutNode, host: 'browser', userAgent: 'Mozilla/5.0' })).toBe('');
  });

  it('says when a file is not JSON at all', () => {
    expect(() => benchResultFromJson('{"schema": ', 'broken.json')).toThrow(/^broken\.json: not JSON/);
  });

  it('names result files by device, host and date, labelling software adapters and quick runs', () => {
    expect(resultFileName(sampleResult(1, 1))).toBe('software-mesa-software-llvmpipe-node-2026-11-27-quick.json');
    const gpu = sampleResult(1, 1, {
      quick: false,
      host: 'browser',
      userAgent: 'UA',
      adapter: { ...sampleResult(1, 1).adapter, vendor: 'NVIDIA', architecture: 'ada', device: '', description: 'RTX 4090', isSoftware: false },
    });
    expect(resultFileName(gpu)).toBe('gpu-nvidia-ada-rtx-4090-browser-2026-11-27.json');
  });
});

describe('committed results (bench/results/)', () => {
  it('are valid, and each is named after its own device, host and date', async () => {
    const { readdir, readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const dir = join(import.meta.dirname, '../../bench/results');
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
    expect(files.length).toBeGreaterThan(0);
    for (const file of files) {
      const result = benchResultFromJson(await readFile(join(dir, file), 'utf8'), file);
      expect(file).toBe(resultFileName(result));
    }
  });
});
