// @vitest-environment happy-dom
// The config form: every schema message appears under its own field (linked by aria-describedby) as the user types,
// config-change carries only valid configs, presets, layers and JSON import behave, and a running form locks the
// fields that cannot change mid-run.

import { afterEach, describe, expect, it } from 'vitest';
import { PRESETS, presetConfig, type RunConfig, toJson } from '../../src/config';
import { type ConfigChangeDetail, DuConfigForm, LIVE_FIELDS, splitDroppedFiles } from '../../src/ui/panels/config-form';

async function mount(config: RunConfig = presetConfig('dropout_only')): Promise<{ form: DuConfigForm; events: RunConfig[] }> {
  const form = document.createElement('du-config-form');
  form.config = config;
  const events: RunConfig[] = [];
  document.body.addEventListener('config-change', (e) => events.push((e as CustomEvent<ConfigChangeDetail>).detail.config));
  document.body.append(form);
  await form.updateComplete;
  return { form, events };
}

const $ = <T extends Element = HTMLElement>(form: DuConfigForm, selector: string): T => {
  const el = form.shadowRoot!.querySelector<T>(selector);
  if (!el) throw new Error(`no ${selector} in the form`);
  return el;
};
const $$ = (form: DuConfigForm, selector: string) => [...form.shadowRoot!.querySelectorAll<HTMLElement>(selector)];

async function type(form: DuConfigForm, name: string, text: string): Promise<HTMLInputElement> {
  const input = $<HTMLInputElement>(form, `input[name="${name}"]`);
  input.value = text;
  input.dispatchEvent(new Event('input', { bubbles: true }));
  await form.updateComplete;
  return input;
}

async function pick(form: DuConfigForm, selector: string, value: string): Promise<void> {
  const select = $<HTMLSelectElement>(form, selector);
  select.value = value;
  select.dispatchEvent(new Event('change', { bubbles: true }));
  await form.updateComplete;
}

/** The message linked to an input through aria-describedby. */
function describedBy(form: DuConfigForm, input: Element): string {
  const id = input.getAttribute('aria-describedby');
  expect(id, `${input.getAttribute('name')} has no aria-describedby`).toBeTruthy();
  return $(form, `#${id}`).textContent!.trim();
}

afterEach(() => {
  document.body.innerHTML = '';
});

describe('du-config-form', () => {
  it('has a labelled input for every field of the preset run, holding its value', async () => {
    const { form } = await mount(presetConfig('lr_too_high'));
    const named = $$(form, 'input[name], select[name]');
    const names = named.map((el) => el.getAttribute('name'));
    for (const name of [
      'inputSize',
      'inputDropout',
      'hidden[0].width',
      'hidden[1].dropout',
      'hidden[1].activation.kind',
      'hidden[0].init.weights.kind',
      'hidden[0].init.bias.value',
      'outputSize',
      'loss',
      'outputInit.weights.kind',
      'outputInit.bias.value',
      'optimizer.kind',
      'lr',
      'weightDecay',
      'schedule.kind',
      'schedule.warmupSteps',
      'batchSize',
      'dataset.kind',
      'dataset.samples',
      'dataset.classes',
      'dataset.spread',
      'seed',
      'steps',
      'stepsPerSubmit',
      'shardColumns',
      'snapshot.every',
      'snapshot.probeSize',
    ]) {
      expect(names, name).toContain(name);
    }
    for (const el of named) {
      const labelled = el.getAttribute('aria-label') || form.shadowRoot!.querySelector(`label[for="${el.id}"]`)?.textContent?.trim();
      expect(labelled, `${el.getAttribute('name')} has no label`).toBeTruthy();
    }
    expect($<HTMLInputElement>(form, 'input[name="lr"]').value).toBe('0.5');
    expect($<HTMLInputElement>(form, 'input[name="hidden[1].width"]').value).toBe('512');
    expect($<HTMLSelectElement>(form, '#preset').value).toBe('lr_too_high');
  });

  it('shows the schema message, naming value and range, next to the field as the user types; sends nothing', async () => {
    const { form, events } = await mount();
    const input = await type(form, 'hidden[1].dropout', '1.5');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(describedBy(form, input)).toBe('Dropout p: 1.5 is not in [0, 1) (dropout p must be < 1)');
    expect(events).toEqual([]);

    const lr = await type(form, 'lr', 'fast');
    expect(describedBy(form, lr)).toBe('"fast" is not a number; expected a number in (0, 100]');
    const width = await type(form, 'hidden[0].width', '');
    expect(describedBy(form, width)).toBe('Width: is empty; expected an integer in [1, 1048576]');
    expect($(form, '.problems').textContent).toContain('not valid yet');
    expect(events).toEqual([]);
  });

  it('reports cross-field rules on the field they name', async () => {
    const { form } = await mount();
    const batch = await type(form, 'batchSize', '9000');
    expect(describedBy(form, batch)).toBe('9000 is larger than dataset.samples = 4096');
    const every = await type(form, 'snapshot.every', '200000');
    expect(describedBy(form, every)).toBe('200000 is larger than steps = 100000');
  });

  it('sends config-change with the parsed config once the field is valid, keeping the text as typed', async () => {
    const { form, events } = await mount();
    await type(form, 'hidden[1].dropout', '1.5');
    const input = await type(form, 'hidden[1].dropout', '0.250');
    expect(input.getAttribute('aria-invalid')).toBe('false');
    expect(input.hasAttribute('aria-describedby')).toBe(false);
    expect(input.value).toBe('0.250');
    // The same element throughout: typing never replaces (and unfocuses) the input.
    expect($(form, 'input[name="hidden[1].dropout"]')).toBe(input);
    expect(events).toHaveLength(1);
    const expected = presetConfig('dropout_only');
    expected.hidden[1].dropout = 0.25;
    expect(events[0]).toEqual(expected);
    expect(form.config).toEqual(expected);
    // The app echoing the config back does not rewrite what is being typed.
    form.config = structuredClone(expected);
    await form.updateComplete;
    expect($<HTMLInputElement>(form, 'input[name="hidden[1].dropout"]').value).toBe('0.250');
    expect($<HTMLSelectElement>(form, '#preset').value).toBe('');
    expect($(form, '#preset-description').textContent!.trim()).toBe(
      'Edited from “Dropout only: dropout freezes nothing”: hidden differs. Pick a preset to start over from it.',
    );
  });

  it('treats an empty optional field (shardColumns) as automatic', async () => {
    const { form, events } = await mount();
    await type(form, 'shardColumns', '128');
    expect(events.at(-1)!.shardColumns).toBe(128);
    await type(form, 'shardColumns', '');
    expect(events.at(-1)!.shardColumns).toBeUndefined();
    expect('shardColumns' in events.at(-1)!).toBe(false);
  });

  it("switches a kind with that kind's own fields and defaults", async () => {
    const { form, events } = await mount();
    await pick(form, 'select[name="optimizer.kind"]', 'adam');
    expect(events.at(-1)!.optimizer).toEqual({ kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 });
    const beta2 = await type(form, 'optimizer.beta2', '1');
    expect(describedBy(form, beta2)).toBe('1 is not in [0, 1)');

    const headers = () => $$(form, 'thead th').map((th) => th.textContent!.trim());
    expect(headers()).not.toContain('α');
    await pick(form, 'select[name="hidden[0].activation.kind"]', 'leaky_relu');
    expect(headers()).toContain('α');
    const alpha = await type(form, 'hidden[0].activation.alpha', '2');
    expect(describedBy(form, alpha)).toBe('α: 2 is not in (0, 1) (alpha of leaky_relu)');
    await type(form, 'optimizer.beta2', '0.99');
    await type(form, 'hidden[0].activation.alpha', '0.1');
    expect(events.at(-1)!.hidden[0].activation).toEqual({ kind: 'leaky_relu', alpha: 0.1 });
    expect(events.at(-1)!.optimizer).toEqual({ kind: 'adam', beta1: 0.9, beta2: 0.99, eps: 1e-8 });
  });

  it('keeps outputs and loss in step with the data set, and says file data sets are CLI only', async () => {
    const { form, events } = await mount();
    await pick(form, 'select[name="dataset.kind"]', 'teacher');
    expect(events.at(-1)).toMatchObject({ outputSize: 1, loss: 'mse', dataset: { kind: 'teacher', samples: 4096, teacherWidth: 64, noise: 0.1 } });
    await pick(form, 'select[name="dataset.kind"]', 'sparse');
    await type(form, 'dataset.classes', '4');
    expect(events.at(-1)).toMatchObject({ outputSize: 4, loss: 'softmax_ce', dataset: { kind: 'sparse', classes: 4 } });
    const out = await type(form, 'outputSize', '5');
    expect(describedBy(form, out)).toBe('5 does not match dataset.classes = 4');
    // Your own files are a data set like the others on the page (issue 15: no longer "CLI only").
    const file = $<HTMLOptionElement>(form, 'select[name="dataset.kind"] option[value="file"]');
    expect(file.disabled).toBe(false);
    expect(file.textContent).not.toContain('CLI only');
  });

  it('a file data set waits for its files: no run until they are loaded (hashed), then it is valid', async () => {
    const fileRun = { ...presetConfig('dropout_only'), dataset: { kind: 'file' as const, name: 'x.npy' } };
    const { form, events } = await mount(fileRun);
    const kind = $(form, 'select[name="dataset.kind"]');
    expect(describedBy(form, kind)).toContain('choose or drop the data files (.npy / .csv)');
    expect($(form, '#data-inputs')).toBeTruthy();
    expect($(form, '#data-targets')).toBeTruthy();
    await type(form, 'seed', '5');
    expect(events).toEqual([]);
    await pick(form, 'select[name="dataset.kind"]', 'spirals');
    expect(events.at(-1)).toMatchObject({ seed: 5, outputSize: 2, dataset: { kind: 'spirals' } });

    const paste = $<HTMLTextAreaElement>(form, '#paste');
    paste.value = JSON.stringify(fileRun);
    paste.dispatchEvent(new Event('input'));
    await form.updateComplete;
    ($$(form, 'button').find((b) => b.textContent!.trim() === 'Load pasted JSON') as HTMLButtonElement).click();
    await form.updateComplete;
    expect($(form, '#import-errors').textContent).toContain('dataset.kind: choose or drop the data files');
    expect(events).toHaveLength(1);

    // Loaded files (the page puts their hash in the config): a valid run like any other.
    const loaded = { ...fileRun, dataset: { ...fileRun.dataset, inputs: { path: 'x.npy', bytes: 128, sha256: 'a'.repeat(64) } } };
    paste.value = JSON.stringify(loaded);
    paste.dispatchEvent(new Event('input'));
    await form.updateComplete;
    ($$(form, 'button').find((b) => b.textContent!.trim() === 'Load pasted JSON') as HTMLButtonElement).click();
    await form.updateComplete;
    expect(events).toHaveLength(2);
    expect(events.at(-1)).toMatchObject({ dataset: { kind: 'file', inputs: { sha256: 'a'.repeat(64) } } });
  });

  it('a dropped pair: the file named like targets, labels or y holds the targets', () => {
    const f = (name: string) => new File(['x'], name);
    expect(splitDroppedFiles([f('y.npy'), f('X.npy')])).toMatchObject({ inputs: { name: 'X.npy' }, targets: { name: 'y.npy' } });
    expect(splitDroppedFiles([f('train.npy'), f('train_labels.npy')])).toMatchObject({ inputs: { name: 'train.npy' }, targets: { name: 'train_labels.npy' } });
    expect(splitDroppedFiles([f('table.csv')])).toMatchObject({ inputs: { name: 'table.csv' } });
    expect(splitDroppedFiles([f('a'), f('b'), f('c')])).toBeNull();
  });

  it('adds and removes hidden layers within the depth limits', async () => {
    const { form, events } = await mount();
    const add = $$(form, 'button').find((b) => b.textContent!.trim() === 'Add layer') as HTMLButtonElement;
    add.click();
    await form.updateComplete;
    expect(events.at(-1)!.hidden).toHaveLength(3);
    expect($$(form, 'tbody tr.shape')).toHaveLength(3);
    $<HTMLButtonElement>(form, 'button[aria-label="Remove layer 2"]').click();
    await form.updateComplete;
    await form.updateComplete;
    // Focus stays on the remove button now in the removed layer's place.
    expect(form.shadowRoot!.activeElement?.getAttribute('aria-label')).toBe('Remove layer 2');
    $<HTMLButtonElement>(form, 'button[aria-label="Remove layer 2"]').click();
    await form.updateComplete;
    await form.updateComplete;
    expect(form.shadowRoot!.activeElement?.textContent?.trim()).toBe('Add layer');
    expect(events.at(-1)!.hidden).toHaveLength(1);
    expect($<HTMLButtonElement>(form, 'button[aria-label="Remove layer 1"]').disabled).toBe(true);

    const deep = presetConfig('dropout_only');
    deep.hidden = Array.from({ length: 64 }, () => structuredClone(deep.hidden[0]));
    form.config = deep;
    await form.updateComplete;
    expect(($$(form, 'button').find((b) => b.textContent!.trim() === 'Add layer') as HTMLButtonElement).disabled).toBe(true);
  });

  it('loads a preset, with its description', async () => {
    const { form, events } = await mount();
    await pick(form, '#preset', 'deep_narrow');
    expect(events.at(-1)).toEqual(presetConfig('deep_narrow'));
    expect($(form, '#preset-description').textContent!.trim()).toBe(PRESETS.deep_narrow.description);
    expect($$(form, 'tbody tr.shape')).toHaveLength(16);
  });

  it('imports pasted JSON, and names the bad fields when it cannot', async () => {
    const { form, events } = await mount();
    const paste = $<HTMLTextAreaElement>(form, '#paste');
    const load = () => ($$(form, 'button').find((b) => b.textContent!.trim() === 'Load pasted JSON') as HTMLButtonElement).click();
    paste.value = JSON.stringify({ hidden: [{ width: 0 }], lr: -1 });
    paste.dispatchEvent(new Event('input'));
    await form.updateComplete;
    load();
    await form.updateComplete;
    const errors = $(form, '#import-errors').textContent!;
    expect(errors).toContain('hidden[0].width: 0 is not an integer in [1, 1048576]');
    expect(errors).toContain('lr: -1 is not in (0, 100]');
    expect(events).toEqual([]);

    paste.value = '{ not json';
    paste.dispatchEvent(new Event('input'));
    await form.updateComplete;
    load();
    await form.updateComplete;
    expect($(form, '#import-errors').textContent).toContain('not valid JSON');

    const wanted = presetConfig('negative_bias');
    wanted.seed = 77;
    paste.value = toJson(wanted);
    paste.dispatchEvent(new Event('input'));
    await form.updateComplete;
    load();
    await form.updateComplete;
    expect(events).toEqual([wanted]);
    expect(form.shadowRoot!.querySelector('#import-errors')).toBeNull();
    expect($<HTMLInputElement>(form, 'input[name="seed"]').value).toBe('77');
  });

  it('while running, disables everything except the live fields', async () => {
    const { form, events } = await mount();
    form.running = true;
    await form.updateComplete;
    const inputs = $$(form, 'input[name], select[name]') as (HTMLInputElement | HTMLSelectElement)[];
    const enabled = inputs.filter((el) => !el.disabled).map((el) => el.getAttribute('name'));
    expect(enabled).toEqual([...LIVE_FIELDS]);
    expect($<HTMLSelectElement>(form, '#preset').disabled).toBe(true);
    expect($<HTMLInputElement>(form, '#import-file').disabled).toBe(true);
    await type(form, 'steps', '200000');
    expect(events.at(-1)!.steps).toBe(200_000);
  });
});
