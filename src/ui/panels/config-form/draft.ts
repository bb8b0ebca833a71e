// The config form's model: a draft of the run as the user is typing it (numbers that do not parse stay as their
// text, so the schema can name them), validated as a whole by the run schema, with each issue keyed by its field path.
// Pure functions, no DOM: the component (../config-form.ts) renders and edits a Draft through them.

import {
  type ActivationKind,
  datasetClasses,
  type DatasetKind,
  DatasetSchema,
  DEFAULT_ALPHA,
  DEFAULT_LAYER,
  formatPath,
  LIMITS,
  naturalLoss,
  OptimizerSchema,
  type RunConfig,
  safeParseRunConfig,
  ScheduleSchema,
  type WeightInitKind,
} from '../../../config';

/** A run config being edited: the RunConfig's shape, where any leaf may hold the raw text of a bad number. */
export type Draft = Record<string, unknown> & { hidden: Record<string, unknown>[] };
export type FieldPath = readonly (string | number)[];

export function draftFromConfig(config: RunConfig): Draft {
  return structuredClone(config) as unknown as Draft;
}

export interface Validation {
  /** The parsed config when the draft is valid. */
  config?: RunConfig;
  /** Messages by field path (`hidden[1].dropout`), in the schema's words. */
  issues: Map<string, string[]>;
}

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** The value of a numeric input: a number when the text is one, else the text itself (for the schema to reject). */
export function numberFromText(text: string): number | string {
  const t = text.trim();
  return NUMBER_RE.test(t) ? Number(t) : t;
}

/** The schema's "\"\" is not a number; expected a number in [0, 1)" for an empty input reads better as this. */
function tidyMessage(message: string): string {
  return message.replace(/^"" is not [^;]*; /, 'is empty; ');
}

export function validateDraft(draft: Draft): Validation {
  const r = safeParseRunConfig(draft);
  if (r.success) return { config: r.data, issues: new Map() };
  const issues = new Map<string, string[]>();
  for (const { path, message } of r.error.issues) {
    const list = issues.get(path) ?? [];
    list.push(tidyMessage(message));
    issues.set(path, list);
  }
  return { issues };
}

export function getAt(draft: Draft, path: FieldPath): unknown {
  let o: unknown = draft;
  for (const k of path) o = typeof o === 'object' && o !== null ? (o as Record<string | number, unknown>)[k] : undefined;
  return o;
}

/** Sets a leaf; `undefined` removes the key (an optional field left empty). */
export function setAt(draft: Draft, path: FieldPath, value: unknown): void {
  let o = draft as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    if (typeof o[k] !== 'object' || o[k] === null) o[k] = {};
    o = o[k] as Record<string | number, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete o[last];
  else o[last] = value;
}

export const pathKey = (path: FieldPath): string => formatPath(path);

// ---------------------------------------------------------------------------------------------------------------
// Kind switches: a new kind brings its own fields with the schema's defaults (and keeps what still applies).

export function withOptimizerKind(draft: Draft, kind: string): void {
  draft.optimizer = OptimizerSchema.parse({ kind });
}

export function withScheduleKind(draft: Draft, kind: string): void {
  const warmupSteps = getAt(draft, ['schedule', 'warmupSteps']);
  draft.schedule = { ...ScheduleSchema.parse({ kind }), warmupSteps };
}

/** Weight init scales for the explicit kinds; small, like the negative_bias preset's. */
const INIT_SCALE = 0.05;

export function withWeightInitKind(draft: Draft, path: FieldPath, kind: WeightInitKind): void {
  setAt(draft, path, kind === 'normal' ? { kind, std: INIT_SCALE } : kind === 'uniform' ? { kind, limit: INIT_SCALE } : { kind });
}

export function withActivationKind(draft: Draft, layer: number, kind: ActivationKind): void {
  draft.hidden[layer].activation = kind === 'leaky_relu' || kind === 'elu' ? { kind, alpha: DEFAULT_ALPHA[kind] } : { kind };
}

/** The output size and loss a data set implies (undefined where it leaves them free). */
function derived(dataset: unknown): { outputSize?: number; loss?: string } {
  const d = dataset as { kind?: DatasetKind; classes?: unknown };
  if (d === null || typeof d !== 'object' || d.kind === undefined || d.kind === 'file') return {};
  const classes = datasetClasses({ kind: d.kind, classes: typeof d.classes === 'number' ? d.classes : undefined });
  return { outputSize: d.kind === 'teacher' ? undefined : d.kind === 'slowly_changing' ? 1 : classes, loss: naturalLoss(d.kind) };
}

/**
 * Applies a data-set edit, then keeps `outputSize` and `loss` in step with it where they were in step before
 * (a teacher run's output size is the user's; a 10-class mixture's is 10).
 */
export function editDataset(draft: Draft, edit: (draft: Draft) => void): void {
  const before = derived(draft.dataset);
  edit(draft);
  const after = derived(draft.dataset);
  if (after.loss !== undefined && (before.loss === undefined || draft.loss === before.loss)) draft.loss = after.loss;
  if (after.outputSize !== undefined && (before.outputSize === undefined || draft.outputSize === before.outputSize)) draft.outputSize = after.outputSize;
  if (
    after.outputSize === undefined &&
    getAt(draft, ['dataset', 'kind']) === 'teacher' &&
    before.outputSize !== undefined &&
    draft.outputSize === before.outputSize
  ) {
    draft.outputSize = 1;
  }
}

export function withDatasetKind(draft: Draft, kind: DatasetKind): void {
  editDataset(draft, (d) => {
    const samples = getAt(d, ['dataset', 'samples']);
    const fresh = kind === 'file' ? { kind, name: 'data.npy' } : (DatasetSchema.parse({ kind }) as Record<string, unknown>);
    if (kind !== 'file' && kind !== 'slowly_changing' && samples !== undefined) fresh.samples = samples;
    // The slowly-changing regression's inputs are its bits plus the constant one: the papers' 20 + 1.
    if (kind === 'slowly_changing') d.inputSize = 21;
    d.dataset = fresh;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Layers

export function addLayer(draft: Draft): void {
  if (draft.hidden.length >= LIMITS.depth.max) return;
  const last = draft.hidden[draft.hidden.length - 1] ?? DEFAULT_LAYER;
  draft.hidden.push(structuredClone(last));
}

export function removeLayer(draft: Draft, layer: number): void {
  if (draft.hidden.length <= LIMITS.depth.min) return;
  draft.hidden.splice(layer, 1);
}
