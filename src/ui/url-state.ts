// The run configuration in the page URL, so that copying the URL reproduces the run.
//
// Two forms, both read by configFromUrl:
//   ?v=1&preset=lr_too_high&seed=7         a preset plus the URL parameters that differ from it (what urlWithConfig
//                                          writes whenever it is the shorter form)
//   ?v=1&in=32&hidden=512:relu:0.5*2&...   the config layer's own query format (src/config/serialize.ts), where
//                                          omitted parameters take the schema's defaults (what the CLI prints)
// A URL without any run parameter is the default preset. A bad URL never leaves the page without a run: it falls back
// to the default preset and says which parameter was wrong.

import { ConfigError, fromQueryString, PRESET_NAMES, PRESETS, type PresetName, QUERY_PARAMS, type RunConfig, toQueryString } from '../config';

/** The run shown when the URL names none. */
export const DEFAULT_PRESET: PresetName = 'dropout_only';
/** The page's own parameter: the preset the other parameters are relative to. */
export const PRESET_PARAM = 'preset';

/**
 * URL parameters that only apply to one kind of optimizer, schedule or data set (see PARAMS in src/config/serialize.ts;
 * tests/ui/url-state.test.ts checks this table against fromQueryString). When a URL switches the kind away from the
 * preset's, the preset's parameters for its old kind no longer apply and are dropped. `out` and `loss` follow the data
 * set, so they go with it.
 */
export const KIND_PARAMS: Readonly<Record<'opt' | 'sched' | 'data', readonly string[]>> = {
  opt: ['momentum', 'nesterov', 'beta1', 'beta2', 'eps'],
  sched: ['every', 'gamma', 'minlr'],
  data: [
    'samples',
    'teacher_width',
    'noise',
    'classes',
    'spread',
    'turns',
    'density',
    'file',
    'input',
    'input_bytes',
    'input_sha',
    'targets',
    'targets_bytes',
    'targets_sha',
    'out',
    'loss',
  ],
};

export interface UrlConfig {
  config: RunConfig;
  /** Why the URL was not used as it is (names the parameter); absent when it was. */
  error?: string;
}

export interface UrlStateOptions {
  /** Further page parameters (not part of the run) to leave alone, e.g. 'autorun'. */
  ignore?: readonly string[];
}

function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

/** The preset's own parameters, minus those a kind change in `overrides` makes meaningless. */
function presetBaseline(preset: PresetName, overrides: URLSearchParams): URLSearchParams {
  const base = new URLSearchParams(presetQueryOf(preset));
  for (const [kindParam, dependents] of Object.entries(KIND_PARAMS)) {
    const kind = overrides.get(kindParam);
    if (kind !== null && kind !== base.get(kindParam)) for (const p of dependents) base.delete(p);
  }
  return base;
}

function describe(error: unknown): string {
  if (error instanceof ConfigError) return error.issues.map((i) => (i.path ? `URL parameter ${i.path}: ${i.message}` : i.message)).join('; ');
  return error instanceof Error ? error.message : String(error);
}

function fallback(error: string): UrlConfig {
  return { config: structuredClone(PRESETS[DEFAULT_PRESET].config), error: `${error}. Showing the preset "${DEFAULT_PRESET}" instead.` };
}

/**
 * The run a page URL's query (`location.search`, with or without '?') describes. Never throws: a bad query, or a run on
 * a file data set (which the browser cannot load), gives the default preset and an error naming the parameter.
 */
export function configFromUrl(search: string, options: UrlStateOptions = {}): UrlConfig {
  const ignore = options.ignore ?? [];
  const params = new URLSearchParams(search.startsWith('?') ? search.slice(1) : search);
  const presets = params.getAll(PRESET_PARAM);
  const run = [...params].filter(([name]) => name !== PRESET_PARAM && !ignore.includes(name));
  if (presets.length > 1) return fallback(`URL parameter ${PRESET_PARAM}: is given more than once`);
  if (presets.length === 0 && run.length === 0) return { config: structuredClone(PRESETS[DEFAULT_PRESET].config) };
  try {
    if (presets.length === 0) return { config: fromQueryString(new URLSearchParams(run), { ignore }) };
    const preset = presets[0];
    if (!isPresetName(preset)) return fallback(`URL parameter ${PRESET_PARAM}: ${JSON.stringify(preset)} is not one of ${PRESET_NAMES.join(', ')}`);
    const names = run.map(([name]) => name);
    const repeated = names.find((name, i) => names.indexOf(name) !== i);
    if (repeated !== undefined) return fallback(`URL parameter ${repeated}: is given more than once`);
    const overrides = new URLSearchParams(run);
    const merged = presetBaseline(preset, overrides);
    for (const [name, value] of run) merged.set(name, value);
    return { config: fromQueryString(merged) };
  } catch (error) {
    return fallback(describe(error));
  }
}

/** Each preset's own query, computed once (presets never change). */
let presetQueries: Map<PresetName, string> | undefined;
const presetQueryOf = (preset: PresetName): string =>
  (presetQueries ??= new Map(PRESET_NAMES.map((name) => [name, toQueryString(PRESETS[name].config)]))).get(preset)!;

/** The query (without '?') of `config` relative to `preset` (not yet checked), or null when that form cannot say it. */
function presetCandidate(fullText: string, preset: PresetName): string | null {
  const full = new URLSearchParams(fullText);
  const base = presetBaseline(preset, full);
  // A parameter the preset sets and the config leaves at the schema default has no "back to default" spelling.
  for (const name of base.keys()) if (!full.has(name)) return null;
  const parts = [`v=${full.get('v')}`, `${PRESET_PARAM}=${preset}`];
  for (const part of fullText.split('&')) {
    const name = part.slice(0, part.indexOf('='));
    if (name !== 'v' && full.get(name) !== base.get(name)) parts.push(part);
  }
  return parts.join('&');
}

/** The shortest query that reads back (configFromUrl) to exactly `config`: a preset-relative one, or the full one. */
function shortestQuery(config: RunConfig): string {
  const fullText = toQueryString(config);
  const candidates = PRESET_NAMES.map((preset) => presetCandidate(fullText, preset))
    .filter((q): q is string => q !== null && q.length < fullText.length)
    .sort((a, b) => a.length - b.length);
  const json = JSON.stringify(config);
  for (const query of candidates) {
    const back = configFromUrl(query);
    if (back.error === undefined && JSON.stringify(back.config) === json) return query;
  }
  return fullText;
}

/**
 * `base` (an absolute URL, e.g. location.href) with its query replaced by `config`: the shortest of the
 * preset-relative forms and the full form, parameters that are not part of a run (see UrlStateOptions) kept.
 */
export function urlWithConfig(config: RunConfig, base: string, options: UrlStateOptions = {}): string {
  const best = shortestQuery(config);
  const url = new URL(base);
  const ignore = (options.ignore ?? []).filter((name) => name !== PRESET_PARAM && !QUERY_PARAMS.includes(name));
  const kept = [...url.searchParams].filter(([name]) => ignore.includes(name));
  const extra = kept.length ? `&${new URLSearchParams(kept).toString()}` : '';
  url.search = `?${best}${extra}`;
  return url.toString();
}
