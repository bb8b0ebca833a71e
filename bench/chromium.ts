// `npm run bench:chromium [-- options]`: runs bench.html in headless Chromium (Debian's /usr/bin/chromium or
// DEADUNITS_CHROMIUM; SwiftShader WebGPU without a GPU) under Vite's dev server, and writes the page's
// result JSON like `npm run bench` does (bench/out/, --out, or bench/results/ with --save).
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { chromium } from 'playwright-core';
import { createServer } from 'vite';
import { writeFileAtomic } from '../src/io/atomic-file';
import { formatResult } from './report';
import { benchResultFromJson, benchResultToJson, parseGroups, resultFileName } from './schema';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

interface Options {
  quick: boolean;
  only?: string;
  tfjs: boolean;
  out?: string;
  save: boolean;
  timeout: string;
  note: string[];
}

async function main(): Promise<void> {
  const options = new Command()
    .name('npm run bench:chromium --')
    .description('run bench.html in headless Chromium and save its result JSON')
    .option('--quick', 'tiny shapes: a smoke run, not a measurement', false)
    .option('--only <groups>', 'comma-separated groups: matmul, train, monitoring, readback, million')
    .option('--no-tfjs', 'leave out the TensorFlow.js side-by-side cases')
    .option('--out <file>', 'write the result JSON here')
    .option('--save', 'write the result to bench/results/<device>-<host>-<date>.json', false)
    .option('--note <text>', 'add a note to the result, e.g. "machine busy" (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
    .option('--timeout <minutes>', 'give up after this long', '60')
    .parse()
    .opts<Options>();
  const minutes = Number(options.timeout);
  if (!(minutes > 0)) throw new RangeError(`--timeout ${options.timeout}: expected a number of minutes > 0`);
  const query = new URLSearchParams({ autorun: '1' });
  if (options.quick) query.set('quick', '1');
  if (options.only) query.set('only', parseGroups(options.only).join(','));
  if (!options.tfjs) query.set('tfjs', '0');

  const server = await createServer({
    root: ROOT,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1' },
    optimizeDeps: { entries: ['bench.html'], include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'uplot'] },
  });
  await server.listen();
  const browser = await chromium.launch({
    executablePath: process.env.DEADUNITS_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
  let json: string;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    let lastStatus = '';
    const port = (server.httpServer!.address() as { port: number }).port;
    await page.goto(`http://127.0.0.1:${port}/bench.html?${query}`);
    const deadline = Date.now() + minutes * 60_000;
    for (;;) {
      const state = await page.evaluate(() => document.documentElement.dataset.benchState);
      const status = (await page.textContent('#status')) ?? '';
      if (status !== lastStatus) console.error(status.replace(/ \(\d+ s\)$/, ''));
      lastStatus = status;
      if (state === 'done') break;
      if (state === 'error') throw new Error(`bench.html: ${status}`);
      if (Date.now() > deadline) throw new Error(`bench.html did not finish within ${minutes} minutes (last: ${status})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    json = await page.inputValue('#json');
  } finally {
    await browser.close();
    await server.close();
  }
  const page = benchResultFromJson(json, 'bench.html result');
  const result = { ...page, notes: [...options.note, ...page.notes] };
  console.log(`\n${formatResult(result)}`);
  const file = options.out
    ? resolve(options.out)
    : options.save
      ? resolve(ROOT, 'bench/results', resultFileName(result))
      : resolve(ROOT, 'bench/out', `bench-chromium-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, new TextEncoder().encode(benchResultToJson(result)));
  console.log(`results: ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
