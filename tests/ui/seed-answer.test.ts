// @vitest-environment happy-dom
// <du-seed-answer>: renders answerSeedQuestion's headline and findings for the live numbers, a placeholder before the
// first summary, and a readable error (not a broken page) when the numbers do not fit the config.

import { afterEach, describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config';
import { answerSeedQuestion, type LayerHistorySummary, type SeedAnswerInput } from '../../src/report/seed-answer';
import '../../src/ui/panels/seed-answer-panel';

const layer = (extra: Partial<LayerHistorySummary> = {}): LayerHistorySummary => ({
  width: 512,
  deadNow: 0,
  everDead: 0,
  revivedUnits: 0,
  totalRevivals: 0,
  everDropped: 512,
  longestDropRun: 19,
  ...extra,
});

async function mount(input: SeedAnswerInput | null) {
  const panel = document.createElement('du-seed-answer');
  panel.input = input;
  document.body.append(panel);
  await panel.updateComplete;
  return panel;
}

const text = (el: Element | null | undefined) => el?.textContent?.replace(/\s+/g, ' ').trim();

afterEach(() => {
  document.body.innerHTML = '';
});

describe('du-seed-answer', () => {
  it('asks the question and waits for a run', async () => {
    const panel = await mount(null);
    expect(text(panel.shadowRoot!.querySelector('h2'))).toBe('Will all my units end up stuck at zero?');
    expect(text(panel.shadowRoot!.querySelector('.placeholder'))).toContain('Start a run');
  });

  it('renders the answer for a dropout-only run: nothing dead, every unit dropped and back', async () => {
    const input: SeedAnswerInput = { config: presetConfig('dropout_only'), step: 1_200_000, layers: [layer(), layer()] };
    const panel = await mount(input);
    const expected = answerSeedQuestion(input);
    expect(text(panel.shadowRoot!.querySelector('.headline'))).toBe(expected.headline);
    expect(expected.headline).toContain('After 1,200,000 steps with dropout p = 0.5: no unit is dead');
    const items = [...panel.shadowRoot!.querySelectorAll('li')].map(text);
    expect(items).toEqual(expected.findings);
    expect(items[0]).toContain('longest stretch any unit stayed dropped was 19 steps');
  });

  it('follows new numbers: dead units in a high-learning-rate run', async () => {
    const panel = await mount({ config: presetConfig('dropout_only'), step: 0, layers: [layer(), layer()] });
    panel.input = { config: presetConfig('lr_too_high'), step: 5000, layers: [layer({ deadNow: 195, everDead: 200 }), layer()] };
    await panel.updateComplete;
    expect(text(panel.shadowRoot!.querySelector('.headline'))).toBe('After 5,000 steps with dropout p = 0.5: 195 of 1,024 hidden units (19 %) are dead.');
    expect(text(panel.shadowRoot!.querySelector('ul'))).toContain('a large learning rate (lr = 0.5, sgd)');
  });

  it('shows an error, not an exception, when the summaries do not fit the config', async () => {
    const panel = await mount({ config: presetConfig('deep_narrow'), step: 10, layers: [layer()] });
    expect(text(panel.shadowRoot!.querySelector('[role="alert"]'))).toBe('No answer for these numbers: 1 layer summaries for 16 hidden layers');
  });
});
