// The ratios as bars (uPlot), redrawn as each case finishes: one bar per ratio (numbered as in the table),
// and the goal, where the ratio has one, as a point above it. Log scale: ratios span 0.9x to 30x.
import uPlot from 'uplot';
import uplotCss from 'uplot/dist/uPlot.min.css?inline';
import type { Ratio } from '../schema';
import { adoptStyles } from './styles';

adoptStyles(uplotCss);

export class RatioChart {
  private plot: uPlot | null = null;

  constructor(private readonly host: HTMLElement) {}

  update(ratios: readonly Ratio[]): void {
    const x = ratios.map((_, i) => i + 1);
    const values = ratios.map((r) => r.value);
    const goals = ratios.map((r) => r.goal ?? null);
    const data: uPlot.AlignedData = [x, values, goals];
    if (this.plot) {
      this.plot.setData(data);
      return;
    }
    const width = Math.max(320, Math.min(960, this.host.clientWidth || 720));
    this.plot = new uPlot(
      {
        width,
        height: 260,
        scales: { x: { time: false, range: (_u, min, max) => [min - 0.5, max + 0.5] }, y: { distr: 3 } },
        axes: [
          { label: 'ratio # (see table)', values: (_u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
          // Log-scale splits include unlabelled minor ticks (null).
          { label: 'ratio (×, log)', values: (_u, splits) => splits.map((v) => (v == null ? '' : `${v}×`)) },
        ],
        series: [
          { label: '#' },
          { label: 'measured', stroke: '#2563eb', fill: 'rgba(37, 99, 235, 0.35)', paths: uPlot.paths.bars!({ size: [0.6, 60] }), points: { show: false } },
          { label: 'goal', stroke: '#dc2626', paths: () => null, points: { show: true, size: 8, fill: '#dc2626' } },
        ],
      },
      data,
      this.host,
    );
  }

  destroy(): void {
    this.plot?.destroy();
    this.plot = null;
  }
}
