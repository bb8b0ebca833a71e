// Node-only: a run's progress on stderr (./../progress.ts) and the messages it prints while training: through the
// bar when there is one (so the bar is not torn), else to the caller's log.
import type { MetricsRow } from '../../report/metrics';
import { createProgress, type Progress, type ProgressMode } from '../progress';

export class ProgressOutput {
  private progress: Progress | null;

  constructor(
    private readonly mode: ProgressMode,
    total: number,
    start: number,
    private readonly log: (line: string) => void,
  ) {
    this.progress = createProgress({ mode, total, start });
  }

  /** Steps completed now, and the latest metrics row (for the dead counts). */
  update(step: number, row: MetricsRow | null): void {
    this.progress?.update(step, row);
  }

  /** The run's estimated seconds per step, until a speed is measured. */
  estimate(secondsPerStep: number): void {
    this.progress?.estimate(secondsPerStep);
  }

  /** A message during the run. */
  note(line: string): void {
    if (this.progress && this.mode !== 'none') this.progress.log(line);
    else this.log(line);
  }

  /** Ends the bar (or prints the last line); later messages go to the log. Safe to call twice. */
  stop(): void {
    this.progress?.stop();
    this.progress = null;
  }
}
