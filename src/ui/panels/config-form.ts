// <du-config-form>: the whole run configuration as a form. Every field of the run schema (src/config/schema.ts) has an
// input; the draft is validated as a whole by the schema on every keystroke and each message is shown under its own
// field. A preset picker, and JSON import (file or paste) and export (download or clipboard).

import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import { live } from 'lit/directives/live.js';
import {
  ACTIVATIONS,
  type ActivationKind,
  ConfigError,
  DATASETS,
  type DatasetKind,
  formatRange,
  fromJson,
  LIMITS,
  PROBE_MODES,
  LOSSES,
  OPTIMIZERS,
  PRESET_NAMES,
  PRESETS,
  type PresetName,
  type Range,
  type RunConfig,
  SCHEDULES,
  toJson,
  WEIGHT_INIT_KINDS,
  type WeightInitKind,
} from '../../config';
import { downloadText } from '../download';
import {
  addLayer,
  type Draft,
  draftFromConfig,
  editDataset,
  type FieldPath,
  getAt,
  numberFromText,
  pathKey,
  removeLayer,
  setAt,
  validateDraft,
  type Validation,
  withActivationKind,
  withDatasetKind,
  withOptimizerKind,
  withScheduleKind,
  withWeightInitKind,
} from './config-form/draft';

export interface ConfigChangeDetail {
  config: RunConfig;
}

/** Fields that may still change while a run is going: only when to stop. Everything else shapes the GPU buffers or
 * the random streams, so changing it means a new run (the snapshot interval and steps per frame live in the toolbar). */
export const LIVE_FIELDS: readonly string[] = ['steps'];

const DATASET_NOTES: Record<DatasetKind, string> = {
  teacher: 'Regression on a random one-hidden-layer ReLU teacher plus noise.',
  gaussian_mixture: 'Gaussian blobs, one per class.',
  spirals: 'Two interleaved spirals (2 classes), embedded in inputSize dimensions.',
  sparse: 'Sparse inputs, labels from a random linear teacher.',
  slowly_changing:
    'Slowly-changing regression: inputSize − 1 random bits plus a constant 1; the first "flipping" bits stay fixed within a task and one of them flips at each task switch. Target: a fixed teacher of threshold units with ±1 weights.',
  file: 'Your own arrays: inputs [samples, features] and targets (integer classes or float values), as .npy or .csv; parsed in the engine worker and kept in this browser for reloads.',
};

/** The message for a file data set whose files are not loaded yet. */
export const FILE_DATASET_MESSAGE = 'choose or drop the data files (.npy / .csv): inputs, and targets unless a CSV holds the labels in its last column';
/** Largest JSON file the import accepts; a run configuration is a few KiB even with 64 layers. */
const MAX_IMPORT_BYTES = 1 << 20;

/** The schema's verdict, plus the browser's own condition: a file data set runs once its files are loaded (hashed). */
function validateForBrowser(draft: Draft): Validation {
  const v = validateDraft(draft);
  const d = v.config?.dataset;
  if (d?.kind !== 'file' || d.inputs?.sha256) return v;
  return { issues: new Map([['dataset.kind', [FILE_DATASET_MESSAGE]]]) };
}

/** The files the user chose or dropped for a file data set. */
export interface DataFilesDetail {
  inputs: File;
  targets?: File;
}

/** A dropped pair: the file named like targets / labels / y is the targets. */
export function splitDroppedFiles(files: readonly File[]): DataFilesDetail | null {
  if (files.length === 0 || files.length > 2) return null;
  if (files.length === 1) return { inputs: files[0] };
  const isTargets = (f: File) => /(^|[^a-z])(y|targets?|labels?)([^a-z]|$)/i.test(f.name.replace(/\.[^.]*$/, ''));
  const [a, b] = files;
  return isTargets(a) && !isTargets(b) ? { inputs: b, targets: a } : { inputs: a, targets: b };
}

const idFor = (path: FieldPath): string => `f-${pathKey(path).replace(/[^A-Za-z0-9_-]/g, '-')}`;

/** The preset `config` is closest to (fewest top-level fields that differ) and those fields (empty: it is that preset). */
export function nearestPreset(config: RunConfig): { name: PresetName; differs: string[] } {
  const keys = [...new Set([...Object.keys(config), ...Object.keys(PRESETS.dropout_only.config)])] as (keyof RunConfig)[];
  let best: { name: PresetName; differs: string[] } | undefined;
  for (const name of PRESET_NAMES) {
    const preset = PRESETS[name].config;
    const differs = keys.filter((k) => JSON.stringify(config[k]) !== JSON.stringify(preset[k]));
    if (best === undefined || differs.length < best.differs.length) best = { name, differs };
  }
  return best!;
}

/** Differences worth naming; beyond this many the run is simply custom. */
const MAX_NAMED_DIFFERENCES = 3;

/**
 * The run configuration form.
 *
 * Shows every field of the run schema, grouped as model, optimization, data and run; hidden layers are rows that can be
 * added and removed (1 to 64). Each input is validated as the user types by parsing the whole candidate config with the
 * schema; a message names the value and its allowed range and sits under the field (linked by aria-describedby).
 * Messages that belong to no single input are listed at the top. Above the fields: a preset picker (with the preset's
 * description, or which preset the run was edited from); below: JSON import (file or paste; errors name the field) and
 * export (download or clipboard). A file data set shows two file inputs and a
 * drop zone (@fires data-files); it is valid once its files are loaded (the page sets its hash).
 *
 * @fires config-change - `CustomEvent<ConfigChangeDetail>` (bubbles, composed), only with a valid config, after the
 *   user edits a field, picks a preset or imports JSON. Setting `config` from outside fires nothing.
 */
@customElement('du-config-form')
export class DuConfigForm extends LitElement {
  /** The current run. Setting it replaces whatever is being typed, except when it is the config this form just sent. */
  @property({ attribute: false }) config: RunConfig = structuredClone(PRESETS.dropout_only.config);
  /** While a run is going, every field except LIVE_FIELDS is disabled (as are presets and import). */
  @property({ type: Boolean, reflect: true }) running = false;

  @state() private draft: Draft = draftFromConfig(this.config);
  @state() private validation: Validation = { issues: new Map() };
  /** What the user typed into numeric inputs, by field path, so that "0.50" is not rewritten to "0.5" under the cursor. */
  @state() private texts = new Map<string, string>();
  @state() private importErrors: string[] = [];
  @state() private status = '';
  @state() private pasteText = '';
  /** About the data files: what was loaded, what a reload needs, or why a file cannot be used (set by the page). */
  @property({ attribute: false }) dataMessage = '';
  @state() private chosenInputs: File | null = null;
  @state() private chosenTargets: File | null = null;
  private lastSent: RunConfig | undefined;
  /** Field paths rendered with their own message slot during the current render (the rest go in the top box). */
  private placedPaths = new Set<string>();

  static override styles = css`
    :host {
      display: block;
      font:
        13px/1.4 system-ui,
        sans-serif;
      color: var(--du-fg, #1d2430);
      --du-muted: #5b6575;
      --du-error: #b3261e;
      --du-border: #cfd6e0;
      --du-accent: #1f5fbf;
    }
    fieldset {
      border: 1px solid var(--du-border);
      border-radius: 6px;
      margin: 0 0 10px;
      padding: 6px 10px 10px;
      min-width: 0;
    }
    legend {
      font-weight: 600;
      padding: 0 4px;
    }
    .grid {
      display: grid;
      grid-template-columns: repeat(auto-fill, minmax(150px, 1fr));
      gap: 6px 10px;
    }
    .field {
      display: flex;
      flex-direction: column;
      gap: 2px;
      min-width: 0;
    }
    label,
    .label {
      color: var(--du-muted);
      font-size: 12px;
    }
    input,
    select,
    textarea,
    button {
      font: inherit;
      color: inherit;
    }
    input[type='text'],
    select,
    textarea {
      box-sizing: border-box;
      width: 100%;
      padding: 3px 6px;
      border: 1px solid var(--du-border);
      border-radius: 4px;
      background: #fff;
    }
    input[aria-invalid='true'] {
      border-color: var(--du-error);
      background: #fff6f5;
    }
    input:focus-visible,
    select:focus-visible,
    textarea:focus-visible,
    button:focus-visible {
      outline: 2px solid var(--du-accent);
      outline-offset: 1px;
    }
    :disabled {
      opacity: 0.6;
    }
    .error {
      color: var(--du-error);
      font-size: 12px;
    }
    .note {
      color: var(--du-muted);
      font-size: 12px;
      margin: 4px 0 0;
    }
    .check {
      flex-direction: row;
      align-items: center;
      gap: 6px;
      padding-top: 16px;
    }
    button {
      padding: 3px 10px;
      border: 1px solid var(--du-border);
      border-radius: 4px;
      background: #f4f6f9;
      cursor: pointer;
    }
    button:hover:not(:disabled) {
      background: #e8edf4;
    }
    .layers {
      overflow-x: auto;
    }
    table {
      border-collapse: collapse;
      width: 100%;
    }
    th {
      text-align: left;
      font-weight: normal;
      color: var(--du-muted);
      font-size: 12px;
      padding: 0 4px 2px;
      white-space: nowrap;
    }
    td {
      padding: 2px 3px;
      vertical-align: top;
    }
    td.n {
      color: var(--du-muted);
      padding-top: 6px;
      text-align: right;
    }
    td input[type='text'] {
      width: 3.6em;
    }
    td.end {
      text-align: right;
    }
    td select {
      width: auto;
      max-width: 8em;
    }
    td.na {
      color: var(--du-muted);
      padding-top: 6px;
      text-align: center;
    }
    tr.row-errors td {
      padding-top: 0;
    }
    tr.init td,
    tr.sub th {
      border-bottom: 1px solid #e6eaf0;
      padding-bottom: 4px;
    }
    tr.row-errors:not([hidden]) td {
      border-bottom: 1px solid #e6eaf0;
    }
    td.n[rowspan] {
      border-bottom: 1px solid #e6eaf0;
    }
    .visually-hidden {
      position: absolute;
      width: 1px;
      height: 1px;
      overflow: hidden;
      clip: rect(0 0 0 0);
      white-space: nowrap;
    }
    button.remove {
      padding: 3px 7px;
    }
    .row {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      align-items: center;
      margin-top: 6px;
    }
    .problems {
      border: 1px solid var(--du-error);
      border-radius: 6px;
      padding: 6px 10px;
      margin-bottom: 10px;
      color: var(--du-error);
    }
    .problems ul,
    .import-errors {
      margin: 4px 0 0;
      padding-left: 18px;
    }
    textarea {
      font-family: ui-monospace, monospace;
      font-size: 12px;
      min-height: 5em;
    }
    .description {
      margin: 6px 0 0;
    }
    .spaced {
      margin-top: 8px;
    }
  `;

  override willUpdate(changed: Map<PropertyKey, unknown>): void {
    if (changed.has('config') && this.config !== this.lastSent && JSON.stringify(this.config) !== JSON.stringify(this.lastSent)) {
      this.draft = draftFromConfig(this.config);
      this.texts = new Map();
      this.validation = validateForBrowser(this.draft);
    }
  }

  // -------------------------------------------------------------------------------------------------------------
  // Editing

  /** Applies an edit to the draft, revalidates it, and sends the config when it is valid. */
  private edit(change: (draft: Draft) => void): void {
    const draft = structuredClone(this.draft);
    change(draft);
    this.draft = draft;
    this.validation = validateForBrowser(draft);
    const config = this.validation.config;
    if (config !== undefined) {
      this.lastSent = config;
      this.config = config;
      this.dispatchEvent(new CustomEvent<ConfigChangeDetail>('config-change', { detail: { config }, bubbles: true, composed: true }));
    }
  }

  /** Replaces the whole draft (preset, import): nothing typed survives. */
  private loadConfig(config: RunConfig): void {
    this.texts = new Map();
    this.edit((draft) => {
      for (const key of Object.keys(draft)) delete draft[key];
      Object.assign(draft, draftFromConfig(config));
    });
  }

  /** Removes a layer; focus moves to the remove button now in its place (or the last one), not to the page. */
  private async removeLayerKeepingFocus(layer: number): Promise<void> {
    this.edit((d) => removeLayer(d, layer));
    await this.updateComplete;
    const n = Math.min(layer + 1, this.draft.hidden.length);
    const next = this.renderRoot.querySelector<HTMLButtonElement>(`button[aria-label="Remove layer ${n}"]:not(:disabled)`);
    (next ?? this.renderRoot.querySelector<HTMLButtonElement>('button.add-layer'))?.focus();
  }

  private onNumber(path: FieldPath, text: string, optional: boolean, wrap?: (d: Draft, apply: () => void) => void): void {
    const texts = new Map(this.texts);
    texts.set(pathKey(path), text);
    this.texts = texts;
    const value = optional && text.trim() === '' ? undefined : numberFromText(text);
    this.edit((d) => (wrap ? wrap(d, () => setAt(d, path, value)) : setAt(d, path, value)));
  }

  // -------------------------------------------------------------------------------------------------------------
  // Field templates

  private disabledFor(path: FieldPath): boolean {
    return this.running && !LIVE_FIELDS.includes(pathKey(path));
  }

  private errorsFor(path: FieldPath): string[] {
    return this.validation.issues.get(pathKey(path)) ?? [];
  }

  private errorTemplate(path: FieldPath): TemplateResult | typeof nothing {
    this.placedPaths.add(pathKey(path));
    const errors = this.errorsFor(path);
    return errors.length ? html`<span class="error" id=${`${idFor(path)}-error`} role="alert">${errors.join('; ')}</span>` : nothing;
  }

  private numberInput(
    path: FieldPath,
    label: string,
    range: Range,
    opts: { optional?: boolean; wrap?: (d: Draft, apply: () => void) => void; visibleLabel?: boolean } = {},
  ): TemplateResult {
    const key = pathKey(path);
    const value = getAt(this.draft, path);
    const text = this.texts.get(key) ?? (value === undefined ? '' : String(value));
    const invalid = this.errorsFor(path).length > 0;
    const id = idFor(path);
    return html`<input
      type="text"
      inputmode=${range.int ? 'numeric' : 'decimal'}
      autocomplete="off"
      spellcheck="false"
      id=${id}
      name=${key}
      .value=${live(text)}
      placeholder=${opts.optional ? 'auto' : ''}
      title=${`${label}: ${range.int ? 'an integer' : 'a number'} in ${formatRange(range)}${opts.optional ? ' (empty: automatic)' : ''}`}
      aria-label=${opts.visibleLabel === false ? label : nothing}
      aria-invalid=${invalid ? 'true' : 'false'}
      aria-describedby=${invalid ? `${id}-error` : nothing}
      ?disabled=${this.disabledFor(path)}
      @input=${(e: Event) => this.onNumber(path, (e.target as HTMLInputElement).value, opts.optional ?? false, opts.wrap)}
    />`;
  }

  private numberField(
    path: FieldPath,
    label: string,
    range: Range,
    opts: { optional?: boolean; wrap?: (d: Draft, apply: () => void) => void } = {},
  ): TemplateResult {
    return html`<div class="field">
      <label for=${idFor(path)}>${label}</label>
      ${this.numberInput(path, label, range, opts)} ${this.errorTemplate(path)}
    </div>`;
  }

  private selectInput<T extends string>(
    path: FieldPath,
    label: string,
    values: readonly T[],
    onPick: (value: T) => void,
    opts: { visibleLabel?: boolean; unavailable?: readonly T[] } = {},
  ): TemplateResult {
    const current = String(getAt(this.draft, path));
    const invalid = this.errorsFor(path).length > 0;
    const id = idFor(path);
    return html`<select
      id=${id}
      name=${pathKey(path)}
      aria-label=${opts.visibleLabel === false ? label : nothing}
      aria-invalid=${invalid ? 'true' : 'false'}
      aria-describedby=${invalid ? `${id}-error` : nothing}
      ?disabled=${this.disabledFor(path)}
      @change=${(e: Event) => onPick((e.target as HTMLSelectElement).value as T)}
    >
      ${values.map(
        (v) =>
          html`<option value=${v} ?selected=${v === current} ?disabled=${opts.unavailable?.includes(v) && v !== current}>
            ${v}${opts.unavailable?.includes(v) ? ' (CLI only)' : ''}
          </option>`,
      )}
    </select>`;
  }

  private selectField<T extends string>(
    path: FieldPath,
    label: string,
    values: readonly T[],
    onPick: (value: T) => void,
    opts: { unavailable?: readonly T[] } = {},
  ): TemplateResult {
    return html`<div class="field">
      <label for=${idFor(path)}>${label}</label>
      ${this.selectInput(path, label, values, onPick, opts)} ${this.errorTemplate(path)}
    </div>`;
  }

  private checkField(path: FieldPath, label: string): TemplateResult {
    return html`<div class="field check">
      <input
        type="checkbox"
        id=${idFor(path)}
        .checked=${live(getAt(this.draft, path) === true)}
        ?disabled=${this.disabledFor(path)}
        @change=${(e: Event) => this.edit((d) => setAt(d, path, (e.target as HTMLInputElement).checked))}
      />
      <label for=${idFor(path)}>${label}</label>
    </div>`;
  }

  /** Weight init kind and, for normal / uniform, its scale; then the bias value. */
  private initFields(base: FieldPath, what: string): TemplateResult {
    const wKind = getAt(this.draft, [...base, 'weights', 'kind']) as WeightInitKind;
    return html`
      ${this.selectField([...base, 'weights', 'kind'], `${what} weight init`, WEIGHT_INIT_KINDS, (k) =>
        this.edit((d) => withWeightInitKind(d, [...base, 'weights'], k)),
      )}
      ${wKind === 'normal' ? this.numberField([...base, 'weights', 'std'], `${what} init std`, LIMITS.initStd) : nothing}
      ${wKind === 'uniform' ? this.numberField([...base, 'weights', 'limit'], `${what} init limit`, LIMITS.initLimit) : nothing}
      ${this.numberField([...base, 'bias', 'value'], `${what} bias init`, LIMITS.biasValue)}
    `;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Sections

  private presetSection(): TemplateResult {
    const nearest = nearestPreset(this.config);
    const current = nearest.differs.length === 0 ? nearest.name : undefined;
    const picked = current === undefined ? undefined : PRESETS[current];
    const edited =
      nearest.differs.length <= MAX_NAMED_DIFFERENCES
        ? `Edited from “${PRESETS[nearest.name].title}”: ${nearest.differs.join(', ')} ${nearest.differs.length === 1 ? 'differs' : 'differ'}. Pick a preset to start over from it.`
        : 'This run differs from every preset; pick one to start over from it.';
    return html`<fieldset>
      <legend>Preset</legend>
      <div class="field">
        <label for="preset">Start from</label>
        <select
          id="preset"
          ?disabled=${this.running}
          aria-describedby="preset-description"
          @change=${(e: Event) => {
            const name = (e.target as HTMLSelectElement).value;
            if ((PRESET_NAMES as readonly string[]).includes(name)) this.loadConfig(structuredClone(PRESETS[name as PresetName].config));
          }}
        >
          ${current === undefined ? html`<option value="" selected>Custom run (edited)</option>` : nothing}
          ${PRESET_NAMES.map((name) => html`<option value=${name} ?selected=${name === current}>${PRESETS[name].title}</option>`)}
        </select>
      </div>
      <p class="note description" id="preset-description">${picked ? picked.description : edited}</p>
    </fieldset>`;
  }

  /** `aux`: whether the α / init-scale column is shown (only when some layer has one, to keep the table narrow). */
  private layerRow(layer: number, aux: boolean): TemplateResult {
    const base = ['hidden', layer] as const;
    const act = getAt(this.draft, [...base, 'activation', 'kind']) as ActivationKind;
    const wKind = getAt(this.draft, [...base, 'init', 'weights', 'kind']) as WeightInitKind;
    const n = layer + 1;
    // The row's messages go in a row of their own below it, each still linked to its input by id.
    const errors: { path: FieldPath; column: string }[] = [];
    const cell = (field: FieldPath, column: string, input: TemplateResult) => {
      errors.push({ path: [...base, ...field], column });
      return html`<td>${input}</td>`;
    };
    const num = (field: FieldPath, column: string, label: string, range: Range) =>
      cell(field, column, this.numberInput([...base, ...field], `Layer ${n} ${label}`, range, { visibleLabel: false }));
    const select = <T extends string>(field: FieldPath, column: string, values: readonly T[], onPick: (value: T) => void) =>
      cell(field, column, this.selectInput([...base, ...field], `Layer ${n} ${column.toLowerCase()}`, values, onPick, { visibleLabel: false }));
    const scale = wKind === 'normal' ? (['std', LIMITS.initStd] as const) : wKind === 'uniform' ? (['limit', LIMITS.initLimit] as const) : undefined;
    // Two table rows per layer (shape and dropout; then initialization) keep the table narrow enough for a sidebar.
    const row = html`<tr class="shape">
        <td class="n" rowspan="2">${n}</td>
        ${num(['width'], 'Width', 'width', LIMITS.width)}
        ${select(['activation', 'kind'], 'Activation', ACTIVATIONS, (k) => this.edit((d) => withActivationKind(d, layer, k)))}
        ${!aux
          ? nothing
          : act === 'leaky_relu' || act === 'elu'
            ? num(['activation', 'alpha'], 'α', 'alpha', act === 'leaky_relu' ? LIMITS.leakyAlpha : LIMITS.eluAlpha)
            : html`<td class="na">–</td>`}
        ${num(['dropout'], 'Dropout p', 'dropout p', LIMITS.dropout)}
      </tr>
      <tr class="init">
        ${num(['init', 'bias', 'value'], 'Bias init', 'bias init', LIMITS.biasValue)}
        ${select(['init', 'weights', 'kind'], 'Weight init', WEIGHT_INIT_KINDS, (k) =>
          this.edit((d) => withWeightInitKind(d, [...base, 'init', 'weights'], k)),
        )}
        ${!aux ? nothing : scale ? num(['init', 'weights', scale[0]], `Init ${scale[0]}`, `init ${scale[0]}`, scale[1]) : html`<td class="na">–</td>`}
        <td class="end">
          <button
            type="button"
            class="remove"
            aria-label=${`Remove layer ${n}`}
            title=${`Remove layer ${n}`}
            ?disabled=${this.running || this.draft.hidden.length <= LIMITS.depth.min}
            @click=${() => this.removeLayerKeepingFocus(layer)}
          >
            ✕
          </button>
        </td>
      </tr>`;
    const messages = errors.flatMap(({ path, column }) => {
      this.placedPaths.add(pathKey(path));
      const list = this.errorsFor(path);
      return list.length ? [html`<div class="error" id=${`${idFor(path)}-error`} role="alert">${column}: ${list.join('; ')}</div>`] : [];
    });
    // Always the same template, so typing never replaces (and unfocuses) the input.
    return html`${row}
      <tr class="row-errors" ?hidden=${messages.length === 0}>
        <td></td>
        <td colspan=${aux ? 4 : 3}>${messages}</td>
      </tr>`;
  }

  private modelSection(): TemplateResult {
    const depth = this.draft.hidden.length;
    const aux = this.draft.hidden.some((l) => {
      const a = (l.activation as { kind?: string } | undefined)?.kind;
      const w = (l.init as { weights?: { kind?: string } } | undefined)?.weights?.kind;
      return a === 'leaky_relu' || a === 'elu' || w === 'normal' || w === 'uniform';
    });
    return html`<fieldset>
      <legend>Model</legend>
      <div class="grid">
        ${this.numberField(['inputSize'], 'Inputs', LIMITS.inputSize)} ${this.numberField(['inputDropout'], 'Input dropout p', LIMITS.dropout)}
      </div>
      <div class="layers" role="group" aria-labelledby="layers-label">
        <p class="label" id="layers-label">Hidden layers (${depth}; ${formatRange(LIMITS.depth)})</p>
        <table>
          <thead>
            <tr>
              <th scope="col" rowspan="2">#</th>
              <th scope="col">Width</th>
              <th scope="col">Activation</th>
              ${aux ? html`<th scope="col">α</th>` : nothing}
              <th scope="col">Dropout p</th>
            </tr>
            <tr class="sub">
              <th scope="col">Bias init</th>
              <th scope="col">Weight init</th>
              ${aux ? html`<th scope="col">Std / limit</th>` : nothing}
              <th scope="col"><span class="visually-hidden">Remove</span></th>
            </tr>
          </thead>
          <tbody>
            ${this.draft.hidden.map((_, l) => this.layerRow(l, aux))}
          </tbody>
        </table>
        ${this.errorTemplate(['hidden'])}
        <div class="row">
          <button type="button" class="add-layer" ?disabled=${this.running || depth >= LIMITS.depth.max} @click=${() => this.edit(addLayer)}>Add layer</button>
        </div>
      </div>
      <div class="grid spaced">
        ${this.numberField(['outputSize'], 'Outputs', LIMITS.outputSize)}
        ${this.selectField(['loss'], 'Loss', LOSSES, (v) => this.edit((d) => setAt(d, ['loss'], v)))} ${this.initFields(['outputInit'], 'Output')}
      </div>
    </fieldset>`;
  }

  private optimizerSection(): TemplateResult {
    const opt = getAt(this.draft, ['optimizer', 'kind']);
    const sched = getAt(this.draft, ['schedule', 'kind']);
    return html`<fieldset>
      <legend>Optimization</legend>
      <div class="grid">
        ${this.selectField(['optimizer', 'kind'], 'Optimizer', OPTIMIZERS, (k) => this.edit((d) => withOptimizerKind(d, k)))}
        ${this.numberField(['lr'], 'Learning rate', LIMITS.lr)}
        ${opt === 'momentum'
          ? html`${this.numberField(['optimizer', 'momentum'], 'Momentum', LIMITS.momentum)} ${this.checkField(['optimizer', 'nesterov'], 'Nesterov')}`
          : nothing}
        ${opt === 'adam' || opt === 'adamw'
          ? html`${this.numberField(['optimizer', 'beta1'], 'β1', LIMITS.beta)} ${this.numberField(['optimizer', 'beta2'], 'β2', LIMITS.beta)}
            ${this.numberField(['optimizer', 'eps'], 'ε', LIMITS.eps)}`
          : nothing}
        ${this.numberField(['weightDecay'], opt === 'adamw' ? 'Weight decay (decoupled)' : 'Weight decay (L2)', LIMITS.weightDecay)}
        ${this.selectField(['schedule', 'kind'], 'LR schedule', SCHEDULES, (k) => this.edit((d) => withScheduleKind(d, k)))}
        ${this.numberField(['schedule', 'warmupSteps'], 'Warm-up steps', LIMITS.warmupSteps)}
        ${sched === 'step'
          ? html`${this.numberField(['schedule', 'every'], 'Decay every (steps)', LIMITS.decayEvery)}
            ${this.numberField(['schedule', 'gamma'], 'Decay factor γ', LIMITS.gamma)}`
          : nothing}
        ${sched === 'cosine' ? this.numberField(['schedule', 'minLr'], 'Minimum LR', LIMITS.minLr) : nothing}
        ${this.numberField(['batchSize'], 'Batch size', LIMITS.batchSize)}
      </div>
    </fieldset>`;
  }

  private datasetSection(): TemplateResult {
    const kind = getAt(this.draft, ['dataset', 'kind']) as DatasetKind;
    const ds = (field: string, label: string, range: Range) =>
      this.numberField(['dataset', field], label, range, { wrap: (d, apply) => editDataset(d, apply) });
    return html`<fieldset>
      <legend>Data set</legend>
      <div class="grid">
        ${this.selectField(['dataset', 'kind'], 'Kind', DATASETS, (k) => this.edit((d) => withDatasetKind(d, k)))}
        ${kind !== 'file' && kind !== 'slowly_changing' ? ds('samples', 'Samples', LIMITS.samples) : nothing}
        ${kind === 'slowly_changing'
          ? html`${ds('flipping', 'Flipping bits', LIMITS.flipping)} ${ds('teacherWidth', 'Teacher width', LIMITS.teacherWidth)}
            ${ds('beta', 'Teacher threshold β', LIMITS.teacherBeta)}`
          : nothing}
        ${kind === 'teacher' ? html`${ds('teacherWidth', 'Teacher width', LIMITS.teacherWidth)} ${ds('noise', 'Noise std', LIMITS.noise)}` : nothing}
        ${kind === 'gaussian_mixture' ? html`${ds('classes', 'Classes', LIMITS.classes)} ${ds('spread', 'Spread', LIMITS.spread)}` : nothing}
        ${kind === 'spirals' ? html`${ds('turns', 'Turns', LIMITS.turns)} ${ds('noise', 'Noise std', LIMITS.noise)}` : nothing}
        ${kind === 'sparse' ? html`${ds('density', 'Density', LIMITS.density)} ${ds('classes', 'Classes', LIMITS.classes)}` : nothing}
      </div>
      ${kind === 'file' ? this.dataFilesSection() : nothing}
      <p class="note">${DATASET_NOTES[kind] ?? ''}</p>
    </fieldset>`;
  }

  /** Non-stationary training (task switches) and the cures for loss of plasticity. */
  private tasksSection(): TemplateResult {
    const switching = (getAt(this.draft, ['tasks', 'every']) as number | undefined) !== 0;
    return html`<fieldset>
      <legend>Tasks and cures</legend>
      <div class="grid">
        ${this.numberField(['tasks', 'every'], 'Steps per task (0 = one task)', LIMITS.taskEvery)}
        ${switching
          ? html`${this.checkField(['tasks', 'permuteInputs'], 'Permute inputs per task')}
            ${this.checkField(['tasks', 'shuffleLabels'], 'Shuffle labels per task')}
            ${this.checkField(['tasks', 'resetOutput'], 'Reset output layer per task')}`
          : nothing}
        ${this.numberField(['continualBackprop', 'replacementRate'], 'Continual backprop rate (0 = off)', LIMITS.replacementRate)}
        ${this.numberField(['continualBackprop', 'decay'], 'Utility decay η', LIMITS.utilityDecay)}
        ${this.numberField(['continualBackprop', 'maturity'], 'Maturity (steps)', LIMITS.maturity)}
        ${this.numberField(['shrinkPerturb', 'shrink'], 'Shrink (0 = off)', LIMITS.shrink)}
        ${this.numberField(['shrinkPerturb', 'noise'], 'Perturb noise σ (0 = off)', LIMITS.perturbNoise)}
        ${this.numberField(['shrinkPerturb', 'every'], 'Shrink & perturb every (steps)', LIMITS.perturbEvery)}
      </div>
      <p class="note">
        Every task a new problem: the slowly-changing regression flips one of its bits; permuted inputs and shuffled labels draw a fresh permutation. Dead is
        then measured on the current task's inputs.
      </p>
    </fieldset>`;
  }

  /** Two file inputs and a drop zone; the page (du-app) reads, keeps and hands the files to the engine worker. */
  private dataFilesSection(): TemplateResult {
    const pick = (e: Event) => (e.target as HTMLInputElement).files?.[0] ?? null;
    const send = (files: DataFilesDetail) =>
      this.dispatchEvent(new CustomEvent<DataFilesDetail>('data-files', { detail: files, bubbles: true, composed: true }));
    const onDrop = (e: DragEvent) => {
      e.preventDefault();
      const files = splitDroppedFiles([...(e.dataTransfer?.files ?? [])]);
      if (files) send(files);
    };
    return html`<div class="drop" @dragover=${(e: DragEvent) => e.preventDefault()} @drop=${onDrop}>
      <div class="row">
        <label class="label" for="data-inputs">Inputs</label>
        <input id="data-inputs" type="file" accept=".npy,.csv,.tsv,.txt" ?disabled=${this.running} @change=${(e: Event) => (this.chosenInputs = pick(e))} />
      </div>
      <div class="row">
        <label class="label" for="data-targets">Targets (optional)</label>
        <input id="data-targets" type="file" accept=".npy,.csv,.tsv,.txt" ?disabled=${this.running} @change=${(e: Event) => (this.chosenTargets = pick(e))} />
      </div>
      <button
        id="data-load"
        type="button"
        ?disabled=${this.running || !this.chosenInputs}
        @click=${() => this.chosenInputs && send({ inputs: this.chosenInputs, ...(this.chosenTargets ? { targets: this.chosenTargets } : {}) })}
      >
        Use these files
      </button>
      <span class="note">or drop one or two files here</span>
      ${this.dataMessage ? html`<p id="data-message" class="note" role="status">${this.dataMessage}</p>` : nothing}
    </div>`;
  }

  private runSection(): TemplateResult {
    return html`<fieldset>
      <legend>Run</legend>
      <div class="grid">
        ${this.numberField(['seed'], 'Seed', LIMITS.seed)} ${this.numberField(['steps'], 'Steps', LIMITS.steps)}
        ${this.numberField(['stepsPerSubmit'], 'Steps per submit', LIMITS.stepsPerSubmit)}
        ${this.numberField(['shardColumns'], 'Shard columns', LIMITS.shardColumns, { optional: true })}
        ${this.numberField(['snapshot', 'every'], 'Snapshot every (steps, 0 = off)', LIMITS.snapshotEvery)}
        ${this.selectField(['snapshot', 'probe'], 'Probe set', PROBE_MODES, (v) => this.edit((d) => setAt(d, ['snapshot', 'probe'], v)))}
        ${this.numberField(['snapshot', 'probeSize'], 'Probe sample rows', LIMITS.probeSize)}
        ${this.numberField(['snapshot', 'frozenWindow'], 'Frozen after (steps)', LIMITS.frozenWindow)}
      </div>
      ${this.running ? html`<p class="note">While the run is going only Steps can change; the rest needs a reset.</p>` : nothing}
    </fieldset>`;
  }

  // -------------------------------------------------------------------------------------------------------------
  // Import / export

  private importJson(text: string, source: string): void {
    try {
      const config = fromJson(text);
      if (config.dataset.kind === 'file' && !config.dataset.inputs?.sha256) {
        this.status = '';
        this.importErrors = [`dataset.kind: ${FILE_DATASET_MESSAGE}`];
        return;
      }
      this.importErrors = [];
      this.status = `Loaded the run from ${source}.`;
      this.loadConfig(config);
    } catch (error) {
      this.status = '';
      this.importErrors =
        error instanceof ConfigError
          ? error.issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message))
          : [error instanceof Error ? error.message : String(error)];
    }
  }

  private async onFile(e: Event): Promise<void> {
    const input = e.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = '';
    if (!file) return;
    if (file.size > MAX_IMPORT_BYTES) {
      this.status = '';
      this.importErrors = [
        `${file.name} is ${file.size.toLocaleString('en-US')} bytes; a run configuration is at most ${MAX_IMPORT_BYTES.toLocaleString('en-US')}`,
      ];
      return;
    }
    this.importJson(await file.text(), file.name);
  }

  private async copyJson(): Promise<void> {
    try {
      await navigator.clipboard.writeText(toJson(this.config));
      this.status = 'Copied the run configuration (JSON) to the clipboard.';
    } catch (error) {
      this.status = `Could not copy to the clipboard (${error instanceof Error ? error.message : String(error)}); use Download instead.`;
    }
  }

  private jsonSection(): TemplateResult {
    return html`<fieldset>
      <legend>Import / export (JSON)</legend>
      <div class="row">
        <label class="label" for="import-file">Import file</label>
        <input id="import-file" type="file" accept=".json,application/json" ?disabled=${this.running} @change=${this.onFile} />
      </div>
      <div class="field spaced">
        <label for="paste">Or paste a run configuration</label>
        <textarea
          id="paste"
          .value=${live(this.pasteText)}
          ?disabled=${this.running}
          aria-describedby=${this.importErrors.length ? 'import-errors' : nothing}
          @input=${(e: Event) => (this.pasteText = (e.target as HTMLTextAreaElement).value)}
        ></textarea>
      </div>
      <div class="row">
        <button type="button" ?disabled=${this.running || this.pasteText.trim() === ''} @click=${() => this.importJson(this.pasteText, 'the pasted JSON')}>
          Load pasted JSON
        </button>
        <button
          type="button"
          title="Save the last valid run as run-config.json"
          @click=${() => downloadText(toJson(this.config), 'run-config.json', 'application/json')}
        >
          Download JSON
        </button>
        <button type="button" title="Copy the last valid run as JSON" @click=${this.copyJson}>Copy JSON</button>
      </div>
      ${this.importErrors.length
        ? html`<div class="error" id="import-errors" role="alert">
            Not loaded:
            <ul class="import-errors">
              ${this.importErrors.map((m) => html`<li>${m}</li>`)}
            </ul>
          </div>`
        : nothing}
      <p class="note" role="status" aria-live="polite">${this.status}</p>
    </fieldset>`;
  }

  /** Messages whose path has no input of its own (kept visible so that no problem is hidden). */
  private unplacedProblems(): TemplateResult | typeof nothing {
    const rest = [...this.validation.issues].filter(([path]) => !this.placedPaths.has(path));
    if (rest.length === 0 && this.validation.issues.size === 0) return nothing;
    return html`<div class="problems" role="alert">
      This run is not valid yet; the last valid one stays in use.
      ${rest.length
        ? html`<ul>
            ${rest.map(([path, messages]) => html`<li>${path || 'run'}: ${messages.join('; ')}</li>`)}
          </ul>`
        : nothing}
    </div>`;
  }

  override render(): TemplateResult {
    this.placedPaths = new Set();
    const body = html`${this.presetSection()} ${this.modelSection()} ${this.optimizerSection()} ${this.datasetSection()} ${this.tasksSection()}
    ${this.runSection()} ${this.jsonSection()}`;
    return html`${this.unplacedProblems()} ${body}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-config-form': DuConfigForm;
  }
  interface HTMLElementEventMap {
    'config-change': CustomEvent<ConfigChangeDetail>;
  }
}
