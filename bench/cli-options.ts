// What `npm run bench` (Node) and `npm run bench:chromium` (bench.html) share on their command lines: the flags
// that pick the suite's cases, and where the result JSON goes.
import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { writeFileAtomic } from '../src/io/atomic-file';
import { benchResultToJson, resultFileName, type BenchResult } from './schema';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));

export interface SuiteFlags {
  quick: boolean;
  only?: string;
  cases?: string;
  candidates?: string;
  tfjs: boolean;
  out?: string;
  save: boolean;
  note: string[];
}

export function addSuiteFlags(command: Command): Command {
  return command
    .option('--quick', 'tiny shapes and few repeats: a smoke run, not a measurement', false)
    .option('--only <groups>', 'comma-separated groups: matmul, train, monitoring, readback, million')
    .option('--cases <labels>', 'comma-separated: only the cases whose label contains one of these, e.g. "nn 1024x1024,tn "')
    .option('--candidates <names>', "comma-separated matmul configurations the matmul group times instead of the adapter's candidates")
    .option('--no-tfjs', 'leave out the TensorFlow.js side-by-side cases')
    .option('--out <file>', 'write the result JSON here (default: a new file in bench/out/)')
    .option('--save', 'write the result to bench/results/<device>-<host>-<date>.json, to be committed', false)
    .option(
      '--note <text>',
      'add a note to the result, e.g. "machine busy" (repeatable)',
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    );
}

/** Writes the result atomically to --out, bench/results/ (--save) or bench/out/<name>-<time>.json; returns the path. */
export async function writeResultFile(result: BenchResult, flags: Pick<SuiteFlags, 'out' | 'save'>, name: string): Promise<string> {
  const file = flags.out
    ? resolve(flags.out)
    : flags.save
      ? resolve(BENCH_DIR, 'results', resultFileName(result))
      : resolve(BENCH_DIR, 'out', `${name}-${result.startedAt.replace(/[:.]/g, '-')}.json`);
  await mkdir(dirname(file), { recursive: true });
  await writeFileAtomic(file, new TextEncoder().encode(benchResultToJson(result)));
  return file;
}

/** A comma-separated flag as a list (empty items dropped); undefined when the flag is absent. */
export function listFlag(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.split(',').filter((item) => item.trim() !== '');
}
