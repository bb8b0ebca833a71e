// The Worker's GPU-queue lock (src/ui/worker/lock.ts): tasks run one at a time in call order, and a failed task does
// not block the ones behind it.
import { describe, expect, it } from 'vitest';
import { Lock } from '../../src/ui/worker/lock';

describe('Lock', () => {
  it('runs tasks one at a time, in call order, past a failure', async () => {
    const lock = new Lock();
    const log: string[] = [];
    const task =
      (name: string, fail = false) =>
      async () => {
        log.push(`${name} start`);
        await new Promise((resolve) => setTimeout(resolve));
        log.push(`${name} end`);
        if (fail) throw new Error(name);
        return name;
      };
    const a = lock.run(task('a'));
    const b = lock.run(task('b', true));
    const c = lock.run(task('c'));
    await expect(a).resolves.toBe('a');
    await expect(b).rejects.toThrow('b');
    await expect(c).resolves.toBe('c');
    expect(log).toEqual(['a start', 'a end', 'b start', 'b end', 'c start', 'c end']);
  });
});
