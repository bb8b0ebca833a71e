// The plasticity charts of a non-stationary run: the loss at the end of each task and the dead units at the end
// of each task, against the task. Browser-safe.
import { lineChartSvg } from './charts';
import type { RunChart } from './charts-run';
import type { TaskEnd } from './tasks';

export function taskCharts(tasks: readonly TaskEnd[]): RunChart[] {
  if (tasks.length === 0) return [];
  const out: RunChart[] = [];
  const withLoss = tasks.filter((t) => t.loss !== null && Number.isFinite(t.loss));
  if (withLoss.length > 0) {
    const title = 'Loss at the end of each task (the plasticity curve)';
    out.push({
      file: 'task-loss.svg',
      title,
      svg: lineChartSvg({ title, xLabel: 'task', yLabel: 'loss', series: [{ name: 'loss', points: withLoss.map((t) => [t.task + 1, t.loss] as const) }] }),
    });
  }
  const title = "Dead units at the end of each task, % of the layer (on that task's inputs)";
  out.push({
    file: 'task-dead.svg',
    title,
    svg: lineChartSvg({
      title,
      xLabel: 'task',
      yLabel: '% dead',
      yScale: 'linear',
      yFromZero: true,
      series: tasks[0].widths.map((_, l) => ({ name: `L${l + 1}`, points: tasks.map((t) => [t.task + 1, (100 * t.dead[l]) / t.widths[l]] as const) })),
    }),
  });
  return out;
}
