// End to end: bench.html in headless Chromium (SwiftShader WebGPU) under Vite's dev server, quick mode with
// every group and TF.js: the page must finish, show every case, keep to its CSP, and offer a valid result;
// the compare view must load two results and name the bad field of a broken one.
import type { Browser, Page } from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BENCH_GROUPS, benchResultFromJson, benchResultToJson, type BenchResult } from '../../bench/schema';
import { launchChromium, serveBenchPage } from '../../bench/headless-chromium';
import { sampleResult } from './fixtures';

describe('bench.html in headless Chromium', () => {
  let server: ViteDevServer;
  let browser: Browser;
  let base: string;
  const problems: string[] = [];

  beforeAll(async () => {
    ({ server, base } = await serveBenchPage());
    browser = await launchChromium();
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  async function open(query: string): Promise<Page> {
    const page = await browser.newPage();
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' && !/^URL parameter|unknown URL parameter/.test(m.text())) problems.push(`console error: ${m.text()}`);
    });
    await page.goto(`${base}/bench.html${query}`);
    return page;
  }

  const settled = (page: Page, timeout: number) =>
    page.waitForFunction(() => ['done', 'error'].includes(document.documentElement.dataset.benchState ?? ''), null, { timeout, polling: 250 });

  it('runs the quick suite with TF.js, shows it, and offers a valid result; compares two results', { timeout: 240_000 }, async () => {
    const page = await open('?quick&autorun');
    await settled(page, 200_000);
    expect(await page.textContent('#status')).toMatch(/^Done in \d+ s\.$/);
    expect(await page.evaluate(() => document.documentElement.dataset.benchState)).toBe('done');
    expect(problems).toEqual([]);

    const result: BenchResult = benchResultFromJson(await page.inputValue('#json'), 'page result');
    expect(result.host).toBe('browser');
    expect(result.userAgent).toMatch(/Chrome/);
    expect(result.quick).toBe(true);
    expect(result.tfjs?.backend).toBe('webgpu');
    expect(result.tfjs?.adapter).toBe(`${result.adapter.vendor} / ${result.adapter.architecture}`);
    expect(new Set(result.cases.map((c) => c.group))).toEqual(new Set(BENCH_GROUPS));
    expect(result.cases.some((c) => c.impl === 'tfjs')).toBe(true);
    expect(await page.locator('#cases tbody tr').count()).toBe(result.cases.length);
    expect(await page.locator('#ratios tbody tr').count()).toBe(result.ratios.length);
    expect(await page.locator('#chart canvas').count()).toBe(1);
    expect(
      await page.evaluate(() => {
        const p = document.getElementById('progress') as HTMLProgressElement;
        return p.value === p.max && p.max > 1;
      }),
    ).toBe(true);
    expect(await page.isEnabled('#download')).toBe(true);

    // Compare this browser run with a Node result, then with a broken file.
    const file = (name: string, text: string) => ({ name, mimeType: 'application/json', buffer: Buffer.from(text) });
    await page.setInputFiles('#file-a', file('node.json', benchResultToJson(sampleResult(10, 5))));
    await page.setInputFiles('#file-b', file('browser.json', benchResultToJson(result)));
    await page.waitForFunction(() => document.querySelectorAll('#compare tbody tr').length > 0);
    expect(await page.textContent('#compare-status')).toMatch(/^A: mesa \/ software \/ llvmpipe \(software adapter\) — Node v20\.19\.0 — B: .*HeadlessChrome/);
    // The fixture's 64³ matmul cases have the ids of the quick run's: matched, with B/A.
    const matched = await page.locator('#compare tbody tr', { hasText: 'matmul.nn.64x64x64.deadunits' }).locator('td').allTextContents();
    expect(matched[4]).toMatch(/^\d+\.\d\d×$/);
    const broken = JSON.parse(benchResultToJson(result));
    broken.ratios[0].value = -2;
    await page.setInputFiles('#file-b', file('broken.json', JSON.stringify(broken)));
    await page.waitForFunction(() => document.getElementById('compare-status')!.classList.contains('error'));
    expect(await page.textContent('#compare-status')).toBe('BenchResultError: broken.json: ratios[0].value: must be > 0');
    expect(await page.locator('#compare tbody tr').count()).toBe(0);
    await page.close();
  });

  it('refuses a bad URL parameter, naming it', async () => {
    const page = await open('?quick=maybe');
    await settled(page, 30_000);
    expect(await page.evaluate(() => document.documentElement.dataset.benchState)).toBe('error');
    expect(await page.textContent('#status')).toBe('RangeError: URL parameter quick=maybe: expected nothing, 1/true or 0/false');
    await page.close();
  });
});
