// `deadunits sweep`: a grid of runs over configuration fields (src/cli/sweep/spec.ts), optionally one shard of it
// (`--shard i/n`, src/cli/sweep/shard.ts, or `--shard auto` from a scheduler's environment, shard-env.ts), each
// point a headless run (runJob) in OUT/points/<id>/.
// `deadunits sweep collect OUT [SHARD_DIRS...]` merges the results into summary.csv and summary.svg (and tasks.svg);
// `sweep plan` writes the scripts that run a sweep on Slurm or Kubernetes; `sweep status` shows its progress.
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../../config';
import { acquireCliGpu } from '../kernels-option';
import type { GpuContext } from '../../gpu/device';
import { PROGRESS_MODES, type ProgressMode } from '../progress';
import { readManifest } from '../run-dir';
import { resumeJob, runJob } from '../run-job';
import { collectSweep } from '../sweep/collect';
import { pointLockOwner, sweepPaths } from '../sweep/folder';
import { runSweep, type PointOutcome, type PointRunner } from '../sweep/run-sweep';
import { formatShard, parseShard, type Shard, ShardError } from '../sweep/shard';
import { SHARD_COUNT_VAR, ShardEnvError, shardFromEnvironment } from '../sweep/shard-env';
import { EXIT_STATUS, type StopReason, watchStopRequests } from '../stop-signals';
import { addPointOptions, addSpecOptions, type PointFlags, type SpecFlags, specFromInputs } from './sweep-inputs';
import { planCommand } from './sweep-plan';
import { statusCommand } from './sweep-status';

/** `sweep collect` exits with this when points are missing (the summary is still written). */
export const EXIT_MISSING_POINTS = 4;

interface SweepFlags extends SpecFlags, PointFlags {
  out?: string;
  shard: Shard | 'auto';
  progress: ProgressMode;
}

function shardArg(text: string): Shard | 'auto' {
  if (text.trim() === 'auto') return 'auto';
  try {
    return parseShard(text);
  } catch (error) {
    if (error instanceof ShardError) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

/** The shard to run: as given, or from the scheduler's environment (--shard auto). */
function resolveShard(shard: Shard | 'auto', log: (line: string) => void): Shard {
  if (shard !== 'auto') return shard;
  try {
    const found = shardFromEnvironment(process.env);
    log(`--shard auto: shard ${formatShard(found.shard)} (${found.source})`);
    return found.shard;
  } catch (error) {
    if (error instanceof ShardEnvError) throw new ConfigError([{ path: '--shard auto', message: error.message }], 'sweep');
    throw error;
  }
}

/** One point through runJob (fresh) or resumeJob, on the sweep's shared device. */
function jobRunner(gpu: GpuContext, flags: SweepFlags, log: (line: string) => void): PointRunner {
  return async ({ point, config, outDir, mode, shard, signal }): Promise<PointOutcome> => {
    const options = {
      checkpointEvery: flags.checkpointEvery,
      keepCheckpoints: flags.keep,
      csv: flags.csv ?? false,
      unitMaps: flags.unitMaps,
      progress: flags.progress,
      gpu,
      signal,
      log,
      owner: pointLockOwner(point.id, shard),
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
Ll_ever_dead, Ll_revived_units, Ll_revivals, Ll_ever_dropped, Ll_longest_drop_run, Ll_frozen, Ll_non_finite.
Exit status: 0 all points finished, ${EXIT_MISSING_POINTS} some missing (listed; the summary holds the rest), 2 bad input.

Examples:
  $ deadunits sweep collect sweeps/lr
  $ deadunits sweep collect sweeps/lr /mnt/node1/sweeps/lr /mnt/node2/sweeps/lr`,
    )
    .action(async (out: string, shardDirs: string[]) => {
      const result = await collectSweep(out, shardDirs);
      const finished = result.manifest.points.length - result.missing.length;
      const plots = [sweepPaths(out).summarySvg, ...(result.tasksSvg === null ? [] : [sweepPaths(out).tasksSvg])];
      console.log(`${finished} of ${result.manifest.points.length} points finished -> ${sweepPaths(out).summaryCsv}, ${plots.join(', ')}`);
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
    // `sweep plan` and `sweep status` have options of the same names (--out, --grid, --shards, ...): the ones after
    // a sub-command's name are its own.
    .enablePositionalOptions();
  addSpecOptions(command).addOption(
    new Option(
      '--shard <i/n|auto>',
      `run only shard i of n (0-based): the points k with k mod n = i; auto: the shard a scheduler gives this task (SLURM_ARRAY_TASK_ID, or JOB_COMPLETION_INDEX with ${SHARD_COUNT_VAR})`,
    )
      .argParser(shardArg)
      .default({ index: 0, count: 1 }, '0/1'),
  );
  addPointOptions(command)
    .addOption(new Option('--progress <mode>', 'per-point progress on stderr').choices(PROGRESS_MODES).default('auto'))
    .addHelpText(
      'after',
      `
Points enumerate row-major over the axes in the order written (file, then --grid flags, seeds last), the last
axis fastest. Point k gets the id p<k>-<hash of its overrides> and runs on shard k mod n. Every point is validated
before anything runs. Re-running a shard skips its finished points and resumes interrupted ones.
Grid paths: names joined by dots, [i] for a list item, [*] for every hidden layer; a bare word is a string.
Exit status: 0 this shard's points are done (a point that hit NaN/Infinity is recorded as non-finite, not
retried), 1 some points are being run by another process (or the environment failed), 2 bad input (also: a point
whose net this GPU cannot hold, recorded as does-not-fit after the shard's other points ran), 130/143/129
interrupted by SIGINT/SIGTERM/SIGHUP (run the same command again to resume).

On a scheduler, \`deadunits sweep plan\` writes the job scripts; by hand:
  Slurm:       #SBATCH --array=0-3    deadunits sweep s.json --out /shared/s --shard auto
               (the count from SLURM_ARRAY_TASK_COUNT or _MIN/_MAX, or ${SHARD_COUNT_VAR} when set)
  Kubernetes:  Indexed Job, completions 4, env ${SHARD_COUNT_VAR}=4: args [..., "--shard", "auto"]
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
      const log = (line: string) => console.error(line);
      const shard = resolveShard(flags.shard, log);
      const controller = new AbortController();
      let received: StopReason | null = null;
      const stopWatch = watchStopRequests((reason, description) => {
        received = reason;
        console.error(`\n${description}: finishing the current point's chunk and writing a checkpoint`);
        controller.abort(`received ${reason === 'launcher' ? 'the death of the launching process' : reason}`);
      });
      let gpu: GpuContext | null = null;
      try {
        const summary = await runSweep({
          spec,
          outDir: out,
          shard,
          signal: controller.signal,
          log,
          // The device is acquired on the first point that runs: a shard with nothing left to do needs none.
          runPoint: async (request) => jobRunner((gpu ??= await acquireCliGpu()), flags, log)(request),
        });
        console.log(
          `shard ${formatShard(shard)}: ${summary.ran.length} run, ${summary.skipped} already finished, of ${summary.mine} (sweep of ${summary.points})`,
        );
        const tooBig = summary.ran.filter((r) => r.status === 'does-not-fit').map((r) => r.id);
        if (summary.interrupted) process.exitCode = EXIT_STATUS[(received as StopReason | null) ?? 'SIGINT'];
        else if (tooBig.length) {
          // The other points ran; these need a smaller net or a bigger GPU (their results say what to change).
          console.log(
            `${tooBig.length} point${tooBig.length > 1 ? 's do' : ' does'} not fit this GPU (${tooBig.join(', ')}): see \`deadunits sweep status ${out}\``,
          );
          process.exitCode = 2;
        } else if (summary.busy.length) {
          console.log(
            `${summary.busy.length} point${summary.busy.length > 1 ? 's are' : ' is'} being run by another process (${summary.busy.join(', ')}): run this shard again once it has finished`,
          );
          process.exitCode = 1;
        } else console.log(`merge with: deadunits sweep collect ${out}`);
      } finally {
        stopWatch();
        (gpu as GpuContext | null)?.device.destroy();
      }
    });
  command.addCommand(collectCommand());
  command.addCommand(planCommand());
  command.addCommand(statusCommand());
  return command;
}
