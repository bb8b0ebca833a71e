// The flags `sweep` and `sweep plan` share: what the sweep is (a spec file, --base, --grid, --steps, --seeds) and
// how each point runs (checkpoints, kept checkpoints, CSV, unit maps). `sweep plan` hands the second group on to
// the scheduler's tasks as flags (pointArgs).
import { dirname, resolve } from 'node:path';
import { type Command, Option } from 'commander';
import { ConfigError, LIMITS, PRESET_NAMES } from '../../config';
import { InputFileError, readRegularText } from '../../io/regular-file';
import { completeFileConfig, resolveConfigPaths } from '../data-files';
import { UNIT_MAP_KINDS, type UnitMapKind } from '../run-dir';
import { parseGridFlag, sweepSpecFromJson, type SweepSpec } from '../sweep/spec';
import { numberIn } from './borndead';

export const DEFAULT_CHECKPOINT_EVERY = 5000;
const DEFAULT_KEEP = 1;
/** Largest sweep file read (a grid of MAX_POINTS points fits in far less). */
const MAX_SWEEP_FILE_BYTES = 16 << 20;
const DEFAULT_UNIT_MAPS: UnitMapKind = 'none';

export interface SpecFlags {
  grid?: string[];
  base?: string;
  steps?: number;
  seeds?: number[];
}

export interface PointFlags {
  checkpointEvery: number;
  keep: number;
  csv?: boolean;
  unitMaps: UnitMapKind;
}

function seedList(text: string): number[] {
  return text.split(',').map((s) => numberIn(LIMITS.seed)(s));
}

export function addSpecOptions(command: Command): Command {
  return command
    .option(
      '--grid <path=v1,v2,...>',
      "one axis, e.g. lr=0.01,0.1 or hidden[*].dropout=0,0.5 (repeatable; after the file's axes)",
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .option('--base <preset>', `base configuration: a preset (${PRESET_NAMES.join(', ')}); default: the file's base, else the defaults`)
    .addOption(new Option('--steps <n>', 'training steps of every point').argParser(numberIn(LIMITS.steps)))
    .addOption(new Option('--seeds <s1,s2,...>', 'seeds: the last axis').argParser(seedList));
}

export function addPointOptions(command: Command): Command {
  return command
    .addOption(
      new Option('--checkpoint-every <steps>', 'steps between checkpoints of each point; 0 = only at exit')
        .argParser(numberIn({ min: 0, max: LIMITS.steps.max, int: true }))
        .default(DEFAULT_CHECKPOINT_EVERY),
    )
    .addOption(new Option('--keep <m>', 'checkpoints kept per point').argParser(numberIn({ min: 1, max: 1000, int: true })).default(DEFAULT_KEEP))
    .option('--csv', 'also write metrics.csv in each point folder')
    .addOption(new Option('--unit-maps <kind>', 'unit maps of each point').choices(UNIT_MAP_KINDS).default(DEFAULT_UNIT_MAPS));
}

/** The point flags as `deadunits sweep` arguments (defaults left out). */
export function pointArgs(flags: PointFlags): string[] {
  return [
    ...(flags.checkpointEvery !== DEFAULT_CHECKPOINT_EVERY ? ['--checkpoint-every', String(flags.checkpointEvery)] : []),
    ...(flags.keep !== DEFAULT_KEEP ? ['--keep', String(flags.keep)] : []),
    ...(flags.csv ? ['--csv'] : []),
    ...(flags.unitMaps !== DEFAULT_UNIT_MAPS ? ['--unit-maps', flags.unitMaps] : []),
  ];
}

/** The spec from the file (if any) with the flags added: --grid axes after the file's, --base/--steps/--seeds replace. */
export async function specFromInputs(file: string | undefined, flags: SpecFlags): Promise<SweepSpec> {
  let spec: SweepSpec = { base: {}, axes: [] };
  if (file !== undefined) {
    let text: string;
    try {
      text = await readRegularText(file, MAX_SWEEP_FILE_BYTES, 'a sweep file');
    } catch (error) {
      const reason = error instanceof InputFileError ? error.reason : `cannot be read: ${(error as Error).message}`;
      throw new ConfigError([{ path: file, message: reason }], 'sweep');
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
