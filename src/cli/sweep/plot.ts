// The sweep's summary plot as SVG (text stays sharp, and any browser or image viewer opens it): the fraction of
// hidden units dead at the end of each run (solid) and ever dead (dashed) against the first grid axis that varies
// (other than seed), one line per combination of the remaining axes, averaged over seeds.
import type { PointResult, SweepManifest } from './folder';
import type { GridValue } from './spec';

const WIDTH = 860;
const HEIGHT = 480;
const MARGIN = { left: 70, right: 270, top: 56, bottom: 56 };
/** Legend labels longer than this are cut (summary.csv has every value). */
const LEGEND_CHARS = 34;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
const MAX_SERIES = COLORS.length;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const show = (v: GridValue) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v));

interface Series {
  label: string;
  /** x key → dead fractions and ever-dead fractions over seeds. */
  points: Map<string, { x: GridValue; dead: number[]; ever: number[] }>;
}

function fractions(r: PointResult): { dead: number; ever: number } | null {
  const width = r.layers.reduce((s, l) => s + l.width, 0);
  if (width === 0) return null;
  return { dead: r.layers.reduce((s, l) => s + l.deadNow, 0) / width, ever: r.layers.reduce((s, l) => s + l.everDead, 0) / width };
}

const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;

/** A path's short name for the legend: its last field, or the one before a trailing `kind` (activation, optimizer). */
function shortName(path: string): string {
  const names = path.split('.').map((n) => n.replace(/\[.*\]$/, ''));
  const last = names[names.length - 1];
  return last === 'kind' && names.length > 1 ? names[names.length - 2] : last;
}

export function summaryPlotSvg(manifest: SweepManifest, results: Map<string, PointResult>): string {
  const axes = manifest.axes;
  const varying = axes.map((a, i) => ({ ...a, i })).filter((a) => new Set(a.values.map(String)).size > 1);
  const xAxis = varying.find((a) => a.path !== 'seed') ?? varying[0] ?? { path: 'point', values: [], i: -1 };
  const groupAxes = axes.map((a, i) => ({ ...a, i })).filter((a) => a.i !== xAxis.i && a.path !== 'seed' && new Set(a.values.map(String)).size > 1);
  const seeds = axes.find((a) => a.path === 'seed')?.values.length ?? 1;

  const series = new Map<string, Series>();
  for (const p of manifest.points) {
    const r = results.get(p.id);
    const f = r ? fractions(r) : null;
    if (!f) continue;
    const label = groupAxes.map((a) => `${shortName(a.path)}=${show(p.overrides[a.i][1])}`).join(', ') || 'all points';
    let s = series.get(label);
    if (!s) series.set(label, (s = { label, points: new Map() }));
    const x = xAxis.i >= 0 ? p.overrides[xAxis.i][1] : p.index;
    const key = String(x);
    let point = s.points.get(key);
    if (!point) s.points.set(key, (point = { x, dead: [], ever: [] }));
    point.dead.push(f.dead);
    point.ever.push(f.ever);
  }

  // x scale: numeric (log when positive and spanning 20x or more) or categorical in grid order.
  const xValues = xAxis.i >= 0 ? xAxis.values : manifest.points.map((p) => p.index);
  const numeric = xValues.every((v) => typeof v === 'number');
  const nums = xValues as number[];
  const log = numeric && nums.every((v) => v > 0) && Math.max(...nums) / Math.min(...nums) >= 20;
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  // Points keep a little room from the frame.
  const padX = 24;
  const innerW = plotW - 2 * padX;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const distinct = [...new Map(xValues.map((v) => [String(v), v])).values()];
  let xPos: (v: GridValue) => number;
  if (numeric && distinct.length > 1) {
    const t = (v: number) => (log ? Math.log10(v) : v);
    const lo = Math.min(...nums.map(t));
    const hi = Math.max(...nums.map(t));
    xPos = (v) => MARGIN.left + padX + (hi === lo ? innerW / 2 : ((t(v as number) - lo) / (hi - lo)) * innerW);
  } else {
    const order = distinct.map(String);
    xPos = (v) => MARGIN.left + padX + (distinct.length === 1 ? innerW / 2 : (order.indexOf(String(v)) / (distinct.length - 1)) * innerW);
  }
  const yPos = (f: number) => MARGIN.top + (1 - f) * plotH;

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">Dead hidden units at the end of each run</text>`,
    `<text x="${MARGIN.left}" y="42" fill="#555">fraction of all hidden units; solid: dead at the last snapshot, dashed: dead at some snapshot${seeds > 1 ? `; mean over ${seeds} seeds` : ''}</text>`,
  ];
  // Grid and y axis.
  for (const f of [0, 0.25, 0.5, 0.75, 1]) {
    out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yPos(f)}" y2="${yPos(f)}" stroke="#ddd"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${yPos(f) + 4}" text-anchor="end">${f}</text>`);
  }
  out.push(`<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">dead fraction</text>`);
  // x ticks: the grid values themselves.
  for (const v of distinct) {
    const x = xPos(v);
    out.push(`<line x1="${x}" x2="${x}" y1="${MARGIN.top}" y2="${MARGIN.top + plotH}" stroke="#eee"/>`);
    out.push(`<text x="${x}" y="${MARGIN.top + plotH + 18}" text-anchor="middle">${esc(show(v))}</text>`);
  }
  out.push(`<rect x="${MARGIN.left}" y="${MARGIN.top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">${esc(xAxis.path)}${log ? ' (log scale)' : ''}</text>`);

  const list = [...series.values()];
  list.slice(0, MAX_SERIES).forEach((s, k) => {
    const color = COLORS[k];
    const pts = [...s.points.values()].sort((a, b) => xPos(a.x) - xPos(b.x));
    const path = (values: (p: (typeof pts)[number]) => number) =>
      pts.map((p, i) => `${i ? 'L' : 'M'}${xPos(p.x).toFixed(1)},${yPos(values(p)).toFixed(1)}`).join(' ');
    out.push(`<path d="${path((p) => mean(p.ever))}" fill="none" stroke="${color}" stroke-width="1.5" stroke-dasharray="5 4"/>`);
    out.push(`<path d="${path((p) => mean(p.dead))}" fill="none" stroke="${color}" stroke-width="2.5"/>`);
    for (const p of pts) out.push(`<circle cx="${xPos(p.x).toFixed(1)}" cy="${yPos(mean(p.dead)).toFixed(1)}" r="4" fill="${color}"/>`);
    const ly = MARGIN.top + 10 + k * 22;
    const lx = MARGIN.left + plotW + 16;
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2.5"/>`);
    const label = s.label.length > LEGEND_CHARS ? `${s.label.slice(0, LEGEND_CHARS - 1)}…` : s.label;
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(label)}</text>`);
  });
  if (list.length > MAX_SERIES)
    out.push(
      `<text x="${MARGIN.left + plotW + 16}" y="${MARGIN.top + 10 + MAX_SERIES * 22}" fill="#555">… ${list.length - MAX_SERIES} more (see summary.csv)</text>`,
    );
  if (list.length === 0)
    out.push(`<text x="${MARGIN.left + plotW / 2}" y="${MARGIN.top + plotH / 2}" text-anchor="middle" fill="#555">no finished points yet</text>`);
  out.push('</svg>');
  return out.join('\n') + '\n';
}
