import { describe, expect, it } from 'vitest';
import type { MetricsRow } from '../../src/report/metrics';
import { chartSlices, rowValues } from '../../src/ui/panels/charts/chart-specs';

const row = (step: number, loss: number | null): MetricsRow => ({
  step,
  elapsedSeconds: 0,
  loss,
  stepsPerSecond: null,
  skipped: 0,
  layers: [{ width: 5, dead: 1, dropped: 0, revived: 0, everDead: 1 }],
});

describe('the page charts of a non-stationary run', () => {
  it('add the loss at the end of each task, a point at every task boundary and nothing between', () => {
    expect(chartSlices(1).map((s) => s.spec.id)).not.toContain('taskLoss');
    const slices = chartSlices(1, 1000);
    const task = slices.find((s) => s.spec.id === 'taskLoss')!;
    expect(task.spec.sparse).toBe(true);
    const at = (r: MetricsRow) => rowValues(r, slices)[task.start];
    expect([row(0, null), row(500, 2), row(1000, 1.5), row(1500, 1), row(2000, 0.7)].map(at)).toEqual([null, null, 1.5, null, 0.7]);
    expect(at(row(3000, NaN))).toBeNull();
  });
});
