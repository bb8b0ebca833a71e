// --cases / ?cases=: which tasks of the chosen groups run.
import { describe, expect, it } from 'vitest';
import { selectTasks } from '../../bench/suite';
import type { BenchTask } from '../../bench/task';

const task = (label: string): BenchTask => ({ group: 'matmul', label, run: async () => ({ cases: [] }) });
const tasks = ['matmul nn 256x256x256 (256³)', 'matmul nn 128x4096x1024 (Y = X·W)', 'matmul tn 1024x4096x128 (dW = Xᵀ·dY)'].map(task);

describe('selectTasks', () => {
  it('keeps every task without a filter', () => {
    expect(selectTasks(tasks, undefined)).toBe(tasks);
    expect(selectTasks(tasks, [])).toBe(tasks);
  });

  it('keeps the tasks whose label contains one of the parts, in suite order', () => {
    expect(selectTasks(tasks, ['tn ', 'nn 256']).map((t) => t.label)).toEqual([tasks[0].label, tasks[2].label]);
  });

  it('names the parts and the labels when nothing matches', () => {
    expect(() => selectTasks(tasks, ['nt 128'])).toThrow(/cases: no case label contains "nt 128"; labels: matmul nn 256x256x256/);
  });
});
