// `deadunits run`: train a preset or a configuration headless into a run folder (see src/cli/run-dir.ts).
// Ctrl-C / SIGTERM / SIGHUP (and the death of an npm launcher, src/cli/stop-signals.ts) finish the chunk in flight,
// write a checkpoint and exit 130 / 143 / 129; a second signal quits at once (files already written stay whole:
// every write is atomic or a whole appended line).
import { Command, Option } from 'commander';
import { ConfigError, PRESET_NAMES } from '../../config';
import { PROGRESS_MODES, type ProgressMode } from '../progress';
import { runJob, type RunJobResult } from '../run-job';
import { DEFAULT_CHECKPOINT_EVERY, DEFAULT_KEEP, UNIT_MAP_KINDS, type UnitMapKind } from '../run-dir';
import { EXIT_STATUS, type StopReason, watchStopRequests } from '../stop-signals';
import { configFromFlags, integerFlag, type ConfigFlags } from './run-options';
import { KERNELS_HELP, parseKernelsFlag } from '../kernels-option';

export { DEFAULT_CHECKPOINT_EVERY, DEFAULT_KEEP };

/** Exit statuses of run and resume besides 0 (completed), 1 (a bug or the environment) and 2 (bad input). */
export const EXIT_NON_FINITE = 3;
/** Stopped by a GPU error mid-run (FAILED.md); `resume` continues from the last good checkpoint. */
export const EXIT_GPU_ERROR = 4;
export const EXIT_SIGINT = EXIT_STATUS.SIGINT;
export const EXIT_SIGTERM = EXIT_STATUS.SIGTERM;
export const EXIT_SIGHUP = EXIT_STATUS.SIGHUP;

/** A folder name for a run started without --out: runs/<name>-seed<seed>-<UTC time>. */
export function defaultOutDir(name: string, seed: number, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, '').replace(/\..*$/, '').replace('T', '-');
  return `runs/${name.replace(/[^A-Za-z0-9_.-]/g, '_')}-seed${seed}-${stamp}`;
}

/**
 * Runs a job with the stop requests (SIGINT, SIGTERM, SIGHUP, a dead npm launcher) wired to its AbortSignal, prints
 * where everything went, and ends the process with the run's exit status (130 / 143 / 129 after a stop request,
 * 3 after a non-finite stop, 4 after a GPU error). Errors go to the program's handler (src/cli/errors.ts: 2 for
 * input, 1 for the environment).
 */
export async function runWithSignals(_command: Command, job: (signal: AbortSignal, log: (line: string) => void) => Promise<RunJobResult>): Promise<void> {
  const controller = new AbortController();
  let received: StopReason | null = null;
  const stopWatch = watchStopRequests((reason, description) => {
    if (received) {
      console.error(`\n${description} again: quitting without a final checkpoint (the previous one is intact)`);
      process.exit(EXIT_STATUS[reason]);
    }
    received = reason;
    console.error(`\n${description}: finishing the current chunk and writing a checkpoint (send it again to quit at once)`);
    controller.abort(`received ${reason === 'launcher' ? 'the death of the launching process' : reason}`);
  });
  let result: RunJobResult;
  try {
    result = await job(controller.signal, (line) => console.error(line));
  } finally {
    stopWatch();
  }
  console.log(`${result.status} at step ${result.step}: ${result.answer.headline}`);
  if (result.message) console.log(result.message);
  console.log(`report: ${result.outDir}/report.md`);
  const stoppedBy = received as StopReason | null;
  // Interrupted without a stop request: the folder's lock was taken over (the message says by whom), an environment matter.
  const code =
    result.status === 'completed'
      ? 0
      : result.status === 'non-finite'
        ? EXIT_NON_FINITE
        : result.status === 'gpu-error'
          ? EXIT_GPU_ERROR
          : stoppedBy
            ? EXIT_STATUS[stoppedBy]
            : 1;
  if (code !== 0) {
    // The job has destroyed its device; stderr/stdout are synchronous for files and pipes on Linux.
    process.exit(code);
  }
}

export function runOptions(command: Command): Command {
  return command
    .option('--checkpoint-every <steps>', `steps between checkpoints; 0 = only at exit (default ${DEFAULT_CHECKPOINT_EVERY})`)
    .option('--keep <m>', `checkpoints to keep, the newest (default ${DEFAULT_KEEP})`)
    .option('--csv', 'also write metrics.csv')
    .addOption(
      new Option('--unit-maps <kind>', 'unit maps per snapshot (capped at ~64 per layer): png, npy (uint8 codes), both or none').choices(UNIT_MAP_KINDS),
    )
    .addOption(new Option('--progress <mode>', 'progress on stderr: a bar on a terminal, plain lines otherwise (auto)').choices(PROGRESS_MODES).default('auto'))
    .option('--kernels <auto|name>', KERNELS_HELP, parseKernelsFlag);
}

interface RunFlags extends ConfigFlags {
  out?: string;
  checkpointEvery?: string;
  keep?: string;
  csv?: boolean;
  unitMaps?: UnitMapKind;
  progress: ProgressMode;
  kernels?: string;
}

export function runCommand(): Command {
  const command = new Command('run')
    .description('Train a preset or a configuration headless and write metrics, unit maps, checkpoints and report.md into a run folder.')
    .addOption(new Option('--preset <name>', 'a named run (default dropout_only)').choices(PRESET_NAMES))
    .option('--config <file.json>', 'a run configuration file (JSON; see config.json of any run)')
    .option(
      '--set <path=value>',
      'override one field, e.g. lr=0.5, hidden[0].dropout=0.3, optimizer.kind=adam (repeatable)',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--steps <n>', 'training steps (1 to 4294967295)')
    .option('--seed <n>', 'seed of the data, initialization, batches and dropout')
    .option('--every <n>', 'snapshot interval in steps (one metrics row per snapshot)')
    .option('--out <dir>', 'run folder (created; must be empty or hold this same run); default runs/<name>-seed<seed>-<time>')
    .option('--data <file>', 'train on your own inputs: a .npy [samples, features] or a .csv (its last column the labels, unless --targets)')
    .option('--targets <file>', 'the targets of --data: .npy or .csv, integer class labels or float values (regression)')
    .option('--label-column <index|name>', 'CSV without --targets: the label column, 0-based (negative from the end) or a header name (default -1)')
    .addOption(
      new Option('--header <mode>', 'CSV: is the first line a header? (default auto: only when no field reads as a number)').choices(['auto', 'yes', 'no']),
    )
    .option('--delimiter <char>', 'CSV field separator: "," ";" or "tab" (default: detected)')
    .option(
      '--init-from <model.safetensors>',
      'start from a PyTorch nn.Sequential of Linear layers (its state dict as safetensors); without --config its shapes make the layers',
    );
  runOptions(command)
    .addHelpText(
      'after',
      `
Outputs in the run folder: config.json, run.json, metrics.jsonl (+ metrics.csv), maps/L<l>/step-<step>.png|.npy,
checkpoints/checkpoint-<step>.safetensors, charts/*.svg, report.md (and FAILED.md if the run diverged or hit a GPU error).
Exit status: 0 completed, 1 environment (disk full, no permission, no WebGPU adapter, folder in use), 2 bad input
(also a net the GPU cannot hold: nothing is trained, no folder is left), 3 stopped on NaN/Infinity, 4 stopped by a
GPU error mid-run (resume it: it continues from the last good checkpoint), 130/143/129 interrupted
(SIGINT/SIGTERM/SIGHUP or a dead npx launcher; resume it).

Examples:
  $ deadunits run --preset lr_too_high --steps 2000 --out runs/lr
  $ deadunits run --config my.json --set lr=0.5 --set hidden[0].dropout=0.3 --csv --unit-maps both
  $ deadunits run --data X.npy --targets y.npy --steps 2000     # your own data (loss and sizes from the files)
  $ deadunits run --data table.csv --label-column species --set loss=softmax_ce
  $ deadunits run --init-from model.safetensors --data X.npy --targets y.npy   # your own model, trained on
  $ deadunits resume runs/lr`,
    )
    .action(async (flags: RunFlags) => {
      const { config, name, notes } = await configFromFlags(flags);
      for (const note of notes) console.error(note);
      const outDir = flags.out ?? defaultOutDir(name, config.seed);
      const checkpointEvery = flags.checkpointEvery === undefined ? DEFAULT_CHECKPOINT_EVERY : integerFlag('--checkpoint-every', flags.checkpointEvery);
      const keepCheckpoints = flags.keep === undefined ? DEFAULT_KEEP : integerFlag('--keep', flags.keep);
      if (keepCheckpoints < 1)
        throw new ConfigError([{ path: '--keep', message: `${keepCheckpoints} is not in [1, ...): at least one checkpoint must be kept` }]);
      await runWithSignals(command, (signal, log) => {
        log(
          `run: ${name}, ${config.steps} steps, a snapshot every ${config.snapshot.every}, checkpoints every ${checkpointEvery || 'run end only'} (keeping ${keepCheckpoints}) -> ${outDir}`,
        );
        return runJob({
          config,
          outDir,
          checkpointEvery,
          keepCheckpoints,
          csv: flags.csv ?? false,
          unitMaps: flags.unitMaps ?? 'png',
          progress: flags.progress,
          kernels: flags.kernels,
          signal,
          log,
        });
      });
    });
  return command;
}
