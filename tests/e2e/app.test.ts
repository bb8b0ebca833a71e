// End to end: the built app in Debian's headless Chromium with SwiftShader WebGPU (a real adapter, in software).
// The "dropout only" preset shows dropped units and no dead ones, the "too-high learning rate" preset kills units, the
// charts fill, hover / order / exports / device-loss recovery work, the page keeps its CSP and answers clicks while it
// trains, a net whose step takes seconds shows its step-0 map, an estimate and what runs, and pauses within one chunk,
// and a browser without WebGPU gets the page that says so. How long the main thread is busy while training
// is a measurement, not a check: `npm run bench:render` reports the long tasks.
// Screenshots go to tests/e2e/artifacts/. Shapes are shrunk through the URL: SwiftShader is 100-1000x slower than a GPU.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decode } from 'fast-png';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointFromSafetensors } from '../../src/io/checkpoint';
import { metricsCsvHeader } from '../../src/report/metrics';
import { imageGrid } from '../../src/report/unit-map-png';
import { rgbOf, STATE_COLORS } from '../../src/report/unit-states';
import { type AppServer, ARTIFACTS, launchChromium, serveBuiltApp } from './app-server';
import { DROPOUT_ONLY, LR_TOO_HIGH, SLOW_STEP, TOO_WIDE } from './app-urls';

let server: AppServer;
let browser: Browser;

beforeAll(async () => {
  await mkdir(ARTIFACTS, { recursive: true });
  server = await serveBuiltApp();
  browser = await launchChromium();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
});

interface PageLog {
  errors: string[];
  csp: string[];
}

/** A 1280×800 page that records page errors, console errors and CSP violations. */
async function openApp(query: string, state = 'paused'): Promise<{ page: Page; log: PageLog }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const log: PageLog = { errors: [], csp: [] };
  page.on('pageerror', (e) => log.errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error') log.errors.push(`console: ${m.text()}`);
  });
  await page.addInitScript(() => {
    const w = window as unknown as { __csp: string[] };
    w.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective}: ${e.blockedURI || e.sample}`));
  });
  await page.goto(server.url + query);
  await page.waitForSelector(`du-app[data-state="${state}"]`, { timeout: 90_000 });
  return { page, log };
}

async function waitForSnapshot(page: Page, minStep: number, timeout = 90_000): Promise<void> {
  await page.waitForFunction((min) => Number(document.querySelector('du-app')?.dataset.snapshotStep || -1) >= min, minStep, { timeout });
}

/** Per unit map, the counts in its header and how many canvas pixels have each state's exact colour. */
async function mapState(page: Page): Promise<{ dead: number; dropped: number; revived: number; pixels: Record<string, number> }[]> {
  const colors = Object.fromEntries(Object.entries(STATE_COLORS).map(([k, v]) => [k, rgbOf(v)]));
  return page.evaluate((colors) => {
    const app = document.querySelector('du-app')!;
    return [...app.shadowRoot!.querySelectorAll('du-unit-map')].map((map) => {
      const root = map.shadowRoot!;
      const num = (sel: string) => Number(root.querySelector(sel)?.textContent?.replace(/,/g, '') ?? NaN);
      const canvas = root.querySelector('canvas')!;
      const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      const pixels: Record<string, number> = Object.fromEntries(Object.keys(colors).map((k) => [k, 0]));
      for (let i = 0; i < data.length; i += 4) {
        for (const [k, [r, g, b]] of Object.entries(colors)) if (data[i] === r && data[i + 1] === g && data[i + 2] === b) pixels[k]++;
      }
      return { dead: num('[data-count="dead"]'), dropped: num('[data-count="dropped"]'), revived: num('[data-count="revived"]'), pixels };
    });
  }, colors);
}

async function appState(page: Page): Promise<string | undefined> {
  return page.evaluate(() => document.querySelector('du-app')!.dataset.state);
}

async function click(page: Page, action: string): Promise<void> {
  await page.click(`du-app button[data-action="${action}"]`);
}

async function cspViolations(page: Page): Promise<string[]> {
  return page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);
}

describe('the simulator in headless Chromium (SwiftShader WebGPU)', () => {
  it('dropout only: dropped units flicker, none dies; the charts fill; the page answers clicks while it trains', async () => {
    const { page, log } = await openApp(DROPOUT_ONLY);
    await click(page, 'start');
    await waitForSnapshot(page, 30);
    // Responsive while training: Pause takes effect (the page sends it, the Worker stops between chunks and says so,
    // the page shows it), and Start carries on with the same run. No time bound but the test's own: a loaded machine
    // may be slow, a page that never answers fails.
    expect(await appState(page)).toBe('running');
    await click(page, 'pause');
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 0 });
    const pausedAt = Number(await page.evaluate(() => document.querySelector('du-app')!.dataset.step));
    await click(page, 'start');
    await waitForSnapshot(page, Math.max(150, pausedAt + 10));
    await click(page, 'pause');
    await page.waitForSelector('du-app[data-state="paused"]');
    await page.waitForTimeout(300);

    const maps = await mapState(page);
    expect(maps).toHaveLength(2);
    for (const m of maps) {
      expect(m.dead).toBe(0);
      expect(m.dropped).toBeGreaterThan(0);
      expect(m.pixels.dead).toBe(0);
      expect(m.pixels.dropped).toBeGreaterThan(0);
      expect(m.pixels.alive).toBeGreaterThan(0);
    }
    const rows = await page.evaluate(() => document.querySelector('du-app')!.shadowRoot!.querySelector('du-charts')!.rows());
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.at(-1)!.loss).toBeGreaterThan(0);
    expect(rows.every((r) => r.layers.every((l) => l.dead === 0))).toBe(true);
    const plots = await page.evaluate(
      () => document.querySelector('du-app')!.shadowRoot!.querySelector('du-charts')!.shadowRoot!.querySelectorAll('.uplot canvas').length,
    );
    expect(plots).toBeGreaterThanOrEqual(5);
    const answer = await page.evaluate(() => document.querySelector('du-app')!.shadowRoot!.querySelector('du-seed-answer')!.shadowRoot!.textContent ?? '');
    expect(answer).toMatch(/no unit is dead/);
    const timelineColumns = await page.evaluate(() => document.querySelector('du-app')!.shadowRoot!.querySelector('du-timeline')!.data?.columns ?? 0);
    expect(timelineColumns).toBeGreaterThanOrEqual(10);

    await page.screenshot({ path: join(ARTIFACTS, 'dropout-only.png') });
    await page.screenshot({ path: join(ARTIFACTS, 'dropout-only-full.png'), fullPage: true });
    expect(await cspViolations(page)).toEqual([]);
    expect(log.errors).toEqual([]);
    await page.close();
  }, 150_000);

  it("learning rate too high: units die, the map and the answer say so; hover shows a dead unit's history", async () => {
    const { page, log } = await openApp(LR_TOO_HIGH);
    await click(page, 'start');
    await page.waitForFunction(
      () =>
        [...document.querySelector('du-app')!.shadowRoot!.querySelectorAll('du-unit-map')].some(
          (m) => Number(m.shadowRoot!.querySelector('[data-count="dead"]')?.textContent ?? 0) > 0,
        ),
      null,
      { timeout: 90_000 },
    );
    await waitForSnapshot(page, 40);
    await click(page, 'pause');
    await page.waitForSelector('du-app[data-state="paused"]');
    await page.waitForTimeout(1500); // the seed answer is refreshed when the loop stops

    const maps = await mapState(page);
    const dead = maps.reduce((n, m) => n + m.dead, 0);
    expect(dead).toBeGreaterThan(0);
    expect(maps.some((m) => m.pixels.dead > 0)).toBe(true);
    const answer = await page.evaluate(() => document.querySelector('du-app')!.shadowRoot!.querySelector('du-seed-answer')!.shadowRoot!.textContent ?? '');
    expect(answer).toMatch(/hidden units \(.*\) are dead/);

    // Order layer 2 by death step: the units that died first move to the first cells (dead now, or revived since).
    const layer2 = page.locator('du-app du-unit-map').nth(1);
    await layer2.locator('input[type="checkbox"]').check();
    await page.waitForTimeout(1500);
    const canvas = layer2.locator('canvas');
    // The answer panel above can push the maps below the fold: hover and zoom need the whole map on screen.
    await canvas.scrollIntoViewIfNeeded();
    const box = (await canvas.boundingBox())!;
    const topLeft = await page.evaluate(() => {
      const map = document.querySelector('du-app')!.shadowRoot!.querySelectorAll('du-unit-map')[1];
      const c = map.shadowRoot!.querySelector('canvas')!;
      // The fitted grid is centred: find its first painted pixel on the middle row of the first cell row.
      const ctx = c.getContext('2d')!;
      const { data, width } = ctx.getImageData(0, 0, c.width, c.height);
      for (let y = 0; y < c.height; y++) {
        for (let x = 0; x < width; x++) {
          const i = 4 * (y * width + x);
          if (!(data[i] === 0xf4 && data[i + 1] === 0xf6 && data[i + 2] === 0xf9)) return { x, y, rgb: [data[i], data[i + 1], data[i + 2]] };
        }
      }
      return null;
    });
    expect([rgbOf(STATE_COLORS.dead), rgbOf(STATE_COLORS.revived)]).toContainEqual(topLeft?.rgb);

    // Hover that cell: the tooltip names the unit and, once the worker answers, its history.
    const dpr = 1;
    await page.mouse.move(box.x + topLeft!.x / dpr + 2, box.y + topLeft!.y / dpr + 2);
    const tooltip = layer2.locator('.tooltip');
    await expect.poll(async () => (await tooltip.textContent()) ?? '', { timeout: 10_000 }).toMatch(/first death: step \d+/);
    const text = (await tooltip.textContent())!;
    expect(text).toMatch(/unit \d+/);
    expect(text).toMatch(/(dead|revived) at step/);
    expect(text).toMatch(/longest drop run: \d+ step/);
    await page.screenshot({ path: join(ARTIFACTS, 'lr-too-high-hover.png') });

    // Zoom with the wheel around the pointer: the same unit stays under it. Then drag: the unit moves with the map.
    const unitUnder = async () => /unit ([\d,]+)/.exec((await tooltip.textContent()) ?? '')?.[1];
    const hovered = await unitUnder();
    const x = box.x + topLeft!.x + 2;
    const y = box.y + topLeft!.y + 2;
    await page.mouse.wheel(0, -600);
    await page.mouse.move(x + 1, y + 1);
    await page.mouse.move(x, y);
    expect(await unitUnder()).toBe(hovered);
    await page.mouse.down();
    await page.mouse.move(x + 60, y + 40, { steps: 4 });
    await page.mouse.up();
    await page.mouse.move(x + 61, y + 41);
    await page.mouse.move(x + 60, y + 40);
    expect(await unitUnder()).toBe(hovered);
    await page.screenshot({ path: join(ARTIFACTS, 'lr-too-high-zoomed.png') });

    expect(await cspViolations(page)).toEqual([]);
    expect(log.errors).toEqual([]);
    await page.close();
  }, 150_000);

  it('exports the unit map as PNG, the metrics as CSV and a checkpoint the CLI can read', async () => {
    const { page, log } = await openApp(DROPOUT_ONLY);
    await click(page, 'step');
    await waitForSnapshot(page, 10);
    await page.waitForSelector('du-app[data-state="paused"]');

    const [png] = await Promise.all([page.waitForEvent('download'), page.locator('du-app du-unit-map').first().locator('button', { hasText: 'PNG' }).click()]);
    expect(png.suggestedFilename()).toBe('deadunits-layer1-step10.png');
    const pngPath = join(ARTIFACTS, png.suggestedFilename());
    await png.saveAs(pngPath);
    const image = decode(await readFile(pngPath));
    const { scale } = imageGrid(64);
    expect([image.width, image.height]).toEqual([8 * scale, 8 * scale]);
    const palette = new Set(Object.values(STATE_COLORS).map((c) => rgbOf(c).join(',')));
    for (let i = 0; i < image.data.length; i += image.channels) expect(palette.has(`${image.data[i]},${image.data[i + 1]},${image.data[i + 2]}`)).toBe(true);

    const [csv] = await Promise.all([page.waitForEvent('download'), page.locator('du-app du-charts').locator('button', { hasText: 'CSV' }).click()]);
    const csvPath = join(ARTIFACTS, 'metrics.csv');
    await csv.saveAs(csvPath);
    const lines = (await readFile(csvPath, 'utf8')).trim().split('\n');
    expect(lines[0]).toBe(metricsCsvHeader(2));
    expect(lines.map((l) => Number(l.split(',')[0]))).toEqual([NaN, 0, 10]);

    const [checkpoint] = await Promise.all([page.waitForEvent('download'), click(page, 'checkpoint')]);
    expect(checkpoint.suggestedFilename()).toBe('checkpoint-0000000010.safetensors');
    const checkpointPath = join(ARTIFACTS, checkpoint.suggestedFilename());
    await checkpoint.saveAs(checkpointPath);
    const decoded = checkpointFromSafetensors(new Uint8Array(await readFile(checkpointPath)));
    expect(decoded.step).toBe(10);
    expect((decoded.config as { hidden: { width: number }[] }).hidden.map((h) => h.width)).toEqual([64, 64]);
    expect(decoded.observatory?.unitHistory).toHaveLength(2);
    expect(log.errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('a lost GPU device shows a message and resumes from the last saved step', async () => {
    const { page, log } = await openApp(DROPOUT_ONLY);
    await click(page, 'step');
    await page.waitForFunction(() => document.querySelector('du-app')?.dataset.step === '10' && document.querySelector('du-app')?.dataset.state === 'paused');
    await page.waitForTimeout(500); // the state is saved when the loop stops
    await page.evaluate(() => document.querySelector('du-app')!.loseDeviceForTest());
    const banner = page.locator('du-app [data-device-lost]');
    await banner.waitFor({ timeout: 20_000 });
    expect(await banner.textContent()).toMatch(/GPU device was lost/);
    await page.screenshot({ path: join(ARTIFACTS, 'device-lost.png') });
    await page.locator('du-app button[data-action="resume"]').click();
    await page.waitForFunction(
      () => document.querySelector('du-app')?.dataset.state === 'paused' && document.querySelector('du-app')?.dataset.step === '10',
      null,
      { timeout: 60_000 },
    );
    expect(await banner.count()).toBe(0);
    await click(page, 'step');
    await waitForSnapshot(page, 20);
    // Charts take rows a few times a second: wait for the last one.
    await expect
      .poll(
        () =>
          page.evaluate(() =>
            document
              .querySelector('du-app')!
              .shadowRoot!.querySelector('du-charts')!
              .rows()
              .map((r) => r.step),
          ),
        { timeout: 5000 },
      )
      .toEqual([0, 10, 20]);
    // Chromium logs the destroyed device's failed operations; nothing else may appear.
    expect(log.errors.filter((e) => !/destroyed|lost/i.test(e))).toEqual([]);
    await page.close();
  }, 120_000);

  it('a net the GPU cannot hold: the message names the tensor and what to change; nothing trains, no answer', async () => {
    const { page, log } = await openApp(TOO_WIDE, 'error');
    const app = page.locator('du-app');
    const banner = app.locator('.banner.error');
    const message = await banner.textContent();
    expect(message).toMatch(
      /The GPU could not allocate the (weights|gradients of the weights) \(16384 x 16384\) of hidden layer 2 \(Trainer\.W2\.0\.0[^,]*, 1\.0 GiB\): out of memory\./,
    );
    expect(message).toMatch(/This run needs about [\d.]+ GiB of GPU memory in all .* on google \/ swiftshader/);
    expect(message).toMatch(/narrower hidden layers/);
    expect(await app.locator('du-seed-answer [data-failed]').textContent()).toMatch(/No answer: the run failed\. The GPU could not allocate/);
    expect(await app.locator('button[data-action="start"]').isDisabled()).toBe(true);
    expect(await app.locator('button[data-action="step"]').isDisabled()).toBe(true);
    expect(await appState(page)).toBe('error');
    expect(await page.evaluate(() => [document.querySelector('du-app')!.dataset.step, document.querySelector('du-app')!.dataset.snapshotStep])).toEqual([
      '0',
      '',
    ]);
    expect(await page.evaluate(() => document.querySelector('du-app')!.shadowRoot!.querySelector('du-charts')!.rows().length)).toBe(0);
    await page.screenshot({ path: join(ARTIFACTS, 'out-of-memory.png') });
    expect(log.errors).toEqual([]);
    await page.close();
  }, 120_000);

  it('a GPU error mid-run stops the run at its last good snapshot: no number computed after it is shown', async () => {
    const { page, log } = await openApp(DROPOUT_ONLY);
    await click(page, 'step');
    await page.waitForFunction(() => document.querySelector('du-app')?.dataset.step === '10' && document.querySelector('du-app')?.dataset.state === 'paused');
    await page.evaluate(() => document.querySelector('du-app')!.forceGpuErrorForTest());
    await click(page, 'start');
    const banner = page.locator('du-app [data-run-failed]');
    await banner.waitFor({ timeout: 30_000 });
    expect(await banner.textContent()).toMatch(
      /The run stopped: GPU validation error: .*Trainer\.W1\.0\.0.*\[kernel Trainer\.forward1\.0\.0, command buffer Trainer\.steps\]/,
    );
    expect(await banner.textContent()).toMatch(/as it was at step 10/);
    await page.waitForFunction(() => document.querySelector('du-app')?.dataset.state === 'failed');
    expect(await page.evaluate(() => [document.querySelector('du-app')!.dataset.step, document.querySelector('du-app')!.dataset.snapshotStep])).toEqual([
      '10',
      '10',
    ]);
    const rows = await page.evaluate(() =>
      document
        .querySelector('du-app')!
        .shadowRoot!.querySelector('du-charts')!
        .rows()
        .map((r) => r.step),
    );
    expect(rows).toEqual([0, 10]);
    expect(await page.locator('du-app du-seed-answer [data-failed]').textContent()).toMatch(/No answer: the run failed\. GPU validation error/);
    await page.screenshot({ path: join(ARTIFACTS, 'gpu-error.png') });
    // Chromium logs the failed submit of the chunk the destroyed buffer broke; nothing else may appear.
    expect(log.errors.filter((e) => !/destroyed/i.test(e))).toEqual([]);
    await page.close();
  }, 120_000);

  it('a browser without WebGPU gets a page that says so and what to use', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.addInitScript(() => Object.defineProperty(Navigator.prototype, 'gpu', { get: () => undefined, configurable: true }));
    await page.goto(server.url);
    const text = [await page.locator('du-no-webgpu h1').textContent({ timeout: 20_000 }), await page.locator('du-no-webgpu ul').textContent()].join('\n');
    expect(text).toMatch(/deadunits needs WebGPU/);
    expect(text).toMatch(/Chrome or Edge/);
    await page.screenshot({ path: join(ARTIFACTS, 'no-webgpu.png') });
    await page.close();
  }, 60_000);

  it('a net whose step takes seconds: an estimate before Start, the step-0 map at once, progress while a step runs, Pause within one chunk', async () => {
    const began = Date.now();
    const phase = (what: string) => console.log(`slow net: ${what} after ${((Date.now() - began) / 1000).toFixed(1)} s`);
    const { page, log } = await openApp(SLOW_STEP);
    phase('paused at step 0');
    const dataset = (key: string) => page.evaluate((k) => document.querySelector('du-app')!.dataset[k] ?? '', key);

    // Before Start: what a step, 1,000 steps and a snapshot take on this adapter, and the memory.
    const estimate = page.locator('du-app [data-estimate]');
    await estimate.waitFor({ timeout: 60_000 });
    expect(await estimate.textContent()).toMatch(/^≈ \S+ \S+ per step, ≈ \S+ \S+ per 1,000 steps, snapshot ≈ \S+ \S+, memory ≈ \S+ (MiB|GiB)$/);
    const estimatedStep = Number(await estimate.getAttribute('data-step-seconds'));
    expect(Number.isFinite(estimatedStep) && estimatedStep > 0).toBe(true);

    // The network before training is on screen once Start is pressed, before its first step of seconds ends.
    await click(page, 'start');
    await waitForSnapshot(page, 0, 0);
    phase('step-0 map shown');
    expect(await dataset('snapshotStep')).toBe('0');
    const before = await mapState(page);
    for (const m of before) expect(m.pixels.alive + m.pixels.dead).toBeGreaterThan(0);

    // While a chunk runs: what runs and for how long (here a chunk is a single step: one takes longer than the target).
    const progress = page.locator('du-app [data-progress][data-kind="steps"]');
    await progress.waitFor({ timeout: 0 });
    expect(await progress.textContent()).toMatch(/running steps? [\d,–]+( \(\d+ done\))?( and (a|\d+) snapshots?)? · \S+ \S+ of ≈ \S+ \S+/);
    phase('progress shown');
    await page.waitForFunction(() => Number(document.querySelector('du-app')!.dataset.step) >= 2, null, { timeout: 0 });
    phase('step 2 trained');
    // Read the chunk on screen and press Pause in one go (the line could change between two round trips).
    const { from, to, measuredRate } = await page.evaluate(
      () =>
        new Promise<{ from: number; to: number; measuredRate: number }>((resolve) => {
          const poll = () => {
            const app = document.querySelector('du-app')!;
            const line = app.shadowRoot!.querySelector<HTMLElement>('[data-progress][data-kind="steps"]');
            if (!line) return requestAnimationFrame(poll);
            const chunk = { from: Number(line.dataset.from), to: Number(line.dataset.to), measuredRate: Number(app.dataset.stepsPerSecond) };
            app.shadowRoot!.querySelector<HTMLButtonElement>('button[data-action="pause"]')!.click();
            resolve(chunk);
          };
          poll();
        }),
    );
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 0 });
    phase('paused');
    // The chunk that ran when Pause was pressed ends, and at most the one that began as the message was on its way (a
    // chunk holds at most 4x the steps of the one before: ChunkPacer's growth limit).
    const pausedAt = Number(await dataset('step'));
    expect(pausedAt).toBeGreaterThanOrEqual(to);
    expect(pausedAt).toBeLessThanOrEqual(to + 4 * (to - from));
    // The chunk still on the GPU ("finishing step …") clears its line when it ends. This test runs last and waits for
    // that: the adapter is shared, and a step of seconds outlives a closed page.
    await page.locator('du-app [data-progress]').waitFor({ state: 'detached', timeout: 0 });
    phase('chunk finished');
    await page.screenshot({ path: join(ARTIFACTS, 'slow-step.png') });

    const ratio = estimatedStep * measuredRate;
    console.log(`slow net: chunk (${from}, ${to}] running at Pause, paused at step ${pausedAt}`);
    console.log(
      `slow net: estimated ${estimatedStep.toFixed(2)} s a step, measured ${(1 / measuredRate).toFixed(2)} s (estimate / measured = ${ratio.toFixed(2)})`,
    );
    expect(Number.isFinite(ratio)).toBe(true);
    expect(log.errors).toEqual([]);
    await page.close();
  }, 400_000);
});
