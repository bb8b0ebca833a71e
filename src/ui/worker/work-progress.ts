// Long GPU work made visible: while a chunk of training or the step-0 snapshot runs for longer than a second, the page
// hears once a second what runs, how far it got and for how long (a `progress` event), so a slow adapter looks slow,
// not hung; when the work ends, a `progress` event with null clears the line. Work that ends within the second is
// never reported. The clock and the timer are injected (tests use their own).
import type { WorkProgress } from '../protocol';

/** Work runs this long before it is reported, and the report is renewed this often. */
export const PROGRESS_INTERVAL_MS = 1000;

export interface WorkProgressHost {
  now(): number;
  post(progress: WorkProgress | null): void;
  /** Calls `callback` after `ms`; returns what cancels it. */
  setTimer(callback: () => void, ms: number): () => void;
}

/** What runs, as begin() takes it. */
export type Work = Omit<WorkProgress, 'elapsedSeconds' | 'done' | 'probe'>;

export class WorkProgressReporter {
  private work: Work | null = null;
  private started = 0;
  private done = 0;
  private probe: WorkProgress['probe'];
  private shown = false;
  private cancel: (() => void) | null = null;

  constructor(private readonly host: WorkProgressHost) {}

  /** Work starts (ending the one before, if any). */
  begin(work: Work): void {
    this.end();
    this.work = work;
    this.started = this.host.now();
    this.done = 0;
    this.probe = undefined;
    this.schedule();
  }

  /** Steps of the chunk the GPU has finished. */
  advance(done: number): void {
    this.done = done;
  }

  /** Probe rows of the snapshot measured so far (a snapshot taken in pieces). */
  measured(measured: number, rows: number): void {
    this.probe = { measured, rows };
  }

  /** The work ended: its line is cleared if it was shown. */
  end(): void {
    this.cancel?.();
    this.cancel = null;
    this.work = null;
    if (this.shown) this.host.post(null);
    this.shown = false;
  }

  private schedule(): void {
    this.cancel = this.host.setTimer(() => this.report(), PROGRESS_INTERVAL_MS);
  }

  private report(): void {
    const work = this.work;
    if (!work) return;
    this.shown = true;
    this.host.post({ ...work, done: this.done, ...(this.probe && { probe: this.probe }), elapsedSeconds: (this.host.now() - this.started) / 1000 });
    this.schedule();
  }
}
