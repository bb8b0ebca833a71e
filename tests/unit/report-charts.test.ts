// SVG line charts, their ticks and labels, and the bounded down-sampling that lets any run length be plotted.
import { describe, expect, it } from 'vitest';
import { formatTick, lineChartSvg, niceTicks } from '../../src/report/charts';
import { DownSampledSeries } from '../../src/report/charts-series';
import { RunChartData } from '../../src/report/charts-run';
import type { MetricsRow } from '../../src/report/metrics';

describe('niceTicks', () => {
  it('covers the range with round steps of 1, 2 or 5 x 10^k', () => {
    expect(niceTicks(0, 40)).toEqual([0, 10, 20, 30, 40]);
    expect(niceTicks(0, 1e7)).toEqual([0, 2e6, 4e6, 6e6, 8e6, 1e7]);
    expect(niceTicks(0.61, 1.19)).toEqual([0.6, 0.8, 1, 1.2]);
    expect(niceTicks(-3, 7)).toEqual([-4, -2, 0, 2, 4, 6, 8]);
    const t = niceTicks(123, 98765);
    expect(t[0]).toBeLessThanOrEqual(123);
    expect(t[t.length - 1]).toBeGreaterThanOrEqual(98765);
  });

  it('widens a single value and refuses a non-finite range', () => {
    expect(niceTicks(5, 5)[0]).toBeLessThan(5);
    expect(niceTicks(0, 0)).toContain(0);
    expect(() => niceTicks(0, NaN)).toThrow(/finite range, got \[0, NaN\]/);
  });
});

describe('formatTick', () => {
  it('writes short labels', () => {
    expect([0, 5, 0.25, 1500, 20000, 2.5e6, 3e9, 1e-4].map(formatTick)).toEqual(['0', '5', '0.25', '1500', '20k', '2.5M', '3G', '1e-4']);
  });
});

describe('lineChartSvg', () => {
  const series = [
    {
      name: 'L1 <dead>',
      points: [
        [0, 1],
        [10, 2],
        [20, null],
        [30, 3],
        [40, 4],
      ] as [number, number | null][],
    },
    {
      name: 'L2',
      points: [
        [0, 0],
        [40, 1],
      ] as [number, number][],
      dashed: true,
    },
  ];

  it('draws one path per series, breaks lines at missing values, escapes text and keeps a legend', () => {
    const svg = lineChartSvg({ title: 'Dead & alive', xLabel: 'step', yLabel: 'units', series });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    const paths = [...svg.matchAll(/<path d="([^"]+)"/g)].map((m) => m[1]);
    expect(paths).toHaveLength(2);
    // Two segments for the first series (the null breaks it), one for the second.
    expect(paths[0].match(/M/g)).toHaveLength(2);
    expect(paths[1].match(/M/g)).toHaveLength(1);
    expect(svg).toContain('Dead &amp; alive');
    expect(svg).toContain('L1 &lt;dead&gt;');
    expect(svg).toContain('stroke-dasharray');
    expect(svg).not.toContain('(log scale)');
    expect(svg).not.toContain('NaN');
  });

  it('puts the larger value higher and the later step further right', () => {
    const svg = lineChartSvg({
      title: 't',
      xLabel: 'x',
      yLabel: 'y',
      series: [
        {
          name: 's',
          points: [
            [0, 0],
            [10, 5],
          ],
        },
      ],
    });
    const [, x0, y0, x1, y1] = /<path d="M([\d.]+) ([\d.]+)L([\d.]+) ([\d.]+)"/.exec(svg)!.map(Number);
    expect(x1).toBeGreaterThan(x0);
    expect(y1).toBeLessThan(y0);
  });

  it('switches to a log scale for values spanning decades, and marks a lone point with a dot', () => {
    const svg = lineChartSvg({
      title: 'loss',
      xLabel: 'step',
      yLabel: 'loss',
      series: [
        {
          name: 'loss',
          points: [
            [0, 100],
            [1, 10],
            [2, 0.01],
          ],
        },
      ],
    });
    expect(svg).toContain('loss (log scale)');
    expect(svg).toContain('>0.01<');
    const dot = lineChartSvg({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[3, 1]] }] });
    expect(dot).toMatch(/<circle /);
  });

  it('refuses a chart with no points and a log scale with values <= 0', () => {
    expect(() => lineChartSvg({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] })).toThrow(/chart "empty" has no points/);
    expect(() =>
      lineChartSvg({
        title: 'l',
        xLabel: 'x',
        yLabel: 'y',
        yScale: 'log',
        series: [
          {
            name: 's',
            points: [
              [0, 0],
              [1, 1],
            ],
          },
        ],
      }),
    ).toThrow(/log scale needs y > 0/);
  });
});

describe('DownSampledSeries', () => {
  it('keeps at most `capacity` points of any number pushed, evenly strided, always ending with the latest', () => {
    for (const n of [1, 2, 9, 10, 11, 1000, 12345]) {
      const s = new DownSampledSeries<number>(10);
      for (let i = 0; i < n; i++) s.push(i);
      const points = s.points();
      expect(points.length, `n = ${n}`).toBeLessThanOrEqual(11);
      expect(points[0]).toBe(0);
      expect(points[points.length - 1]).toBe(n - 1);
      const kept = points.slice(0, -1);
      const stride = kept.length > 1 ? kept[1] - kept[0] : 1;
      kept.forEach((p, i) => expect(p, `n = ${n}`).toBe(i * stride));
      expect(s.count).toBe(n);
    }
  });

  it('refuses a capacity below 2', () => {
    expect(() => new DownSampledSeries(1)).toThrow(/capacity must be an integer >= 2, got 1/);
  });
});

describe('RunChartData', () => {
  const row = (step: number, dead: number, dropped: number, loss: number | null): MetricsRow => ({
    step,
    elapsedSeconds: step,
    loss,
    stepsPerSecond: null,
    skipped: 0,
    layers: [{ width: 10, dead, dropped, revived: 0, everDead: dead }],
  });

  it('plots loss, dead, revived and (with dropout) dropped units, from a bounded number of points', () => {
    const data = new RunChartData(50);
    for (let s = 0; s <= 100_000; s += 100) data.push(row(s, s % 3, 5, s ? 1 / (1 + s) : null));
    expect(data.rows).toBe(1001);
    const charts = data.charts({ hasDropout: true });
    expect(charts.map((c) => c.file)).toEqual(['loss.svg', 'dead.svg', 'revived.svg', 'dropped.svg']);
    const dead = charts[1].svg;
    const points = dead.match(/<path d="[^"]+"/)![0].match(/[ML]/g)!.length;
    expect(points).toBeLessThanOrEqual(51);
    expect(dead).toContain('>100k<');
    expect(data.charts({ hasDropout: false }).map((c) => c.file)).toEqual(['loss.svg', 'dead.svg', 'revived.svg']);
    expect(new RunChartData().charts({ hasDropout: true })).toEqual([]);
  });

  it('adds a frozen chart beside the dead one when the rows carry frozen counts', () => {
    const data = new RunChartData(50);
    for (let s = 0; s <= 1000; s += 100)
      data.push({ ...row(s, 4, 5, 1), layers: [{ width: 10, dead: 4, dropped: 5, revived: 0, everDead: 4, frozen: s >= 200 ? 2 : 0 }] });
    const charts = data.charts({ hasDropout: true });
    expect(charts.map((c) => c.file)).toEqual(['loss.svg', 'dead.svg', 'frozen.svg', 'revived.svg', 'dropped.svg']);
    expect(charts[2].title).toMatch(/^Frozen units/);
  });
});
