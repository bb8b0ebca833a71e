// The page's shared look: colour variables and base rules for the document (adopted as a constructable stylesheet by
// main.ts: the CSP allows no <style> element or style attribute) and the app shell's own rules.
import { css } from 'lit';

/** Applied to the document: variables every component reads, and the body. */
export const documentStyles = css`
  :root {
    --du-fg: #1d2430;
    --du-muted: #5b6575;
    --du-border: #cfd6e0;
    --du-accent: #1f5fbf;
    --du-error: #b3261e;
    --du-surface: #ffffff;
    --du-page: #eef1f5;
    color-scheme: light;
  }
  html,
  body {
    margin: 0;
    background: var(--du-page);
    color: var(--du-fg);
    font:
      14px/1.45 system-ui,
      -apple-system,
      'Segoe UI',
      sans-serif;
  }
`;

/** Buttons and inputs of the toolbar (shared by the app and the no-WebGPU page). */
export const controlStyles = css`
  button {
    font: inherit;
    font-size: 13px;
    padding: 4px 12px;
    border: 1px solid var(--du-border);
    border-radius: 5px;
    background: var(--du-surface);
    color: var(--du-fg);
    cursor: pointer;
  }
  button:hover:not(:disabled) {
    border-color: var(--du-accent);
  }
  button.primary {
    background: var(--du-accent);
    border-color: var(--du-accent);
    color: #fff;
  }
  button:disabled {
    opacity: 0.5;
    cursor: default;
  }
  input[type='number'] {
    font: inherit;
    font-size: 13px;
    width: 6.5em;
    padding: 3px 5px;
    border: 1px solid var(--du-border);
    border-radius: 4px;
  }
  input[aria-invalid='true'] {
    border-color: var(--du-error);
    outline-color: var(--du-error);
  }
`;
