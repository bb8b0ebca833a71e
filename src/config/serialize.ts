// A run to and from JSON and URL query strings. Both go through the same schema, so whatever parses is valid.
//
// URL format (version 1), one parameter per field, omitted parameters take the schema defaults:
//   ?v=1&in=32&hidden=512:relu:0.5,512:gelu:0.2&opt=adam&lr=0.001&data=gaussian_mixture&classes=10&seed=1&steps=50000
// `hidden` is a comma-separated list of layers, each  WIDTH[:ACT[:P[:WINIT[:BIAS]]]][*N]
//   ACT   relu | gelu | leaky_relu(α) | elu(α)         (α may be left out: the default α)
//   P     dropout probability, [0, 1)
//   WINIT he_normal | he_uniform | xavier_normal | xavier_uniform | torch_uniform | normal(std) | uniform(limit)
//   BIAS  constant bias init
//   *N    the same layer N times in a row (e.g. 3:relu:0*16 is 16 layers of width 3)
// `outinit` is the output layer's WINIT[:BIAS]. Numbers are written as JavaScript prints them (shortest exact form),
// so every valid config round trips exactly. The writer always emits v, hidden, opt, lr, data, seed and steps and
// everything else only where it differs from its default.

import { jsonTreeIssue } from './json-input';
import {
  ConfigError,
  type ConfigIssue,
  DatasetSchema,
  defaultRunConfig,
  formatPath,
  type InitConfig,
  type LayerConfig,
  naturalLoss,
  OptimizerSchema,
  parseRunConfig,
  type RunConfig,
  RunConfigSchema,
  ScheduleSchema,
  showValue,
  toConfigIssues,
  WEIGHT_INIT_KINDS,
  type WeightInitConfig,
} from './schema';

// ---------------------------------------------------------------------------------------------------------------
// JSON

/** The full config (every field, defaults included), pretty-printed. */
export function toJson(config: RunConfig): string {
  return JSON.stringify(config, null, 2);
}

/** Parse and validate; throws ConfigError (bad JSON is reported as such, bad fields by path). */
export function fromJson(text: string): RunConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new ConfigError([{ path: '', message: `not valid JSON: ${(e as Error).message}` }], 'run configuration JSON');
  }
  return parseRunConfig(raw);
}

/**
 * JSON text from outside (a file, a flag), parsed and checked before anything walks it: nesting and forbidden keys
 * (src/config/json-input.ts). Every failure is a ConfigError whose path starts with `source` (e.g. the file name).
 */
export function parseJsonInput(text: string, source: string, what = 'input'): unknown {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([{ path: source, message: `is not valid JSON: ${(error as Error).message}` }], what);
  }
  const issue = jsonTreeIssue(value);
  if (issue) throw new ConfigError([{ path: issue.path ? `${source}: ${issue.path}` : source, message: issue.message }], what);
  return value;
}

// ---------------------------------------------------------------------------------------------------------------
// URL query

export const QUERY_VERSION = 1;

type ParamType = 'number' | 'string' | 'bool';
interface ParamSpec {
  readonly name: string;
  readonly path: readonly string[];
  readonly type: ParamType;
  /** Only meaningful when the variant at `variant.path` has one of these kinds (e.g. beta1 needs opt=adam|adamw). */
  readonly variant?: { readonly param: string; readonly kinds: readonly string[] };
  /** Written even when equal to the default, for readability. */
  readonly always?: boolean;
}

const OPT = (...kinds: string[]) => ({ param: 'opt', kinds });
const SCHED = (...kinds: string[]) => ({ param: 'sched', kinds });
const DATA = (...kinds: string[]) => ({ param: 'data', kinds });

/** Scalar parameters in the order they are written (hidden and outinit are handled apart). */
const PARAMS: readonly ParamSpec[] = [
  { name: 'in', path: ['inputSize'], type: 'number' },
  { name: 'out', path: ['outputSize'], type: 'number' },
  { name: 'loss', path: ['loss'], type: 'string' },
  { name: 'indrop', path: ['inputDropout'], type: 'number' },
  { name: 'opt', path: ['optimizer', 'kind'], type: 'string', always: true },
  { name: 'momentum', path: ['optimizer', 'momentum'], type: 'number', variant: OPT('momentum') },
  { name: 'nesterov', path: ['optimizer', 'nesterov'], type: 'bool', variant: OPT('momentum') },
  { name: 'beta1', path: ['optimizer', 'beta1'], type: 'number', variant: OPT('adam', 'adamw') },
  { name: 'beta2', path: ['optimizer', 'beta2'], type: 'number', variant: OPT('adam', 'adamw') },
  { name: 'eps', path: ['optimizer', 'eps'], type: 'number', variant: OPT('adam', 'adamw') },
  { name: 'lr', path: ['lr'], type: 'number', always: true },
  { name: 'sched', path: ['schedule', 'kind'], type: 'string' },
  { name: 'every', path: ['schedule', 'every'], type: 'number', variant: SCHED('step') },
  { name: 'gamma', path: ['schedule', 'gamma'], type: 'number', variant: SCHED('step') },
  { name: 'minlr', path: ['schedule', 'minLr'], type: 'number', variant: SCHED('cosine') },
  { name: 'warmup', path: ['schedule', 'warmupSteps'], type: 'number' },
  { name: 'wd', path: ['weightDecay'], type: 'number' },
  { name: 'batch', path: ['batchSize'], type: 'number' },
  { name: 'data', path: ['dataset', 'kind'], type: 'string', always: true },
  { name: 'samples', path: ['dataset', 'samples'], type: 'number', variant: DATA('teacher', 'gaussian_mixture', 'spirals', 'sparse') },
  { name: 'teacher_width', path: ['dataset', 'teacherWidth'], type: 'number', variant: DATA('teacher', 'slowly_changing') },
  { name: 'flipping', path: ['dataset', 'flipping'], type: 'number', variant: DATA('slowly_changing') },
  { name: 'beta', path: ['dataset', 'beta'], type: 'number', variant: DATA('slowly_changing') },
  { name: 'noise', path: ['dataset', 'noise'], type: 'number', variant: DATA('teacher', 'spirals') },
  { name: 'classes', path: ['dataset', 'classes'], type: 'number', variant: DATA('gaussian_mixture', 'sparse') },
  { name: 'spread', path: ['dataset', 'spread'], type: 'number', variant: DATA('gaussian_mixture') },
  { name: 'turns', path: ['dataset', 'turns'], type: 'number', variant: DATA('spirals') },
  { name: 'density', path: ['dataset', 'density'], type: 'number', variant: DATA('sparse') },
  { name: 'file', path: ['dataset', 'name'], type: 'string', variant: DATA('file'), always: true },
  // The user's files by name, size and SHA-256: a reload finds them in the browser again, or asks for them by name.
  { name: 'input', path: ['dataset', 'inputs', 'path'], type: 'string', variant: DATA('file') },
  { name: 'input_bytes', path: ['dataset', 'inputs', 'bytes'], type: 'number', variant: DATA('file') },
  { name: 'input_sha', path: ['dataset', 'inputs', 'sha256'], type: 'string', variant: DATA('file') },
  { name: 'targets', path: ['dataset', 'targets', 'path'], type: 'string', variant: DATA('file') },
  { name: 'targets_bytes', path: ['dataset', 'targets', 'bytes'], type: 'number', variant: DATA('file') },
  { name: 'targets_sha', path: ['dataset', 'targets', 'sha256'], type: 'string', variant: DATA('file') },
  { name: 'task_every', path: ['tasks', 'every'], type: 'number' },
  { name: 'permute', path: ['tasks', 'permuteInputs'], type: 'bool' },
  { name: 'shuffle', path: ['tasks', 'shuffleLabels'], type: 'bool' },
  { name: 'reset_out', path: ['tasks', 'resetOutput'], type: 'bool' },
  { name: 'cbp', path: ['continualBackprop', 'replacementRate'], type: 'number' },
  { name: 'cbp_decay', path: ['continualBackprop', 'decay'], type: 'number' },
  { name: 'cbp_maturity', path: ['continualBackprop', 'maturity'], type: 'number' },
  { name: 'shrink', path: ['shrinkPerturb', 'shrink'], type: 'number' },
  { name: 'perturb', path: ['shrinkPerturb', 'noise'], type: 'number' },
  { name: 'snp_every', path: ['shrinkPerturb', 'every'], type: 'number' },
  { name: 'seed', path: ['seed'], type: 'number', always: true },
  { name: 'steps', path: ['steps'], type: 'number', always: true },
  { name: 'per_submit', path: ['stepsPerSubmit'], type: 'number' },
  { name: 'shard', path: ['shardColumns'], type: 'number' },
  { name: 'snap', path: ['snapshot', 'every'], type: 'number' },
  { name: 'probe', path: ['snapshot', 'probeSize'], type: 'number' },
  { name: 'probe_mode', path: ['snapshot', 'probe'], type: 'string' },
  { name: 'frozen_window', path: ['snapshot', 'frozenWindow'], type: 'number' },
];
const SPEC_BY_NAME = new Map(PARAMS.map((p) => [p.name, p]));
/** Every parameter name the URL format knows. */
export const QUERY_PARAMS: readonly string[] = ['v', 'hidden', 'outinit', ...PARAMS.map((p) => p.name)];

let cachedDefaults: RunConfig | undefined;
const defaults = (): RunConfig => (cachedDefaults ??= defaultRunConfig());

function getPath(obj: unknown, path: readonly string[]): unknown {
  let o = obj;
  for (const k of path) o = typeof o === 'object' && o !== null ? (o as Record<string, unknown>)[k] : undefined;
  return o;
}

function setPath(obj: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let o = obj;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string, unknown>;
  }
  o[path[path.length - 1]] = value;
}

/** The value a missing parameter takes, given the variant kinds of `config` (mirrors the schema's defaults). */
function defaultFor(spec: ParamSpec, config: RunConfig): unknown {
  const [head] = spec.path;
  if (spec.name === 'loss') return naturalLoss(config.dataset.kind);
  if (spec.name === 'out') {
    const d = config.dataset;
    return d.kind === 'teacher' || d.kind === 'slowly_changing' ? 1 : d.kind === 'spirals' ? 2 : d.kind === 'file' ? undefined : d.classes;
  }
  if (spec.path.length === 2 && spec.path[1] !== 'kind') {
    if (head === 'optimizer') return getPath(OptimizerSchema.parse({ kind: config.optimizer.kind }), spec.path.slice(1));
    if (head === 'schedule') return getPath(ScheduleSchema.parse({ kind: config.schedule.kind }), spec.path.slice(1));
    if (head === 'dataset' && config.dataset.kind !== 'file') return getPath(DatasetSchema.parse({ kind: config.dataset.kind }), spec.path.slice(1));
  }
  return getPath(defaults(), spec.path);
}

function fmtWeightInit(w: WeightInitConfig): string {
  if (w.kind === 'normal') return `normal(${w.std})`;
  if (w.kind === 'uniform') return `uniform(${w.limit})`;
  return w.kind;
}

function fmtInit(init: InitConfig, defaultWeights: WeightInitConfig['kind']): string | undefined {
  const bias = init.bias.value;
  if (bias === 0 && init.weights.kind === defaultWeights) return undefined;
  return bias === 0 ? fmtWeightInit(init.weights) : `${fmtWeightInit(init.weights)}:${bias}`;
}

function fmtLayer(l: LayerConfig): string {
  const act = l.activation.alpha === undefined ? l.activation.kind : `${l.activation.kind}(${l.activation.alpha})`;
  const init = fmtInit(l.init, 'he_normal');
  return `${l.width}:${act}:${l.dropout}${init === undefined ? '' : `:${init}`}`;
}

/** Layers as `spec,spec*N,...`, runs of equal layers folded into `*N`. */
export function formatHidden(layers: readonly LayerConfig[]): string {
  const specs = layers.map(fmtLayer);
  const parts: string[] = [];
  for (let i = 0; i < specs.length; ) {
    let j = i + 1;
    while (j < specs.length && specs[j] === specs[i]) j++;
    parts.push(j - i > 1 ? `${specs[i]}*${j - i}` : specs[i]);
    i = j;
  }
  return parts.join(',');
}

function encodeValue(v: string): string {
  // Keep the list separators readable; they are legal in a query component (RFC 3986).
  return encodeURIComponent(v).replace(/%3A/gi, ':').replace(/%2C/gi, ',');
}

/** A compact, readable query string (without the leading '?'). Round trips exactly through fromQueryString. */
export function toQueryString(config: RunConfig): string {
  const parts: string[] = [`v=${QUERY_VERSION}`];
  const push = (name: string, value: string) => parts.push(`${name}=${encodeValue(value)}`);
  const emit = (spec: ParamSpec) => {
    if (spec.variant) {
      const kind = getPath(config, SPEC_BY_NAME.get(spec.variant.param)!.path) as string;
      if (!spec.variant.kinds.includes(kind)) return;
    }
    const value = getPath(config, spec.path);
    if (value === undefined) return;
    if (!spec.always && value === defaultFor(spec, config)) return;
    push(spec.name, spec.type === 'bool' ? (value ? '1' : '0') : String(value));
  };
  emit(SPEC_BY_NAME.get('in')!);
  push('hidden', formatHidden(config.hidden));
  for (const spec of PARAMS) {
    if (spec.name === 'in') continue;
    emit(spec);
    if (spec.name === 'loss') {
      const outInit = fmtInit(config.outputInit, 'xavier_normal');
      if (outInit !== undefined) push('outinit', outInit);
    }
  }
  return parts.join('&');
}

// -- parsing --

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

class ParamError extends Error {}

function parseNumber(text: string, what: string): number {
  // A raw '+' (as in 1e+5) arrives as a space after form decoding.
  const t = text.replace(/ /g, '+');
  if (!NUMBER_RE.test(t)) throw new ParamError(`${showValue(text)} is not a number (${what})`);
  return Number(t);
}

/** `name` or `name(arg)`. */
function splitCall(text: string): { name: string; arg?: string } {
  const m = /^([a-z_]+)(?:\((.*)\))?$/.exec(text);
  if (!m) throw new ParamError(`${showValue(text)} is not NAME or NAME(value)`);
  return { name: m[1], arg: m[2] };
}

function parseWeightInit(text: string): Record<string, unknown> {
  const { name, arg } = splitCall(text);
  if (!(WEIGHT_INIT_KINDS as readonly string[]).includes(name))
    throw new ParamError(`${showValue(name)} is not one of ${WEIGHT_INIT_KINDS.join(', ')} (weight init)`);
  if (name === 'normal' || name === 'uniform') {
    if (arg === undefined) throw new ParamError(`${name} init needs its scale: ${name}(${name === 'normal' ? 'std' : 'limit'})`);
    return name === 'normal' ? { kind: name, std: parseNumber(arg, 'init std') } : { kind: name, limit: parseNumber(arg, 'init limit') };
  }
  if (arg !== undefined) throw new ParamError(`${name} init takes no value, got ${showValue(text)}`);
  return { kind: name };
}

function parseInit(parts: readonly string[]): Record<string, unknown> {
  const init: Record<string, unknown> = {};
  if (parts[0] !== undefined && parts[0] !== '') init.weights = parseWeightInit(parts[0]);
  if (parts[1] !== undefined && parts[1] !== '') init.bias = { kind: 'constant', value: parseNumber(parts[1], 'bias') };
  return init;
}

function parseLayer(text: string): Record<string, unknown>[] {
  let spec = text;
  let repeat = 1;
  const star = /^(.*)\*([^*]*)$/.exec(text);
  if (star) {
    spec = star[1];
    repeat = parseNumber(star[2], 'repeat count');
    if (!Number.isInteger(repeat) || repeat < 1 || repeat > 64) throw new ParamError(`repeat count ${star[2]} is not an integer in [1, 64]`);
  }
  const parts = spec.split(':');
  if (parts.length > 5) throw new ParamError(`has ${parts.length} fields, at most 5: WIDTH:ACT:P:WINIT:BIAS`);
  const [width, act, p, ...init] = parts;
  const layer: Record<string, unknown> = { width: parseNumber(width, 'width') };
  if (act !== undefined && act !== '') {
    const { name, arg } = splitCall(act);
    layer.activation = arg === undefined ? { kind: name } : { kind: name, alpha: parseNumber(arg, 'alpha') };
  }
  if (p !== undefined && p !== '') layer.dropout = parseNumber(p, 'dropout');
  if (init.length > 0) layer.init = parseInit(init);
  return Array.from({ length: repeat }, () => structuredClone(layer));
}

/** The URL parameter that carries a config field, e.g. `hidden[2].dropout` → `hidden`, `optimizer.beta1` → `beta1`. */
export function queryParamForField(path: string): string {
  if (path.startsWith('hidden')) return 'hidden';
  if (path.startsWith('outputInit')) return 'outinit';
  let best: ParamSpec | undefined;
  for (const spec of PARAMS) {
    const p = formatPath(spec.path);
    if ((path === p || path.startsWith(`${p}.`)) && (!best || p.length > formatPath(best.path).length)) best = spec;
  }
  if (best) return best.name;
  // A whole variant object (e.g. `optimizer`) maps to its kind parameter.
  const kind = PARAMS.find((s) => s.path.length === 2 && s.path[1] === 'kind' && s.path[0] === path.split('.')[0]);
  return kind ? kind.name : path;
}

export interface QueryOptions {
  /** Parameters that belong to the page, not the run (e.g. 'preset', 'autorun'): skipped instead of rejected. */
  ignore?: readonly string[];
}

/**
 * Parse a query string (with or without the leading '?'). Throws ConfigError whose issues name the URL parameter:
 * unknown or repeated parameters, malformed values, and every schema violation mapped back to its parameter.
 */
export function fromQueryString(qs: string | URLSearchParams, options: QueryOptions = {}): RunConfig {
  const params = typeof qs === 'string' ? new URLSearchParams(qs.startsWith('?') ? qs.slice(1) : qs) : qs;
  const issues: ConfigIssue[] = [];
  const seen = new Map<string, string>();
  for (const [name, value] of params) {
    if (options.ignore?.includes(name)) continue;
    if (!QUERY_PARAMS.includes(name)) issues.push({ path: name, message: `unknown URL parameter (known: ${QUERY_PARAMS.join(', ')})` });
    else if (seen.has(name)) issues.push({ path: name, message: 'is given more than once' });
    else seen.set(name, value);
  }
  const raw: Record<string, unknown> = {};
  for (const [name, value] of seen) {
    try {
      if (value === '') throw new ParamError('is empty');
      if (name === 'v') {
        if (value !== String(QUERY_VERSION)) throw new ParamError(`${showValue(value)} is not a supported version (only ${QUERY_VERSION})`);
      } else if (name === 'hidden') {
        raw.hidden = value.split(',').flatMap((layer, i) => {
          try {
            return parseLayer(layer);
          } catch (e) {
            if (e instanceof ParamError) throw new ParamError(`layer spec ${i + 1} ${showValue(layer)}: ${e.message}`);
            throw e;
          }
        });
      } else if (name === 'outinit') {
        const parts = value.split(':');
        if (parts.length > 2) throw new ParamError(`${showValue(value)} is not WINIT[:BIAS]`);
        raw.outputInit = parseInit(parts);
      } else {
        const spec = SPEC_BY_NAME.get(name)!;
        if (spec.variant) {
          const kindSpec = SPEC_BY_NAME.get(spec.variant.param)!;
          const kind = seen.get(kindSpec.name) ?? (getPath(defaults(), kindSpec.path) as string);
          if (!spec.variant.kinds.includes(kind)) {
            throw new ParamError(`applies only with ${spec.variant.param}=${spec.variant.kinds.join('|')} (here ${spec.variant.param}=${kind})`);
          }
        }
        let v: unknown = value;
        if (spec.type === 'number') v = parseNumber(value, name);
        else if (spec.type === 'bool') {
          if (!['1', '0', 'true', 'false'].includes(value)) throw new ParamError(`${showValue(value)} is not 1, 0, true or false`);
          v = value === '1' || value === 'true';
        }
        setPath(raw, spec.path, v);
      }
    } catch (e) {
      if (!(e instanceof ParamError)) throw e;
      issues.push({ path: name, message: e.message });
    }
  }
  // A variant parameter without its kind parameter (e.g. samples=100 alone) refers to the default kind.
  for (const head of ['optimizer', 'schedule', 'dataset'] as const) {
    const obj = raw[head] as Record<string, unknown> | undefined;
    if (obj !== undefined && obj.kind === undefined) obj.kind = defaults()[head].kind;
  }
  const r = RunConfigSchema.safeParse(raw, { reportInput: true });
  if (r.success && issues.length === 0) return r.data;
  if (!r.success) {
    // Schema violations, mapped back to their parameter (skipping parameters already reported as malformed).
    const bad = new Set(issues.map((i) => i.path));
    for (const { path, message } of toConfigIssues(r.error)) {
      const param = queryParamForField(path);
      if (bad.has(param)) continue;
      const spec = SPEC_BY_NAME.get(param);
      const same = spec !== undefined && formatPath(spec.path) === path;
      issues.push({ path: param, message: same ? message : `${message} (at ${path || 'the top level'})` });
    }
  }
  throw new ConfigError(issues, 'URL query');
}
