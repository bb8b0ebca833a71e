// What `sweep plan --slurm` and `sweep plan --k8s` share: the job's name, the options every task runs with, and
// the checks on the flags both schedulers take. The scripts and manifests themselves are in plan-slurm.ts and
// plan-k8s.ts; both run the same command in every task: `deadunits sweep SPEC --out OUT --shard auto ...`.
import { basename } from 'node:path';
import { ConfigError, type ConfigIssue } from '../../config';
import { MAX_SHARDS } from './shard';

/** What every task of a planned sweep runs with, besides the spec, the folder and `--shard auto`. */
export interface PlannedRun {
  /** Job name (a DNS-1123 label: it names the Kubernetes objects and the pods' host names too). */
  name: string;
  /** The sweep folder, as the tasks see it. */
  outDir: string;
  /** Number of shards = array tasks = completions. */
  shards: number;
  /** Points of the sweep (for the comments). */
  points: number;
  /** More `deadunits sweep` flags for every task (checkpoint interval, kept checkpoints, ...). */
  sweepArgs: string[];
}

/** A planned file: its name in the plan folder, its text, and whether it is a script to run. */
export interface PlanFile {
  name: string;
  text: string;
  executable?: boolean;
}

/** Longest job name: Kubernetes names an Indexed Job's pods `<name>-<index>-<5 chars>`, and a host name has at most 63. */
export const MAX_NAME_LENGTH = 40;
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** `deadunits-<folder name>`, made a valid name: lower case, [a-z0-9-], at most MAX_NAME_LENGTH characters. */
export function defaultJobName(outDir: string): string {
  const base = basename(outDir.replace(/[/\\]+$/, ''))
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `deadunits-${base || 'sweep'}`.slice(0, MAX_NAME_LENGTH).replace(/-+$/, '');
}

export function nameIssue(name: string): ConfigIssue | null {
  if (name.length > MAX_NAME_LENGTH) return { path: '--name', message: `"${name}" has ${name.length} characters, more than ${MAX_NAME_LENGTH}` };
  if (!NAME.test(name))
    return { path: '--name', message: `"${name}" is not a valid job name: lower-case letters, digits and '-', starting and ending with a letter or digit` };
  return null;
}

/** Checks the shard count against the sweep: every shard must have at least one point. */
export function shardsIssue(shards: number, points: number): ConfigIssue | null {
  if (!Number.isInteger(shards) || shards < 1 || shards > MAX_SHARDS) return { path: '--shards', message: `${shards} is not an integer in [1, ${MAX_SHARDS}]` };
  if (shards > points)
    return { path: '--shards', message: `${shards} is more than the sweep's ${points} points: shards ${points} to ${shards - 1} would have nothing to do` };
  return null;
}

export function throwIssues(issues: (ConfigIssue | null)[]): void {
  const real = issues.filter((i): i is ConfigIssue => i !== null);
  if (real.length) throw new ConfigError(real, 'sweep plan');
}

/** `word` as one shell word: unchanged when it is safe, single-quoted otherwise. */
export function shellQuote(word: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word)) return word;
  return `'${word.replace(/'/g, `'\\''`)}'`;
}
