import { describe, expect, it } from 'vitest';
import { browserName, markdownSummary, runTitle } from '../../bench/summary';
import { sampleResult } from './fixtures';

describe('markdown summary of result files', () => {
  const node = sampleResult(10, 5);
  const chrome = sampleResult(30, 40, {
    quick: false,
    host: 'browser',
    node: undefined,
    userAgent: 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36',
    adapter: { ...sampleResult(1, 1).adapter, vendor: 'nvidia', architecture: 'ada', device: '', description: '', isSoftware: false },
  });

  it('titles each run by adapter, host and date, labelling software and quick runs', () => {
    expect(runTitle(node)).toBe('mesa software llvmpipe, Node/Dawn, 2026-11-27 (software, quick smoke run)');
    expect(runTitle(chrome)).toBe('nvidia ada, Chrome 140, 2026-11-27');
  });

  it('recognizes the common browsers', () => {
    expect(browserName('Mozilla/5.0 (X11; Linux x86_64; rv:141.0) Gecko/20100101 Firefox/141.0')).toBe('Firefox 141');
    expect(browserName('Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/26.0 Safari/605.1.15')).toBe(
      'Safari 26',
    );
    expect(browserName('Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0')).toBe('Edge 140');
    expect(browserName('curl/8')).toBe('browser');
  });

  it('gives one column per run, each ratio with its goal and verdict, then the medians', () => {
    const lines = markdownSummary([node, chrome]).split('\n');
    expect(lines[0]).toBe(`| ratio | goal | ${runTitle(node)} | ${runTitle(chrome)} |`);
    expect(lines[2]).toBe('| matmul 64x64x64 nn: deadunits / TF.js | ≥ 1× | 2.00× ✓ | 0.75× ✗ |');
    expect(lines).toContain('| deadunits matmul.nn.64x64x64.deadunits | GFLOP/s, gpu-timestamp | 10.0 | 30.0 |');
    expect(lines).toContain('| tfjs matmul.nn.64x64x64.tfjs | GFLOP/s, wall | 5.00 | 40.0 |');
  });
});
