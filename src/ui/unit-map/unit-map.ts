// <du-unit-map>: one hidden layer's units as a near-square grid, one cell per unit, coloured by state
// (src/report/unit-states.ts). Redrawn in requestAnimationFrame from the newest snapshot while the worker trains; zoom
// with the wheel, pan by dragging, double-click to fit; hovering a cell shows the unit's index and history. While the
// step-0 snapshot is still being measured, it shows the partial one: units proven alive, the others "not measured yet".
import { css, html, LitElement, nothing, type PropertyValues, type TemplateResult, unsafeCSS } from 'lit';
import { customElement, property, query, state } from 'lit/decorators.js';
import { downloadBlob } from '../download';
import type { FrameLayer, PartialLayer, UnitRecord } from '../protocol';
import { unitMapPng } from '../../report/unit-map-png';
import {
  countBits,
  countStates,
  NOT_MEASURED,
  PRECEDENCE,
  STATE_COLORS,
  STATE_LABELS,
  STATE_NAMES,
  unitCodes,
  type UnitState,
  unitStateOf,
} from '../../report/unit-states';
import { UnitMapRenderer } from './renderer';
import { cellAt, fitView, panBy, type View, zoomAt } from './view';

export interface UnitHoverDetail {
  layer: number;
  /** The unit under the pointer, or null when it left the map. */
  unit: number | null;
}

export interface OrderChangeDetail {
  layer: number;
  byDeath: boolean;
}

/** A unit's history as the worker reports it (protocol `unit-info`). */
export interface UnitInfo {
  layer: number;
  unit: number;
  step: number;
  record: UnitRecord;
}

const BACKGROUND = '#f4f6f9';
const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * The unit map of one hidden layer.
 *
 * Give it bitmaps with `show(layer, step)` (cheap: it only marks the map for the next animation frame). The death-step
 * order (a permutation from the worker) is used while `orderByDeath` is on.
 *
 * @fires unit-hover - `CustomEvent<UnitHoverDetail>` (bubbles, composed) when the unit under the pointer changes;
 *   answer by setting `unitInfo`.
 * @fires order-change - `CustomEvent<OrderChangeDetail>` (bubbles, composed) when the user toggles "order by death
 *   step"; answer by setting `order`.
 */
@customElement('du-unit-map')
export class DuUnitMap extends LitElement {
  /** Hidden layer shown (1-based). */
  @property({ type: Number }) layer = 1;
  /** Units in the layer. */
  @property({ type: Number }) width = 1;
  /** Cell i shows unit order[i] while orderByDeath is on (null: index order until the worker sends one). */
  @property({ attribute: false }) order: Uint32Array | null = null;
  @property({ type: Boolean, attribute: 'order-by-death', reflect: true }) orderByDeath = false;
  /** History of the hovered unit, from the worker. */
  @property({ attribute: false }) unitInfo: UnitInfo | null = null;

  @state() private step: number | null = null;
  @state() private counts: Record<UnitState, number> | null = null;
  /** The step-0 snapshot while it is measured (until show or clear): units proven alive so far, probe rows measured. */
  @state() private partial: { layer: PartialLayer; proven: number; rowsMeasured: number; probeRows: number } | null = null;
  @state() private hover: { unit: number; cell: number; x: number; y: number } | null = null;

  @query('canvas') private canvas!: HTMLCanvasElement;
  @query('.tooltip') private tooltip!: HTMLElement | null;

  private renderer: UnitMapRenderer | null = null;
  private data: FrameLayer | null = null;
  private dataDirty = false;
  private viewDirty = true;
  private view: View = { scale: 1, x: 0, y: 0 };
  private userMoved = false;
  private frame: number | null = null;
  private resizeObserver: ResizeObserver | null = null;
  private drag: { x: number; y: number; moved: boolean } | null = null;
  /** Milliseconds spent painting the last snapshot, and drawing the last frame in all (for the render benchmark). */
  lastPaintMs = 0;
  lastFrameMs = 0;
  /** Frames drawn since connected (for the render benchmark). */
  framesDrawn = 0;
  /** Partial step-0 snapshots painted since connected (for the end-to-end test). */
  partialsPainted = 0;

  static override styles = [
    css`
      :host {
        display: block;
        font:
          12px/1.4 system-ui,
          sans-serif;
        color: var(--du-fg, #1d2430);
      }
      header {
        display: flex;
        align-items: center;
        gap: 10px;
        flex-wrap: wrap;
        margin-bottom: 4px;
      }
      h3 {
        font-size: 13px;
        margin: 0;
      }
      .counts {
        color: var(--du-muted, #5b6575);
        font-variant-numeric: tabular-nums;
      }
      .spacer {
        flex: 1;
      }
      label {
        display: inline-flex;
        align-items: center;
        gap: 4px;
        cursor: pointer;
      }
      button {
        font: inherit;
        padding: 2px 8px;
        border: 1px solid var(--du-border, #cfd6e0);
        border-radius: 4px;
        background: #fff;
        cursor: pointer;
      }
      button:disabled {
        opacity: 0.5;
        cursor: default;
      }
      .stage {
        position: relative;
        height: var(--du-map-height, 260px);
        border: 1px solid var(--du-border, #cfd6e0);
        border-radius: 4px;
        overflow: hidden;
        background: ${unsafeCSS(BACKGROUND)};
      }
      canvas {
        display: block;
        width: 100%;
        height: 100%;
        cursor: crosshair;
        touch-action: none;
      }
      canvas.dragging {
        cursor: grabbing;
      }
      .tooltip {
        position: absolute;
        left: 0;
        top: 0;
        pointer-events: none;
        background: rgba(29, 36, 48, 0.94);
        color: #fff;
        padding: 6px 8px;
        border-radius: 4px;
        font-size: 11px;
        line-height: 1.45;
        white-space: nowrap;
        z-index: 2;
      }
      .tooltip b {
        font-size: 12px;
      }
      .tooltip .muted {
        color: #b8c2d0;
      }
      .hint {
        color: var(--du-muted, #5b6575);
        margin-top: 2px;
      }
      .swatch {
        display: inline-block;
        width: 9px;
        height: 9px;
        border-radius: 2px;
        margin-right: 3px;
        vertical-align: -1px;
      }
      ${unsafeCSS(STATE_NAMES.map((s) => `.swatch.${s} { background: ${STATE_COLORS[s]}; }`).join('\n'))}
      ${unsafeCSS(`.swatch.${NOT_MEASURED.name} { background: ${NOT_MEASURED.colour}; }`)}
    `,
  ];

  /** Shows a snapshot's bitmaps for this layer; drawn at the next animation frame. */
  show(layer: FrameLayer, step: number): void {
    if (layer.width !== this.width) this.width = layer.width;
    this.data = layer;
    this.partial = null;
    this.dataDirty = true;
    this.step = step;
    this.counts = countStates(layer);
    this.schedule();
  }

  /**
   * Shows the step-0 snapshot while it is measured: units proven not dead after `rowsMeasured` of `probeRows` probe
   * rows are alive, the others not measured yet. Ignored once a snapshot is shown (show() replaces it, not the reverse).
   */
  showPartial(layer: PartialLayer, rowsMeasured: number, probeRows: number): void {
    if (this.data) return;
    if (layer.width !== this.width) this.width = layer.width;
    this.partial = { layer, proven: countBits(layer.proven, layer.width), rowsMeasured, probeRows };
    this.dataDirty = true;
    this.schedule();
  }

  /** Forgets the bitmaps (a new run). */
  clear(): void {
    this.data = null;
    this.partial = null;
    this.step = null;
    this.counts = null;
    this.hover = null;
    this.dataDirty = true;
    this.schedule();
  }

  /** The unit map as PNG bytes (the CLI's unit map file of the same snapshot, in the order shown), or null before the first snapshot. */
  png(): Uint8Array | null {
    return this.data ? unitMapPng(unitCodes(this.data, this.activeOrder())) : null;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    this.schedule();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.resizeObserver?.disconnect();
    this.resizeObserver = null;
  }

  override firstUpdated(): void {
    this.resizeObserver = new ResizeObserver(() => {
      this.viewDirty = true;
      this.schedule();
    });
    this.resizeObserver.observe(this.canvas);
    this.canvas.addEventListener('wheel', (e) => this.onWheel(e), { passive: false });
  }

  override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has('width') && this.renderer && this.renderer.units !== this.width) {
      this.renderer = null;
      this.data = null;
      this.userMoved = false;
      this.viewDirty = true;
    }
    if (changed.has('order') || changed.has('orderByDeath')) {
      this.dataDirty = true;
      this.schedule();
    }
  }

  override updated(): void {
    // Positioned through the CSSOM (the page's CSP forbids style attributes).
    const tip = this.tooltip;
    if (tip && this.hover) {
      const stage = this.canvas.getBoundingClientRect();
      const left = Math.min(this.hover.x + 14, Math.max(0, stage.width - tip.offsetWidth - 4));
      const top = this.hover.y + 14 + tip.offsetHeight > stage.height ? Math.max(0, this.hover.y - tip.offsetHeight - 8) : this.hover.y + 14;
      tip.style.transform = `translate(${left}px, ${top}px)`;
    }
  }

  private schedule(): void {
    if (this.frame !== null || !this.isConnected) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.drawFrame();
    });
  }

  private activeOrder(): Uint32Array | null {
    return this.orderByDeath && this.order && this.order.length === this.width ? this.order : null;
  }

  private drawFrame(): void {
    const canvas = this.canvas;
    if (!canvas) return;
    const frameStarted = performance.now();
    // No 2D canvas (a DOM without one, e.g. in component tests): nothing to draw.
    const context = canvas.getContext('2d');
    if (!context) return;
    const dpr = globalThis.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
      this.viewDirty = true;
    }
    if (!this.renderer || this.renderer.units !== this.width) {
      this.renderer = new UnitMapRenderer(this.width);
      this.dataDirty = true;
      this.viewDirty = true;
    }
    const renderer = this.renderer;
    const fitted = fitView(renderer.cols, renderer.rows, w, h);
    if (!this.userMoved) this.view = fitted;
    const partial = this.data ? null : this.partial;
    if (this.dataDirty && this.data) {
      const started = performance.now();
      renderer.paint(this.data, this.activeOrder());
      this.lastPaintMs = performance.now() - started;
    } else if (this.dataDirty && partial) {
      renderer.paintPartial(partial.layer.proven);
      this.partialsPainted++;
    }
    if (this.dataDirty || this.viewDirty) {
      if (this.data || partial) renderer.draw(context, this.view, w, h, BACKGROUND);
      else {
        context.fillStyle = BACKGROUND;
        context.fillRect(0, 0, w, h);
      }
      this.framesDrawn++;
    }
    this.dataDirty = false;
    this.viewDirty = false;
    this.lastFrameMs = performance.now() - frameStarted;
  }

  private fitted(): View | null {
    const r = this.renderer;
    return r ? fitView(r.cols, r.rows, this.canvas.width, this.canvas.height) : null;
  }

  private onWheel(event: WheelEvent): void {
    const fitted = this.fitted();
    if (!fitted) return;
    event.preventDefault();
    const dpr = globalThis.devicePixelRatio || 1;
    const factor = Math.exp(-event.deltaY * 0.0015);
    this.view = zoomAt(this.view, factor, event.offsetX * dpr, event.offsetY * dpr, fitted);
    this.userMoved = this.view.scale !== fitted.scale;
    this.viewDirty = true;
    this.schedule();
  }

  private onPointerDown(event: PointerEvent): void {
    if (event.button !== 0) return;
    this.canvas.setPointerCapture(event.pointerId);
    this.drag = { x: event.offsetX, y: event.offsetY, moved: false };
  }

  private onPointerMove(event: PointerEvent): void {
    const dpr = globalThis.devicePixelRatio || 1;
    if (this.drag) {
      const dx = event.offsetX - this.drag.x;
      const dy = event.offsetY - this.drag.y;
      if (dx !== 0 || dy !== 0) {
        this.drag = { x: event.offsetX, y: event.offsetY, moved: true };
        this.canvas.classList.add('dragging');
        this.view = panBy(this.view, dx * dpr, dy * dpr);
        this.userMoved = true;
        this.viewDirty = true;
        this.schedule();
      }
    }
    const r = this.renderer;
    if (!r || !this.data) return this.setHover(null);
    const cell = cellAt(this.view, event.offsetX * dpr, event.offsetY * dpr, r.cols, r.rows, this.width);
    if (cell === null) return this.setHover(null);
    const order = this.activeOrder();
    const unit = order ? order[cell] : cell;
    this.setHover({ unit, cell, x: event.offsetX, y: event.offsetY });
  }

  private onPointerUp(event: PointerEvent): void {
    if (this.canvas.hasPointerCapture(event.pointerId)) this.canvas.releasePointerCapture(event.pointerId);
    this.drag = null;
    this.canvas.classList.remove('dragging');
  }

  private setHover(hover: { unit: number; cell: number; x: number; y: number } | null): void {
    const changed = (hover?.unit ?? null) !== (this.hover?.unit ?? null);
    this.hover = hover;
    if (changed)
      this.dispatchEvent(
        new CustomEvent<UnitHoverDetail>('unit-hover', { detail: { layer: this.layer, unit: hover?.unit ?? null }, bubbles: true, composed: true }),
      );
  }

  private fit(): void {
    this.userMoved = false;
    this.viewDirty = true;
    this.schedule();
  }

  private toggleOrder(event: Event): void {
    this.orderByDeath = (event.target as HTMLInputElement).checked;
    this.dispatchEvent(
      new CustomEvent<OrderChangeDetail>('order-change', { detail: { layer: this.layer, byDeath: this.orderByDeath }, bubbles: true, composed: true }),
    );
  }

  private savePng(): void {
    const bytes = this.png();
    if (!bytes) return;
    downloadBlob(
      new Blob([bytes as BlobPart], { type: 'image/png' }),
      `deadunits-layer${this.layer}-step${this.step ?? 0}${this.activeOrder() ? '-by-death' : ''}.png`,
    );
  }

  private tooltipBody(): TemplateResult | typeof nothing {
    const hover = this.hover;
    const data = this.data;
    if (!hover || !data) return nothing;
    const s = unitStateOf(data, hover.unit);
    const info = this.unitInfo && this.unitInfo.layer === this.layer && this.unitInfo.unit === hover.unit ? this.unitInfo : null;
    const r = info?.record;
    const history = r
      ? html`<div>first death: ${r.firstDeathStep === null ? 'never' : `step ${fmt(r.firstDeathStep)}`}</div>
          <div>deaths ${fmt(r.deaths)} · revivals ${fmt(r.revivals)}</div>
          <div>longest drop run: ${fmt(r.longestDropRun)} step${r.longestDropRun === 1 ? '' : 's'}</div>
          <div class="muted">history at step ${fmt(info!.step)}</div>`
      : html`<div class="muted">reading history…</div>`;
    return html`<div class="tooltip" role="tooltip">
      <b>unit ${fmt(hover.unit)}</b>${this.activeOrder() ? html` <span class="muted">(cell ${fmt(hover.cell)})</span>` : nothing}
      <div><span class="swatch ${s}"></span>${STATE_LABELS[s]} at step ${fmt(this.step ?? 0)}</div>
      ${history}
    </div>`;
  }

  /** "≥ 1,234 alive of 4,096 (48 / 512 probe rows)": what a partial step-0 snapshot proves so far. */
  private partialCounts(p: NonNullable<DuUnitMap['partial']>): TemplateResult {
    return html`<span class="swatch alive"></span>≥ <b data-count="alive">${fmt(p.proven)}</b> alive of ${fmt(p.layer.width)} ·
      <span class="swatch ${NOT_MEASURED.name}"></span>${NOT_MEASURED.label} <b data-count=${NOT_MEASURED.name}>${fmt(p.layer.width - p.proven)}</b>
      <span data-probe-rows>(${fmt(p.rowsMeasured)} / ${fmt(p.probeRows)} probe rows)</span>`;
  }

  override render(): TemplateResult {
    const c = this.counts;
    const p = c ? null : this.partial;
    return html`<header>
        <h3>Layer ${this.layer} · ${fmt(this.width)} units</h3>
        <span class="counts" data-counts ?data-partial=${p !== null}>
          ${c
            ? PRECEDENCE.map((s, i) => html`${i ? ' · ' : ''}<span class="swatch ${s}"></span>${STATE_LABELS[s]} <b data-count=${s}>${fmt(c[s])}</b>`)
            : p
              ? this.partialCounts(p)
              : 'no snapshot yet'}
        </span>
        <span class="spacer"></span>
        <label title="Units that died first come first, then later deaths, then units that never died"
          ><input type="checkbox" .checked=${this.orderByDeath} @change=${this.toggleOrder} /> order by death step</label
        >
        <button type="button" @click=${this.fit} title="Show the whole layer (double-click the map does the same)">Fit</button>
        <button
          type="button"
          ?disabled=${this.step === null}
          @click=${this.savePng}
          title="Save this map as a PNG (the same file the CLI writes for this snapshot)"
        >
          PNG
        </button>
      </header>
      <div class="stage">
        <canvas
          role="img"
          aria-label=${`Unit map of layer ${this.layer}: ${
            c
              ? `${PRECEDENCE.map((s) => `${c[s]} ${STATE_LABELS[s]}`).join(', ')} of ${this.width} units`
              : p
                ? `step 0 being measured: at least ${p.proven} alive of ${this.width} units (${p.rowsMeasured} of ${p.probeRows} probe rows)`
                : 'no snapshot yet'
          }`}
          @pointerdown=${this.onPointerDown}
          @pointermove=${this.onPointerMove}
          @pointerup=${this.onPointerUp}
          @pointercancel=${this.onPointerUp}
          @pointerleave=${() => !this.drag && this.setHover(null)}
          @dblclick=${this.fit}
        ></canvas>
        ${this.tooltipBody()}
      </div>
      <div class="hint">
        ${this.step === null ? (p ? 'step 0 still being measured · ' : '') : `step ${fmt(this.step)} · `}wheel to zoom, drag to pan, hover a unit for its
        history
      </div>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-unit-map': DuUnitMap;
  }
}
