// <du-charts>: the run's metrics over time, drawn with uPlot (canvas; stays fast with 10^5+ points): loss, dead
// fraction per layer, revived units per layer, dropped fraction per layer and steps per second, on a linear or a log
// step axis, plus the CSV export of every row.
//
// Memory is bounded whatever the run's length: the charts keep at most DEFAULT_CAPACITY points per series (min/max
// decimation, see charts/envelope.ts) and the CSV log at most DEFAULT_ROW_BUDGET numbers (even thinning, see
// charts/row-log.ts).

import { css, html, LitElement, nothing, type PropertyValues, type ReactiveController, type ReactiveControllerHost, type TemplateResult, unsafeCSS } from 'lit';
import { customElement, property, state } from 'lit/decorators.js';
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import { type MetricsRow, metricsToCsv } from '../../report/metrics';
import { downloadText } from '../download';
import { chartData, type ChartSlice, chartSlices, PALETTE, rowValues } from './charts/chart-specs';
import { DEFAULT_CAPACITY, EnvelopeSeries } from './charts/envelope';
import { DEFAULT_ROW_BUDGET, RowLog } from './charts/row-log';

const PLOT_HEIGHT = 170;
let chartGroups = 0;

/** Watches the plot containers' widths while the element is connected, so the canvases follow the layout. */
class PlotSizeController implements ReactiveController {
  private observer: ResizeObserver | undefined;
  constructor(
    host: ReactiveControllerHost,
    private readonly onResize: (target: Element, width: number) => void,
  ) {
    host.addController(this);
  }
  hostConnected(): void {
    if (typeof ResizeObserver === 'undefined') return;
    this.observer = new ResizeObserver((entries) => {
      for (const e of entries) this.onResize(e.target, Math.floor(e.contentRect.width));
    });
  }
  hostDisconnected(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }
  observe(el: Element): void {
    this.observer?.observe(el);
  }
  /** Stops watching every container (the plots were destroyed; new ones observe their own). */
  forgetAll(): void {
    this.observer?.disconnect();
  }
}

/**
 * Charts of a run's metrics rows (src/report/metrics.ts), one per quantity, step on the x axis.
 *
 * Feed it with `append(rows)` as snapshots arrive (it redraws at most once per animation frame) and `reset()` when a
 * new run starts; a row whose layer count differs from the previous rows', or whose step is below the last one's (a run
 * resumed from an earlier checkpoint), also starts over. The "CSV" button saves
 * every row (see RowLog for the memory cap). Fires no events.
 */
@customElement('du-charts')
export class DuCharts extends LitElement {
  /** Log-scale step axis (for long horizons); step 0 is then not shown. Also toggled by the visible checkbox. */
  @property({ type: Boolean, attribute: 'log-step', reflect: true }) logStep = false;
  /** Name of the file the CSV button saves. */
  @property({ attribute: 'csv-name' }) csvName = 'deadunits-metrics.csv';
  /** Steps per task of a non-stationary run (0: stationary): adds the loss at the end of each task. Set before the first rows. */
  @property({ type: Number, attribute: 'task-every' }) taskEvery = 0;

  @state() private rowCount = 0;
  @state() private layerCount = 0;
  @state() private nonFiniteLossStep: number | null = null;
  private lastStep = 0;

  private envelope: EnvelopeSeries | null = null;
  private log: RowLog | null = null;
  private slices: ChartSlice[] = [];
  private plots = new Map<string, uPlot>();
  /** Charts the user has zoomed into (drag to zoom, double-click to reset): new data must not undo the zoom. */
  private zoomed = new Set<string>();
  /** One cursor group per element: hovering one chart shows the same step on all of them. */
  private readonly syncKey = `du-charts-${++chartGroups}`;
  private plotsStale = true;
  private frame: number | null = null;
  private readonly sizes = new PlotSizeController(this, (target, width) =>
    this.plots.get((target as HTMLElement).dataset.chart ?? '')?.setSize({ width, height: PLOT_HEIGHT }),
  );

  static override styles = [
    unsafeCSS(uplotCss),
    css`
      :host {
        display: block;
        font:
          13px/1.4 system-ui,
          sans-serif;
        color: var(--du-fg, #1d2430);
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 12px;
        margin-bottom: 8px;
      }
      .toolbar .info {
        color: var(--du-muted, #5b6575);
        font-size: 12px;
        margin-left: auto;
      }
      button {
        font: inherit;
        padding: 3px 10px;
        border: 1px solid var(--du-border, #cfd6e0);
        border-radius: 4px;
        background: #f4f6f9;
        cursor: pointer;
      }
      button:hover:not(:disabled) {
        background: #e8edf4;
      }
      button:focus-visible,
      input:focus-visible {
        outline: 2px solid var(--du-accent, #1f5fbf);
        outline-offset: 1px;
      }
      .grid {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(340px, 1fr));
        gap: 10px;
      }
      figure {
        margin: 0;
        border: 1px solid var(--du-border, #cfd6e0);
        border-radius: 6px;
        padding: 6px 8px;
        min-width: 0;
        background: #fff;
      }
      figcaption {
        font-weight: 600;
        margin-bottom: 2px;
      }
      figcaption .unit {
        font-weight: normal;
        color: var(--du-muted, #5b6575);
      }
      .plot {
        min-height: ${PLOT_HEIGHT}px;
        width: 100%;
      }
      .empty {
        color: var(--du-muted, #5b6575);
        padding: 24px 0;
        text-align: center;
      }
      .warn {
        color: var(--du-error, #b3261e);
        font-size: 12px;
      }
      .uplot {
        font:
          11px system-ui,
          sans-serif;
      }
    `,
  ];

  /**
   * Adds metrics rows (in step order) to every chart and to the CSV log. NOTE: this name is also the DOM's
   * `ParentNode.append`; called with nodes or strings it still does what the DOM does.
   */
  override append(rows: readonly MetricsRow[] | Node | string, ...nodes: (Node | string)[]): void {
    if (Array.isArray(rows)) this.appendRows(rows);
    else super.append(rows as Node | string, ...nodes);
  }

  /** Adds metrics rows (in step order) to every chart and to the CSV log. */
  appendRows(rows: readonly MetricsRow[]): void {
    for (const row of rows) {
      // Another shape, or a step behind the last one (a new run, or one resumed from an earlier checkpoint): start over.
      if (this.envelope === null || row.layers.length !== this.layerCount || row.step < this.lastStep) this.start(row.layers.length);
      this.lastStep = row.step;
      this.envelope!.append(row.step, rowValues(row, this.slices));
      this.log!.append(row);
      if (row.loss !== null && !Number.isFinite(row.loss) && this.nonFiniteLossStep === null) this.nonFiniteLossStep = row.step;
    }
    this.rowCount = this.envelope?.rows ?? 0;
    this.scheduleRedraw();
  }

  /** Forgets every row (a new run). */
  reset(): void {
    this.envelope = null;
    this.log = null;
    this.slices = [];
    this.layerCount = 0;
    this.rowCount = 0;
    this.nonFiniteLossStep = null;
    this.destroyPlots();
  }

  /** Every row kept for the CSV export (all of them unless the memory cap thinned them; see `csvStride`). */
  rows(): MetricsRow[] {
    return this.log?.rows() ?? [];
  }

  /** Snapshots per exported CSV row: 1 unless a very long run reached the CSV log's cap. */
  get csvStride(): number {
    return this.log?.stride ?? 1;
  }

  /** The CSV the button saves (header and one line per kept row). */
  csv(): string {
    return metricsToCsv(this.rows());
  }

  private start(layerCount: number): void {
    this.destroyPlots();
    this.layerCount = layerCount;
    this.slices = chartSlices(layerCount, this.taskEvery);
    const seriesCount = this.slices.reduce((n, s) => n + s.labels.length, 0);
    this.envelope = new EnvelopeSeries(seriesCount, DEFAULT_CAPACITY);
    this.log = new RowLog(layerCount, DEFAULT_ROW_BUDGET);
    this.nonFiniteLossStep = null;
    this.lastStep = 0;
  }

  private scheduleRedraw(): void {
    if (this.frame !== null) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = null;
      this.redraw();
    });
  }

  private redraw(): void {
    const env = this.envelope;
    if (env === null) return;
    for (const slice of this.slices) {
      const id = slice.spec.id;
      this.plots.get(id)?.setData(chartData(env.x, env.ys, slice, this.logStep) as uPlot.AlignedData, !this.zoomed.has(id));
    }
  }

  private destroyPlots(): void {
    for (const plot of this.plots.values()) plot.destroy();
    this.plots.clear();
    this.zoomed.clear();
    this.sizes.forgetAll();
    this.plotsStale = true;
  }

  override connectedCallback(): void {
    super.connectedCallback();
    // Plots are destroyed on disconnect; an element moved in the page draws them again from the data it kept.
    if (this.envelope !== null) this.requestUpdate();
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.frame = null;
    this.destroyPlots();
  }

  override updated(changed: PropertyValues<this>): void {
    if (changed.has('logStep')) this.destroyPlots();
    if (this.plotsStale && this.envelope !== null) this.createPlots();
  }

  private createPlots(): void {
    this.plotsStale = false;
    const env = this.envelope!;
    for (const slice of this.slices) {
      const target = this.renderRoot.querySelector<HTMLElement>(`.plot[data-chart="${slice.spec.id}"]`);
      if (!target) continue;
      const width = Math.max(200, Math.floor(target.clientWidth || 340));
      const many = slice.labels.length > 12;
      const opts: uPlot.Options = {
        width,
        height: PLOT_HEIGHT,
        scales: {
          // On a log axis uPlot widens the range to whole decades at both ends; ending at the data's last step wastes
          // less width (starting on a decade keeps the ticks on round numbers).
          x: this.logStep ? { time: false, distr: 3, log: 10, range: (_u, min, max) => [10 ** Math.floor(Math.log10(min)), max] } : { time: false },
          y: slice.spec.fraction ? { range: [0, 1] } : { auto: true },
        },
        axes: [
          { label: this.logStep ? 'step (log)' : 'step', labelSize: 18, size: 36 },
          { label: slice.spec.unit, labelSize: 18, size: 56 },
        ],
        series: [
          { label: 'step' },
          ...slice.labels.map((label, i) => ({
            label,
            stroke: slice.spec.perLayer ? PALETTE[i % PALETTE.length] : '#1f5fbf',
            width: 1.25,
            points: { show: slice.spec.sparse === true },
            spanGaps: slice.spec.sparse === true,
          })),
        ],
        legend: { show: !many },
        cursor: { drag: { x: true, y: false }, sync: { key: this.syncKey } },
        hooks: { setScale: [(u, key) => key === 'x' && this.noteZoom(slice.spec.id, u)] },
      };
      this.plots.set(slice.spec.id, new uPlot(opts, chartData(env.x, env.ys, slice, this.logStep) as uPlot.AlignedData, target));
      this.sizes.observe(target);
    }
  }

  /** Whether the x range now shown is narrower than the data's (the user zoomed in). */
  private noteZoom(id: string, u: uPlot): void {
    const x = u.data[0];
    const { min, max } = u.scales.x;
    if (x.length < 2 || min === undefined || max === undefined) return;
    const first = x[0];
    const last = x[x.length - 1];
    const eps = (last - first) * 1e-9;
    if (min > first + eps || max < last - eps) this.zoomed.add(id);
    else this.zoomed.delete(id);
  }

  private saveCsv(): void {
    downloadText(this.csv(), this.csvName, 'text/csv');
  }

  override render(): TemplateResult {
    const env = this.envelope;
    const perPoint = env?.rowsPerPoint ?? 1;
    const info =
      this.rowCount === 0
        ? 'No snapshots yet.'
        : `${this.rowCount.toLocaleString('en-US')} snapshots${perPoint > 1 ? `; each point pair is the min and max of ${(perPoint * 2).toLocaleString('en-US')}` : ''}` +
          `${this.csvStride > 1 ? `; CSV keeps every ${this.csvStride.toLocaleString('en-US')}th (memory cap)` : ''}`;
    return html`<div class="toolbar" role="toolbar" aria-label="Chart options">
        <label
          ><input type="checkbox" .checked=${this.logStep} @change=${(e: Event) => (this.logStep = (e.target as HTMLInputElement).checked)} /> Log step
          axis</label
        >
        <button type="button" ?disabled=${this.rowCount === 0} title="Save every metrics row as CSV" @click=${this.saveCsv}>CSV</button>
        <span class="info" aria-live="polite">${info}</span>
      </div>
      ${this.nonFiniteLossStep !== null
        ? html`<p class="warn" role="alert">
            The loss is not finite from step ${this.nonFiniteLossStep.toLocaleString('en-US')} on (the run diverged); it is left out of the loss chart.
          </p>`
        : nothing}
      ${this.rowCount === 0
        ? html`<p class="empty">Charts appear with the first snapshot.</p>`
        : html`<div class="grid">
            ${this.slices.map(
              (s) =>
                html`<figure>
                  <figcaption>${s.spec.title} <span class="unit">(${s.spec.unit})</span></figcaption>
                  <div class="plot" data-chart=${s.spec.id} role="img" aria-label=${`${s.spec.title} against the training step`}></div>
                </figure>`,
            )}
          </div>`}`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-charts': DuCharts;
  }
}
