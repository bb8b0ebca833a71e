// `deadunits sweep`: a grid of runs over configuration fields (src/cli/sweep/spec.ts), optionally one shard of it
// (`--shard i/n`, src/cli/sweep/shard.ts), each point a headless run (runJob) in OUT/points/<id>/.
// `deadunits sweep collect OUT [SHARD_DIRS...]` merges the results into summary.csv and summary.svg.
import { readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, LIMITS, PRESET_NAMES } from '../../config';
import { acquireNodeGpu } from '../../gpu/dawn';
import type { GpuContext } from '../../gpu/device';
import { PROGRESS_MODES, type ProgressMode } from '../progress';
import { readManifest, UNIT_MAP_KINDS, type UnitMapKind } from '../run-dir';
import { resumeJob, runJob } from '../run-job';
import { collectSweep } from '../sweep/collect';
import { sweepPaths } from '../sweep/folder';
import { runSweep, type PointOutcome, type PointRunner } from '../sweep/run-sweep';
import { parseShard, type Shard, ShardError } from '../sweep/shard';
import { completeFileConfig, resolveConfigPaths } from '../data-files';
import { parseGridFlag, sweepSpecFromJson, type SweepSpec } from '../sweep/spec';
import { EXIT_SIGINT, EXIT_SIGTERM } from './run';
import { numberIn } from './borndead';

/** `sweep collect` exits with this when points are missing (the summary is still written). */
export const EXIT_MISSING_POINTS = 4;
const DEFAULT_CHECKPOINT_EVERY = 5000;

interface SweepFlags {
  out?: string;
  grid?: string[];
  base?: string;
  steps?: number;
  seeds?: number[];
  shard: Shard;
  checkpointEvery: number;
  keep: number;
  csv?: boolean;
  unitMaps: UnitMapKind;
  progress: ProgressMode;
}

function shardArg(text: string): Shard {
  try {
    return parseShard(text);
  } catch (error) {
    if (error instanceof ShardError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

function seedList(text: string): number[] {
  return text.split(',').map((s) => numberIn(LIMITS.seed)(s));
}

/** The spec from the file (if any) with the flags added: --grid axes after the file's, --base/--steps/--seeds replace. */
async function specFromInputs(file: string | undefined, flags: SweepFlags): Promise<SweepSpec> {
  let spec: SweepSpec = { base: {}, axes: [] };
  if (file !== undefined) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      throw new ConfigError([{ path: file, message: `cannot be read: ${(error as Error).message}` }], 'sweep');
    }
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new ConfigError([{ path: file, message: `is not valid JSON: ${(error as Error).message}` }], 'sweep');
    }
    spec = sweepSpecFromJson(value, file);
    // A base on your own data: paths relative to the sweep file; sizes, loss and the files' hashes filled in once.
    if (typeof spec.base === 'object') {
      resolveConfigPaths(spec.base, dirname(resolve(file)));
      await completeFileConfig(spec.base);
    }
  }
  if (flags.base !== undefined) spec.base = flags.base;
  if (flags.steps !== undefined) spec.steps = flags.steps;
  const seedAxis = spec.axes.findIndex((a) => a.path === 'seed');
  const seeds = flags.seeds ?? (seedAxis >= 0 ? spec.axes[seedAxis].values : undefined);
  spec.axes = spec.axes.filter((a) => a.path !== 'seed');
  for (const g of flags.grid ?? []) spec.axes.push(parseGridFlag(g));
  // seeds stay the last (fastest) axis whichever way they were given.
  if (seeds) spec.axes.push({ path: 'seed', values: seeds });
  return spec;
}

/** One point through runJob (fresh) or resumeJob, on the sweep's shared device. */
function jobRunner(gpu: GpuContext, flags: SweepFlags, log: (line: string) => void): PointRunner {
  return async ({ config, outDir, mode, signal }): Promise<PointOutcome> => {
    const options = {
      checkpointEvery: flags.checkpointEvery,
      keepCheckpoints: flags.keep,
      csv: flags.csv ?? false,
      unitMaps: flags.unitMaps,
      progress: flags.progress,
      gpu,
      signal,
      log,
    };
    if (mode === 'resume') {
      const manifest = await readManifest(outDir);
      // The process died after the run stopped on NaN but before the sweep recorded it: record, do not repeat.
      if (manifest?.status === 'non-finite') return { status: 'non-finite', step: manifest.step, last: null, layers: [], message: manifest.message };
      return resumeJob(outDir, options);
    }
    return runJob({ config, outDir, ...options });
  };
}

function collectCommand(): Command {
  return new Command('collect')
    .description(
      'Merge the points of a sweep (one shared folder, or one folder per shard) into OUT/summary.csv and OUT/summary.svg, and list missing points by id and shard.',
    )
    .argument('<out>', 'the sweep folder (holds sweep.json); the summary is written here')
    .argument('[shardDirs...]', 'more folders holding results of the same sweep (e.g. one per machine)')
    .addHelpText(
      'after',
      `
summary.csv has one row per point, in point order: index, id, one column per grid axis, status, step, final_loss
(mean loss of the last snapshot interval), steps_per_s, then per hidden layer l: Ll_width, Ll_dead_frac, Ll_dead,
Ll_ever_dead, Ll_revived_units, Ll_revivals, Ll_ever_dropped, Ll_longest_drop_run.
Exit status: 0 all points finished, ${EXIT_MISSING_POINTS} some missing (listed; the summary holds the rest), 2 bad input.

Examples:
  $ deadunits sweep collect sweeps/lr
  $ deadunits sweep collect sweeps/lr /mnt/node1/sweeps/lr /mnt/node2/sweeps/lr`,
    )
    .action(async (out: string, shardDirs: string[]) => {
      const result = await collectSweep(out, shardDirs);
      const finished = result.manifest.points.length - result.missing.length;
      console.log(`${finished} of ${result.manifest.points.length} points finished -> ${sweepPaths(out).summaryCsv}, ${sweepPaths(out).summarySvg}`);
      const diverged = result.results.filter((r) => r.status === 'non-finite');
      if (diverged.length) console.log(`stopped on NaN/Infinity: ${diverged.map((r) => r.id).join(', ')}`);
      if (result.missing.length) {
        console.log(`missing ${result.missing.length}:`);
        for (const m of result.missing) console.log(`  ${m.id} (index ${m.index}${m.shard ? `, shard ${m.shard}` : ''}): ${m.reason}`);
        process.exitCode = EXIT_MISSING_POINTS;
      }
    });
}

export function sweepCommand(): Command {
  const command = new Command('sweep')
    .description('Run a grid of configurations (each point a `run` in OUT/points/<id>/), or one shard of it; `sweep collect` merges the results.')
    .argument('[spec]', 'a sweep file (JSON: {"base", "grid", "steps", "seeds"}); or give everything with flags')
    .option('--out <dir>', 'the sweep folder (required; shared by all shards: they never write the same file)')
    .option(
      '--grid <path=v1,v2,...>',
      "one axis, e.g. lr=0.01,0.1 or hidden[*].dropout=0,0.5 (repeatable; after the file's axes)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--base <preset>', `base configuration: a preset (${PRESET_NAMES.join(', ')}); default: the file's base, else the defaults`)
    .addOption(new Option('--steps <n>', 'training steps of every point').argParser(numberIn(LIMITS.steps)))
    .addOption(new Option('--seeds <s1,s2,...>', 'seeds: the last axis').argParser(seedList))
    .addOption(
      new Option('--shard <i/n>', 'run only shard i of n (0-based): the points k with k mod n = i').argParser(shardArg).default({ index: 0, count: 1 }, '0/1'),
    )
    .addOption(
      new Option('--checkpoint-every <steps>', 'steps between checkpoints of each point; 0 = only at exit')
        .argParser(numberIn({ min: 0, max: LIMITS.steps.max, int: true }))
        .default(DEFAULT_CHECKPOINT_EVERY),
    )
    .addOption(new Option('--keep <m>', 'checkpoints kept per point').argParser(numberIn({ min: 1, max: 1000, int: true })).default(1))
    .option('--csv', 'also write metrics.csv in each point folder')
    .addOption(new Option('--unit-maps <kind>', 'unit maps of each point').choices(UNIT_MAP_KINDS).default('none'))
    .addOption(new Option('--progress <mode>', 'per-point progress on stderr').choices(PROGRESS_MODES).default('auto'))
    .addHelpText(
      'after',
      `
Points enumerate row-major over the axes in the order written (file, then --grid flags, seeds last), the last
axis fastest. Point k gets the id p<k>-<hash of its overrides> and runs on shard k mod n. Every point is validated
before anything runs. Re-running a shard skips its finished points and resumes interrupted ones.
Grid paths: names joined by dots, [i] for a list item, [*] for every hidden layer; a bare word is a string.
Exit status: 0 this shard's points are done (a point that hit NaN/Infinity is recorded as non-finite, not
retried), 2 bad input, 130/143 interrupted by SIGINT/SIGTERM (run the same command again to resume).

Sharding with a scheduler (the shell expands the index):
  Slurm:       #SBATCH --array=0-3    deadunits sweep s.json --out /shared/s --shard "$SLURM_ARRAY_TASK_ID/4"
  Kubernetes:  indexed Job, completions 4: args [..., "--shard", "$(JOB_COMPLETION_INDEX)/4"]
  CI matrix:   shard: [0, 1, 2, 3]   deadunits sweep s.json --out s --shard "\${{ matrix.shard }}/4"

Examples:
  $ deadunits sweep --out sweeps/lr --base lr_too_high --steps 2000 --grid lr=0.01,0.1,0.5 --grid 'hidden[*].dropout=0,0.5' --seeds 1,2
  $ deadunits sweep sweep.json --out sweeps/a --shard 1/4
  $ deadunits sweep collect sweeps/a

sweep.json:
  { "base": "dropout_only",
    "grid": { "lr": [0.01, 0.1, 1], "hidden[*].dropout": [0, 0.5], "hidden[*].activation.kind": ["relu", "leaky_relu"] },
    "steps": 2000, "seeds": [1, 2, 3] }`,
    )
    .action(async (file: string | undefined, flags: SweepFlags) => {
      // Not a requiredOption: commander would then demand it of `sweep collect` too.
      const out: string = flags.out ?? command.error("error: required option '--out <dir>' not specified", { exitCode: 2, code: 'deadunits.usage' });
      const spec = await specFromInputs(file, flags);
      const controller = new AbortController();
      let received: NodeJS.Signals | null = null;
      const onSignal = (signal: NodeJS.Signals) => {
        received = signal;
        console.error(`\n${signal}: finishing the current point's chunk and writing a checkpoint`);
        controller.abort(`received ${signal}`);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      const log = (line: string) => console.error(line);
      let gpu: GpuContext | null = null;
      try {
        const summary = await runSweep({
          spec,
          outDir: out,
          shard: flags.shard,
          signal: controller.signal,
          log,
          // The device is acquired on the first point that runs: a shard with nothing left to do needs none.
          runPoint: async (request) => jobRunner((gpu ??= await acquireNodeGpu()), flags, log)(request),
        });
        console.log(
          `shard ${flags.shard.index}/${flags.shard.count}: ${summary.ran.length} run, ${summary.skipped} already finished, of ${summary.mine} (sweep of ${summary.points})`,
        );
        if (summary.interrupted) process.exitCode = (received as NodeJS.Signals | null) === 'SIGTERM' ? EXIT_SIGTERM : EXIT_SIGINT;
        else console.log(`merge with: deadunits sweep collect ${out}`);
      } finally {
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        (gpu as GpuContext | null)?.device.destroy();
      }
    });
  command.addCommand(collectCommand());
  return command;
}
