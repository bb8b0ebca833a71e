// What each chart of <du-charts> plots, as series computed from a metrics row. All charts share one x axis (the
// step), so all their series live side by side in one EnvelopeSeries; each chart takes its slice of it.

import type { MetricsRow } from '../../../report/metrics';
import type { Value } from './envelope';

export type ChartId = 'loss' | 'dead' | 'revived' | 'dropped' | 'speed' | 'taskLoss';

export interface ChartSpec {
  id: ChartId;
  title: string;
  /** What the y axis measures, for its label. */
  unit: string;
  /** One series per hidden layer (else a single series). */
  perLayer: boolean;
  /** A fraction of the layer: the y axis is fixed to [0, 1]. */
  fraction: boolean;
  value(row: MetricsRow, layer: number): Value;
  /** Points far apart (one per task): drawn as markers joined across the rows in between. */
  sparse?: boolean;
}

/** A number a chart can draw; NaN and ±Infinity (a diverged loss) become gaps, reported apart. */
const finite = (v: number | null): Value => (v !== null && Number.isFinite(v) ? v : null);

export const CHARTS: readonly ChartSpec[] = [
  { id: 'loss', title: 'Training loss', unit: 'mean loss', perLayer: false, fraction: false, value: (r) => finite(r.loss) },
  { id: 'dead', title: 'Dead units', unit: 'fraction of layer', perLayer: true, fraction: true, value: (r, l) => r.layers[l].dead / r.layers[l].width },
  { id: 'revived', title: 'Revived units (dead before, alive now)', unit: 'units', perLayer: true, fraction: false, value: (r, l) => r.layers[l].revived },
  {
    id: 'dropped',
    title: 'Dropped units (probe sample 0)',
    unit: 'fraction of layer',
    perLayer: true,
    fraction: true,
    value: (r, l) => r.layers[l].dropped / r.layers[l].width,
  },
  { id: 'speed', title: 'Training speed', unit: 'steps / s', perLayer: false, fraction: false, value: (r) => finite(r.stepsPerSecond) },
];

export interface ChartSlice {
  spec: ChartSpec;
  /** Index of the chart's first series in the shared EnvelopeSeries. */
  start: number;
  labels: string[];
}

/**
 * A non-stationary run's plasticity curve on the step axis: the loss of the snapshot interval that ends each task
 * (rows at steps k·T), nothing in between. With the snapshot interval dividing T that is the task's last interval.
 */
export function taskLossChart(taskEvery: number): ChartSpec {
  return {
    id: 'taskLoss',
    title: 'Loss at the end of each task',
    unit: 'mean loss',
    perLayer: false,
    fraction: false,
    sparse: true,
    value: (r) => (r.step > 0 && r.step % taskEvery === 0 ? finite(r.loss) : null),
  };
}

/** The charts of a run: CHARTS, and the plasticity curve where tasks switch (taskEvery > 0). */
export function chartSlices(layerCount: number, taskEvery = 0): ChartSlice[] {
  let start = 0;
  return [...CHARTS, ...(taskEvery > 0 ? [taskLossChart(taskEvery)] : [])].map((spec) => {
    const labels = spec.perLayer ? Array.from({ length: layerCount }, (_, l) => `layer ${l + 1}`) : [spec.unit];
    const slice = { spec, start, labels };
    start += labels.length;
    return slice;
  });
}

/** Every chart's values for one row, in slice order. */
export function rowValues(row: MetricsRow, slices: readonly ChartSlice[]): Value[] {
  const out: Value[] = [];
  for (const { spec, labels } of slices) for (let l = 0; l < labels.length; l++) out.push(spec.value(row, l));
  return out;
}

/**
 * The data a chart hands to uPlot: x and its series. uPlot's log scale cannot place x = 0 (step 0, the snapshot
 * before training), so on a log axis the points before the first positive step are left out.
 */
export function chartData(x: readonly number[], ys: readonly Value[][], slice: ChartSlice, logStep: boolean): [number[], ...Value[][]] {
  const series = ys.slice(slice.start, slice.start + slice.labels.length);
  if (!logStep || x.length === 0 || x[0] > 0) return [x as number[], ...series];
  let first = 0;
  while (first < x.length && x[first] <= 0) first++;
  return [x.slice(first), ...series.map((y) => y.slice(first))];
}

/** Distinct colours for up to ten layers (Tableau 10), then repeated. */
export const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
