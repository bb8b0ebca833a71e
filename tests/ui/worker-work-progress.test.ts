// What the page hears of long GPU work (src/ui/worker/work-progress.ts): nothing for work that ends within a second;
// once a second after that what runs, how far and for how long; a clearing null when it ends. A fake clock and timer.
import { describe, expect, it } from 'vitest';
import type { WorkProgress } from '../../src/ui/protocol';
import { PROGRESS_INTERVAL_MS, WorkProgressReporter } from '../../src/ui/worker/work-progress';

function setup() {
  const time = { ms: 0 };
  const timers: { at: number; callback: () => void; cancelled: boolean }[] = [];
  const posted: (WorkProgress | null)[] = [];
  const reporter = new WorkProgressReporter({
    now: () => time.ms,
    post: (p) => posted.push(p),
    setTimer: (callback, ms) => {
      const timer = { at: time.ms + ms, callback, cancelled: false };
      timers.push(timer);
      return () => (timer.cancelled = true);
    },
  });
  /** Advances the clock, firing the timers that fall due. */
  const advance = (ms: number) => {
    const until = time.ms + ms;
    for (;;) {
      const due = timers.filter((t) => !t.cancelled && t.at <= until).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      time.ms = due.at;
      due.cancelled = true;
      due.callback();
    }
    time.ms = until;
  };
  return { reporter, posted, advance };
}

const chunk = { kind: 'steps' as const, from: 10, to: 14, snapshots: 1, expectedSeconds: 8 };

describe('WorkProgressReporter', () => {
  it('says nothing of work that ends within a second', () => {
    const { reporter, posted, advance } = setup();
    reporter.begin(chunk);
    advance(PROGRESS_INTERVAL_MS - 1);
    reporter.end();
    advance(5000);
    expect(posted).toEqual([]);
  });

  it('reports long work once a second with the steps done, then clears the line', () => {
    const { reporter, posted, advance } = setup();
    reporter.begin(chunk);
    advance(1000);
    reporter.advance(2);
    advance(1500);
    reporter.end();
    advance(5000);
    expect(posted).toEqual([{ ...chunk, done: 0, elapsedSeconds: 1 }, { ...chunk, done: 2, elapsedSeconds: 2 }, null]);
  });

  it('ends the work before when new work begins', () => {
    const { reporter, posted, advance } = setup();
    reporter.begin({ kind: 'snapshot', from: 0, to: 0, snapshots: 1, expectedSeconds: null });
    advance(1200);
    reporter.begin(chunk);
    advance(900);
    expect(posted).toEqual([{ kind: 'snapshot', from: 0, to: 0, snapshots: 1, expectedSeconds: null, done: 0, elapsedSeconds: 1 }, null]);
    advance(100);
    expect(posted.at(-1)).toEqual({ ...chunk, done: 0, elapsedSeconds: 1 });
  });

  it('says how many probe rows a snapshot taken in pieces has measured, once it knows', () => {
    const { reporter, posted, advance } = setup();
    reporter.begin({ kind: 'snapshot', from: 0, to: 0, snapshots: 1, expectedSeconds: 960 });
    advance(1000);
    expect(posted.at(-1)).toEqual({ kind: 'snapshot', from: 0, to: 0, snapshots: 1, expectedSeconds: 960, done: 0, elapsedSeconds: 1 });
    reporter.measured(48, 4096);
    advance(1000);
    expect(posted.at(-1)).toMatchObject({ kind: 'snapshot', probe: { measured: 48, rows: 4096 }, elapsedSeconds: 2 });
    // The next work starts without it.
    reporter.begin(chunk);
    advance(1000);
    expect(posted.at(-1)).not.toHaveProperty('probe');
  });
});
