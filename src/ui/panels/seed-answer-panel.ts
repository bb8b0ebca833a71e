// <du-seed-answer>: the plain-language answer to "will all my units end up stuck at zero?", written from the live run's
// numbers by src/report/seed-answer.ts (the same text as the CLI's report.md).

import { css, html, LitElement, nothing, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';
import { answerSeedQuestion, type SeedAnswer, type SeedAnswerInput } from '../../report/seed-answer';

/**
 * A short panel: the headline answer for this run, then one sentence per hidden layer and the notes that explain it.
 * Shows a placeholder until the first summary arrives. Fires no events.
 */
@customElement('du-seed-answer')
export class DuSeedAnswer extends LitElement {
  /** The run's config, step and per-layer history summaries (summarizeUnitHistory); null before the run has any. */
  @property({ attribute: false }) input: SeedAnswerInput | null = null;
  /** Why the run failed (a GPU error): shown instead of an answer, since the numbers stop short of what was asked. */
  @property({ attribute: false }) failure: string | null = null;

  static override styles = css`
    :host {
      display: block;
      font:
        14px/1.5 system-ui,
        sans-serif;
      color: var(--du-fg, #1d2430);
    }
    section {
      border-left: 3px solid var(--du-accent, #1f5fbf);
      padding: 2px 0 2px 12px;
    }
    h2 {
      font-size: 12px;
      font-weight: 600;
      text-transform: uppercase;
      letter-spacing: 0.04em;
      color: var(--du-muted, #5b6575);
      margin: 0 0 4px;
    }
    .headline {
      font-size: 15px;
      font-weight: 600;
      margin: 0 0 6px;
    }
    ul {
      margin: 0;
      padding-left: 18px;
    }
    li + li {
      margin-top: 4px;
    }
    .placeholder,
    .error {
      margin: 0;
      color: var(--du-muted, #5b6575);
    }
    .error {
      color: var(--du-error, #b3261e);
    }
  `;

  override render(): TemplateResult {
    const body =
      this.failure !== null
        ? html`<p class="error" role="alert" data-failed>No answer: the run failed. ${this.failure}</p>`
        : this.input === null
          ? html`<p class="placeholder">Start a run: the answer is written from its numbers as it trains.</p>`
          : this.answer(this.input);
    return html`<section aria-labelledby="title" aria-live="polite">
      <h2 id="title">Will all my units end up stuck at zero?</h2>
      ${body}
    </section>`;
  }

  private answer(input: SeedAnswerInput): TemplateResult {
    let answer: SeedAnswer;
    try {
      answer = answerSeedQuestion(input);
    } catch (error) {
      // A summary that does not fit the config (e.g. read during a config switch) says so instead of breaking the page.
      return html`<p class="error" role="alert">No answer for these numbers: ${error instanceof Error ? error.message : String(error)}</p>`;
    }
    return html`<p class="headline">${answer.headline}</p>
      ${answer.findings.length
        ? html`<ul>
            ${answer.findings.map((f) => html`<li>${f}</li>`)}
          </ul>`
        : nothing}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-seed-answer': DuSeedAnswer;
  }
}
