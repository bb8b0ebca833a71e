// `npm run soak [-- --steps N] [--preset NAME]`: a long headless run (src/cli/run-job.ts, the same code as
// `deadunits run`) of a small net with snapshots, unit maps, metrics and checkpoints, sampling the process's memory
// while it trains. It fails (exit 1) when memory grows past warm-up beyond the bounds below. Not part of `npm test`
// (minutes). With --preset it soaks that preset's config instead (e.g. continual_cbp: task switches, data generated on
// the GPU, continual backprop), with the same snapshot interval, so the bounds below hold for it too.
//
// Why these bounds: a run keeps nothing per snapshot in memory (rows go to metrics.jsonl as they come, charts are
// built from the file after the run, unit maps are capped), so after warm-up (pipelines compiled, staging ring and
// allocator pools filled) memory should be flat at any length. Snapshots are taken every 20 steps, so 10^5 steps
// make 5,000 of them, about 2,500 between the two windows compared below. We compare medians (robust to the
// moment a sample lands in) of the second quarter of the samples and of the last quarter:
// - JS heap after a forced garbage collection: growth under 2 MiB. Keeping anything per snapshot (a Snapshot with
//   its views and buffer, a metrics row and its JSON line: about 1 KiB) would add 2.5 MiB or more; the noise seen
//   between windows is about 0.3 MiB.
// - resident set size (JS heap + Dawn + Mesa + GPU staging buffers): growth under 64 MiB. RSS moves by ±15 MiB
//   as allocators breathe (seen here); a leaked staging buffer or command buffer per snapshot would exceed it.
// The heap's least-squares slope per step, extrapolated to 10^7 steps, is printed for information.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Command, InvalidArgumentError } from 'commander';
import { parseRunConfig, PRESET_NAMES, PRESETS, type PresetName, type RunConfig } from '../src/config';
import { runJob } from '../src/cli/run-job';

const MiB = 1024 * 1024;
const HEAP_GROWTH_LIMIT = 2 * MiB;
const RSS_GROWTH_LIMIT = 64 * MiB;
const PROJECTION_STEPS = 10_000_000;

interface Sample {
  seconds: number;
  step: number;
  rss: number;
  heapUsed: number;
}

function positiveInteger(flag: string) {
  return (text: string) => {
    const v = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`${flag} must be a positive integer, got "${text}"`);
    return v;
  };
}

function presetName(text: string): PresetName {
  if (!(PRESET_NAMES as readonly string[]).includes(text)) throw new InvalidArgumentError(`--preset must be one of ${PRESET_NAMES.join(', ')}, got "${text}"`);
  return text as PresetName;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Least-squares slope of y over x. */
function slope(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    num += (xs[i] - mx) * (ys[i] - my);
    den += (xs[i] - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

const mib = (bytes: number) => (bytes / MiB).toFixed(1);

const SNAPSHOT_EVERY = 20;

/** The default soak net, or a preset's config with the soak's steps and snapshot interval. */
function soakConfig(steps: number, preset: PresetName | undefined): { config: RunConfig; what: string } {
  if (preset) {
    const base = PRESETS[preset].config;
    const config = parseRunConfig({ ...base, steps, snapshot: { ...base.snapshot, every: SNAPSHOT_EVERY } });
    const widths = [config.inputSize, ...config.hidden.map((l) => l.width), config.outputSize].join(' -> ');
    return { config, what: `preset ${preset} (${widths}, batch ${config.batchSize})` };
  }
  const config = parseRunConfig({
    inputSize: 16,
    hidden: [
      { width: 64, dropout: 0.5 },
      { width: 64, dropout: 0.5 },
    ],
    dataset: { kind: 'gaussian_mixture', samples: 1024, classes: 4 },
    batchSize: 16,
    lr: 0.01,
    steps,
    stepsPerSubmit: 32,
    snapshot: { every: SNAPSHOT_EVERY, probeSize: 64 },
    seed: 1,
  });
  return { config, what: '16 -> 64 -> 64 -> 4 (dropout 0.5, batch 16)' };
}

async function soak(options: { steps: number; sampleSeconds: number; keepOut: boolean; preset?: PresetName }): Promise<boolean> {
  // A forced collection before each heap sample, so the heap figures show what is live, not what is garbage.
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;

  const { config, what } = soakConfig(options.steps, options.preset);
  const outDir = await mkdtemp(join(tmpdir(), 'deadunits-soak-'));
  const samples: Sample[] = [];
  let step = 0;
  const began = performance.now();
  const take = () => {
    gc();
    const m = process.memoryUsage();
    samples.push({ seconds: (performance.now() - began) / 1000, step, rss: m.rss, heapUsed: m.heapUsed });
  };
  const timer = setInterval(take, options.sampleSeconds * 1000);
  console.log(`soak: ${options.steps} steps of ${what}, a snapshot every ${SNAPSHOT_EVERY} steps, checkpoints every 5000, unit maps (PNG), CSV -> ${outDir}`);
  let result;
  try {
    result = await runJob({
      config,
      outDir,
      checkpointEvery: 5000,
      keepCheckpoints: 2,
      csv: true,
      unitMaps: 'png',
      progress: 'lines',
      testHooks: { afterChunk: (s) => void (step = s.step) },
    });
  } finally {
    clearInterval(timer);
    if (!options.keepOut) await rm(outDir, { recursive: true, force: true });
  }
  take();
  const seconds = (performance.now() - began) / 1000;
  console.log(
    `run ${result.status} at step ${result.step} in ${seconds.toFixed(1)} s (${(result.step / seconds).toFixed(0)} steps/s, including start-up and outputs)`,
  );

  console.log('\n   time s       step   rss MiB  heap MiB');
  const shown = samples.length <= 24 ? samples : samples.filter((_, i) => i % Math.ceil(samples.length / 24) === 0 || i === samples.length - 1);
  for (const s of shown)
    console.log(`${s.seconds.toFixed(1).padStart(9)} ${String(s.step).padStart(10)} ${mib(s.rss).padStart(9)} ${mib(s.heapUsed).padStart(9)}`);

  if (samples.length < 8) {
    console.error(`\nFAIL: only ${samples.length} memory samples; run more steps (--steps) or sample more often (--sample-seconds)`);
    return false;
  }
  const q = Math.floor(samples.length / 4);
  const warm = samples.slice(q); // the first quarter is warm-up
  const heapSlope = slope(
    warm.map((s) => s.step),
    warm.map((s) => s.heapUsed),
  );
  const growth = (pick: (s: Sample) => number) => median(samples.slice(-q).map(pick)) - median(samples.slice(q, 2 * q).map(pick));
  const heapGrowth = growth((s) => s.heapUsed);
  const rssGrowth = growth((s) => s.rss);
  const heapOk = heapGrowth < HEAP_GROWTH_LIMIT;
  const rssOk = rssGrowth < RSS_GROWTH_LIMIT;
  console.log(
    `\nsamples: ${samples.length} (every ${options.sampleSeconds} s; the first ${q} are warm-up); growth = median of the last quarter - median of the second quarter`,
  );
  console.log(
    `JS heap after GC: growth ${mib(heapGrowth)} MiB (limit ${mib(HEAP_GROWTH_LIMIT)} MiB): ${heapOk ? 'ok' : 'FAIL'}; trend ${heapSlope.toFixed(3)} bytes/step = ${mib(heapSlope * PROJECTION_STEPS)} MiB over ${PROJECTION_STEPS} steps (information)`,
  );
  console.log(`RSS: growth ${mib(rssGrowth)} MiB (limit ${mib(RSS_GROWTH_LIMIT)} MiB): ${rssOk ? 'ok' : 'FAIL'}`);
  return heapOk && rssOk && result.status === 'completed';
}

const program = new Command('soak')
  .description('Long run of a small net, sampling process memory; fails on growth past warm-up beyond the stated bounds.')
  .option('--steps <n>', 'training steps (default 100000)', positiveInteger('--steps'), 100_000)
  .option('--sample-seconds <s>', 'seconds between memory samples (default 2)', positiveInteger('--sample-seconds'), 2)
  .option('--keep-out', 'keep the run folder (default: removed at the end)', false)
  .option('--preset <name>', `soak a preset's config instead of the default net (${PRESET_NAMES.join(', ')})`, presetName)
  .action(async (options: { steps: number; sampleSeconds: number; keepOut: boolean; preset?: PresetName }) => {
    process.exitCode = (await soak(options)) ? 0 : 1;
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
}
// NOTE: a Dawn instance can keep the event loop alive after its devices are destroyed: exit once output drained.
process.stdout.write('', () => process.stderr.write('', () => process.exit()));
