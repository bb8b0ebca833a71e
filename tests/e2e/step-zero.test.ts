// End to end (headless Chromium, SwiftShader WebGPU): a net whose step-0 snapshot is taken in several pieces shows its
// unit map before that snapshot is complete, with the units proven alive in the alive colour, the others in the
// palette's "not measured yet" grey and the probe rows measured in the counts; the step-0 snapshot then replaces it.
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NOT_MEASURED, rgbOf, STATE_COLORS } from '../../src/report/unit-states';
import { type AppServer, launchChromium, serveBuiltApp } from './app-server';
import { STEP_ZERO_IN_PIECES } from './app-urls';

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

describe('the step-0 snapshot in pieces, in headless Chromium (SwiftShader WebGPU)', () => {
  it('shows the units proven alive before the step-0 snapshot is complete, then the snapshot', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    await page.goto(server.url + STEP_ZERO_IN_PIECES);

    // The legend names the colour.
    const key = page.locator(`du-app [data-key="${NOT_MEASURED.name}"]`);
    await key.waitFor({ timeout: 90_000 });
    expect((await key.textContent())?.trim()).toBe(NOT_MEASURED.label);

    // A partial map on screen, before the step-0 snapshot: what it shows, read in one go (pixels, counts, snapshot step).
    const colours = { alive: rgbOf(STATE_COLORS.alive), notMeasured: rgbOf(NOT_MEASURED.colour) };
    const shown = await page.waitForFunction(
      (colours) => {
        const app = document.querySelector('du-app')!;
        const map = app.shadowRoot!.querySelector('du-unit-map');
        const root = map?.shadowRoot;
        const counts = root?.querySelector('[data-counts][data-partial]');
        if (!root || !counts) return null;
        const canvas = root.querySelector('canvas')!;
        const data = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
        const pixels = { alive: 0, notMeasured: 0 };
        for (let i = 0; i < data.length; i += 4) {
          for (const [k, [r, g, b]] of Object.entries(colours) as [keyof typeof pixels, number[]][])
            if (data[i] === r && data[i + 1] === g && data[i + 2] === b) pixels[k]++;
        }
        if (pixels.alive === 0) return null;
        return { pixels, counts: counts.textContent!.replace(/\s+/g, ' ').trim(), snapshotStep: app.dataset.snapshotStep ?? '' };
      },
      colours,
      { timeout: 120_000, polling: 'raf' },
    );
    const partial = (await shown.jsonValue())!;
    console.log(`step 0 in pieces: ${JSON.stringify(partial)}`);
    // No snapshot yet ('' until the step-0 one arrives).
    expect(partial.snapshotStep).toBe('');
    expect(partial.counts).toMatch(/^≥ [\d,]+ alive of 262,144 · not measured yet [\d,]+ \([\d,]+ \/ 256 probe rows\)$/);
    expect(partial.pixels.alive).toBeGreaterThan(0);

    // The step-0 snapshot replaces it: counts of states, no "not measured yet" left.
    await page.waitForFunction(() => document.querySelector('du-app')?.dataset.snapshotStep === '0', null, { timeout: 300_000 });
    const after = await page.evaluate(() => {
      const root = document.querySelector('du-app')!.shadowRoot!.querySelector('du-unit-map')!.shadowRoot!;
      return { partial: root.querySelector('[data-partial]') !== null, dead: root.querySelector('[data-count="dead"]')?.textContent ?? null };
    });
    expect(after.partial).toBe(false);
    expect(after.dead).not.toBeNull();
    expect(errors).toEqual([]);
    await page.close();
  }, 480_000);
});
