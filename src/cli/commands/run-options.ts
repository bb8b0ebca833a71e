// What `deadunits run` builds its configuration from: a preset or a config file, then `--set path=value`
// overrides, then the --steps / --seed / --every shortcuts; validated once at the end by the config schema,
// so every error names the field, the value and the allowed range.
import { dirname, resolve } from 'node:path';
import {
  ConfigError,
  defaultRunConfig,
  forbiddenKeyMessage,
  jsonTreeIssue,
  parseRunConfig,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  type RunConfig,
} from '../../config';
import { checkDatasetForConfig } from '../../data';
import { InputFileError, readRegularText } from '../../io/regular-file';
import { completeFileConfig, fileRefOf, resolveConfigPaths, resolveRef } from '../data-files';
import { checkModelShapes, readTorchModelLayout, shapeConfigLikeModel } from '../init-from';

/** Largest configuration file read (a configuration is about 1 KiB; a sweep base a little more). */
export const MAX_CONFIG_FILE_BYTES = 1 << 20;

/** One `--set` segment: a field name with optional list indices, e.g. `hidden[0]`. */
const SEGMENT = /^([A-Za-z_][A-Za-z0-9_]*)((?:\[\d+\])*)$/;

/** `hidden[0].dropout` → ['hidden', 0, 'dropout']; throws ConfigError naming the flag. */
export function parseSetPath(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const part of path.split('.')) {
    const m = SEGMENT.exec(part);
    if (!m) throw new ConfigError([{ path: `--set ${path}`, message: `"${part}" is not a field name (expected e.g. lr, optimizer.kind, hidden[0].dropout)` }]);
    const forbidden = forbiddenKeyMessage(m[1]);
    if (forbidden) throw new ConfigError([{ path: `--set ${path}`, message: forbidden }]);
    out.push(m[1]);
    for (const index of m[2].matchAll(/\[(\d+)\]/g)) out.push(Number(index[1]));
  }
  return out;
}

/** The value of `--set path=value`: JSON when it parses (numbers, true/false, objects), else the raw text. */
export function parseSetValue(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const show = (path: (string | number)[]) => path.reduce<string>((s, p) => (typeof p === 'number' ? `${s}[${p}]` : s ? `${s}.${p}` : p), '');

/**
 * Applies one `path=value` override to a plain config object (in place). Every step of the path but the last must
 * exist; list indices must be in range. Setting a `kind` to another value resets its object to `{ kind }`, so
 * that the new kind's defaults apply instead of the old kind's fields (e.g. `optimizer.kind=adam`).
 * A last field the schema does not know is reported by the schema ("is not a known field").
 */
export function applySet(target: Record<string, unknown>, assignment: string): void {
  const eq = assignment.indexOf('=');
  if (eq <= 0) throw new ConfigError([{ path: `--set ${assignment}`, message: 'expected path=value, e.g. --set lr=0.5 or --set hidden[0].dropout=0.3' }]);
  const path = parseSetPath(assignment.slice(0, eq));
  const value = parseSetValue(assignment.slice(eq + 1));
  let node: unknown = target;
  let parent: Record<string, unknown> | unknown[] | null = null;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i];
    const next = descend(node, key, path.slice(0, i + 1));
    parent = node as Record<string, unknown>;
    node = next;
  }
  const last = path[path.length - 1];
  const where = show(path);
  if (typeof last === 'number') {
    const list = node as unknown[];
    if (!Array.isArray(list)) throw new ConfigError([{ path: where, message: `${show(path.slice(0, -1))} is not a list` }]);
    if (last >= list.length)
      throw new ConfigError([{ path: where, message: `index ${last} is out of range (${show(path.slice(0, -1))} has ${list.length} entries)` }]);
    list[last] = value;
    return;
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    throw new ConfigError([{ path: where, message: `${show(path.slice(0, -1)) || 'the configuration'} is not an object` }]);
  const obj = node as Record<string, unknown>;
  if (last === 'kind' && obj.kind !== value && parent !== null) {
    const key = path[path.length - 2];
    (parent as Record<string | number, unknown>)[key] = { kind: value };
    return;
  }
  obj[last] = value;
}

function descend(node: unknown, key: string | number, path: (string | number)[]): unknown {
  if (typeof key === 'number') {
    if (!Array.isArray(node)) throw new ConfigError([{ path: show(path), message: `${show(path.slice(0, -1))} is not a list` }]);
    if (key >= node.length)
      throw new ConfigError([{ path: show(path), message: `index ${key} is out of range (${show(path.slice(0, -1))} has ${node.length} entries)` }]);
    return node[key];
  }
  if (typeof node !== 'object' || node === null || Array.isArray(node))
    throw new ConfigError([{ path: show(path), message: `${show(path.slice(0, -1)) || 'the configuration'} is not an object` }]);
  const obj = node as Record<string, unknown>;
  // Own fields only: `in` would also find inherited ones (toString, constructor).
  if (!Object.prototype.hasOwnProperty.call(obj, key)) {
    throw new ConfigError([
      { path: show(path), message: `is not a field of ${show(path.slice(0, -1)) || 'the configuration'} (fields: ${Object.keys(obj).join(', ')})` },
    ]);
  }
  return obj[key];
}

/** A non-negative integer flag value, or a ConfigError naming the flag. */
export function integerFlag(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new ConfigError([{ path: flag, message: `${JSON.stringify(text)} is not a non-negative integer` }]);
  const v = Number(text);
  if (!Number.isSafeInteger(v)) throw new ConfigError([{ path: flag, message: `${text} is too large` }]);
  return v;
}

export interface ConfigFlags {
  preset?: string;
  config?: string;
  set?: string[];
  steps?: string;
  seed?: string;
  every?: string;
  /** Your own data: inputs (.npy or .csv), targets (.npy or .csv; without it the CSV's label column). */
  data?: string;
  targets?: string;
  labelColumn?: string;
  header?: string;
  delimiter?: string;
  /** A PyTorch nn.Sequential of Linear layers (safetensors) as the starting weights. */
  initFrom?: string;
}

/** The header flag's words, as the config's dataset.header values. */
const HEADER_WORDS: Record<string, boolean | 'auto'> = { auto: 'auto', yes: true, no: false, true: true, false: false };

/** dataset fields from --data and its companions; ConfigError naming the flag. */
function datasetFromFlags(flags: ConfigFlags): Record<string, unknown> {
  const cwd = process.cwd();
  const ds: Record<string, unknown> = { kind: 'file', inputs: resolveRef(flags.data, cwd) };
  if (flags.targets !== undefined) ds.targets = resolveRef(flags.targets, cwd);
  if (flags.labelColumn !== undefined) ds.labelColumn = /^-?\d+$/.test(flags.labelColumn.trim()) ? Number(flags.labelColumn) : flags.labelColumn;
  if (flags.header !== undefined) {
    if (!(flags.header in HEADER_WORDS)) throw new ConfigError([{ path: '--header', message: `${JSON.stringify(flags.header)} is not one of auto, yes, no` }]);
    ds.header = HEADER_WORDS[flags.header];
  }
  if (flags.delimiter !== undefined) ds.delimiter = flags.delimiter === '\\t' || flags.delimiter === 'tab' ? '\t' : flags.delimiter;
  return ds;
}

/** What configFromFlags builds: the validated configuration, a short name for it, and one-line notes for the user. */
export interface FlagsConfig {
  config: RunConfig;
  name: string;
  notes: string[];
}

/** A --config file: a regular file within MAX_CONFIG_FILE_BYTES, JSON without forbidden keys or absurd nesting. */
async function readConfigFile(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readRegularText(path, MAX_CONFIG_FILE_BYTES, 'a configuration file');
  } catch (error) {
    const reason = error instanceof InputFileError ? error.reason : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
    throw new ConfigError([{ path: '--config', message: `cannot read ${path}: ${reason}` }]);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ path: '--config', message: `${path} is not valid JSON: ${(error as Error).message}` }]);
  }
  const tree = jsonTreeIssue(value);
  if (tree) throw new ConfigError([{ path: `--config ${path}${tree.path ? `: ${tree.path}` : ''}`, message: tree.message }]);
  return value;
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;

const isSet = (flags: ConfigFlags, prefix: RegExp) => (flags.set ?? []).some((a) => prefix.test(a));

/**
 * The validated configuration the flags describe. A file data set (--data, or dataset.kind "file" in --config) is
 * read here: its size and SHA-256 are recorded and inputSize, outputSize and loss are filled where not given
 * (paths in a config file are relative to that file). When --steps is below the snapshot interval the preset or
 * file brings (and none was given on the command line), the interval becomes the steps, with a note. --init-from
 * (or initFrom in the file) reads the model: without --config its shapes make inputSize, the hidden widths and
 * outputSize; they must match the configuration's in any case.
 */
export async function configFromFlags(flags: ConfigFlags): Promise<FlagsConfig> {
  if (flags.preset !== undefined && flags.config !== undefined) throw new ConfigError([{ path: '--preset / --config', message: 'give one of them, not both' }]);
  for (const [flag, value] of [
    ['--targets', flags.targets],
    ['--label-column', flags.labelColumn],
    ['--header', flags.header],
    ['--delimiter', flags.delimiter],
  ] as const) {
    if (value !== undefined && flags.data === undefined) throw new ConfigError([{ path: flag, message: 'applies to your own data: give --data too' }]);
  }
  let base: unknown;
  let name: string;
  if (flags.config !== undefined) {
    base = await readConfigFile(flags.config);
    name = flags.config.replace(/^.*[\\/]/, '').replace(/\.json$/i, '');
  } else {
    const preset = flags.preset ?? 'dropout_only';
    if (!(PRESET_NAMES as readonly string[]).includes(preset))
      throw new ConfigError([{ path: '--preset', message: `${JSON.stringify(preset)} is not one of ${PRESET_NAMES.join(', ')}` }]);
    base = presetConfig(preset as PresetName);
    name = preset;
  }
  if (typeof base !== 'object' || base === null || Array.isArray(base))
    throw new ConfigError([{ path: '--config', message: `${flags.config} does not hold a JSON object` }]);
  const config = structuredClone(base) as Record<string, unknown>;
  if (flags.config !== undefined) resolveConfigPaths(config, dirname(resolve(flags.config)));
  if (flags.data !== undefined) {
    config.dataset = datasetFromFlags(flags);
    // A preset's sizes and loss belong to its synthetic data set: the files decide them (a config file's stay, as written).
    if (flags.config === undefined) for (const field of ['inputSize', 'outputSize', 'loss']) delete config[field];
    name = `${flags.preset ?? name}-${flags.data.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '')}`;
  }
  // --init-from: without a config file, the model's shapes make the layers (the preset gives their settings).
  if (flags.initFrom !== undefined) config.initFrom = resolveRef(flags.initFrom, process.cwd());
  const model = config.initFrom === undefined ? null : await readTorchModelLayout(fileRefOf(config.initFrom));
  const notes: string[] = [];
  if (model && flags.config === undefined) {
    shapeConfigLikeModel(config, model.layout);
    notes.push(`layers from ${model.file.path}: ${[model.layout.inputSize, ...model.layout.widths, model.layout.outputSize].join(' -> ')}`);
  }
  for (const assignment of flags.set ?? []) applySet(config, assignment);
  if (flags.steps !== undefined) {
    const steps = integerFlag('--steps', flags.steps);
    config.steps = steps;
    const snapshot = typeof config.snapshot === 'object' && config.snapshot !== null ? (config.snapshot as Record<string, unknown>) : {};
    const every = typeof snapshot.every === 'number' ? snapshot.every : defaultRunConfig().snapshot.every;
    if (flags.every === undefined && !isSet(flags, /^snapshot(\.every)?=/) && every > steps) {
      config.snapshot = { ...snapshot, every: steps };
      notes.push(
        `snapshot interval: ${plural(steps, 'step')} (the ${flags.config !== undefined ? 'configuration' : 'preset'}'s ${every} is more than --steps ${steps})`,
      );
    }
  }
  if (flags.seed !== undefined) config.seed = integerFlag('--seed', flags.seed);
  if (flags.every !== undefined) {
    const snapshot = typeof config.snapshot === 'object' && config.snapshot !== null ? (config.snapshot as Record<string, unknown>) : {};
    config.snapshot = { ...snapshot, every: integerFlag('--every', flags.every) };
  }
  const files = await completeFileConfig(config);
  notes.push(...files.notes);
  if (model) config.initFrom = { path: model.file.path, bytes: model.file.size, sha256: model.file.sha256 };
  const parsed = parseRunConfig(config);
  if (files.dataset) checkDatasetForConfig(files.dataset, parsed);
  if (model) checkModelShapes(parsed, model.layout, model.file.path);
  return { config: parsed, name, notes };
}
