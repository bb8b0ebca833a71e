// How to draw a 1,048,576-unit map (1024 × 1024) every frame in Chromium: measures two ways on this machine's
// headless Chromium, with new random bitmaps every frame (the worst case: a snapshot per frame).
//   A. the shipped renderer: <du-unit-map> paints an ImageData through a Uint32Array view (src/report/unit-states.ts paintUnitMap),
//      putImageData into an offscreen canvas, drawImage under the zoom/pan transform;
//   B. WebGL2: the three packed bitmaps uploaded as R32UI textures, decoded bit by bit in a fragment shader.
// Then the page's main thread while the app trains ("dropout only", small enough for SwiftShader): the long tasks
// (over 50 ms, the Long Tasks API's threshold) in a window of TRAINING_SECONDS, their count, p95 and maximum, and how
// long a click on Pause takes to show. The e2e test checks only that the page answers; these are the figures.
// Not part of `npm test` (a measurement, not a check). Run: `npm run bench:render`.
// It prints ms per frame (median and 90th percentile), the long tasks, and writes tests/e2e/artifacts/render-bench.json.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ARTIFACTS, launchChromium, serveBuiltApp } from './app-server';
import { DROPOUT_ONLY } from './app-urls';

const UNITS = 1_048_576;
const FRAMES = 120;
const TRAINING_SECONDS = 10;

interface Result {
  approach: string;
  medianMs: number;
  p90Ms: number;
  note: string;
}

interface TrainingResult {
  seconds: number;
  /** Training steps done in the window (the run must still be running at its end). */
  steps: number;
  longTasks: number;
  longTaskP95Ms: number;
  longTaskMaxMs: number;
  /** From the click on Pause to the page showing "paused" (page, Worker and back). */
  pauseMs: number;
}

function stats(samples: number[]): { median: number; p90: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)], p90: s[Math.floor(s.length * 0.9)] };
}

/** The q-quantile of the samples (nearest rank), 0 when there are none. */
function quantile(samples: number[], q: number): number {
  if (samples.length === 0) return 0;
  const s = [...samples].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

/** The app training "dropout only" (with more steps, so it outlasts the window): main-thread long tasks while it trains. */
async function measureTraining(browser: Browser, url: string): Promise<TrainingResult> {
  const query = new URLSearchParams(DROPOUT_ONLY);
  query.set('steps', '1000000');
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.addInitScript('globalThis.__name = (f) => f;');
    await page.addInitScript(() => {
      const w = window as unknown as { __longTasks: { start: number; duration: number }[] };
      w.__longTasks = [];
      new PerformanceObserver((list) => {
        for (const e of list.getEntries()) w.__longTasks.push({ start: e.startTime, duration: e.duration });
      }).observe({ type: 'longtask', buffered: true });
    });
    await page.goto(`${url}?${query}`);
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 120_000 });
    const appData = () => page.evaluate(() => ({ ...document.querySelector('du-app')!.dataset }));
    await page.click('du-app button[data-action="start"]');
    // Past the first snapshots: pipelines compiled, charts and maps created.
    await page.waitForFunction(() => Number(document.querySelector('du-app')?.dataset.snapshotStep || -1) >= 30, null, { timeout: 120_000 });
    const before = await appData();
    const from = await page.evaluate(() => performance.now());
    await page.waitForTimeout(TRAINING_SECONDS * 1000);
    const to = await page.evaluate(() => performance.now());
    const after = await appData();
    if (after.state !== 'running') throw new Error(`the run stopped during the window (state ${after.state}, step ${after.step})`);
    const durations = await page.evaluate(
      ([from, to]) =>
        (window as unknown as { __longTasks: { start: number; duration: number }[] }).__longTasks
          .filter((t) => t.start >= from && t.start <= to)
          .map((t) => t.duration),
      [from, to],
    );
    const clicked = performance.now();
    await page.click('du-app button[data-action="pause"]');
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 120_000 });
    const pauseMs = performance.now() - clicked;
    return {
      seconds: (to - from) / 1000,
      steps: Number(after.step) - Number(before.step),
      longTasks: durations.length,
      longTaskP95Ms: quantile(durations, 0.95),
      longTaskMaxMs: Math.max(0, ...durations),
      pauseMs,
    };
  } finally {
    await page.close();
  }
}

async function main(): Promise<void> {
  const server = await serveBuiltApp();
  const browser = await launchChromium();
  const results: Result[] = [];
  let training: TrainingResult;
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    // tsx keeps function names with a `__name` helper that page.evaluate's serialized functions do not carry.
    await page.addInitScript('globalThis.__name = (f) => f;');
    // The app's own page (its modules define <du-unit-map>); the run itself is not started.
    await page.goto(`${server.url}?preset=dropout_only&hidden=64:relu:0.5*2`);
    await page.waitForSelector('du-app[data-state="paused"]', { timeout: 120_000 });

    // A: the shipped component, driven by show() once per animation frame.
    const a = await page.evaluate(
      async ({ units, frames }) => {
        const map = document.createElement('du-unit-map');
        map.width = units;
        map.style.setProperty('--du-map-height', '512px');
        map.style.width = '512px';
        document.body.append(map);
        await map.updateComplete;
        const words = units / 32;
        const buffer = new ArrayBuffer(words * 20);
        const layer = {
          width: units,
          dead: new Uint32Array(buffer, 0, words),
          dropped: new Uint32Array(buffer, words * 4, words),
          revived: new Uint32Array(buffer, words * 8, words),
          frozen: new Uint32Array(buffer, words * 12, words),
          nonFinite: new Uint32Array(buffer, words * 16, words),
        };
        let seed = 1;
        const randomize = () => {
          for (let i = 0; i < words; i++) {
            seed = (seed * 1664525 + 1013904223) >>> 0;
            layer.dropped[i] = seed;
            layer.dead[i] = i % 7 === 0 ? seed ^ 0x0f0f0f0f : 0;
            layer.revived[i] = i % 13 === 0 ? seed >>> 3 : 0;
          }
        };
        const paint: number[] = [];
        const total: number[] = [];
        const frame: number[] = [];
        let last = performance.now();
        for (let f = 0; f < frames; f++) {
          randomize();
          map.show(layer, f);
          await new Promise((r) => requestAnimationFrame(r));
          await new Promise((r) => setTimeout(r, 0)); // the component's own rAF has run
          const now = performance.now();
          frame.push(now - last);
          last = now;
          paint.push(map.lastPaintMs);
          total.push(map.lastFrameMs);
        }
        map.remove();
        return { paint, total, frame, drawn: map.framesDrawn };
      },
      { units: UNITS, frames: FRAMES },
    );
    const ap = stats(a.paint);
    const at = stats(a.total);
    results.push({
      approach: 'A: ImageData via Uint32Array view + drawImage (shipped)',
      medianMs: at.median,
      p90Ms: at.p90,
      note: `whole frame with a new snapshot; of it painting the ImageData: median ${ap.median.toFixed(2)} ms; frames drawn ${a.drawn}; rAF interval median ${stats(a.frame).median.toFixed(1)} ms`,
    });

    // B: WebGL2, bitmaps as R32UI textures decoded in the fragment shader; gl.finish() so the time includes the GPU work.
    const b = await page.evaluate(
      async ({ units, frames }) => {
        const canvas = document.createElement('canvas');
        canvas.width = 1024;
        canvas.height = 1024;
        const gl = canvas.getContext('webgl2');
        if (!gl) return { error: 'no WebGL2 context' };
        const vs = `#version 300 es
          in vec2 p; void main() { gl_Position = vec4(p, 0.0, 1.0); }`;
        const fs = `#version 300 es
          precision highp float; precision highp usampler2D;
          uniform usampler2D dead; uniform usampler2D dropped; uniform usampler2D revived;
          out vec4 color;
          void main() {
            uint u = uint(gl_FragCoord.y) * 1024u + uint(gl_FragCoord.x);
            uint w = u >> 5u; uint bit = 1u << (u & 31u);
            ivec2 t = ivec2(int(w % 256u), int(w / 256u));
            if ((texelFetch(dead, t, 0).r & bit) != 0u) color = vec4(0.12, 0.14, 0.17, 1.0);
            else if ((texelFetch(revived, t, 0).r & bit) != 0u) color = vec4(0.76, 0.19, 0.48, 1.0);
            else if ((texelFetch(dropped, t, 0).r & bit) != 0u) color = vec4(0.95, 0.75, 0.30, 1.0);
            else color = vec4(0.81, 0.89, 0.83, 1.0);
          }`;
        const compile = (type: number, src: string) => {
          const s = gl.createShader(type)!;
          gl.shaderSource(s, src);
          gl.compileShader(s);
          if (!gl.getShaderParameter(s, gl.COMPILE_STATUS)) throw new Error(gl.getShaderInfoLog(s) ?? 'shader');
          return s;
        };
        const program = gl.createProgram()!;
        gl.attachShader(program, compile(gl.VERTEX_SHADER, vs));
        gl.attachShader(program, compile(gl.FRAGMENT_SHADER, fs));
        gl.linkProgram(program);
        gl.useProgram(program);
        const quad = gl.createBuffer();
        gl.bindBuffer(gl.ARRAY_BUFFER, quad);
        gl.bufferData(gl.ARRAY_BUFFER, new Float32Array([-1, -1, 1, -1, -1, 1, 1, 1]), gl.STATIC_DRAW);
        gl.enableVertexAttribArray(0);
        gl.vertexAttribPointer(0, 2, gl.FLOAT, false, 0, 0);
        const words = units / 32;
        const textures = ['dead', 'dropped', 'revived'].map((name, i) => {
          const t = gl.createTexture()!;
          gl.activeTexture(gl.TEXTURE0 + i);
          gl.bindTexture(gl.TEXTURE_2D, t);
          gl.texStorage2D(gl.TEXTURE_2D, 1, gl.R32UI, 256, words / 256);
          gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MIN_FILTER, gl.NEAREST);
          gl.texParameteri(gl.TEXTURE_2D, gl.TEXTURE_MAG_FILTER, gl.NEAREST);
          gl.uniform1i(gl.getUniformLocation(program, name), i);
          return t;
        });
        const data = [new Uint32Array(words), new Uint32Array(words), new Uint32Array(words)];
        let seed = 1;
        const times: number[] = [];
        const pixel = new Uint8Array(4);
        for (let f = 0; f < frames; f++) {
          for (let i = 0; i < words; i++) {
            seed = (seed * 1664525 + 1013904223) >>> 0;
            data[1][i] = seed;
            data[0][i] = i % 7 === 0 ? seed ^ 0x0f0f0f0f : 0;
            data[2][i] = i % 13 === 0 ? seed >>> 3 : 0;
          }
          const started = performance.now();
          textures.forEach((t, i) => {
            gl.activeTexture(gl.TEXTURE0 + i);
            gl.bindTexture(gl.TEXTURE_2D, t);
            gl.texSubImage2D(gl.TEXTURE_2D, 0, 0, 0, 256, words / 256, gl.RED_INTEGER, gl.UNSIGNED_INT, data[i]);
          });
          gl.drawArrays(gl.TRIANGLE_STRIP, 0, 4);
          gl.readPixels(0, 0, 1, 1, gl.RGBA, gl.UNSIGNED_BYTE, pixel); // waits for the draw
          times.push(performance.now() - started);
          await new Promise((r) => requestAnimationFrame(r));
        }
        const renderer = gl.getParameter(gl.RENDERER);
        return { times, renderer };
      },
      { units: UNITS, frames: FRAMES },
    );
    if ('error' in b) results.push({ approach: 'B: WebGL2 R32UI textures + fragment-shader decode', medianMs: NaN, p90Ms: NaN, note: String(b.error) });
    else {
      const bp = stats(b.times!);
      results.push({
        approach: 'B: WebGL2 R32UI textures + fragment-shader decode',
        medianMs: bp.median,
        p90Ms: bp.p90,
        note: `upload + draw + 1-pixel readback (sync); GL renderer: ${b.renderer}`,
      });
    }
    await page.close();
    training = await measureTraining(browser, server.url);
  } finally {
    await browser.close();
    await server.close();
  }
  for (const r of results)
    console.log(`${r.approach.padEnd(58)} median ${r.medianMs.toFixed(2).padStart(7)} ms  p90 ${r.p90Ms.toFixed(2).padStart(7)} ms  (${r.note})`);
  const t = training;
  console.log(
    `training (dropout only, ${t.steps} steps in ${t.seconds.toFixed(1)} s): ${t.longTasks} main-thread tasks over 50 ms, ` +
      `p95 ${t.longTaskP95Ms.toFixed(0)} ms, max ${t.longTaskMaxMs.toFixed(0)} ms; Pause shown after ${t.pauseMs.toFixed(0)} ms`,
  );
  await mkdir(ARTIFACTS, { recursive: true });
  await writeFile(
    join(ARTIFACTS, 'render-bench.json'),
    JSON.stringify({ units: UNITS, frames: FRAMES, date: new Date().toISOString(), results, training }, null, 2),
  );
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.stack : error);
    process.exit(1);
  },
);
