// The report's charts of one run, from its metrics rows: loss, dead units, frozen units, revived units and dropped units per
// hidden layer against the step. Rows are streamed in and down-sampled (DownSampledSeries), so any run length
// plots from a bounded number of points. Browser-safe (no Node imports).
import type { MetricsRow } from './metrics';
import { DownSampledSeries } from './charts-series';
import { lineChartSvg, SERIES_COLOURS, type ChartSeries } from './charts';

interface Point {
  step: number;
  loss: number | null;
  /** Per layer: dead, revived, dropped, everDead (as percentages of the width except revived). */
  dead: number[];
  everDead: number[];
  /** Per layer, % frozen; null where the row predates the frozen statistic. */
  frozen: (number | null)[];
  revived: number[];
  dropped: number[];
}

export interface RunChart {
  /** File name, e.g. 'loss.svg'. */
  file: string;
  title: string;
  svg: string;
}

const pct = (n: number, width: number) => (100 * n) / width;

export class RunChartData {
  private readonly series: DownSampledSeries<Point>;
  private layerCount = 0;

  constructor(capacity = 1000) {
    this.series = new DownSampledSeries(capacity);
  }

  push(row: MetricsRow): void {
    this.layerCount = row.layers.length;
    this.series.push({
      step: row.step,
      loss: row.loss,
      dead: row.layers.map((l) => pct(l.dead, l.width)),
      everDead: row.layers.map((l) => pct(l.everDead, l.width)),
      frozen: row.layers.map((l) => (l.frozen === undefined ? null : pct(l.frozen, l.width))),
      revived: row.layers.map((l) => l.revived),
      dropped: row.layers.map((l) => pct(l.dropped, l.width)),
    });
  }

  get rows(): number {
    return this.series.count;
  }

  /** The charts, or none before the first row. `hasDropout` leaves out the dropped chart of a run without dropout. */
  charts(options: { hasDropout: boolean }): RunChart[] {
    const points = this.series.points();
    if (points.length === 0) return [];
    const perLayer = (pick: (p: Point) => number[], name = (l: number) => `L${l + 1}`, dashed = false): ChartSeries[] =>
      Array.from({ length: this.layerCount }, (_, l) => ({ name: name(l), points: points.map((p) => [p.step, pick(p)[l]] as const), dashed }));
    const out: RunChart[] = [];
    const lossPoints = points.filter((p) => p.loss !== null);
    if (lossPoints.length > 0) {
      const title = 'Training loss (mean over each snapshot interval)';
      out.push({
        file: 'loss.svg',
        title,
        svg: lineChartSvg({ title, xLabel: 'step', yLabel: 'loss', series: [{ name: 'loss', points: lossPoints.map((p) => [p.step, p.loss] as const) }] }),
      });
    }
    // Ever-dead lines double the legend; with many layers they would bury the chart.
    const withEver = this.layerCount <= 4;
    const title = withEver ? 'Dead units, % of the layer (dashed: dead at this or an earlier snapshot)' : 'Dead units, % of the layer';
    const everDead = withEver
      ? perLayer(
          (p) => p.everDead,
          (l) => `L${l + 1} ever`,
          true,
        )
      : [];
    const dead = perLayer((p) => p.dead);
    out.push({
      file: 'dead.svg',
      title,
      svg: lineChartSvg({
        title,
        xLabel: 'step',
        yLabel: '% dead',
        yScale: 'linear',
        yFromZero: true,
        // Same colour for a layer's two lines: dashed ever-dead follows its solid dead line.
        series: [...dead, ...everDead].map((s, i) => ({ ...s, colour: seriesColour(i % this.layerCount) })),
      }),
    });
    // Frozen (training mode, dropout on) beside dead on the probe set (evaluation mode): they differ, and by how much
    // is the point. Only for runs whose rows carry it.
    if (points.some((p) => p.frozen.some((f) => f !== null))) {
      const frozenTitle = 'Frozen units, % of the layer (no training row gave a positive pre-activation for W steps)';
      const withFrozen = points.filter((p) => p.frozen.every((f) => f !== null));
      out.push({
        file: 'frozen.svg',
        title: frozenTitle,
        svg: lineChartSvg({
          title: frozenTitle,
          xLabel: 'step',
          yLabel: '% frozen',
          yScale: 'linear',
          yFromZero: true,
          series: Array.from({ length: this.layerCount }, (_, l) => ({
            name: `L${l + 1}`,
            points: withFrozen.map((p) => [p.step, p.frozen[l]!] as const),
            colour: seriesColour(l),
          })),
        }),
      });
    }
    const revivedTitle = 'Revived units (alive now, dead at an earlier snapshot)';
    out.push({
      file: 'revived.svg',
      title: revivedTitle,
      svg: lineChartSvg({
        title: revivedTitle,
        xLabel: 'step',
        yLabel: 'units',
        yScale: 'linear',
        yFromZero: true,
        series: perLayer((p) => p.revived).map((s, i) => ({ ...s, colour: seriesColour(i) })),
      }),
    });
    if (options.hasDropout) {
      const droppedTitle = 'Dropped units at the snapshot step, % of the layer (probe sample 0)';
      out.push({
        file: 'dropped.svg',
        title: droppedTitle,
        svg: lineChartSvg({
          title: droppedTitle,
          xLabel: 'step',
          yLabel: '% dropped',
          yScale: 'linear',
          yFromZero: true,
          series: perLayer((p) => p.dropped).map((s, i) => ({ ...s, colour: seriesColour(i) })),
        }),
      });
    }
    return out;
  }
}

function seriesColour(layer: number): string {
  return SERIES_COLOURS[layer % SERIES_COLOURS.length];
}
