// `sweep plan --slurm`: a Slurm job array with one task per shard, and the collect step as a job that depends on
// the whole array. Three files in the plan folder:
//
//   sweep.sbatch    the array: every task runs `deadunits sweep SPEC --out OUT --shard auto`
//   collect.sbatch  `deadunits sweep collect OUT`, queued with --dependency=afterany on the array
//   submit.sh       submits both, printing their job ids
//
// Retries: the array is --requeue'd (preemption, node failure, `scontrol requeue`), and its log is appended to,
// not truncated, across attempts. An attempt resumes its shard: finished points are skipped, interrupted ones
// continue from their last checkpoint. SIGTERM (scancel, preemption) is passed on to the sweep, which finishes
// its chunk and writes a checkpoint. With a time limit of at least MIN_TIME_FOR_REQUEUE, Slurm sends USR1
// shortly before it; the task then stops the same way and requeues itself, so that a shard may run for longer
// than the partition allows.
import type { PlanFile, PlannedRun } from './plan';
import { shellQuote } from './plan';
import { SHARD_COUNT_VAR } from './shard-env';

export interface SlurmOptions {
  /** How a task starts deadunits: shell text, e.g. "node /opt/deadunits/bin/deadunits.mjs". */
  deadunits: string;
  /** The spec file the tasks read (absolute). */
  specFile: string;
  /** Slurm's --time (e.g. "2-00:00:00"); the partition's default when absent. */
  time?: string;
  /** Slurm's --mem (per task, e.g. "8G"). */
  mem?: string;
  cpus: number;
  /** GPUs per task (--gres=gpu:N); none when 0. */
  gpus: number;
  partition?: string;
  account?: string;
  /** At most this many tasks at once (--array=0-N%K). */
  maxParallel?: number;
  /** More #SBATCH options for the array job, e.g. "--qos=long". */
  sbatch: string[];
  /** Shell lines run before deadunits in both jobs (module load, a virtual environment, ...). */
  setup: string[];
  collectTime: string;
}

/** The USR1 warning comes this long before the time limit (Slurm may send it up to a minute earlier still). */
export const TIMEOUT_SIGNAL_SECONDS = 180;
/** Below this time limit the warning would come too early to leave any work done: no requeue on timeout. */
export const MIN_TIME_FOR_REQUEUE = 10 * 60;

const TIME = /^(?:(\d+)-)?(\d+)(?::(\d+))?(?::(\d+))?$/;

/**
 * Seconds of a Slurm time ("minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
 * "days-hours:minutes", "days-hours:minutes:seconds"); null when it is none of these.
 */
export function slurmTimeSeconds(text: string): number | null {
  const m = TIME.exec(text.trim());
  if (!m) return null;
  const [days, a, b, c] = [m[1], m[2], m[3], m[4]].map((v) => (v === undefined ? undefined : Number(v)));
  if (days !== undefined) return days * 86400 + a! * 3600 + (b ?? 0) * 60 + (c ?? 0);
  if (c !== undefined) return a! * 3600 + b! * 60 + c;
  if (b !== undefined) return a! * 60 + b;
  return a! * 60;
}

export function slurmMemoryIsValid(text: string): boolean {
  return /^\d+[KMGT]?$/i.test(text.trim());
}

function sweepCommand(run: PlannedRun, options: SlurmOptions): string {
  return [options.deadunits, 'sweep', shellQuote(options.specFile), '--out', shellQuote(run.outDir), '--shard', 'auto', ...run.sweepArgs.map(shellQuote)].join(
    ' ',
  );
}

function commonDirectives(options: SlurmOptions): string[] {
  return [...(options.partition ? [`#SBATCH --partition=${options.partition}`] : []), ...(options.account ? [`#SBATCH --account=${options.account}`] : [])];
}

function arrayScript(run: PlannedRun, options: SlurmOptions): string {
  const seconds = options.time === undefined ? null : slurmTimeSeconds(options.time);
  const requeueOnTimeout = seconds !== null && seconds >= MIN_TIME_FOR_REQUEUE;
  const last = run.shards - 1;
  const lines = [
    '#!/bin/bash',
    `# deadunits sweep ${run.name}: ${run.points} points in ${run.shards} shards, one task of this Slurm job array per shard.`,
    '# Written by `deadunits sweep plan --slurm`: submit it with submit.sh (beside it), which also queues the collect step.',
    '# To run some shards again: sbatch --array=2,5 sweep.sbatch (finished points are skipped, others resume).',
    `#SBATCH --job-name=${run.name}`,
    `#SBATCH --array=0-${last}${options.maxParallel ? `%${options.maxParallel}` : ''}`,
    `#SBATCH --output=${run.outDir}/logs/shard-%a.log`,
    '#SBATCH --open-mode=append',
    '#SBATCH --requeue',
    '#SBATCH --ntasks=1',
    `#SBATCH --cpus-per-task=${options.cpus}`,
    ...(options.time ? [`#SBATCH --time=${options.time}`] : []),
    ...(requeueOnTimeout ? [`#SBATCH --signal=B:USR1@${TIMEOUT_SIGNAL_SECONDS}`] : []),
    ...(options.mem ? [`#SBATCH --mem=${options.mem}`] : []),
    ...(options.gpus > 0 ? [`#SBATCH --gres=gpu:${options.gpus}`] : []),
    ...commonDirectives(options),
    ...options.sbatch.map((o) => `#SBATCH ${o}`),
    'set -u',
    ...options.setup,
    '# --shard auto reads the shard index from SLURM_ARRAY_TASK_ID; the count is fixed here, so that a resubmitted',
    '# subset of tasks still runs its shards of this same sweep.',
    `export ${SHARD_COUNT_VAR}=${run.shards}`,
    `echo "[$(date -Is)] shard $SLURM_ARRAY_TASK_ID/${run.shards}, attempt $((\${SLURM_RESTART_COUNT:-0} + 1)), job $SLURM_JOB_ID on $(hostname)"`,
    '# SIGTERM (scancel, preemption, requeue) is passed on: the sweep finishes its chunk and writes a checkpoint.',
    ...(requeueOnTimeout
      ? [
          `# USR1 comes ${TIMEOUT_SIGNAL_SECONDS} s before the time limit (#SBATCH --signal): stop the same way, then requeue this task,`,
          '# whose next attempt resumes from that checkpoint.',
          'requeue=0',
          `trap 'requeue=1; kill -TERM "$sweep" 2>/dev/null' USR1`,
        ]
      : [`# No requeue on timeout: the time limit is ${options.time === undefined ? "the partition's" : `under ${MIN_TIME_FOR_REQUEUE / 60} minutes`}.`]),
    `trap 'kill -TERM "$sweep" 2>/dev/null' TERM`,
    `${sweepCommand(run, options)} &`,
    'sweep=$!',
    '# `wait` returns early when a trapped signal arrives: wait on until the sweep has exited.',
    'while :; do',
    '  wait "$sweep"',
    '  status=$?',
    '  kill -0 "$sweep" 2>/dev/null || break',
    'done',
    'echo "[$(date -Is)] shard $SLURM_ARRAY_TASK_ID: exit status $status"',
    ...(requeueOnTimeout
      ? [
          'if [ "$requeue" = 1 ]; then',
          '  echo "requeueing job $SLURM_JOB_ID: the next attempt resumes from the checkpoint"',
          '  scontrol requeue "$SLURM_JOB_ID"',
          'fi',
        ]
      : []),
    'exit "$status"',
  ];
  return lines.join('\n') + '\n';
}

function collectScript(run: PlannedRun, options: SlurmOptions): string {
  const lines = [
    '#!/bin/bash',
    `# deadunits sweep ${run.name}: merges the results into summary.csv and summary.svg once every task of the array has`,
    '# ended, whatever its outcome (submit.sh queues it with --dependency=afterany). Exit status 4: some points are',
    '# missing (this log lists them, with their shard); run those shards again, then this.',
    `#SBATCH --job-name=${run.name}-collect`,
    `#SBATCH --output=${run.outDir}/logs/collect-%j.log`,
    '#SBATCH --ntasks=1',
    '#SBATCH --cpus-per-task=1',
    `#SBATCH --time=${options.collectTime}`,
    '#SBATCH --mem=1G',
    ...commonDirectives(options),
    'set -u',
    ...options.setup,
    `${options.deadunits} sweep collect ${shellQuote(run.outDir)}`,
  ];
  return lines.join('\n') + '\n';
}

function submitScript(run: PlannedRun, options: SlurmOptions): string {
  const lines = [
    '#!/bin/bash',
    `# deadunits sweep ${run.name}: queues the array (sweep.sbatch) and the collect step (collect.sbatch), which starts`,
    '# when every array task has ended. Written by `deadunits sweep plan --slurm`.',
    'set -euo pipefail',
    'here=$(cd "$(dirname "$0")" && pwd)',
    'array=$(sbatch --parsable "$here/sweep.sbatch")',
    '# --parsable prints "jobid" or "jobid;cluster".',
    'array=${array%%;*}',
    'collect=$(sbatch --parsable --dependency=afterany:"$array" "$here/collect.sbatch")',
    'collect=${collect%%;*}',
    `echo "array job $array (${run.shards} tasks), collect job $collect"`,
    `echo "progress: ${options.deadunits.replace(/["\\$`]/g, '\\$&')} sweep status ${shellQuote(run.outDir).replace(/["\\$`]/g, '\\$&')}"`,
  ];
  return lines.join('\n') + '\n';
}

export function slurmPlanFiles(run: PlannedRun, options: SlurmOptions): PlanFile[] {
  return [
    { name: 'sweep.sbatch', text: arrayScript(run, options) },
    { name: 'collect.sbatch', text: collectScript(run, options) },
    { name: 'submit.sh', text: submitScript(run, options), executable: true },
  ];
}
