// A sweep: a base configuration and a grid of overrides, expanded into validated points.
//
// Spec (sweep.json; every field but grid optional):
//   { "base": "dropout_only" | { ...partial RunConfig... },
//     "grid": { "lr": [0.01, 0.1], "hidden[*].dropout": [0, 0.5], "hidden[0].init.bias.value": [0, -1] },
//     "steps": 2000, "seeds": [1, 2, 3] }
// or the same on the command line: --base dropout_only --grid lr=0.01,0.1 --grid 'hidden[*].dropout=0,0.5'
// --steps 2000 --seeds 1,2,3 (flags add to / override the file).
//
// A grid key is a field path: names joined by dots, list items as [i]; [*] means every hidden layer (every item
// of that list in the base). Values are JSON (numbers, true/false, "strings"); on the command line a bare word
// is a string (relu). `steps` sets every point's steps (and, as `run --steps` does, lowers a snapshot interval
// larger than it to `steps` unless the grid sets snapshot.every); `seeds` is one more axis, on `seed`. Setting a `kind`
// (hidden[*].activation.kind, optimizer.kind, ...) to another variant drops the old variant's fields (its
// defaults apply), and kind overrides are applied before the other overrides of the point.
//
// Order: points enumerate row-major over the axes in the order they are written (file keys, then --grid flags,
// then seeds), the last axis varying fastest. Point k has the id p<k>-<h>, k zero-padded to the width of the
// last index and h the first 8 hex digits of SHA-256 of its canonical overrides, so an id names both the place
// and the content: editing the grid changes the ids of the points it changes.
import { createHash } from 'node:crypto';
import { z } from 'zod';
import {
  ConfigError,
  type ConfigIssue,
  defaultRunConfig,
  FORBIDDEN_KEYS,
  forbiddenKeyMessage,
  jsonTreeIssue,
  LIMITS,
  formatRange,
  inRange,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  type RunConfig,
  safeParseRunConfig,
} from '../../config';

/** Largest grid accepted: a typo like lr=0.001..1000 should fail, not start a million runs. */
export const MAX_POINTS = 100_000;

export type GridValue = number | string | boolean;

export interface SweepSpec {
  /** A preset name or a partial configuration (defaults fill the rest). */
  base: string | Record<string, unknown>;
  /** Axes in enumeration order. */
  axes: { path: string; values: GridValue[] }[];
  steps?: number;
}

export interface SweepPoint {
  index: number;
  id: string;
  /** [path, value] in axis order. */
  overrides: [string, GridValue][];
  config: RunConfig;
  /** Set when the sweep's `steps` lowered the point's snapshot interval: what it was. */
  loweredEvery?: number;
}

const gridValue = z.union([z.number(), z.string(), z.boolean()], { error: (iss) => `${JSON.stringify(iss.input)} is not a number, string or boolean` });

const SpecFileSchema = z.strictObject({
  base: z.union([z.string(), z.record(z.string(), z.unknown())], { error: 'must be a preset name or a configuration object' }).optional(),
  grid: z.record(z.string(), z.array(gridValue, { error: 'must be a list of values' }).min(1, { error: 'must list at least one value' })),
  steps: z.number().optional(),
  seeds: z.array(z.number(), { error: 'must be a list of seeds' }).min(1, { error: 'must list at least one seed' }).optional(),
});

function specError(issues: ConfigIssue[]): ConfigError {
  return new ConfigError(issues, 'sweep');
}

/** Validates a parsed sweep.json; `seeds` becomes the last axis (on `seed`). */
export function sweepSpecFromJson(value: unknown, source = 'sweep.json'): SweepSpec {
  // Before zod copies it into records: no "__proto__" keys, no nesting deeper than a spec can have.
  const tree = jsonTreeIssue(value);
  if (tree) throw specError([{ path: `${source}: ${tree.path || '(root)'}`, message: tree.message }]);
  const r = SpecFileSchema.safeParse(value);
  if (!r.success)
    throw specError(
      r.error.issues.map((i) => ({
        path: `${source}: ${
          i.path
            .map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`))
            .join('')
            .replace(/^\./, '') || '(root)'
        }`,
        message: i.message,
      })),
    );
  const spec: SweepSpec = { base: r.data.base ?? {}, axes: Object.entries(r.data.grid).map(([path, values]) => ({ path, values })), steps: r.data.steps };
  if (r.data.seeds) spec.axes.push({ path: 'seed', values: r.data.seeds });
  return spec;
}

/**
 * The spec as a sweep file (the inverse of sweepSpecFromJson: reading it back gives the same axes in the same
 * order, so the same points and ids). `sweep plan` hands it to the scheduler's tasks.
 */
export function sweepSpecToJson(spec: SweepSpec): { base: SweepSpec['base']; grid: Record<string, GridValue[]>; steps?: number } {
  return { base: spec.base, grid: Object.fromEntries(spec.axes.map((a) => [a.path, a.values])), ...(spec.steps === undefined ? {} : { steps: spec.steps }) };
}

/** A --grid flag: `path=v1,v2,...`. Values are JSON where they parse as JSON, bare strings otherwise. */
export function parseGridFlag(text: string): { path: string; values: GridValue[] } {
  const eq = text.indexOf('=');
  if (eq <= 0) throw specError([{ path: `--grid ${text}`, message: 'expected PATH=V1,V2,... (e.g. lr=0.01,0.1)' }]);
  const path = text.slice(0, eq).trim();
  const raw = text.slice(eq + 1);
  if (raw.trim() === '') throw specError([{ path: `--grid ${text}`, message: 'lists no values' }]);
  const values = raw.split(',').map((v): GridValue => {
    const s = v.trim();
    if (s === '') throw specError([{ path: `--grid ${text}`, message: 'has an empty value' }]);
    try {
      const parsed: unknown = JSON.parse(s);
      if (typeof parsed === 'number' || typeof parsed === 'string' || typeof parsed === 'boolean') return parsed;
    } catch {
      // a bare word such as relu
    }
    return s;
  });
  return { path, values };
}

type Segment = string | number | '*';

/** `hidden[*].init.bias.value` → ['hidden', '*', 'init', 'bias', 'value']; null if malformed. */
export function parsePath(path: string): Segment[] | null {
  const out: Segment[] = [];
  const re = /^(?:\.?([A-Za-z_][A-Za-z0-9_]*)|\[(\d+|\*)\])/;
  let rest = path;
  if (!/^[A-Za-z_]/.test(rest)) return null;
  while (rest.length) {
    const m = re.exec(rest);
    if (!m) return null;
    // Paths reach schema fields only: never an object's prototype.
    if (m[1] !== undefined && FORBIDDEN_KEYS.has(m[1])) return null;
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(m[2] === '*' ? '*' : Number(m[2]));
    rest = rest.slice(m[0].length);
  }
  return out;
}

/** Sets `value` at `segments` in `target` (a plain JSON tree), creating objects on the way; '*' fans out over a list. */
function setPath(target: unknown, segments: Segment[], value: GridValue, path: string): void {
  const [head, ...rest] = segments;
  if (head === '*') {
    if (!Array.isArray(target)) throw new Error(`${path}: [*] needs a list here`);
    for (const item of target) setPath(item, rest, value, path);
    return;
  }
  const container = target as Record<string | number, unknown>;
  if (typeof target !== 'object' || target === null) throw new Error(`${path}: cannot set a field inside ${JSON.stringify(target)}`);
  if (typeof head === 'number' && (!Array.isArray(target) || head >= target.length))
    throw new Error(`${path}: [${head}] is past the end of a list of ${Array.isArray(target) ? target.length : 0}`);
  if (rest.length === 0) {
    container[head] = value;
    return;
  }
  // Switching a variant (activation.kind, optimizer.kind, ...) drops the old variant's fields: a momentum
  // optimizer's `momentum` is not a field of sgd. The new variant's fields take their defaults.
  if (rest.length === 1 && rest[0] === 'kind') {
    const current = container[head] as Record<string, unknown> | undefined;
    if (current?.kind !== value) container[head] = { kind: value };
    return;
  }
  if (!Object.prototype.hasOwnProperty.call(container, head)) container[head] = typeof rest[0] === 'number' || rest[0] === '*' ? [] : {};
  setPath(container[head], rest, value, path);
}

/** A snapshot interval longer than the run would take no snapshot after step 0: lower it to `steps`; the old interval, or undefined. */
function lowerSnapshotInterval(input: Record<string, unknown>, steps: number): number | undefined {
  const snapshot = typeof input.snapshot === 'object' && input.snapshot !== null ? (input.snapshot as Record<string, unknown>) : {};
  const every = typeof snapshot.every === 'number' ? snapshot.every : defaultRunConfig().snapshot.every;
  if (every <= steps) return undefined;
  input.snapshot = { ...snapshot, every: steps };
  return every;
}

function baseInput(base: SweepSpec['base']): Record<string, unknown> {
  if (typeof base === 'string') {
    if (!(PRESET_NAMES as readonly string[]).includes(base))
      throw specError([{ path: 'base', message: `${JSON.stringify(base)} is not a preset (one of ${PRESET_NAMES.join(', ')}) or a configuration object` }]);
    return presetConfig(base as PresetName) as unknown as Record<string, unknown>;
  }
  // The base must be valid on its own (and gives the lists that [*] fans out over, with defaults filled).
  const parsed = safeParseRunConfig(base);
  if (!parsed.success) throw specError(parsed.error.issues.map((i) => ({ path: `base.${i.path}`, message: i.message })));
  return parsed.data as unknown as Record<string, unknown>;
}

export function pointId(index: number, count: number, overrides: [string, GridValue][]): string {
  const digits = String(Math.max(0, count - 1)).length;
  const hash = createHash('sha256').update(JSON.stringify(overrides)).digest('hex').slice(0, 8);
  return `p${String(index).padStart(digits, '0')}-${hash}`;
}

export function formatOverrides(overrides: [string, GridValue][]): string {
  return overrides.map(([p, v]) => `${p}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(' ');
}

/**
 * Every point of the sweep, validated with the run schema before anything runs. All failures are reported
 * together, each naming the point (index, id, overrides), the field and the limit.
 */
export function expandSweep(spec: SweepSpec): SweepPoint[] {
  const issues: ConfigIssue[] = [];
  if (spec.steps !== undefined && !inRange(spec.steps, LIMITS.steps))
    issues.push({ path: 'steps', message: `${spec.steps} is not an integer in ${formatRange(LIMITS.steps)}` });
  const seen = new Set<string>();
  for (const axis of spec.axes) {
    if (seen.has(axis.path)) issues.push({ path: `grid ${axis.path}`, message: 'appears twice (in the file and a --grid flag?)' });
    seen.add(axis.path);
    const forbidden = axis.path.split(/[.[\]]/).find((name) => FORBIDDEN_KEYS.has(name));
    if (forbidden !== undefined) issues.push({ path: `grid ${axis.path}`, message: forbiddenKeyMessage(forbidden)! });
    else if (!parsePath(axis.path))
      issues.push({ path: `grid ${axis.path}`, message: 'is not a field path (e.g. lr, hidden[*].dropout, hidden[0].init.bias.value)' });
    if (axis.values.length === 0) issues.push({ path: `grid ${axis.path}`, message: 'lists no values' });
  }
  if (spec.axes.length === 0) issues.push({ path: 'grid', message: 'has no axes: give at least one (e.g. --grid lr=0.01,0.1)' });
  if (issues.length) throw specError(issues);
  const count = spec.axes.reduce((n, a) => n * a.values.length, 1);
  if (count > MAX_POINTS) throw specError([{ path: 'grid', message: `has ${count} points, more than the limit of ${MAX_POINTS}` }]);

  const base = baseInput(spec.base);
  const gridSetsInterval = spec.axes.some((a) => a.path === 'snapshot' || a.path === 'snapshot.every');
  const points: SweepPoint[] = [];
  for (let index = 0; index < count; index++) {
    // Row-major: the last axis varies fastest.
    const overrides: [string, GridValue][] = [];
    let rest = index;
    for (let a = spec.axes.length - 1; a >= 0; a--) {
      const values = spec.axes[a].values;
      overrides.unshift([spec.axes[a].path, values[rest % values.length]]);
      rest = Math.floor(rest / values.length);
    }
    const id = pointId(index, count, overrides);
    const where = `point ${index} (${id}: ${formatOverrides(overrides)})`;
    const input = structuredClone(base);
    if (spec.steps !== undefined) input.steps = spec.steps;
    try {
      // Variant switches first, so that a point may set both optimizer.kind and optimizer.momentum.
      const ordered = [...overrides].sort(([a], [b]) => Number(!a.endsWith('.kind')) - Number(!b.endsWith('.kind')));
      for (const [path, value] of ordered) setPath(input, parsePath(path)!, value, path);
    } catch (error) {
      issues.push({ path: where, message: (error as Error).message });
      continue;
    }
    const loweredEvery = spec.steps !== undefined && !gridSetsInterval ? lowerSnapshotInterval(input, spec.steps) : undefined;
    const parsed = safeParseRunConfig(input);
    if (!parsed.success) {
      for (const i of parsed.error.issues) issues.push({ path: `${where} ${i.path}`, message: i.message });
      continue;
    }
    points.push({ index, id, overrides, config: parsed.data, ...(loweredEvery === undefined ? {} : { loweredEvery }) });
  }
  if (issues.length) throw specError(issues);
  return points;
}
