// Task by task: the state of a non-stationary run at the end of each task, from its metrics rows alone (so a
// resumed run, the report and `sweep collect` all derive the same thing). Task k covers steps [k·T, (k+1)·T);
// a row taken after `step` completed steps belongs to the task of its last step, (step - 1) / T. The end of task
// k is the last row of that task: with the snapshot interval dividing T, the row at step (k+1)·T, whose loss is
// the mean over the task's last snapshot interval. The loss at the end of each task is the plasticity curve: a
// network that keeps its plasticity fits each new task as well as the first ones. Browser-safe.
import type { MetricsRow } from './metrics';

export interface TaskEnd {
  /** 0-based task index. */
  task: number;
  /** Steps completed at the row that ends it. */
  step: number;
  /** The row's step is the task's last step (false: the run stopped, so far, inside this task). */
  complete: boolean;
  /** Mean loss of the snapshot interval that ended the task. */
  loss: number | null;
  /** Per hidden layer: dead units (on the task's inputs) and the width. */
  dead: number[];
  widths: number[];
}

/** Streams rows in; keeps one entry per task, at most `capacity` of them (every other one dropped when full). */
export class TaskEnds {
  private entries: TaskEnd[] = [];
  /** Keep only tasks that are multiples of this (doubles each time the list is thinned). */
  private stride = 1;

  constructor(
    readonly every: number,
    private readonly capacity = 2048,
  ) {
    if (!Number.isInteger(every) || every < 1) throw new RangeError(`steps per task must be an integer >= 1, got ${every}`);
  }

  push(row: MetricsRow): void {
    if (row.step < 1) return;
    const task = Math.floor((row.step - 1) / this.every);
    const end: TaskEnd = {
      task,
      step: row.step,
      complete: row.step === (task + 1) * this.every,
      loss: row.loss,
      dead: row.layers.map((l) => l.dead),
      widths: row.layers.map((l) => l.width),
    };
    const last = this.entries[this.entries.length - 1];
    if (last?.task === task) {
      this.entries[this.entries.length - 1] = end;
      return;
    }
    // The latest task is always kept (it is the run's current state); thinned ones only on the stride.
    if (last && last.task % this.stride !== 0) this.entries.pop();
    this.entries.push(end);
    if (this.entries.length > this.capacity) {
      this.stride *= 2;
      this.entries = this.entries.filter((e, i) => e.task % this.stride === 0 || i === this.entries.length - 1);
    }
  }

  /** Task ends in task order. */
  list(): TaskEnd[] {
    return this.entries.slice();
  }
}

export function taskEnds(rows: Iterable<MetricsRow>, every: number): TaskEnd[] {
  const ends = new TaskEnds(every);
  for (const row of rows) ends.push(row);
  return ends.list();
}

/** Dead units of all hidden layers together, as a fraction of all hidden units. */
export function deadFraction(end: TaskEnd): number {
  const dead = end.dead.reduce((a, b) => a + b, 0);
  const width = end.widths.reduce((a, b) => a + b, 0);
  return width === 0 ? 0 : dead / width;
}
