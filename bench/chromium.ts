// `npm run bench:chromium [-- options]`: runs bench.html in headless Chromium (Debian's /usr/bin/chromium or
// DEADUNITS_CHROMIUM; SwiftShader WebGPU without a GPU) under Vite's dev server, and writes the page's
// result JSON like `npm run bench` does (bench/out/, --out, or bench/results/ with --save).
import { Command } from 'commander';
import { addSuiteFlags, writeResultFile, type SuiteFlags } from './cli-options';
import { launchChromium, serveBenchPage } from './headless-chromium';
import { formatResult } from './report';
import { benchResultFromJson, parseGroups } from './schema';

interface Options extends SuiteFlags {
  timeout: string;
}

async function main(): Promise<void> {
  const options = addSuiteFlags(new Command().name('npm run bench:chromium --').description('run bench.html in headless Chromium and save its result JSON'))
    .option('--timeout <minutes>', 'give up after this long', '60')
    .parse()
    .opts<Options>();
  const minutes = Number(options.timeout);
  if (!(minutes > 0)) throw new RangeError(`--timeout ${options.timeout}: expected a number of minutes > 0`);
  const query = new URLSearchParams({ autorun: '1' });
  if (options.quick) query.set('quick', '1');
  if (options.only) query.set('only', parseGroups(options.only).join(','));
  if (options.cases) query.set('cases', options.cases);
  if (options.candidates) query.set('candidates', options.candidates);
  if (!options.tfjs) query.set('tfjs', '0');

  const { server, base } = await serveBenchPage();
  const browser = await launchChromium();
  let json: string;
  try {
    const page = await browser.newPage();
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    let lastStatus = '';
    await page.goto(`${base}/bench.html?${query}`);
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
  const file = await writeResultFile(result, options, 'bench-chromium');
  console.log(`results: ${file}`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
