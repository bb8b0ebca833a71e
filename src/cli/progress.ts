// Progress of a run on stderr: a cli-progress bar (steps/s, ETA, dead units) on a terminal, plain lines every
// few seconds otherwise (CI logs, files), or nothing. Log lines go through it so they do not tear the bar. Until a
// speed is measured, the run's estimate (src/engine/run-estimate.ts), when there is one, stands in for it.
import cliProgress from 'cli-progress';
import type { MetricsRow } from '../report/metrics';
import { formatSeconds } from '../report/run-estimate-text';

export type ProgressMode = 'auto' | 'bar' | 'lines' | 'none';
export const PROGRESS_MODES: readonly ProgressMode[] = ['auto', 'bar', 'lines', 'none'];

export interface Progress {
  /** Steps completed now, and the latest metrics row (for the dead counts). */
  update(step: number, row: MetricsRow | null): void;
  /** A message that must not be lost under the bar. */
  log(line: string): void;
  /** The estimated seconds per step, shown (and used for the ETA) until a speed is measured. */
  estimate(secondsPerStep: number): void;
  stop(): void;
}

export interface ProgressOptions {
  mode: ProgressMode;
  total: number;
  /** Step the run (or the resumed run) starts at: steps/s and ETA count from here. */
  start: number;
  stream?: NodeJS.WriteStream;
  /** Seconds between plain lines (default 5). */
  lineInterval?: number;
  now?: () => number;
}

/** "dead L1 3/512 L2 0/512" from a row. */
export function deadSummary(row: MetricsRow | null): string {
  if (!row) return '';
  return 'dead ' + row.layers.map((l, i) => `L${i + 1} ${l.dead}/${l.width}`).join(' ');
}

/** "1h02m", "3m05s", "12s". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const mode = options.mode === 'auto' ? (stream.isTTY ? 'bar' : 'lines') : options.mode;
  const now = options.now ?? (() => performance.now() / 1000);
  const began = now();
  const rate = (step: number) => {
    const seconds = now() - began;
    return seconds > 0 ? (step - options.start) / seconds : 0;
  };
  let estimated: number | null = null;
  const estimate = (seconds: number) => {
    estimated = seconds;
  };
  /** The ETA from the measured rate, else from the estimate. */
  const eta = (step: number, r: number) =>
    r > 0 ? formatDuration((options.total - step) / r) : estimated !== null ? `≈ ${formatDuration((options.total - step) * estimated)}` : '?';

  if (mode === 'none') return { update() {}, log: (line) => stream.write(line + '\n'), estimate, stop() {} };

  if (mode === 'lines') {
    const interval = options.lineInterval ?? 5;
    let lastPrinted = -Infinity;
    let lastStep = -1;
    const print = (step: number, row: MetricsRow | null) => {
      const r = rate(step);
      const speed = r > 0 || estimated === null ? `${r.toFixed(1)} steps/s` : `≈ ${formatSeconds(estimated)} per step (estimate)`;
      const parts = [`step ${step}/${options.total} (${((100 * step) / options.total).toFixed(1)} %)`, speed, `ETA ${eta(step, r)}`];
      if (row?.loss != null) parts.push(`loss ${Number.isFinite(row.loss) ? row.loss.toPrecision(4) : row.loss}`);
      if (row) parts.push(deadSummary(row));
      stream.write(parts.join(' ') + '\n');
      lastPrinted = now();
      lastStep = step;
    };
    let latest: { step: number; row: MetricsRow | null } = { step: options.start, row: null };
    return {
      update(step, row) {
        latest = { step, row };
        if (now() - lastPrinted >= interval || step >= options.total) print(step, row);
      },
      log: (line) => stream.write(line + '\n'),
      estimate,
      stop() {
        if (latest.step !== lastStep && latest.step > options.start) print(latest.step, latest.row);
      },
    };
  }

  const bars = new cliProgress.MultiBar(
    {
      stream,
      format: '{bar} {percentage}% | {value}/{total} steps | {rate} steps/s | ETA {eta_text} | {dead}',
      hideCursor: true,
      clearOnComplete: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const bar = bars.create(options.total, options.start, { rate: '0', eta_text: '?', dead: '' });
  return {
    update(step, row) {
      const r = rate(step);
      bar.update(step, { rate: r.toFixed(1), eta_text: eta(step, r), dead: deadSummary(row) });
    },
    log: (line) => bars.log(line + '\n'),
    estimate,
    stop: () => bars.stop(),
  };
}
