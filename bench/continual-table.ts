// `npm run bench:continual [-- --steps N --seeds 1,2,3,4,5 --out DIR]`: the README's table of the non-stationary
// presets. Runs every continual_* preset (src/config/presets.ts) for every seed with the CLI's own run code
// (src/cli/run-job.ts, so each run folder is an ordinary `deadunits run` folder with a checkpoint every 10,000
// steps: re-running continues finished or interrupted runs instead of redoing them), then prints a markdown table of mean and range over the seeds:
// dead units (on the last task's inputs) and frozen units at the end, the loss at the end of the last task and
// the loss at the end of the first task, and the dead units at the end of the first task (so the table shows whether
// units died progressively, task after task, or all in the first one).
// Not part of `npm test` (tens of minutes on a software adapter).
import { join } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { parseRunConfig, PRESETS, type PresetName } from '../src/config';
import { acquireNodeGpu } from '../src/gpu/dawn';
import { runJob } from '../src/cli/run-job';
import { readMetricsRows } from '../src/cli/outputs/metrics-writer';
import { deadFraction, TaskEnds } from '../src/report/tasks';

const PRESETS_IN_TABLE: readonly PresetName[] = [
  'continual_plain',
  'continual_dropout',
  'continual_l2',
  'continual_shrink_perturb',
  'continual_cbp',
  'continual_leaky',
];

interface RunSummary {
  dead: number;
  /** Null for rows written before the frozen statistic existed. */
  frozen: number | null;
  firstTaskLoss: number | null;
  lastTaskLoss: number | null;
  firstTaskDead: number | null;
  stepsPerSecond: number | null;
}

function positiveInteger(text: string): number {
  const v = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(v) || v < 1) throw new InvalidArgumentError(`"${text}" is not a positive integer`);
  return v;
}

async function summarize(dir: string, every: number): Promise<RunSummary> {
  const ends = new TaskEnds(every);
  let last = null;
  for await (const row of readMetricsRows(join(dir, 'metrics.jsonl'))) {
    ends.push(row);
    last = row;
  }
  const complete = ends.list().filter((e) => e.complete);
  const final = ends.list().at(-1);
  const widths = last?.layers.reduce((n, l) => n + l.width, 0) ?? 0;
  const frozen = last && last.layers.every((l) => l.frozen !== undefined) ? last.layers.reduce((n, l) => n + l.frozen!, 0) / widths : null;
  return {
    dead: final ? deadFraction(final) : 0,
    frozen,
    firstTaskLoss: complete[0]?.loss ?? null,
    firstTaskDead: complete[0] ? deadFraction(complete[0]) : null,
    lastTaskLoss: complete.at(-1)?.loss ?? null,
    stepsPerSecond: last?.stepsPerSecond ?? null,
  };
}

function meanRange(values: readonly (number | null)[], format: (v: number) => string): string {
  const v = values.filter((x): x is number => x !== null && Number.isFinite(x));
  if (v.length === 0) return '–';
  const mean = v.reduce((a, b) => a + b, 0) / v.length;
  return `${format(mean)} (${format(Math.min(...v))}–${format(Math.max(...v))})`;
}

const program = new Command()
  .option('--steps <n>', 'steps of every run', positiveInteger, 100_000)
  .option('--seeds <list>', 'seeds, comma-separated', '1,2,3,4,5')
  .option('--out <dir>', 'folder of the run folders (<preset>/seed<s>)', 'runs/continual')
  .option('--presets <list>', 'presets, comma-separated', PRESETS_IN_TABLE.join(','))
  .parse();
const options = program.opts<{ steps: number; seeds: string; out: string; presets: string }>();
const seeds = options.seeds.split(',').map(positiveInteger);
const presets = options.presets.split(',') as PresetName[];

const gpu = await acquireNodeGpu();
const rows: string[] = [];
for (const name of presets) {
  const preset = PRESETS[name];
  if (!preset) throw new InvalidArgumentError(`"${name}" is not a preset`);
  const summaries: RunSummary[] = [];
  for (const seed of seeds) {
    const config = parseRunConfig({
      ...preset.config,
      seed,
      steps: options.steps,
      snapshot: { ...preset.config.snapshot, every: Math.min(preset.config.snapshot.every, options.steps) },
    });
    const dir = join(options.out, name, `seed${seed}`);
    const started = performance.now();
    const result = await runJob({ config, outDir: dir, checkpointEvery: 10_000, keepCheckpoints: 1, unitMaps: 'none', progress: 'none', gpu });
    const summary = await summarize(dir, config.tasks.every);
    summaries.push(summary);
    console.error(
      `${name} seed ${seed}: ${result.status} at ${result.step}, dead ${(100 * summary.dead).toFixed(0)} %, last-task loss ${summary.lastTaskLoss?.toFixed(3) ?? '–'} (${((performance.now() - started) / 1000).toFixed(0)} s)`,
    );
  }
  const pct = (v: number) => `${(100 * v).toFixed(0)} %`;
  const num = (v: number) => v.toFixed(3);
  rows.push(
    `| ${name} | ${meanRange(
      summaries.map((s) => s.dead),
      pct,
    )} | ${meanRange(
      summaries.map((s) => s.frozen),
      pct,
    )} | ${meanRange(
      summaries.map((s) => s.lastTaskLoss),
      num,
    )} | ${meanRange(
      summaries.map((s) => s.firstTaskLoss),
      num,
    )} | ${meanRange(
      summaries.map((s) => s.firstTaskDead),
      pct,
    )} |`,
  );
}
console.log(`${options.steps} steps, seeds ${seeds.join(', ')}: mean (min–max) over the seeds`);
console.log('');
console.log(
  '| preset | dead at the end | frozen at the end | loss at the end of the last task | loss at the end of the first task | dead at the end of the first task |',
);
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const row of rows) console.log(row);
gpu.device.destroy();
process.exit(0);
