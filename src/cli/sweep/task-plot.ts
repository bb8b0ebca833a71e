// The sweep's task-by-task plot (tasks.svg), for sweeps of non-stationary runs (tasks.every > 0): against the task,
// the fraction of hidden units dead at the end of each task (on that task's inputs) and the loss at the end of each
// task (the plasticity curve), one line per combination of the grid axes other than seed (per cure, in a sweep over
// cures), its mean over seeds, with a band from the lowest to the highest seed.
import type { TaskEnd } from '../../report/tasks';
import { deadFraction } from '../../report/tasks';
import type { SweepManifest } from './folder';
import type { GridValue } from './spec';

const WIDTH = 860;
const PANEL_HEIGHT = 260;
const MARGIN = { left: 70, right: 270, top: 56, bottom: 44, gap: 56 };
const LEGEND_CHARS = 34;
const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const show = (v: GridValue) => (typeof v === 'number' ? String(Number(v.toPrecision(4))) : String(v));

/** One band point: the task and the mean, lowest and highest value over the seeds that reached it. */
export interface BandPoint {
  task: number;
  mean: number;
  min: number;
  max: number;
  seeds: number;
}

export interface TaskSeries {
  label: string;
  dead: BandPoint[];
  loss: BandPoint[];
}

function shortName(path: string): string {
  const names = path.split('.').map((n) => n.replace(/\[.*\]$/, ''));
  const last = names[names.length - 1];
  return last === 'kind' && names.length > 1 ? names[names.length - 2] : last;
}

/** Per task: mean, min and max over the runs that completed it (values null or not finite are left out). */
function band(runs: TaskEnd[][], pick: (e: TaskEnd) => number | null): BandPoint[] {
  const byTask = new Map<number, number[]>();
  for (const ends of runs)
    for (const e of ends) {
      const v = e.complete ? pick(e) : null;
      if (v === null || !Number.isFinite(v)) continue;
      let list = byTask.get(e.task);
      if (!list) byTask.set(e.task, (list = []));
      list.push(v);
    }
  return [...byTask.entries()]
    .sort(([a], [b]) => a - b)
    .map(([task, v]) => ({ task, mean: v.reduce((a, b) => a + b, 0) / v.length, min: Math.min(...v), max: Math.max(...v), seeds: v.length }));
}

/** Groups the points' task ends by the grid axes other than seed, in grid order. */
export function taskSeries(manifest: SweepManifest, tasks: Map<string, TaskEnd[]>): TaskSeries[] {
  const groupAxes = manifest.axes.map((a, i) => ({ ...a, i })).filter((a) => a.path !== 'seed' && new Set(a.values.map(String)).size > 1);
  const groups = new Map<string, TaskEnd[][]>();
  for (const p of manifest.points) {
    const ends = tasks.get(p.id);
    if (!ends) continue;
    const label = groupAxes.map((a) => `${shortName(a.path)}=${show(p.overrides[a.i][1])}`).join(', ') || 'all points';
    let runs = groups.get(label);
    if (!runs) groups.set(label, (runs = []));
    runs.push(ends);
  }
  return [...groups.entries()].map(([label, runs]) => ({ label, dead: band(runs, deadFraction), loss: band(runs, (e) => e.loss) }));
}

/** tasks.svg, or null when no point has task ends (a sweep of stationary runs). */
export function taskPlotSvg(manifest: SweepManifest, tasks: Map<string, TaskEnd[]>): string | null {
  const series = taskSeries(manifest, tasks).filter((s) => s.dead.length > 0 || s.loss.length > 0);
  if (series.length === 0) return null;
  const seeds = manifest.axes.find((a) => a.path === 'seed')?.values.length ?? 1;
  const allTasks = series.flatMap((s) => [...s.dead, ...s.loss].map((p) => p.task));
  const firstTask = Math.min(...allTasks);
  const lastTask = Math.max(...allTasks);
  const lossMax = niceCeil(Math.max(1e-12, ...series.flatMap((s) => s.loss.map((p) => p.max))));
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = PANEL_HEIGHT - MARGIN.bottom;
  const height = MARGIN.top + 2 * PANEL_HEIGHT + MARGIN.gap;
  // Tasks are shown 1-based: "task 1" is the first.
  const xPos = (task: number) => MARGIN.left + (lastTask === firstTask ? plotW / 2 : ((task - firstTask) / (lastTask - firstTask)) * plotW);

  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${MARGIN.left}" y="24" font-size="16" font-weight="bold">Task by task: dead units and the plasticity curve</text>`,
    `<text x="${MARGIN.left}" y="42" fill="#555">at the end of each task; line: mean${seeds > 1 ? ` over ${seeds} seeds, band: lowest to highest seed` : ''}</text>`,
  ];
  const panel = (top: number, title: string, max: number, pick: (s: TaskSeries) => BandPoint[], format: (v: number) => string) => {
    const yPos = (v: number) => top + (1 - v / max) * plotH;
    for (const f of [0, 0.25, 0.5, 0.75, 1]) {
      out.push(`<line x1="${MARGIN.left}" x2="${MARGIN.left + plotW}" y1="${yPos(f * max)}" y2="${yPos(f * max)}" stroke="#ddd"/>`);
      out.push(`<text x="${MARGIN.left - 8}" y="${yPos(f * max) + 4}" text-anchor="end">${format(f * max)}</text>`);
    }
    out.push(`<text transform="translate(18 ${top + plotH / 2}) rotate(-90)" text-anchor="middle">${esc(title)}</text>`);
    out.push(`<rect x="${MARGIN.left}" y="${top}" width="${plotW}" height="${plotH}" fill="none" stroke="#333"/>`);
    for (const t of ticks(firstTask, lastTask)) out.push(`<text x="${xPos(t).toFixed(1)}" y="${top + plotH + 18}" text-anchor="middle">${t + 1}</text>`);
    series.slice(0, COLORS.length).forEach((s, k) => {
      const pts = pick(s);
      if (pts.length === 0) return;
      const color = COLORS[k];
      const line = (v: (p: BandPoint) => number, list = pts) => list.map((p, i) => `${i ? 'L' : 'M'}${xPos(p.task).toFixed(1)},${yPos(v(p)).toFixed(1)}`);
      const upper = line((p) => p.max);
      const lower = line((p) => p.min, [...pts].reverse()).map((c) => `L${c.slice(1)}`);
      out.push(`<path d="${[...upper, ...lower].join(' ')} Z" fill="${color}" fill-opacity="0.18" stroke="none"/>`);
      out.push(`<path d="${line((p) => p.mean).join(' ')}" fill="none" stroke="${color}" stroke-width="2"/>`);
    });
  };
  const top1 = MARGIN.top;
  const top2 = MARGIN.top + PANEL_HEIGHT + MARGIN.gap;
  panel(
    top1,
    'dead fraction',
    1,
    (s) => s.dead,
    (v) => String(v),
  );
  panel(
    top2,
    'loss at the end of the task',
    lossMax,
    (s) => s.loss,
    (v) => Number(v.toPrecision(3)).toString(),
  );
  out.push(`<text x="${MARGIN.left + plotW / 2}" y="${height - 8}" text-anchor="middle">task</text>`);
  series.slice(0, COLORS.length).forEach((s, k) => {
    const ly = MARGIN.top + 10 + k * 22;
    const lx = MARGIN.left + plotW + 16;
    out.push(`<rect x="${lx}" y="${ly - 6}" width="24" height="12" fill="${COLORS[k]}" fill-opacity="0.18"/>`);
    out.push(`<line x1="${lx}" x2="${lx + 24}" y1="${ly}" y2="${ly}" stroke="${COLORS[k]}" stroke-width="2"/>`);
    const label = s.label.length > LEGEND_CHARS ? `${s.label.slice(0, LEGEND_CHARS - 1)}…` : s.label;
    out.push(`<text x="${lx + 30}" y="${ly + 4}">${esc(label)}</text>`);
  });
  if (series.length > COLORS.length)
    out.push(
      `<text x="${MARGIN.left + plotW + 16}" y="${MARGIN.top + 10 + COLORS.length * 22}" fill="#555">… ${series.length - COLORS.length} more not drawn</text>`,
    );
  out.push('</svg>');
  return out.join('\n') + '\n';
}

/** The smallest of 1, 2, 4, 5, 8 or 10 × a power of ten that is at least v: quarter ticks stay short numbers. */
function niceCeil(v: number): number {
  const pow = 10 ** Math.floor(Math.log10(v));
  return [1, 2, 4, 5, 8, 10].map((m) => m * pow).find((c) => c >= v * (1 - 1e-12)) ?? 10 * pow;
}

/** At most about 10 task ticks, on round steps. */
function ticks(first: number, last: number): number[] {
  const span = last - first;
  const raw = Math.max(1, span / 10);
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let t = Math.ceil((first + 1) / step) * step - 1; t <= last; t += step) if (t >= first) out.push(t);
  if (out.length === 0) out.push(first);
  return out;
}
