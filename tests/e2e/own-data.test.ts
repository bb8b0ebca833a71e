// End to end: your own data in the page (headless Chromium, SwiftShader WebGPU). Choose .npy files: the Worker parses
// them, the run trains on them and the URL records them by name, size and SHA-256; a reload trains on them again from
// the browser's store, and a browser without them asks for each file by name.
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeNpy } from '../../src/data';
import { type AppServer, launchChromium, serveBuiltApp } from './app-server';

let server: AppServer;
let browser: Browser;

beforeAll(async () => {
  server = await serveBuiltApp();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

const x = Buffer.from(
  encodeNpy(
    new Float32Array(40 * 3).map((_, i) => Math.sin(i * 0.7)),
    [40, 3],
  ),
);
const y = Buffer.from(
  encodeNpy(
    new Int32Array(40).map((_, i) => i % 3),
    [40],
  ),
);
const SMALL = '?preset=dropout_only&hidden=16:relu:0.5*2&snap=10&steps=200';

async function formText(page: Page, selector: string): Promise<string> {
  return page.evaluate(
    (sel) => document.querySelector('du-app')!.shadowRoot!.querySelector('du-config-form')!.shadowRoot!.querySelector(sel)?.textContent ?? '',
    selector,
  );
}

async function newPage(context: BrowserContext): Promise<{ page: Page; errors: string[] }> {
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  return { page, errors };
}

describe('your own data in the page', () => {
  it('choose .npy files, train on them; reload trains on them again; a browser without them asks for them by name', async () => {
    const context = await browser.newContext();
    const { page, errors } = await newPage(context);
    await page.goto(server.url + SMALL);
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 90_000 });
    await page.selectOption('du-app du-config-form select[name="dataset.kind"]', 'file');
    await page.setInputFiles('du-app du-config-form #data-inputs', { name: 'x.npy', mimeType: 'application/octet-stream', buffer: x });
    await page.setInputFiles('du-app du-config-form #data-targets', { name: 'y.npy', mimeType: 'application/octet-stream', buffer: y });
    await page.click('du-app du-config-form #data-load');
    await page.waitForFunction(
      () =>
        /x\.npy \+ y\.npy: 40 rows × 3 features, 3 classes/.test(
          document.querySelector('du-app')!.shadowRoot!.querySelector('du-config-form')!.shadowRoot!.querySelector('#data-message')?.textContent ?? '',
        ),
      undefined,
      { timeout: 60_000 },
    );
    const url = new URL(page.url());
    expect(url.searchParams.get('data')).toBe('file');
    expect(url.searchParams.get('input')).toBe('x.npy');
    expect(url.searchParams.get('input_sha')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('targets_sha')).toMatch(/^[0-9a-f]{64}$/);
    expect(url.searchParams.get('in')).toBe('3');
    expect(url.searchParams.get('out')).toBe('3');

    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 90_000 });
    await page.click('du-app button[data-action="start"]');
    await page.waitForFunction(() => Number(document.querySelector('du-app')?.dataset.snapshotStep || -1) >= 20, undefined, { timeout: 90_000 });

    // Reload: the browser kept the files (IndexedDB), the run comes back without asking.
    await page.reload();
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 90_000 });
    expect(await formText(page, '#data-message')).toMatch(/x\.npy \+ y\.npy: 40 rows × 3 features/);
    expect(errors).toEqual([]);

    // Another browser profile has not got them: the page names each file, its size and hash, and trains nothing.
    const other = await browser.newContext();
    const fresh = await newPage(other);
    await fresh.page.goto(page.url());
    await fresh.page.waitForFunction(
      () =>
        /This run trains on x\.npy \(\d+ bytes, SHA-256 [0-9a-f]{12}…\) and y\.npy/.test(
          document.querySelector('du-app')!.shadowRoot!.querySelector('du-config-form')!.shadowRoot!.querySelector('#data-message')?.textContent ?? '',
        ),
      undefined,
      { timeout: 60_000 },
    );
    expect(await fresh.page.evaluate(() => document.querySelector('du-app')!.dataset.state)).toBe('starting');
    // Chosen again, they bring the same run back.
    await fresh.page.setInputFiles('du-app du-config-form #data-inputs', { name: 'x.npy', mimeType: 'application/octet-stream', buffer: x });
    await fresh.page.setInputFiles('du-app du-config-form #data-targets', { name: 'y.npy', mimeType: 'application/octet-stream', buffer: y });
    await fresh.page.click('du-app du-config-form #data-load');
    await fresh.page.waitForSelector('du-app[data-state="paused"]', { timeout: 90_000 });
    expect(new URL(fresh.page.url()).searchParams.get('input_sha')).toBe(url.searchParams.get('input_sha'));
    expect(fresh.errors).toEqual([]);
    await other.close();
    await context.close();
  });
});
