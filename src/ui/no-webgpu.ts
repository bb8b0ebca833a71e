// <du-no-webgpu>: what a browser without WebGPU (or without a usable adapter) shows instead of the simulator: what is
// missing, what to use instead, and the command-line route that needs no browser GPU at all.
import { css, html, LitElement, type TemplateResult } from 'lit';
import { customElement, property } from 'lit/decorators.js';

/** True when this browser exposes the WebGPU API at all (an adapter may still be refused later). */
export function hasWebGpu(nav: Navigator | undefined = globalThis.navigator): boolean {
  return !!nav && 'gpu' in nav && !!(nav as Navigator & { gpu?: unknown }).gpu;
}

/** The page shown instead of the simulator. Fires no events. */
@customElement('du-no-webgpu')
export class DuNoWebGpu extends LitElement {
  /** What went wrong, in the browser's or the engine's words. */
  @property() reason = 'This browser does not expose WebGPU (navigator.gpu is missing).';

  static override styles = css`
    :host {
      display: block;
      max-width: 680px;
      margin: 48px auto;
      padding: 28px 32px;
      background: var(--du-surface, #fff);
      border: 1px solid var(--du-border, #cfd6e0);
      border-radius: 8px;
      font:
        15px/1.55 system-ui,
        sans-serif;
      color: var(--du-fg, #1d2430);
    }
    h1 {
      font-size: 22px;
      margin: 0 0 8px;
    }
    .reason {
      color: var(--du-error, #b3261e);
      font-family: ui-monospace, monospace;
      font-size: 13px;
      background: #fbeeed;
      padding: 8px 10px;
      border-radius: 4px;
    }
    code {
      font-family: ui-monospace, monospace;
      font-size: 13px;
      background: #eef1f5;
      padding: 1px 4px;
      border-radius: 3px;
    }
    li + li {
      margin-top: 4px;
    }
  `;

  override render(): TemplateResult {
    return html`<h1>deadunits needs WebGPU</h1>
      <p>The simulator trains networks on your GPU with WebGPU compute shaders, in the page. This browser cannot run them:</p>
      <p class="reason" role="alert">${this.reason}</p>
      <p>What to use instead:</p>
      <ul>
        <li><b>Chrome or Edge 113+</b> (Windows, macOS, ChromeOS, Android 121+); on Linux, Chrome with WebGPU enabled in <code>chrome://flags</code>.</li>
        <li><b>Firefox 141+</b> on Windows, or <b>Safari 26+</b> on macOS and iOS.</li>
        <li>Check that hardware acceleration is on in the browser's settings, and that the page is served over https or from localhost.</li>
        <li>No browser at all: <code>npx deadunits run --preset dropout_only</code> trains the same runs from the command line (Node with Dawn).</li>
      </ul>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-no-webgpu': DuNoWebGpu;
  }
}
