// @vitest-environment happy-dom
// Charts: the bounded min/max decimation keeps every extreme and stays within its capacity, the CSV log keeps every
// row (and thins evenly past its budget), the log step axis leaves step 0 out, and <du-charts> hands uPlot the data
// and exports the CSV. happy-dom has no 2D canvas, so the component test gives uPlot a do-nothing context; pixels are
// checked in a real browser (see the report / ui-core's e2e tests).

import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type MetricsRow, metricsToCsv } from '../../src/report/metrics';
import '../../src/ui/panels/charts';
import type { DuCharts } from '../../src/ui/panels/charts';
import { chartData, chartSlices, rowValues } from '../../src/ui/panels/charts/chart-specs';
import { EnvelopeSeries, type Value } from '../../src/ui/panels/charts/envelope';
import { RowLog } from '../../src/ui/panels/charts/row-log';

function row(step: number, layers = 2, extra: Partial<MetricsRow> = {}): MetricsRow {
  return {
    step,
    elapsedSeconds: step / 100,
    loss: step === 0 ? null : 2 / (1 + step / 1000),
    stepsPerSecond: step === 0 ? null : 100 + (step % 7),
    skipped: 0,
    layers: Array.from({ length: layers }, (_, l) => ({ width: 64, dead: (step / 100 + l) % 65, dropped: 32, revived: l, everDead: 64 })),
    ...extra,
  };
}

describe('EnvelopeSeries', () => {
  it('keeps every row as a point until it is full', () => {
    const e = new EnvelopeSeries(1, 16);
    for (let i = 0; i < 15; i++) e.append(i, [i * i]);
    expect(e.x).toEqual(Array.from({ length: 15 }, (_, i) => i));
    expect(e.ys[0]).toEqual(Array.from({ length: 15 }, (_, i) => i * i));
    expect(e.rowsPerPoint).toBe(1);
  });

  it("never holds more than its capacity and keeps each bucket's min and max, in order (property of 100,000 rows)", () => {
    const capacity = 64;
    const e = new EnvelopeSeries(2, capacity);
    const a: number[] = [];
    const b: Value[] = [];
    let seed = 12345;
    const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    let longest = 0;
    for (let i = 0; i < 100_000; i++) {
      a.push(Math.sin(i / 300) + (i === 77_777 ? 50 : 0));
      b.push(i % 1000 === 0 ? null : rand());
      e.append(i, [a[i], b[i]]);
      longest = Math.max(longest, e.length);
    }
    expect(longest).toBeLessThanOrEqual(capacity + 1);
    expect(e.rows).toBe(100_000);
    // The spike survives any amount of decimation, and so do the global extremes.
    expect(Math.max(...(e.ys[0] as number[]))).toBe(Math.max(...a));
    expect(Math.min(...(e.ys[0] as number[]))).toBe(Math.min(...a));
    // Each committed pair is exactly the min and max of the rows between its x values.
    const per = e.rowsPerPoint * 2;
    for (let p = 0; p + 1 < e.length - 2; p += 2) {
      const [x0, x1] = [e.x[p], e.x[p + 1]];
      expect(x1 - x0 + 1).toBe(per);
      const span = a.slice(x0, x1 + 1);
      const lo = Math.min(...span);
      const hi = Math.max(...span);
      expect([e.ys[0][p], e.ys[0][p + 1]].sort((u, v) => (u as number) - (v as number))).toEqual([lo, hi]);
      const first = span.indexOf(lo) <= span.indexOf(hi) ? lo : hi;
      expect(e.ys[0][p]).toBe(first);
    }
    expect(e.x.every((x, i) => i === 0 || x >= e.x[i - 1])).toBe(true);
    expect(e.x[e.length - 1]).toBe(99_999);
  });

  it('keeps a series that is all null as null', () => {
    const e = new EnvelopeSeries(1, 8);
    for (let i = 0; i < 40; i++) e.append(i, [null]);
    expect(e.ys[0].every((v) => v === null)).toBe(true);
  });

  it('rejects steps that go backwards and a wrong number of values', () => {
    const e = new EnvelopeSeries(2, 8);
    e.append(5, [1, 2]);
    expect(() => e.append(4, [1, 2])).toThrow('x 4 is smaller than the previous x 5');
    expect(() => e.append(6, [1])).toThrow('1 values for 2 series');
  });
});

describe('RowLog', () => {
  it('gives back every row exactly, nulls included', () => {
    const log = new RowLog(2);
    const rows = [row(0), row(100), row(200, 2, { loss: Number.NaN }), row(300, 2, { loss: Number.POSITIVE_INFINITY, skipped: 3 })];
    for (const r of rows) log.append(r);
    expect(log.rows()).toEqual(rows);
    expect(metricsToCsv(log.rows())).toBe(metricsToCsv(rows));
  });

  it('thins evenly once its budget is full, never holding more than it allows', () => {
    const log = new RowLog(1, 10 * 20); // 20 rows of 10 numbers
    expect(log.maxRows).toBe(20);
    for (let i = 0; i < 100; i++) log.append(row(i * 10, 1));
    expect(log.stride).toBe(8);
    expect(log.rows().map((r) => r.step)).toEqual(Array.from({ length: 13 }, (_, i) => i * 80));
  });

  it('rejects a row of another shape', () => {
    const log = new RowLog(2);
    expect(() => log.append(row(0, 3))).toThrow('has 3 layers, the log 2');
  });
});

describe('chart data', () => {
  it('computes fractions per layer and leaves non-finite losses as gaps', () => {
    const slices = chartSlices(2);
    expect(slices.map((s) => [s.spec.id, s.start, s.labels.length])).toEqual([
      ['loss', 0, 1],
      ['dead', 1, 2],
      ['revived', 3, 2],
      ['dropped', 5, 2],
      ['speed', 7, 1],
    ]);
    const r = row(300, 2, { loss: Number.NaN });
    expect(rowValues(r, slices)).toEqual([null, 3 / 64, 4 / 64, 0, 1, 0.5, 0.5, 100 + (300 % 7)]);
  });

  it('drops step 0 on a log step axis only', () => {
    const slices = chartSlices(1);
    const x = [0, 10, 20];
    const ys: Value[][] = slices.flatMap((s) => s.labels.map(() => [1, 2, 3]));
    expect(chartData(x, ys, slices[1], false)).toEqual([x, [1, 2, 3]]);
    expect(chartData(x, ys, slices[1], false)[0]).toBe(x);
    expect(chartData(x, ys, slices[1], true)).toEqual([
      [10, 20],
      [2, 3],
    ]);
  });
});

describe('du-charts', () => {
  let saved: typeof HTMLCanvasElement.prototype.getContext;
  beforeAll(() => {
    saved = HTMLCanvasElement.prototype.getContext;
    // A 2D context (and Path2D) that accepts every call: uPlot draws into it, nothing is rendered.
    const noop = () => undefined;
    const ctx = new Proxy({} as Record<string | symbol, unknown>, {
      get: (t, k) => (k in t ? t[k] : k === 'measureText' ? () => ({ width: 10 }) : noop),
      set: (t, k, v) => ((t[k] = v), true),
    });
    HTMLCanvasElement.prototype.getContext = (() => ctx) as unknown as typeof saved;
    const hadPath2D = 'Path2D' in globalThis;
    if (!hadPath2D) {
      (globalThis as Record<string, unknown>).Path2D = class {
        constructor() {
          return new Proxy(this, { get: (t, k) => (k in t ? (t as Record<string | symbol, unknown>)[k] : noop) });
        }
      };
    }
    return () => {
      HTMLCanvasElement.prototype.getContext = saved;
      if (!hadPath2D) delete (globalThis as Record<string, unknown>).Path2D;
    };
  });
  afterEach(() => {
    document.body.innerHTML = '';
  });

  const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));

  async function mount(): Promise<DuCharts> {
    const charts = document.createElement('du-charts');
    document.body.append(charts);
    await charts.updateComplete;
    return charts;
  }

  it('shows a placeholder, then one uPlot chart per quantity with a series per layer', async () => {
    const charts = await mount();
    expect(charts.shadowRoot!.querySelector('.empty')!.textContent).toContain('first snapshot');
    expect((charts.shadowRoot!.querySelector('button') as HTMLButtonElement).disabled).toBe(true);
    charts.append([row(0, 3), row(100, 3)]);
    await charts.updateComplete;
    await frame();
    const plots = [...charts.shadowRoot!.querySelectorAll<HTMLElement>('.plot')];
    expect(plots.map((p) => p.dataset.chart)).toEqual(['loss', 'dead', 'revived', 'dropped', 'speed']);
    expect(plots.every((p) => p.querySelector('.uplot canvas'))).toBe(true);
    const legend = [...plots[1].querySelectorAll('.u-legend .u-series .u-label')].map((l) => l.textContent);
    expect(legend).toEqual(['step', 'layer 1', 'layer 2', 'layer 3']);
    expect(charts.shadowRoot!.querySelector('.info')!.textContent).toBe('2 snapshots');
  });

  it('exports every appended row as CSV, and forgets them on reset', async () => {
    const charts = await mount();
    const rows = Array.from({ length: 50 }, (_, i) => row(i * 100));
    charts.append(rows.slice(0, 20));
    charts.append(rows.slice(20));
    expect(charts.csv()).toBe(metricsToCsv(rows));
    charts.reset();
    await charts.updateComplete;
    expect(charts.rows()).toEqual([]);
    expect(charts.shadowRoot!.querySelector('.plot')).toBeNull();
  });

  it('saves the CSV from its button as a file (download.ts)', async () => {
    const charts = await mount();
    charts.csvName = 'run/7:metrics.csv';
    const rows = [row(0), row(100, 2, { loss: Number.NaN })];
    charts.append(rows);
    await charts.updateComplete;
    const saved: { blob: Blob; name: string }[] = [];
    const { createObjectURL, revokeObjectURL } = URL;
    let href = '';
    URL.createObjectURL = (blob: Blob) => ((href = `blob:test/${saved.length}`), saved.push({ blob, name: '' }), href);
    URL.revokeObjectURL = () => undefined;
    const click = HTMLAnchorElement.prototype.click;
    HTMLAnchorElement.prototype.click = function (this: HTMLAnchorElement) {
      expect(this.href).toBe(href);
      saved[saved.length - 1].name = this.download;
    };
    try {
      const button = [...charts.shadowRoot!.querySelectorAll('button')].find((b) => b.textContent!.trim() === 'CSV')!;
      expect(button.disabled).toBe(false);
      button.click();
    } finally {
      Object.assign(URL, { createObjectURL, revokeObjectURL });
      HTMLAnchorElement.prototype.click = click;
    }
    expect(saved).toHaveLength(1);
    expect(saved[0].name).toBe('run_7_metrics.csv');
    expect(saved[0].blob.type).toBe('text/csv;charset=utf-8');
    expect(await saved[0].blob.text()).toBe(metricsToCsv(rows));
    expect(document.querySelector('a')).toBeNull();
  });

  it('starts over when the layer count changes (a new run)', async () => {
    const charts = await mount();
    charts.append([row(0, 2), row(100, 2)]);
    charts.append([row(0, 4)]);
    expect(charts.rows()).toEqual([row(0, 4)]);
  });

  it('starts over when the step goes back (resumed from an earlier checkpoint), and keeps equal steps', async () => {
    const charts = await mount();
    charts.append([row(0), row(100), row(200)]);
    charts.append([row(100), row(100), row(300)]);
    expect(charts.rows().map((r) => r.step)).toEqual([100, 100, 300]);
  });

  it('draws its plots again when moved in the page', async () => {
    const charts = await mount();
    charts.append([row(0), row(100)]);
    await charts.updateComplete;
    const holder = document.createElement('div');
    document.body.append(holder);
    holder.append(charts);
    await charts.updateComplete;
    const plots = [...charts.shadowRoot!.querySelectorAll('.plot')];
    expect(plots).toHaveLength(5);
    expect(plots.every((p) => p.querySelectorAll('.uplot').length === 1)).toBe(true);
  });

  it('still appends DOM nodes like any element', async () => {
    const charts = await mount();
    const child = document.createElement('span');
    charts.append(child, 'text');
    expect(charts.firstChild).toBe(child);
    expect(charts.childNodes).toHaveLength(2);
  });

  it('switches the step axis to log scale from its checkbox', async () => {
    const charts = await mount();
    charts.append([row(0), row(10), row(1000)]);
    await charts.updateComplete;
    const toggle = charts.shadowRoot!.querySelector<HTMLInputElement>('input[type="checkbox"]')!;
    toggle.checked = true;
    toggle.dispatchEvent(new Event('change'));
    await charts.updateComplete;
    expect(charts.logStep).toBe(true);
    expect(charts.hasAttribute('log-step')).toBe(true);
    expect(charts.shadowRoot!.querySelector('.plot[data-chart="dead"] .u-axis')).not.toBeNull();
  });
});
