// A run's estimate (src/engine/run-estimate.ts) in words, the same on the page (next to Start) and in the CLI (its
// progress output at start): "≈ 5.2 s per step, ≈ 1.5 h per 1,000 steps, snapshot ≈ 0.97 s, memory ≈ 0.27 GiB",
// and, for a step slower than SLOW_STEP_SECONDS, a warning with the changes that would make it faster.
import { SLOW_STEP_SECONDS, type RunEstimate } from '../engine/run-estimate';

const fmt = (n: number) => n.toLocaleString('en-US');

/** "85 µs", "12 ms", "5.2 s", "57 s", "3.1 min", "1.5 h", "2.3 d". */
export function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  // Two significant digits, never in exponent notation (970, not 9.7e+2).
  const two = (v: number) => (v < 100 ? v.toPrecision(2) : String(Number(v.toPrecision(2))));
  if (seconds < 1e-3) return `${two(seconds * 1e6)} µs`;
  if (seconds < 1) return `${two(seconds * 1e3)} ms`;
  if (seconds < 59.5) return `${two(seconds)} s`;
  if (seconds < 3570) return `${two(seconds / 60)} min`;
  if (seconds < 85_680) return `${two(seconds / 3600)} h`;
  const days = seconds / 86_400;
  return `${days < 10 ? two(days) : fmt(Math.round(days))} d`;
}

/** "0.27 GiB", "12 MiB". */
export function formatMemory(bytes: number): string {
  const gib = bytes / 2 ** 30;
  if (gib >= 0.1) return `${gib < 10 ? gib.toPrecision(2) : fmt(Math.round(gib))} GiB`;
  return `${Math.max(1, Math.round(bytes / 2 ** 20))} MiB`;
}

/** Seconds 1,000 steps take with a snapshot every `snapshotEvery` steps. */
export function secondsPer1000Steps(estimate: RunEstimate, snapshotEvery: number): number {
  return 1000 * estimate.stepSeconds + (1000 / Math.max(1, snapshotEvery)) * estimate.snapshotSeconds;
}

/** "≈ 5.2 s per step, ≈ 1.5 h per 1,000 steps, snapshot ≈ 0.97 s, memory ≈ 0.27 GiB". */
export function estimateLine(estimate: RunEstimate, snapshotEvery: number): string {
  return (
    `≈ ${formatSeconds(estimate.stepSeconds)} per step, ≈ ${formatSeconds(secondsPer1000Steps(estimate, snapshotEvery))} per 1,000 steps, ` +
    `snapshot ≈ ${formatSeconds(estimate.snapshotSeconds)}, memory ≈ ${formatMemory(estimate.memoryBytes)}`
  );
}

/**
 * For a step or a snapshot slower than SLOW_STEP_SECONDS: how slow, and what would bring it under (a smaller width,
 * batch or probe set, from estimate.faster); null otherwise. It informs: the run may still be started.
 */
export function estimateWarning(estimate: RunEstimate): string | null {
  const slowStep = estimate.stepSeconds > SLOW_STEP_SECONDS;
  const slowSnapshot = estimate.snapshotSeconds > SLOW_STEP_SECONDS;
  if (!slowStep && !slowSnapshot) return null;
  const what = [
    slowStep ? `one step would take ≈ ${formatSeconds(estimate.stepSeconds)}` : null,
    slowSnapshot ? `one snapshot ≈ ${formatSeconds(estimate.snapshotSeconds)}` : null,
  ].filter(Boolean);
  const f = estimate.faster ?? {};
  const options = [
    f.width !== undefined ? `hidden layers at most ${fmt(f.width)} units wide` : null,
    f.batch !== undefined ? `a batch of ${fmt(f.batch)}` : null,
    // probeSize alone changes nothing while snapshot.probe is 'auto' or 'all' (the whole training set): name both.
    f.probeRows !== undefined ? `a probe sample of ${fmt(f.probeRows)} rows (snapshot.probe sample, snapshot.probeSize ${fmt(f.probeRows)})` : null,
  ].filter(Boolean);
  const sentence = what.join(' and ');
  const head = sentence[0].toUpperCase() + sentence.slice(1) + ' on this adapter.';
  return options.length
    ? `${head} Under ${SLOW_STEP_SECONDS} s with ${options.join(', or ')}.`
    : `${head} A smaller width, batch or probe set makes it faster.`;
}
