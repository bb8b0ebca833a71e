// <du-app>: the simulator's shell. A toolbar (start / pause / step / reset with the run's estimate on this adapter,
// snapshot interval and steps per frame, which may change while running, checkpoint export), a status line (with what
// the GPU is doing when that takes more than a second), the run configuration form, the plain-language answer, one panel per
// hidden layer (unit map + timeline raster) and the charts. The engine runs in a Worker owned by a TrainingController;
// this element only turns its events into properties of the panels and user actions into commands.
//
// The run configuration lives in the URL (src/ui/url-state.ts): read at start, replaced on every change, so copying the
// URL reproduces the run. `spf` (an optional cap on steps per frame: chunks are otherwise sized by time) is a page
// parameter kept beside it.
import { css, html, LitElement, nothing, type TemplateResult, unsafeCSS } from 'lit';
import { customElement, state } from 'lit/decorators.js';
import { parseRunConfig, type RunConfig } from '../config';
import type { RunEstimate } from '../engine/run-estimate';
import type { AdapterSummary } from '../gpu/device';
import type { MetricsRow } from '../report/metrics';
import { estimateLine, estimateWarning, formatSeconds } from '../report/run-estimate-text';
import type { SeedAnswerInput } from '../report/seed-answer';
import { TaskEnds } from '../report/tasks';
import { NOT_MEASURED, STATE_COLORS, STATE_NAMES, UNIT_STATES } from '../report/unit-states';
import { downloadBlob } from './download';
import './no-webgpu';
import './panels/charts';
import type { DuCharts } from './panels/charts';
import './panels/config-form';
import type { ConfigChangeDetail, DataFilesDetail } from './panels/config-form';
import { PageDataFiles, type DataFilesOutcome } from './data-files';
import './panels/seed-answer-panel';
import { kernelsFromUrl, PAGE_PARAMS, parseStepsPerFrameCap, parseToolbarInteger, stepsPerFrameFromUrl, urlWithStepsPerFrame } from './page-params';
import { MAX_SNAPSHOT_EVERY, MAX_STEPS_PER_FRAME, type RunState, type WorkerEvent, type WorkProgress } from './protocol';
import { controlStyles } from './styles';
import './timeline/timeline';
import type { DuTimeline } from './timeline/timeline';
import { TrainingController } from './training-controller';
import './unit-map/unit-map';
import type { DuUnitMap, OrderChangeDetail, UnitHoverDetail, UnitInfo } from './unit-map/unit-map';
import { configFromUrl, urlWithConfig } from './url-state';

const DEFAULT_SNAPSHOT_EVERY = 100;
/** Least time between two chart updates. */
const CHART_INTERVAL_MS = 500;

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * "running step 12 and a snapshot · 14 s of ≈ 57 s", "taking the snapshot of step 0 · probe rows 48 of 4,096 measured · 3.0 s
 * of ≈ 50 s"; a chunk still
 * on the GPU after Pause is "finishing".
 */
function progressText(p: WorkProgress, running: boolean): string {
  const time = formatSeconds(p.elapsedSeconds) + (p.expectedSeconds === null ? '' : ` of ≈ ${formatSeconds(p.expectedSeconds)}`);
  if (p.kind === 'snapshot') {
    const rows = p.probe ? ` · probe rows ${fmt(p.probe.measured)} of ${fmt(p.probe.rows)} measured` : '';
    return `taking the snapshot of step ${fmt(p.to)}${rows} · ${time}`;
  }
  const steps = p.to - p.from === 1 ? `step ${fmt(p.to)}` : `steps ${fmt(p.from + 1)}–${fmt(p.to)} (${fmt(p.done)} done)`;
  const snapshots = p.snapshots === 0 ? '' : p.snapshots === 1 ? ' and a snapshot' : ` and ${fmt(p.snapshots)} snapshots`;
  return `${running ? 'running' : 'finishing'} ${steps}${snapshots} · ${time}`;
}

const STATE_TEXT: Record<RunState, string> = {
  starting: 'building the network…',
  paused: 'paused',
  running: 'training',
  finished: 'finished',
  lost: 'GPU device lost',
  failed: 'stopped by a GPU error',
  error: 'stopped by an error',
};

/**
 * The simulator page. Fires no events of its own; everything it shows comes from the engine Worker.
 */
@customElement('du-app')
export class DuApp extends LitElement {
  @state() private config: RunConfig;
  @state() private snapshotEvery: number;
  /** The user's cap on steps per chunk of training; null: chunks sized by time alone. */
  @state() private stepsPerFrame: number | null;
  @state() private notices: string[] = [];
  /** The data files' line in the form: what was loaded, or what a reload needs. */
  @state() private dataMessage = '';
  @state() private runState: RunState = 'starting';
  @state() private step = 0;
  @state() private stepsPerSecond: number | null = null;
  @state() private adapter: AdapterSummary | null = null;
  @state() private widths: number[] = [];
  @state() private seedInput: SeedAnswerInput | null = null;
  /** A non-stationary run: the end of each task so far, from the metrics rows (the answer's task findings). */
  private taskEnds: TaskEnds | null = null;
  @state() private error: string | null = null;
  @state() private noWebGpu: string | null = null;
  @state() private lost: { message: string; resumeStep: number | null } | null = null;
  /** A GPU error stopped the run: nothing after its last good snapshot is shown. */
  @state() private failure: { message: string; lastGoodStep: number; resumeStep: number | null } | null = null;
  /** What the engine says about this run when it is built (e.g. device-loss recovery off for a large net). */
  @state() private runNotice: string | null = null;
  @state() private orders = new Map<number, Uint32Array>();
  @state() private unitInfo: UnitInfo | null = null;
  @state() private snapshotStep: number | null = null;
  @state() private coalesced = 0;
  @state() private toolbarErrors: { every?: string; spf?: string } = {};
  @state() private saving = false;
  /** What the run costs on this adapter (from the worker, once the run is built); null before, or unknown. */
  @state() private estimate: RunEstimate | null = null;
  /** GPU work running for more than a second; null when none. */
  @state() private progress: WorkProgress | null = null;

  private readonly engine = new TrainingController(this, (event) => this.onEngineEvent(event));
  private readonly dataFiles = new PageDataFiles(this.engine);
  private chartRows: MetricsRow[] = [];
  private chartTimer: ReturnType<typeof setTimeout> | null = null;
  private lastChartFlush = -Infinity;

  static override styles = [
    controlStyles,
    css`
      :host {
        display: block;
        min-height: 100vh;
        color: var(--du-fg);
      }
      .top {
        position: sticky;
        top: 0;
        z-index: 5;
        background: var(--du-surface);
        border-bottom: 1px solid var(--du-border);
        padding: 8px 16px;
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 8px 20px;
      }
      .brand h1 {
        font-size: 18px;
        margin: 0;
        letter-spacing: -0.01em;
      }
      .brand p {
        margin: 0;
        font-size: 12px;
        color: var(--du-muted);
      }
      .toolbar {
        display: flex;
        flex-wrap: wrap;
        align-items: center;
        gap: 6px 10px;
      }
      .toolbar .group {
        display: flex;
        align-items: center;
        gap: 6px;
      }
      .toolbar label {
        font-size: 12px;
        color: var(--du-muted);
        display: flex;
        align-items: center;
        gap: 4px;
      }
      .field-error {
        color: var(--du-error);
        font-size: 12px;
      }
      .status {
        width: 330px;
        font-size: 12px;
        color: var(--du-muted);
        font-variant-numeric: tabular-nums;
        margin-left: auto;
        text-align: right;
      }
      .status b {
        color: var(--du-fg);
      }
      .status .progress {
        color: var(--du-fg);
      }
      .estimate {
        font-size: 12px;
        color: var(--du-muted);
        font-variant-numeric: tabular-nums;
        max-width: 430px;
      }
      .estimate.slow {
        color: #9a5b00;
      }
      .status .state-running {
        color: #1e7a45;
      }
      .status .state-lost,
      .status .state-error {
        color: var(--du-error);
      }
      .banners {
        padding: 0 16px;
      }
      .banner {
        margin: 10px 0 0;
        padding: 8px 12px;
        border-radius: 6px;
        border: 1px solid var(--du-border);
        background: #fff8e6;
        font-size: 13px;
        display: flex;
        align-items: center;
        gap: 12px;
      }
      .banner.error {
        background: #fbeeed;
        border-color: #efc7c4;
        color: var(--du-error);
      }
      .layout {
        display: grid;
        grid-template-columns: minmax(300px, 360px) minmax(0, 1fr);
        gap: 16px;
        padding: 12px 16px 24px;
        align-items: start;
      }
      /* Layout containment: text that changes every frame (status, counts) and the charts' own measuring then lay out
         their own box, not the whole page with its large form. */
      aside,
      .card,
      .status {
        contain: content;
      }
      aside {
        position: sticky;
        top: 64px;
        max-height: calc(100vh - 80px);
        overflow: auto;
        background: var(--du-surface);
        border: 1px solid var(--du-border);
        border-radius: 8px;
        padding: 10px;
      }
      main {
        display: flex;
        flex-direction: column;
        gap: 12px;
        min-width: 0;
      }
      .card {
        background: var(--du-surface);
        border: 1px solid var(--du-border);
        border-radius: 8px;
        padding: 10px 12px;
      }
      .card h2 {
        font-size: 12px;
        font-weight: 600;
        text-transform: uppercase;
        letter-spacing: 0.04em;
        color: var(--du-muted);
        margin: 0 0 8px;
      }
      .legend {
        display: flex;
        flex-wrap: wrap;
        gap: 4px 16px;
        font-size: 12px;
        color: var(--du-muted);
        align-items: center;
      }
      .legend .key {
        display: inline-flex;
        align-items: center;
        gap: 5px;
        color: var(--du-fg);
      }
      .swatch {
        display: inline-block;
        width: 12px;
        height: 12px;
        border-radius: 3px;
        border: 1px solid rgba(0, 0, 0, 0.12);
      }
      ${unsafeCSS(STATE_NAMES.map((s) => `.swatch.${s} { background: ${STATE_COLORS[s]}; }`).join('\n'))}
      ${unsafeCSS(`.swatch.${NOT_MEASURED.name} { background: ${NOT_MEASURED.colour}; }`)}
      .layers {
        display: grid;
        grid-template-columns: repeat(auto-fill, minmax(380px, 1fr));
        gap: 12px;
      }
      .layer du-timeline {
        margin-top: 8px;
      }
      footer {
        padding: 0 16px 16px;
        font-size: 12px;
        color: var(--du-muted);
      }
      @media (max-width: 900px) {
        .layout {
          grid-template-columns: 1fr;
        }
        aside {
          position: static;
          max-height: none;
        }
      }
    `,
  ];

  constructor() {
    super();
    const fromUrl = configFromUrl(location.search, { ignore: PAGE_PARAMS });
    const spf = stepsPerFrameFromUrl(location.search);
    this.config = fromUrl.config;
    this.snapshotEvery = fromUrl.config.snapshot.every || DEFAULT_SNAPSHOT_EVERY;
    this.stepsPerFrame = spf.value;
    this.notices = [fromUrl.error, spf.error, kernelsFromUrl(location.search).error].filter((e): e is string => !!e);
    // A run on the user's files starts once the Worker has them (from this browser's store, or chosen again).
    if (this.dataFiles.ready(this.config)) this.engine.configure(this.config, this.snapshotEvery, this.stepsPerFrame);
    else void this.useData(this.dataFiles.restore(this.config));
  }

  /** Runs what a data-file load gave (a config to run, and a line for the form), or just shows its message. */
  private async useData(outcome: Promise<DataFilesOutcome>): Promise<void> {
    const { config, message } = await outcome;
    this.dataMessage = message;
    if (!config) return;
    this.config = config;
    this.writeUrl();
    this.engine.configure(this.config, this.snapshotEvery, this.stepsPerFrame);
  }

  private onDataFiles(event: CustomEvent<DataFilesDetail>): void {
    const { inputs, targets } = event.detail;
    this.dataMessage = `Reading ${[inputs.name, targets?.name].filter(Boolean).join(' and ')}…`;
    void this.useData(this.dataFiles.choose(event.detail, this.config));
  }

  // ------------------------------------------------------------------------------------------------------------------
  // Engine events

  private onEngineEvent(event: WorkerEvent): void {
    switch (event.type) {
      case 'ready':
        this.adapter = event.adapter;
        this.lost = null;
        this.failure = null;
        this.error = null;
        this.runNotice = event.notice;
        this.step = event.step;
        if (!event.resumed) {
          this.widths = event.widths;
          this.seedInput = null;
          this.taskEnds = this.config.tasks.every > 0 ? new TaskEnds(this.config.tasks.every) : null;
          this.snapshotStep = null;
          this.coalesced = 0;
          this.orders = new Map();
          this.unitInfo = null;
          this.dropChartRows();
          this.charts()?.reset();
          for (const t of this.timelines()) t.reset();
          for (const m of this.maps()) m.clear();
          // Order subscriptions do not survive a rebuild: ask again for the maps that show one.
          void this.updateComplete.then(() => this.maps().forEach((m) => m.orderByDeath && this.engine.setOrder(m.layer, true)));
        }
        return;
      case 'state':
        if (event.state !== 'running') this.flushChartRows();
        if (event.state === 'starting') this.estimate = null;
        this.runState = event.state;
        this.step = event.step;
        this.stepsPerSecond = event.stepsPerSecond;
        this.snapshotEvery = event.snapshotEvery;
        this.stepsPerFrame = event.stepsPerFrame;
        return;
      case 'partial':
        // The step-0 snapshot still being measured: each map shows the units proven alive so far.
        // (After the maps for a new run's widths were rendered: the partial may come right behind `ready`.)
        void this.updateComplete.then(() => {
          if (this.snapshotStep === null) event.layers.forEach((layer, l) => this.maps()[l]?.showPartial(layer, event.rowsMeasured, event.probeRows));
        });
        return;
      case 'frame':
        this.applyFrame(event);
        return;
      case 'progress':
        this.progress = event.work;
        return;
      case 'estimate':
        this.estimate = event.estimate;
        return;
      case 'summary':
        this.seedInput = { config: this.config, step: event.step, layers: event.layers, ...(this.taskEnds ? { tasks: this.taskEnds.list() } : {}) };
        return;
      case 'order': {
        const orders = new Map(this.orders);
        orders.set(event.layer, event.permutation);
        this.orders = orders;
        return;
      }
      case 'unit-info':
        this.unitInfo = { layer: event.layer, unit: event.unit, step: event.step, record: event.record };
        return;
      case 'checkpoint':
        return;
      case 'device-lost':
        this.lost = { message: event.message, resumeStep: event.resumeStep };
        return;
      case 'run-failed':
        this.failure = { message: event.message, lastGoodStep: event.lastGoodStep, resumeStep: event.resumeStep };
        return;
      case 'error':
        if (event.noWebGpu) this.noWebGpu = event.message;
        else this.error = event.message;
        return;
    }
  }

  private applyFrame(frame: Extract<WorkerEvent, { type: 'frame' }>): void {
    this.queueChartRows(frame.rows);
    for (const row of frame.rows) this.taskEnds?.push(row);
    const timelines = this.timelines();
    for (const column of frame.columns) column.layers.forEach((bytes, l) => timelines[l]?.appendColumn(column.step, bytes));
    if (frame.snapshot) {
      const maps = this.maps();
      frame.snapshot.layers.forEach((layer, l) => maps[l]?.show(layer, frame.snapshot!.step));
      this.snapshotStep = frame.snapshot.step;
    }
    this.coalesced += frame.coalesced;
  }

  /**
   * Charts take rows at most CHART_INTERVAL_MS apart: redrawing five plots is the costliest thing the page does per
   * frame, and a chart does not need to move at the display rate (the maps do).
   */
  private queueChartRows(rows: readonly MetricsRow[]): void {
    this.chartRows.push(...rows);
    if (this.chartTimer !== null || this.chartRows.length === 0) return;
    const wait = Math.max(0, this.lastChartFlush + CHART_INTERVAL_MS - performance.now());
    this.chartTimer = setTimeout(() => this.flushChartRows(), wait);
  }

  private flushChartRows(): void {
    if (this.chartTimer !== null) clearTimeout(this.chartTimer);
    this.chartTimer = null;
    this.lastChartFlush = performance.now();
    const rows = this.chartRows;
    this.chartRows = [];
    if (rows.length) this.charts()?.appendRows(rows);
  }

  private dropChartRows(): void {
    if (this.chartTimer !== null) clearTimeout(this.chartTimer);
    this.chartTimer = null;
    this.chartRows = [];
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.dropChartRows();
  }

  private charts(): DuCharts | null {
    return this.renderRoot.querySelector('du-charts');
  }

  private maps(): DuUnitMap[] {
    return [...this.renderRoot.querySelectorAll('du-unit-map')];
  }

  private timelines(): DuTimeline[] {
    return [...this.renderRoot.querySelectorAll('du-timeline')];
  }

  // ------------------------------------------------------------------------------------------------------------------
  // User actions

  private onConfigChange(event: CustomEvent<ConfigChangeDetail>): void {
    this.config = event.detail.config;
    if (this.config.snapshot.every > 0) this.snapshotEvery = this.config.snapshot.every;
    this.writeUrl();
    // An imported run on files the Worker does not hold: from this browser's store, or asked for by name.
    if (!this.dataFiles.ready(this.config)) void this.useData(this.dataFiles.restore(this.config));
    else this.engine.configure(this.config, this.snapshotEvery, this.stepsPerFrame);
  }

  private writeUrl(): void {
    history.replaceState(null, '', urlWithConfig(this.config, location.href, { ignore: PAGE_PARAMS }));
  }

  private onSnapshotEvery(event: Event): void {
    const input = event.target as HTMLInputElement;
    const parsed = parseToolbarInteger(input.value, Math.min(MAX_SNAPSHOT_EVERY, this.config.steps), 'snapshot interval');
    this.toolbarErrors = { ...this.toolbarErrors, every: parsed.error };
    if (parsed.value === undefined || parsed.value === this.snapshotEvery) return;
    this.snapshotEvery = parsed.value;
    // The interval is part of the run's configuration (and so of its URL); it does not change what is trained.
    this.config = parseRunConfig({ ...this.config, snapshot: { ...this.config.snapshot, every: parsed.value } });
    this.writeUrl();
    this.engine.setOptions({ snapshotEvery: parsed.value });
  }

  private onStepsPerFrame(event: Event): void {
    const input = event.target as HTMLInputElement;
    const parsed = parseStepsPerFrameCap(input.value, MAX_STEPS_PER_FRAME);
    this.toolbarErrors = { ...this.toolbarErrors, spf: parsed.error };
    if (parsed.value === undefined || parsed.value === this.stepsPerFrame) return;
    this.stepsPerFrame = parsed.value;
    history.replaceState(null, '', urlWithStepsPerFrame(location.href, parsed.value));
    this.engine.setOptions({ stepsPerFrame: parsed.value });
  }

  private onUnitHover(event: CustomEvent<UnitHoverDetail>): void {
    if (event.detail.unit !== null) this.engine.requestUnitInfo(event.detail.layer, event.detail.unit);
  }

  private onOrderChange(event: CustomEvent<OrderChangeDetail>): void {
    this.engine.setOrder(event.detail.layer, event.detail.byDeath);
  }

  private async saveCheckpoint(): Promise<void> {
    this.saving = true;
    try {
      const { bytes, step } = await this.engine.checkpoint();
      downloadBlob(new Blob([bytes as BlobPart], { type: 'application/octet-stream' }), `checkpoint-${String(step).padStart(10, '0')}.safetensors`);
    } catch (error) {
      this.error = `Checkpoint: ${error instanceof Error ? error.message : String(error)}`;
    } finally {
      this.saving = false;
    }
  }

  /** Makes the engine lose its GPU device (the end-to-end test of the recovery path). */
  loseDeviceForTest(): void {
    this.engine.loseDevice();
  }

  /** Makes the run's next chunk fail on the GPU (the end-to-end test of the GPU-error path). */
  forceGpuErrorForTest(): void {
    this.engine.forceGpuError();
  }

  // ------------------------------------------------------------------------------------------------------------------

  override updated(): void {
    // For scripts and tests: the run's state and step on the element itself.
    this.dataset.state = this.runState;
    this.dataset.step = String(this.step);
    this.dataset.snapshotStep = this.snapshotStep === null ? '' : String(this.snapshotStep);
    this.dataset.stepsPerSecond = this.stepsPerSecond === null ? '' : String(this.stepsPerSecond);
  }

  private renderToolbar(): TemplateResult {
    const s = this.runState;
    const running = s === 'running';
    const canTrain = s === 'paused';
    return html`<div class="toolbar" role="toolbar" aria-label="Run controls">
      <div class="group">
        ${running
          ? html`<button type="button" class="primary" data-action="pause" @click=${() => this.engine.pause()}>Pause</button>`
          : html`<button type="button" class="primary" data-action="start" ?disabled=${!canTrain} @click=${() => this.engine.run()}>Start</button>`}
        <button
          type="button"
          data-action="step"
          ?disabled=${!canTrain}
          @click=${() => this.engine.step()}
          title=${`Train to the next snapshot (${fmt(this.snapshotEvery)} steps at most), then pause`}
        >
          Step
        </button>
        <button
          type="button"
          data-action="reset"
          ?disabled=${s === 'starting' || s === 'lost'}
          @click=${() => this.engine.reset()}
          title="Back to step 0 (the same seed gives the same run)"
        >
          Reset
        </button>
        ${this.renderEstimate()}
      </div>
      <div class="group">
        <label
          >snapshot every
          <input
            type="number"
            name="snapshotEvery"
            min="1"
            .value=${String(this.snapshotEvery)}
            aria-invalid=${this.toolbarErrors.every ? 'true' : 'false'}
            aria-describedby="every-error"
            @change=${this.onSnapshotEvery}
          />
          steps</label
        >
        <label title="The most steps trained between two updates of the page. Empty: as many as take about half a second."
          >steps per frame
          <input
            type="number"
            name="stepsPerFrame"
            min="1"
            placeholder="auto"
            .value=${this.stepsPerFrame === null ? '' : String(this.stepsPerFrame)}
            aria-invalid=${this.toolbarErrors.spf ? 'true' : 'false'}
            aria-describedby="spf-error"
            @change=${this.onStepsPerFrame}
          />
        </label>
        <span class="field-error" id="every-error" role="alert">${this.toolbarErrors.every ?? ''}</span>
        <span class="field-error" id="spf-error" role="alert">${this.toolbarErrors.spf ?? ''}</span>
      </div>
      <div class="group">
        <button
          type="button"
          data-action="checkpoint"
          ?disabled=${this.saving || s === 'starting' || s === 'lost' || s === 'error'}
          @click=${this.saveCheckpoint}
          title="Save the run's state as a safetensors checkpoint (the CLI's format: deadunits resume reads it)"
        >
          ${this.saving ? 'Saving…' : 'Checkpoint'}
        </button>
      </div>
    </div>`;
  }

  /** Next to Start: what a step, 1,000 steps and a snapshot take on this adapter, and the memory; a warning when slow. */
  private renderEstimate(): TemplateResult | typeof nothing {
    const e = this.estimate;
    if (!e) return nothing;
    const slow = estimateWarning(e) !== null;
    return html`<span
      class="estimate ${slow ? 'slow' : ''}"
      data-estimate
      data-step-seconds=${String(e.stepSeconds)}
      data-snapshot-seconds=${String(e.snapshotSeconds)}
      title="Estimated from the network's arithmetic and memory traffic and this adapter's measured speed"
      >${estimateLine(e, this.snapshotEvery)}</span
    >`;
  }

  private renderStatus(): TemplateResult {
    const s = this.runState;
    const rate = this.stepsPerSecond;
    return html`<div class="status" aria-live="polite">
      <div>
        <span class="state-${s}" data-run-state>${STATE_TEXT[s]}</span> · step <b data-step>${fmt(this.step)}</b> /
        ${fmt(this.config.steps)}${rate !== null && s === 'running'
          ? html` · <b>${rate >= 100 ? fmt(Math.round(rate)) : rate.toPrecision(3)}</b> steps/s`
          : nothing}
      </div>
      <div>
        ${this.snapshotStep === null ? 'no snapshot yet' : `snapshot at step ${fmt(this.snapshotStep)}`}${this.coalesced
          ? ` · ${fmt(this.coalesced)} maps not drawn (coalesced)`
          : ''}
      </div>
      ${this.progress
        ? html`<div class="progress" data-progress data-kind=${this.progress.kind} data-from=${this.progress.from} data-to=${this.progress.to}>
            ${progressText(this.progress, s === 'running')}
          </div>`
        : nothing}
    </div>`;
  }

  private renderBanners(): TemplateResult {
    const lost = this.lost;
    const slow = this.estimate && estimateWarning(this.estimate);
    return html`<div class="banners">
      ${this.notices.map((n) => html`<p class="banner" role="status">${n}</p>`)}
      ${this.runNotice ? html`<p class="banner" role="status" data-run-notice>${this.runNotice}</p>` : nothing}
      ${this.failure
        ? html`<p class="banner error" role="alert" data-run-failed>
            The run stopped: ${this.failure.message} The page shows the run as it was at step ${fmt(this.failure.lastGoodStep)}.
            ${this.failure.resumeStep === null
              ? nothing
              : html`<button type="button" class="primary" data-action="resume" @click=${() => this.engine.resume()}>
                  Resume from step ${fmt(this.failure.resumeStep)}
                </button>`}
          </p>`
        : nothing}
      ${slow ? html`<p class="banner" role="status" data-estimate-warning>${slow}</p>` : nothing}
      ${this.error
        ? html`<p class="banner error" role="alert">${this.error}<button type="button" @click=${() => (this.error = null)}>Dismiss</button></p>`
        : nothing}
      ${lost
        ? html`<p class="banner error" role="alert" data-device-lost>
            ${lost.message}
            ${lost.resumeStep === null
              ? html`No state was saved yet.
                  <button type="button" class="primary" data-action="resume" @click=${() => this.engine.resume()}>Start over on a new device</button>`
              : html`<button type="button" class="primary" data-action="resume" @click=${() => this.engine.resume()}>
                  Resume from step ${fmt(lost.resumeStep)}
                </button>`}
          </p>`
        : nothing}
    </div>`;
  }

  /** Why there is no answer: the run failed on the GPU, or could not be built (its numbers, if any, are another run's). */
  private answerFailure(): string | null {
    if (this.failure) return this.failure.message;
    if (this.runState === 'error') return this.error ?? 'The run could not be built.';
    return null;
  }

  private renderLayers(): TemplateResult {
    return html`<div class="layers">
      ${this.widths.map(
        (width, i) =>
          html`<article class="card layer">
            <du-unit-map
              .layer=${i + 1}
              .width=${width}
              .order=${this.orders.get(i + 1) ?? null}
              .unitInfo=${this.unitInfo}
              @unit-hover=${this.onUnitHover}
              @order-change=${this.onOrderChange}
            ></du-unit-map>
            <du-timeline .layer=${i + 1} .width=${width}></du-timeline>
          </article>`,
      )}
    </div>`;
  }

  override render(): TemplateResult {
    if (this.noWebGpu !== null) return html`<du-no-webgpu .reason=${this.noWebGpu}></du-no-webgpu>`;
    const a = this.adapter;
    return html`<header class="top">
        <div class="brand">
          <h1>deadunits</h1>
          <p>Dead, dropped and revived units of ReLU networks trained with dropout, on your GPU</p>
        </div>
        ${this.renderToolbar()} ${this.renderStatus()}
      </header>
      ${this.renderBanners()}
      <div class="layout">
        <aside aria-label="Run configuration">
          <du-config-form
            .config=${this.config}
            .running=${this.runState === 'running'}
            .dataMessage=${this.dataMessage}
            @config-change=${this.onConfigChange}
            @data-files=${this.onDataFiles}
          ></du-config-form>
        </aside>
        <main>
          <section class="card"><du-seed-answer .input=${this.seedInput} .failure=${this.answerFailure()}></du-seed-answer></section>
          <section class="card legend" aria-label="Colour legend">
            <span>Each cell is one unit, at the latest snapshot:</span>
            ${UNIT_STATES.map((s) => html`<span class="key"><span class="swatch ${s.name}"></span>${s.label}</span>`)}
            <span class="key" data-key=${NOT_MEASURED.name}><span class="swatch ${NOT_MEASURED.name}"></span>${NOT_MEASURED.label}</span>
            <span
              >${UNIT_STATES.filter((s) => s.meaning)
                .map((s) => `${s.name} = ${s.meaning}`)
                .join('; ')};
              ${NOT_MEASURED.label} = ${NOT_MEASURED.meaning}.</span
            >
          </section>
          ${this.renderLayers()}
          <section class="card">
            <h2>Metrics</h2>
            <du-charts csv-name="deadunits-metrics.csv" .taskEvery=${this.config.tasks.every}></du-charts>
          </section>
        </main>
      </div>
      <footer>
        ${a
          ? html`WebGPU adapter:
            ${[a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' / ')}${a.isSoftware
              ? ' — a software adapter, 100–1000× slower than a GPU'
              : ''}.`
          : 'Looking for a WebGPU adapter…'}
      </footer>`;
  }
}

declare global {
  interface HTMLElementTagNameMap {
    'du-app': DuApp;
  }
}
