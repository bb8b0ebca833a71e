// <du-timeline>: one hidden layer's history as a raster: unit buckets top to bottom, snapshots left to right, each cell
// coloured by the share of its units in each state (the unit map's colours, mixed). Death shows as dark bands that
// stay, revival as orange, dropout as an even blue tint that never accumulates.
import { css, html, LitElement, type PropertyValues, type TemplateResult, unsafeCSS } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { EMPTY_COLOR, PRECEDENCE } from '../../report/unit-states';
import { TimelineRaster, TIMELINE_CAPACITY } from './raster';

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The timeline raster of one layer. Feed it with `appendColumn(step, column)` (the worker's TimelineColumn bytes for this
 * layer, one per snapshot, in step order) and `reset()` for a new run. Fires no events.
 */
@customElement('du-timeline')
export class DuTimeline extends LitElement {
  /** Hidden layer shown (1-based). */
  @property({ type: Number }) layer = 1;
  /** Units in the layer (a change starts a new raster). */
  @property({ type: Number }) width = 1;

  @state() private span: { first: number; last: number; columns: number; stride: number } | null = null;
  @state() private pointer: string | null = null;

  @query('canvas') private canvas!: HTMLCanvasElement;

  private raster: TimelineRaster | null = null;
  private image: ImageData | null = null;
  private frame: number | null = null;

  static override styles = css`
    :host {
      display: block;
      font:
        12px/1.4 system-ui,
        sans-serif;
      color: var(--du-fg, #1d2430);
    }
    .frame {
      display: grid;
      grid-template-columns: auto 1fr;
      gap: 2px 6px;
      align-items: stretch;
    }
    .axis-y {
      writing-mode: vertical-rl;
      transform: rotate(180deg);
      text-align: center;
      color: var(--du-muted, #5b6575);
      font-size: 11px;
    }
    canvas {
      display: block;
      width: 100%;
      height: var(--du-timeline-height, 120px);
      image-rendering: pixelated;
      border: 1px solid var(--du-border, #cfd6e0);
      border-radius: 4px;
      background: ${unsafeCSS(EMPTY_COLOR)};
    }
    .axis-x {
      grid-column: 2;
      display: flex;
      justify-content: space-between;
      color: var(--du-muted, #5b6575);
      font-size: 11px;
      font-variant-numeric: tabular-nums;
    }
    .pointer {
      grid-column: 2;
      min-height: 1.4em;
      color: var(--du-muted, #5b6575);
      font-size: 11px;
    }
  `;

  /** Adds one snapshot's column for this layer. */
  appendColumn(step: number, column: Uint8Array): void {
    const raster = this.ensureRaster();
    raster.append(step, column);
    const first = raster.stepsOf(0)![0];
    const last = raster.stepsOf(raster.columns - 1)![1];
    this.span = { first, last, columns: raster.columns, stride: raster.stride };
    this.schedule();
  }

  /** Forgets every column (a new run). */
  reset(): void {
    this.raster = null;
    this.image = null;
    this.span = null;
    this.schedule();
  }

  /** The raster (for tests and exports); null before the first column. */
  get data(): TimelineRaster | null {
    return this.raster;
  }

  private ensureRaster(): TimelineRaster {
    if (!this.raster || this.raster.width !== this.width) {
      this.raster = new TimelineRaster(this.width, TIMELINE_CAPACITY);
      this.image = null;
    }
    return this.raster;
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('width') && this.raster && this.raster.width !== this.width) this.reset();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
  }

  private schedule(): void {
    if (this.frame !== null || !this.isConnected) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.draw();
    });
  }

  private draw(): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const context = canvas.getContext('2d');
    if (!context) return;
    const raster = this.raster;
    if (!raster) {
      context.clearRect(0, 0, canvas.width, canvas.height);
      return;
    }
    // One canvas pixel per filled column, stretched over the element: the run so far always spans the whole width.
    const columns = Math.max(1, raster.columns);
    if (canvas.width !== columns || canvas.height !== raster.rows) {
      canvas.width = columns;
      canvas.height = raster.rows;
    }
    if (!this.image || this.image.width !== columns || this.image.height !== raster.rows) this.image = new ImageData(columns, raster.rows);
    raster.paint(new Uint32Array(this.image.data.buffer), columns);
    context.putImageData(this.image, 0, 0);
  }

  private onPointerMove(event: PointerEvent): void {
    const raster = this.raster;
    if (!raster) return;
    const rect = this.canvas.getBoundingClientRect();
    const c = Math.floor(((event.clientX - rect.left) / rect.width) * Math.max(1, raster.columns));
    const r = Math.floor(((event.clientY - rect.top) / rect.height) * raster.rows);
    const steps = raster.stepsOf(c);
    if (!steps || r < 0 || r >= raster.rows) {
      this.pointer = null;
      return;
    }
    const shares = raster.cell(c, r);
    const from = r * raster.unitsPerRow;
    const to = Math.min(raster.width, from + raster.unitsPerRow) - 1;
    const when = steps[0] === steps[1] ? `step ${fmt(steps[0])}` : `steps ${fmt(steps[0])}–${fmt(steps[1])}`;
    const pct = (f: number) => `${Math.round(100 * f)} %`;
    this.pointer = `units ${fmt(from)}–${fmt(to)}, ${when}: ${PRECEDENCE.map((s, j) => `${s} ${pct(shares[j])}`).join(', ')}`;
  }

  override render(): TemplateResult {
    const s = this.span;
    const raster = this.raster;
    const perRow = raster && raster.unitsPerRow > 1 ? ` (${fmt(raster.unitsPerRow)} per row)` : '';
    return html`<div class="frame">
      <div class="axis-y">units${perRow} ↓</div>
      <canvas
        role="img"
        aria-label=${`Timeline of layer ${this.layer}: units by snapshot`}
        @pointermove=${this.onPointerMove}
        @pointerleave=${() => (this.pointer = null)}
      ></canvas>
      <div class="axis-x">
        <span>${s ? `step ${fmt(s.first)}` : 'no snapshots yet'}</span>
        <span>${s ? `${fmt(s.columns)} column${s.columns === 1 ? '' : 's'}${s.stride > 1 ? `, ${fmt(s.stride)} snapshots each` : ''} →` : ''}</span>
        <span>${s ? `step ${fmt(s.last)}` : ''}</span>
      </div>
      <div class="pointer">${this.pointer ?? ''}</div>
    </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-timeline': DuTimeline;
  }
}
