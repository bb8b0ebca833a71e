import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config';
import type { MetricsRow } from '../../src/report/metrics';
import { renderReportMarkdown } from '../../src/report/report-md';
import { answerSeedQuestion } from '../../src/report/seed-answer';
import { deadFraction, TaskEnds, taskEnds } from '../../src/report/tasks';

const row = (step: number, loss: number | null, dead: number, width = 10): MetricsRow => ({
  step,
  elapsedSeconds: step / 1000,
  loss,
  stepsPerSecond: 1000,
  skipped: 0,
  layers: [{ width, dead, dropped: 0, revived: 0, everDead: dead }],
});

describe('task ends from metrics rows', () => {
  it('keeps the last row of each task: snapshots every 500 steps, tasks of 1,000', () => {
    const rows = [row(0, null, 0), row(500, 2, 1), row(1000, 1.5, 2), row(1500, 1.2, 3), row(2000, 1.4, 4), row(2500, 1, 5)];
    const ends = taskEnds(rows, 1000);
    expect(ends.map((e) => [e.task, e.step, e.complete, e.loss, e.dead[0]])).toEqual([
      [0, 1000, true, 1.5, 2],
      [1, 2000, true, 1.4, 4],
      [2, 2500, false, 1, 5],
    ]);
    expect(deadFraction(ends[1])).toBe(0.4);
  });

  it('stays bounded over very many tasks, keeping evenly spaced ones and always the latest', () => {
    const ends = new TaskEnds(1, 8);
    for (let step = 1; step <= 1000; step++) ends.push(row(step, 1, 0));
    const list = ends.list();
    expect(list.length).toBeLessThanOrEqual(9);
    expect(list.at(-1)!.task).toBe(999);
    const tasks = list.slice(0, -1).map((e) => e.task);
    const stride = tasks[1] - tasks[0];
    for (let i = 1; i < tasks.length; i++) expect(tasks[i] - tasks[i - 1]).toBe(stride);
  });
});

describe('the answer and the report of a non-stationary run', () => {
  const config = presetConfig('continual_dropout');
  const summary = { width: 5, deadNow: 3, everDead: 4, revivedUnits: 1, totalRevivals: 1, everDropped: 5, longestDropRun: 4 };
  const rows = [row(0, null, 0, 5), row(10_000, 0.5, 1, 5), row(20_000, 0.6, 2, 5), row(30_000, 0.9, 3, 5)];

  it('says units died progressively as the tasks changed, that dropout did not prevent it, and shows the plasticity curve', () => {
    const answer = answerSeedQuestion({ config, step: 30_000, layers: [summary], tasks: taskEnds(rows, 10_000) });
    const text = answer.findings.join('\n');
    expect(text).toContain('every 10,000 steps a new task begins (one of the flipping input bits flips)');
    expect(text).toContain("Units died progressively: dead on the task's inputs went from 20 % at the end of task 1 to 60 % at the end of task 3.");
    expect(text).toContain('Dropout p = 0.3 did not prevent it');
    expect(text).toContain('Loss at the end of a task (the plasticity curve): 0.500 after task 1, 0.900 after task 3: later tasks are fitted worse');
    expect(text).toContain('a new task brings new inputs on which a unit can be alive again');
  });

  it('says so honestly when units did not die progressively, naming the cure the run had', () => {
    const cbp = presetConfig('continual_cbp');
    const flat = [row(0, null, 0, 5), row(10_000, 0.5, 1, 5), row(20_000, 0.4, 1, 5)];
    const text = answerSeedQuestion({ config: cbp, step: 20_000, layers: [{ ...summary, deadNow: 1 }], tasks: taskEnds(flat, 10_000) }).findings.join('\n');
    expect(text).toContain(
      "No progressive dying in this run: dead on the task's inputs was 20 % at the end of task 1 and 20 % at the end of task 2, with continual backprop (replacement rate 0.0001).",
    );
    expect(text).not.toContain('did not prevent');
    const early = answerSeedQuestion({ config: cbp, step: 5000, layers: [summary], tasks: taskEnds([row(5000, 1, 1, 5)], 10_000) }).findings.join('\n');
    expect(early).toContain('Fewer than two tasks have ended');
  });

  it('tabulates the end of every task in report.md', () => {
    const answer = answerSeedQuestion({ config, step: 30_000, layers: [summary] });
    const md = renderReportMarkdown({
      config,
      summary: 'a run',
      status: 'completed',
      step: 30_000,
      answer,
      layers: [summary],
      last: rows.at(-1)!,
      rows: rows.length,
      charts: [],
      unitMaps: [],
      files: [],
      tasks: taskEnds(rows, 10_000),
    });
    expect(md).toContain('## Task by task');
    expect(md).toContain('| 1 | 10,000 | 0.5000 | 1 (20.0 %) | 20.0 % |');
    expect(md).toContain('| 3 | 30,000 | 0.9000 | 3 (60.0 %) | 60.0 % |');
    expect(md).toContain("dead on the current task's inputs");
  });
});
