// Line charts as SVG text: small, diffable, viewable in any markdown viewer and browser, and rendered without a
// browser or a canvas. One chart = axes with "nice" ticks and labels, one colour per series, a legend.
// Browser-safe (no Node imports).

export interface ChartSeries {
  name: string;
  /** [x, y] points in x order; a null or non-finite y breaks the line there. */
  points: ReadonlyArray<readonly [number, number | null]>;
  /** CSS colour; defaults to SERIES_COLOURS by index. */
  colour?: string;
  dashed?: boolean;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  series: ChartSeries[];
  /** 'auto' uses a log scale when every y is > 0 and they span more than two decades. Default 'auto'. */
  yScale?: 'linear' | 'log' | 'auto';
  /** Force y to start at 0 (counts, percentages). */
  yFromZero?: boolean;
  width?: number;
  height?: number;
}

/** Okabe–Ito colours: distinguishable with the common colour-vision deficiencies. */
export const SERIES_COLOURS = ['#0072b2', '#d55e00', '#009e73', '#cc79a7', '#e69f00', '#56b4e9', '#f0e442', '#000000'];

const MARGIN = { left: 64, right: 16, top: 34, bottom: 44 };

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 × 10^k). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new RangeError(`ticks need a finite range, got [${min}, ${max}]`);
  if (max < min) [min, max] = [max, min];
  if (max === min) {
    const pad = min === 0 ? 1 : Math.abs(min) * 0.1;
    min -= pad;
    max += pad;
  }
  const raw = (max - min) / Math.max(1, count);
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * magnitude).find((s) => s >= raw)!;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/** Short tick label: 1.5k, 2M, 0.25, 1e-4. */
export function formatTick(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e9) return `${trim(v / 1e9)}G`;
  if (a >= 1e6) return `${trim(v / 1e6)}M`;
  if (a >= 1e4) return `${trim(v / 1e3)}k`;
  if (a < 1e-3) return v.toExponential(0);
  return trim(v);
}

function trim(v: number): string {
  return String(Number(v.toPrecision(3)));
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

function isY(v: number | null): v is number {
  return v !== null && Number.isFinite(v);
}

/** The chart as a standalone SVG document. Throws when no series has a point to draw. */
export function lineChartSvg(chart: LineChart): string {
  const width = chart.width ?? 720;
  // Tall enough for the legend (one row per series) to stay inside the plot.
  const height = chart.height ?? Math.max(300, MARGIN.top + MARGIN.bottom + 24 + chart.series.length * 14);
  const xs = chart.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = chart.series.flatMap((s) => s.points.map((p) => p[1]).filter(isY));
  if (xs.length === 0) throw new RangeError(`chart "${chart.title}" has no points`);
  const log =
    chart.yScale === 'log' || ((chart.yScale ?? 'auto') === 'auto' && ys.length > 0 && Math.min(...ys) > 0 && Math.max(...ys) / Math.min(...ys) > 100);
  if (log && ys.some((y) => y <= 0)) throw new RangeError(`chart "${chart.title}": a log scale needs y > 0`);

  const xTicks = niceTicks(Math.min(...xs), Math.max(...xs));
  let yTicks: number[];
  if (ys.length === 0) yTicks = [0, 1];
  else if (log) {
    const lo = Math.floor(Math.log10(Math.min(...ys)));
    const hi = Math.ceil(Math.log10(Math.max(...ys)));
    yTicks = Array.from({ length: hi - lo + 1 }, (_, i) => 10 ** (lo + i));
  } else yTicks = niceTicks(chart.yFromZero ? Math.min(0, ...ys) : Math.min(...ys), Math.max(...ys));

  const plotW = width - MARGIN.left - MARGIN.right;
  const plotH = height - MARGIN.top - MARGIN.bottom;
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const ty = (v: number) => (log ? Math.log10(v) : v);
  const [y0, y1] = [ty(yTicks[0]), ty(yTicks[yTicks.length - 1])];
  const px = (x: number) => MARGIN.left + (x1 === x0 ? plotW / 2 : ((x - x0) / (x1 - x0)) * plotW);
  const py = (y: number) => MARGIN.top + plotH - (y1 === y0 ? plotH / 2 : ((ty(y) - y0) / (y1 - y0)) * plotH);
  const f = (v: number) => v.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="11">`,
  );
  out.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  out.push(`<text x="${MARGIN.left}" y="18" font-size="13" font-weight="bold">${escapeXml(chart.title)}</text>`);
  // Grid and tick labels.
  for (const t of xTicks) {
    const x = f(px(t));
    out.push(`<line x1="${x}" y1="${MARGIN.top}" x2="${x}" y2="${MARGIN.top + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotH + 14}" text-anchor="middle">${escapeXml(formatTick(t))}</text>`);
  }
  for (const t of yTicks) {
    const y = f(py(t));
    out.push(`<line x1="${MARGIN.left}" y1="${y}" x2="${MARGIN.left + plotW}" y2="${y}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 6}" y="${y}" text-anchor="end" dominant-baseline="middle">${escapeXml(formatTick(t))}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#888888"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">${escapeXml(chart.xLabel)}</text>`);
  out.push(
    `<text transform="translate(14 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">${escapeXml(chart.yLabel + (log ? ' (log scale)' : ''))}</text>`,
  );

  // Lines; a missing or non-finite y starts a new segment. A lone point gets a dot so it stays visible.
  chart.series.forEach((s, i) => {
    const colour = s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length];
    let d = '';
    let run = 0;
    const dots: string[] = [];
    let last: readonly [number, number] | null = null;
    const flush = () => {
      if (run === 1 && last) dots.push(`<circle cx="${f(px(last[0]))}" cy="${f(py(last[1]))}" r="2" fill="${colour}"/>`);
      run = 0;
    };
    for (const [x, y] of s.points) {
      if (!isY(y)) {
        flush();
        continue;
      }
      d += `${run === 0 ? 'M' : 'L'}${f(px(x))} ${f(py(y))}`;
      last = [x, y];
      run++;
    }
    flush();
    if (d) out.push(`<path d="${d}" fill="none" stroke="${colour}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`);
    out.push(...dots);
  });

  // Legend, top right, one row per series, on a white panel so it stays legible over the lines.
  const legendX = MARGIN.left + plotW - 8;
  const longest = Math.max(...chart.series.map((s) => s.name.length));
  const panelW = 34 + longest * 6.5;
  out.push(
    `<rect x="${f(legendX - panelW)}" y="${MARGIN.top + 4}" width="${f(panelW + 4)}" height="${chart.series.length * 14 + 2}" fill="#ffffff" fill-opacity="0.85"/>`,
  );
  chart.series.forEach((s, i) => {
    const colour = s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length];
    const y = MARGIN.top + 12 + i * 14;
    out.push(
      `<line x1="${legendX - 22}" y1="${y}" x2="${legendX - 4}" y2="${y}" stroke="${colour}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 3"' : ''}/>`,
    );
    out.push(`<text x="${legendX - 26}" y="${y}" text-anchor="end" dominant-baseline="middle" fill="#333333">${escapeXml(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
