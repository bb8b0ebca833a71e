// The plain-language answer to the question deadunits exists for — "if I train for a very long time, will all my
// units end up stuck at zero?" — written from a run's own numbers. Used by the CLI's report.md and the UI's panel.
// Browser-safe (no Node imports).
import type { RunConfig } from '../config';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField } from '../spec/unit-history';

/** What a layer's per-unit history (Observatory.readUnitHistory) says, reduced to counts. */
export interface LayerHistorySummary {
  width: number;
  /** Dead at the latest snapshot. */
  deadNow: number;
  /** Dead at this or any earlier snapshot. */
  everDead: number;
  /** Units that revived at least once. */
  revivedUnits: number;
  /** Revivals summed over units. */
  totalRevivals: number;
  /** Units dropped (for probe sample 0) at one step or more. */
  everDropped: number;
  /** Longest run of consecutive drops of any unit, in steps. */
  longestDropRun: number;
}

export function summarizeUnitHistory(history: Uint32Array, width: number): LayerHistorySummary {
  if (history.length < width * UNIT_HISTORY_WORDS) {
    throw new Error(`unit history holds ${history.length} words, fewer than ${width} units × ${UNIT_HISTORY_WORDS}`);
  }
  const s: LayerHistorySummary = { width, deadNow: 0, everDead: 0, revivedUnits: 0, totalRevivals: 0, everDropped: 0, longestDropRun: 0 };
  for (let u = 0; u < width; u++) {
    const h = u * UNIT_HISTORY_WORDS;
    if (history[h + UnitHistoryField.wasDead] !== 0) s.deadNow++;
    if (history[h + UnitHistoryField.firstDeathStep] !== NEVER) s.everDead++;
    const revivals = history[h + UnitHistoryField.revivals];
    if (revivals > 0) s.revivedUnits++;
    s.totalRevivals += revivals;
    const longest = history[h + UnitHistoryField.longestDropRun];
    if (longest > 0) s.everDropped++;
    if (longest > s.longestDropRun) s.longestDropRun = longest;
  }
  return s;
}

export interface SeedAnswerInput {
  config: RunConfig;
  /** Steps trained when the summaries were read. */
  step: number;
  /** One per hidden layer, first to last. */
  layers: LayerHistorySummary[];
}

export interface SeedAnswer {
  /** One sentence: the answer for this run. */
  headline: string;
  /** One sentence per layer, then the notes that explain the headline. */
  findings: string[];
}

const count = (n: number): string => n.toLocaleString('en-US');
const percent = (part: number, whole: number): string => {
  const p = (100 * part) / whole;
  return `${p > 0 && p < 1 ? p.toFixed(1) : Math.round(p)} %`;
};

/**
 * The longest run of consecutive drops expected over `units` units and `steps` steps at drop probability p:
 * about log(steps · units · (1 − p)) / log(1/p) (the longest success run of a Bernoulli sequence), or null
 * when that formula says nothing (fewer than one expected run start).
 */
export function expectedLongestDropRun(p: number, steps: number, units: number): number | null {
  const starts = steps * units * (1 - p);
  if (p <= 0 || p >= 1 || starts <= 1) return null;
  return Math.log(starts) / Math.log(1 / p);
}

function layerFinding(l: number, s: LayerHistorySummary, config: RunConfig, step: number): string {
  const layer = config.hidden[l];
  const p = layer.dropout;
  const act = layer.activation.kind;
  const what = `Layer ${l + 1} (${count(s.width)} ${act} units${p > 0 ? `, dropout p = ${p}` : ''})`;
  const deadWord = act === 'relu' ? 'dead' : 'dead-like';
  const parts = [`${count(s.deadNow)} ${deadWord} now (${percent(s.deadNow, s.width)})`];
  if (step > 0) parts.push(`${count(s.everDead)} died at some snapshot`, `${count(s.revivedUnits)} revived (${count(s.totalRevivals)} revivals)`);
  let sentence = `${what}: ${parts.join(', ')}.`;
  if (p > 0 && step > 0) {
    const expected = expectedLongestDropRun(p, step, s.width);
    const all = s.everDropped === s.width ? 'every unit' : `${count(s.everDropped)} of ${count(s.width)} units`;
    sentence +=
      ` Dropout switched ${all} off at some step (probe sample 0); the longest stretch any unit stayed dropped was` +
      ` ${count(s.longestDropRun)} step${s.longestDropRun === 1 ? '' : 's'}${expected === null ? '' : ` (chance alone predicts about ${Math.round(expected)})`}, and each came back.`;
  }
  return sentence;
}

/** Likely causes of dead units that the configuration itself shows, in the order a reader would check them. */
function suspects(config: RunConfig): string[] {
  const out: string[] = [];
  const negative = config.hidden.map((h, l) => [l, h.init.bias.value] as const).filter(([, b]) => b < 0);
  if (negative.length) out.push(`negative bias init (${negative.map(([l, b]) => `layer ${l + 1}: ${b}`).join(', ')})`);
  if (config.lr >= 0.1) out.push(`a large learning rate (lr = ${config.lr}, ${config.optimizer.kind})`);
  if (config.hidden.length >= 8 && Math.min(...config.hidden.map((h) => h.width)) <= 16) out.push(`a deep, narrow network (${config.hidden.length} layers)`);
  return out;
}

export function answerSeedQuestion(input: SeedAnswerInput): SeedAnswer {
  const { config, step, layers } = input;
  if (layers.length !== config.hidden.length) {
    throw new Error(`${layers.length} layer summaries for ${config.hidden.length} hidden layers`);
  }
  const dropoutPs = [...new Set(config.hidden.map((h) => h.dropout).filter((p) => p > 0))];
  const withDropout = dropoutPs.length ? ` with dropout p = ${dropoutPs.join(' / ')}` : '';
  const dead = layers.reduce((n, s) => n + s.deadNow, 0);
  const units = layers.reduce((n, s) => n + s.width, 0);
  const when = step === 0 ? 'Before training' : `After ${count(step)} steps${withDropout}`;
  const findings = layers.map((s, l) => layerFinding(l, s, config, step));

  let headline: string;
  if (dead === 0) {
    headline = `${when}: no unit is dead.${dropoutPs.length && step > 0 ? ' Dropout switches a fresh random set of units off every step and freezes none of them for good.' : ''}`;
  } else {
    headline = `${when}: ${count(dead)} of ${count(units)} hidden units (${percent(dead, units)}) are dead.`;
    const causes = suspects(config);
    findings.push(
      'Dead means the pre-activation is ≤ 0 on every probe input with dropout off, so dropout is not what killed them: ' +
        `the weight and bias updates${step === 0 ? ' — here, the initialization itself —' : ''} pushed them there` +
        `${causes.length ? `; this run has ${causes.join(' and ')}` : ''}.`,
    );
    const gone = layers.findIndex((s) => s.deadNow === s.width);
    if (gone >= 0) findings.push(`Layer ${gone + 1} is entirely dead: the network's output no longer depends on its input.`);
  }
  const revived = layers.reduce((n, s) => n + s.revivedUnits, 0);
  if (revived > 0) {
    findings.push(
      `${count(revived)} unit${revived === 1 ? '' : 's'} came back from the dead: a later layer's inputs keep changing while earlier layers learn, so death there is not always permanent.`,
    );
  }
  return { headline, findings };
}
