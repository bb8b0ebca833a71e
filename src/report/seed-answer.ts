// The plain-language answer to the question deadunits exists for — "if I train for a very long time, will all my
// units end up stuck at zero?" — written from a run's own numbers. Used by the CLI's report.md and the UI's panel.
// Browser-safe (no Node imports).
import type { RunConfig } from '../config';
import { TRAIN_RECORD_WORDS, TrainRecordField, trainStateAt } from '../spec/train-record';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField } from '../spec/unit-history';
import { longestRunDistribution } from './drop-runs';
import { deadFraction, type TaskEnd } from './tasks';

/** What a layer's per-unit history (Observatory.readUnitHistory) and training record (readTrainRecord) say, reduced to counts. */
export interface LayerHistorySummary {
  width: number;
  /** Dead on the probe set at the latest snapshot. */
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
  /** Units dropped at the last step (in the middle of a drop run when the run stopped); absent in older summaries. */
  inDropRunNow?: number;
  /** Units whose current drop run is the layer's longest: that run has not ended. Absent in older summaries. */
  longestRunOngoing?: number;
  /** The training-mode statistics; absent when no training record was read (older checkpoints). */
  training?: TrainingSummary;
}

/** From the training record: what training itself saw, as trained (dropout on). */
export interface TrainingSummary {
  /** W, steps. */
  window: number;
  /** No training row gave them z > 0 for the last W steps: exactly zero gradient in each. */
  frozenNow: number;
  /** Dead on the probe set but not frozen: some training row (dropout below on, or a row outside the probe) still made them positive. */
  deadNotFrozen: number;
  /** Frozen yet alive on the probe set (the probe, without dropout, makes them positive; training never did). */
  frozenNotDead: number;
  /** NaN or ±Inf on a row of the last step's batch. */
  nonFiniteNow: number;
  /** First training step with a non-finite pre-activation in this layer; null if none. */
  firstNonFiniteStep: number | null;
  /** Units that came back after W or more steps without an active step (frozen, then active again). */
  thawedUnits: number;
}

/**
 * Counts of one layer. `training` adds the frozen statistic: the unit's TrainRecord words, the steps completed and
 * the window W they were recorded with.
 */
export function summarizeUnitHistory(
  history: Uint32Array,
  width: number,
  training?: { record: Uint32Array; step: number; window: number },
): LayerHistorySummary {
  if (history.length < width * UNIT_HISTORY_WORDS) {
    throw new Error(`unit history holds ${history.length} words, fewer than ${width} units × ${UNIT_HISTORY_WORDS}`);
  }
  if (training && training.record.length < width * TRAIN_RECORD_WORDS) {
    throw new Error(`training record holds ${training.record.length} words, fewer than ${width} units × ${TRAIN_RECORD_WORDS}`);
  }
  const s: LayerHistorySummary & { inDropRunNow: number; longestRunOngoing: number } = {
    width,
    deadNow: 0,
    everDead: 0,
    revivedUnits: 0,
    totalRevivals: 0,
    everDropped: 0,
    longestDropRun: 0,
    inDropRunNow: 0,
    longestRunOngoing: 0,
  };
  const t: TrainingSummary | undefined = training && {
    window: training.window,
    frozenNow: 0,
    deadNotFrozen: 0,
    frozenNotDead: 0,
    nonFiniteNow: 0,
    firstNonFiniteStep: null,
    thawedUnits: 0,
  };
  for (let u = 0; u < width; u++) {
    const h = u * UNIT_HISTORY_WORDS;
    const dead = history[h + UnitHistoryField.wasDead] !== 0;
    if (dead) s.deadNow++;
    if (history[h + UnitHistoryField.firstDeathStep] !== NEVER) s.everDead++;
    const revivals = history[h + UnitHistoryField.revivals];
    if (revivals > 0) s.revivedUnits++;
    s.totalRevivals += revivals;
    const longest = history[h + UnitHistoryField.longestDropRun];
    if (longest > 0) s.everDropped++;
    if (longest > s.longestDropRun) s.longestDropRun = longest;
    if (history[h + UnitHistoryField.dropRun] > 0) s.inDropRunNow++;
    if (t && training) {
      const state = trainStateAt(training.record, u, training.step, training.window);
      if (state === 'nonFinite') t.nonFiniteNow++;
      if (state === 'frozen') t.frozenNow++;
      if (dead && state === 'live') t.deadNotFrozen++;
      if (!dead && state === 'frozen') t.frozenNotDead++;
      const r = u * TRAIN_RECORD_WORDS;
      const first = training.record[r + TrainRecordField.firstNonFiniteStep];
      if (first !== NEVER && (t.firstNonFiniteStep === null || first < t.firstNonFiniteStep)) t.firstNonFiniteStep = first;
      if (training.record[r + TrainRecordField.thaws] > 0) t.thawedUnits++;
    }
  }
  for (let u = 0; u < width; u++) {
    const h = u * UNIT_HISTORY_WORDS;
    if (s.longestDropRun > 0 && history[h + UnitHistoryField.dropRun] === s.longestDropRun) s.longestRunOngoing++;
  }
  return t ? { ...s, training: t } : s;
}

export interface SeedAnswerInput {
  config: RunConfig;
  /** Steps trained when the summaries were read. */
  step: number;
  /** One per hidden layer, first to last. */
  layers: LayerHistorySummary[];
  /** A non-stationary run (config.tasks.every > 0): the end of each task so far (src/report/tasks.ts). */
  tasks?: readonly TaskEnd[];
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

/** The probe set a run used (config.snapshot.probe resolved against the data set: probeRowsFor). */
export interface ProbeUsed {
  all: boolean;
  rows: number;
  /** A non-stationary run: the rows as the current task presents them (its inputs, its permutation). */
  task?: 'inputs' | 'permuted';
}

/** " on …" naming the probe set a run's dead counts were measured on. */
export function probeSetWords(p: ProbeUsed): string {
  if (p.task === 'inputs') return ` on the current task's ${count(p.rows)} inputs`;
  const rows = p.all ? ` on all ${count(p.rows)} training rows` : ` on a fixed sample of ${count(p.rows)} training rows`;
  return p.task === 'permuted' ? `${rows}, permuted as the current task permutes them` : rows;
}

/**
 * What chance alone predicts for the longest drop run over `units` units and `steps` steps: the exact distribution
 * of the maximum (src/report/drop-runs.ts), as "about M (90 % of runs: a–b)"; null when there is nothing to predict.
 */
export function chanceLongestDropRun(p: number, steps: number, units: number): string | null {
  const d = longestRunDistribution(p, steps, units);
  if (!d) return null;
  const range = d.low === d.high ? `${d.low}` : `${d.low}–${d.high}`;
  return `about ${Math.round(d.mean)} on average, 90 % of runs between ${range}`;
}

function dropSentence(s: LayerHistorySummary, p: number, step: number): string {
  const all = s.everDropped === s.width ? 'every unit' : `${count(s.everDropped)} of ${count(s.width)} units`;
  const chance = chanceLongestDropRun(p, step, s.width);
  const runs = `${count(s.longestDropRun)} step${s.longestDropRun === 1 ? '' : 's'}${chance === null ? '' : ` (chance alone: ${chance})`}`;
  // "Each came back" is only true of runs that ended: units dropped at the last step are mid-run.
  let back: string;
  if (s.inDropRunNow === undefined)
    return ` Dropout switched ${all} off at some step (probe sample 0); the longest stretch any unit stayed dropped was ${runs}.`;
  if (s.inDropRunNow === 0) back = 'every drop run ended with the unit back in the network';
  else {
    const ongoing =
      (s.longestRunOngoing ?? 0) > 0 ? `, ${s.longestRunOngoing === 1 ? 'one of them' : `${count(s.longestRunOngoing ?? 0)} of them`} in the longest run` : '';
    back =
      `${count(s.inDropRunNow)} unit${s.inDropRunNow === 1 ? ' was' : 's were'} dropped at the last step (mid-run when training stopped${ongoing}); ` +
      'every earlier run ended with the unit back in the network';
  }
  return ` Dropout switched ${all} off at some step (probe sample 0); the longest stretch any unit stayed dropped was ${runs}, and ${back}.`;
}

function layerFinding(l: number, s: LayerHistorySummary, config: RunConfig, step: number): string {
  const layer = config.hidden[l];
  const p = layer.dropout;
  const act = layer.activation.kind;
  const what = `Layer ${l + 1} (${count(s.width)} ${act} units${p > 0 ? `, dropout p = ${p}` : ''})`;
  const deadWord = act === 'relu' ? 'dead' : 'dead-like';
  const parts = [`${count(s.deadNow)} ${deadWord} now (${percent(s.deadNow, s.width)})`];
  const t = s.training;
  if (t && step > 0 && act === 'relu') parts.push(`${count(t.frozenNow)} frozen (${percent(t.frozenNow, s.width)})`);
  if (t && t.nonFiniteNow > 0) parts.push(`${count(t.nonFiniteNow)} non-finite`);
  if (step > 0) parts.push(`${count(s.everDead)} died at some snapshot`, `${count(s.revivedUnits)} revived (${count(s.totalRevivals)} revivals)`);
  let sentence = `${what}: ${parts.join(', ')}.`;
  if (p > 0 && step > 0) sentence += dropSentence(s, p, step);
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

export interface SeedAnswerInput {
  config: RunConfig;
  /** Steps trained when the summaries were read. */
  step: number;
  /** One per hidden layer, first to last. */
  layers: LayerHistorySummary[];
  /** The probe set the dead scan used; absent: not said. */
  probe?: ProbeUsed;
}

/** The diverged run's words: where and when pre-activations stopped being numbers. */
function divergence(layers: LayerHistorySummary[]): { step: number; layer: number; units: number } | null {
  let first: { step: number; layer: number; units: number } | null = null;
  layers.forEach((s, l) => {
    const t = s.training;
    if (!t || t.firstNonFiniteStep === null) return;
    if (!first || t.firstNonFiniteStep < first.step) first = { step: t.firstNonFiniteStep, layer: l + 1, units: t.nonFiniteNow };
  });
  return first;
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
  const trained = layers.every((s) => s.training) && step > 0;
  const frozen = trained ? layers.reduce((n, s) => n + s.training!.frozenNow, 0) : 0;
  const nonFinite = layers.reduce((n, s) => n + (s.training?.nonFiniteNow ?? 0), 0);
  const when = step === 0 ? 'Before training' : `After ${count(step)} steps${withDropout}`;
  const findings = layers.map((s, l) => layerFinding(l, s, config, step));
  const probe = input.probe ? probeSetWords(input.probe) : '';

  const diverged = divergence(layers);
  if (diverged || nonFinite > 0) {
    const at = diverged ? ` at step ${count(diverged.step)}, first in layer ${diverged.layer}` : '';
    const headline = `${when}: the run diverged — pre-activations became NaN or ±Inf${at}. ${count(nonFinite)} of ${count(units)} hidden units are non-finite now.`;
    findings.push(
      'Non-finite units are neither dead nor frozen: their numbers stopped being numbers (typically an exploding update: lower the learning rate, clip, or normalize). ' +
        'Dead and frozen counts from before the divergence are in the metrics; after it they say nothing.',
    );
    return { headline, findings };
  }

  let headline: string;
  if (dead === 0 && frozen === 0) {
    headline = `${when}: no unit is dead.${dropoutPs.length && step > 0 ? ' Dropout switches a fresh random set of units off every step and freezes none of them for good.' : ''}`;
  } else {
    const frozenPart = trained
      ? `; ${count(frozen)} (${percent(frozen, units)}) are frozen — no training row gave them a positive pre-activation for ${count(layers[0].training!.window)} steps, so they received exactly zero gradient`
      : '';
    headline = `${when}: ${count(dead)} of ${count(units)} hidden units (${percent(dead, units)}) are dead${probe}${frozenPart}.`;
    const causes = suspects(config);
    findings.push(
      `Dead means the pre-activation is ≤ 0 on every ${config.tasks.every > 0 ? "one of the current task's probe inputs" : 'probe input'} with dropout off, so dropout is not what killed them: ` +
        `the weight and bias updates${step === 0 ? ' — here, the initialization itself —' : ''} pushed them there` +
        `${causes.length ? `; this run has ${causes.join(' and ')}` : ''}.`,
    );
    if (trained) {
      const awake = layers.reduce((n, s) => n + s.training!.deadNotFrozen, 0);
      if (awake > 0) {
        const below = layers.some((s, l) => s.training!.deadNotFrozen > 0 && (l === 0 ? config.inputDropout > 0 : config.hidden[l - 1].dropout > 0));
        const outside = input.probe && !input.probe.all;
        const why = [
          below ? 'dropout in the layer below zeroes some of their inputs and scales the others by 1/(1−p), which can push them above 0' : '',
          outside ? 'training rows outside the probe sample can make them positive' : '',
          !below && !outside ? 'the training batches reach inputs the probe set does not' : '',
        ].filter(Boolean);
        findings.push(
          `${count(awake)} of the ${count(dead)} dead units are not frozen: a training batch within the last ${count(layers[0].training!.window)} steps still made them positive (${why.join('; ')}), so they still receive gradient and can come back.`,
        );
      }
      const hidden = layers.reduce((n, s) => n + s.training!.frozenNotDead, 0);
      if (hidden > 0) {
        findings.push(
          `${count(hidden)} frozen unit${hidden === 1 ? ' is' : 's are'} alive on the probe set: without dropout the probe makes ${hidden === 1 ? 'it' : 'them'} positive, but no training batch did for ${count(layers[0].training!.window)} steps.`,
        );
      }
    }
    const gone = layers.findIndex((s) => s.deadNow === s.width && (!s.training || s.training.frozenNow === s.width));
    if (gone >= 0) {
      findings.push(
        layers[gone].training !== undefined
          ? `Layer ${gone + 1} is entirely frozen and dead on the probe set: the network's output no longer depends on its input.`
          : `Layer ${gone + 1} is entirely dead: the network's output no longer depends on its input.`,
      );
    }
  }
  const revived = layers.reduce((n, s) => n + s.revivedUnits, 0);
  if (revived > 0) {
    findings.push(
      `${count(revived)} unit${revived === 1 ? '' : 's'} came back from the dead: ` +
        (config.tasks.every > 0
          ? "dead is measured on the current task's inputs, and a new task brings new inputs on which a unit can be alive again (and the layers below keep learning)."
          : 'being dead on the probe set is not absorbing — the layers below keep learning, and a unit still gets gradient whenever a training row (with dropout in the layer below) makes it positive.'),
    );
  }
  const thawed = trained ? layers.reduce((n, s) => n + s.training!.thawedUnits, 0) : 0;
  if (thawed > 0) {
    findings.push(
      `${count(thawed)} unit${thawed === 1 ? '' : 's'} thawed: frozen for ${count(layers[0].training!.window)} steps or more, then active again — with zero gradient a unit's own weights cannot bring it back, so the change came from the layers below or from batches not seen in the window.`,
    );
  }
  if (config.tasks.every > 0) findings.push(...taskFindings(config, input.tasks ?? []));
  return { headline, findings };
}

const pctOf = (fraction: number) => `${Math.round(100 * fraction)} %`;
const loss = (v: number | null) => (v === null ? '–' : Number.isFinite(v) ? v.toPrecision(3) : String(v));

/** What changes between tasks, in words. */
function taskChange(config: RunConfig): string {
  const t = config.tasks;
  const parts: string[] = [];
  if (config.dataset.kind === 'slowly_changing') parts.push('one of the flipping input bits flips');
  if (t.permuteInputs) parts.push('the input features are permuted afresh');
  if (t.shuffleLabels) parts.push('the classes are relabelled afresh');
  if (t.resetOutput) parts.push('the output layer is re-initialised');
  return parts.length ? parts.join(', ') : 'nothing changes (the same data every task)';
}

/** The non-stationary part of the answer: dying across tasks, the plasticity curve, what the cures do. */
function taskFindings(config: RunConfig, ends: readonly TaskEnd[]): string[] {
  const every = config.tasks.every;
  const out = [`The data is non-stationary: every ${count(every)} steps a new task begins (${taskChange(config)}).`];
  const complete = ends.filter((e) => e.complete);
  if (complete.length < 2) {
    out.push('Fewer than two tasks have ended, so nothing can be said yet about units dying as the tasks change.');
    return out;
  }
  const first = complete[0];
  const last = complete[complete.length - 1];
  const before = deadFraction(first);
  const after = deadFraction(last);
  const dropout = [...new Set(config.hidden.map((h) => h.dropout).filter((p) => p > 0))];
  const cures = [
    config.continualBackprop.replacementRate > 0 && `continual backprop (replacement rate ${config.continualBackprop.replacementRate})`,
    (config.shrinkPerturb.shrink > 0 || config.shrinkPerturb.noise > 0) &&
      `Shrink & Perturb (shrink ${config.shrinkPerturb.shrink}, noise ${config.shrinkPerturb.noise})`,
    config.weightDecay > 0 && `weight decay ${config.weightDecay}`,
    config.hidden.some((h) => h.activation.kind !== 'relu') && 'activations other than ReLU',
  ].filter((c): c is string => typeof c === 'string');
  if (after > before) {
    out.push(
      `Units died progressively: dead on the task's inputs went from ${pctOf(before)} at the end of task ${first.task + 1} to ${pctOf(after)} at the end of task ${last.task + 1}.` +
        (dropout.length
          ? ` Dropout p = ${dropout.join(' / ')} did not prevent it: it masks units for a step, it does not stop the updates that push them below zero.`
          : ''),
    );
  } else {
    out.push(
      `No progressive dying in this run: dead on the task's inputs was ${pctOf(before)} at the end of task ${first.task + 1} and ${pctOf(after)} at the end of task ${last.task + 1}` +
        (cures.length ? `, with ${cures.join(' and ')}.` : '.'),
    );
  }
  out.push(
    `Loss at the end of a task (the plasticity curve): ${loss(first.loss)} after task ${first.task + 1}, ${loss(last.loss)} after task ${last.task + 1}` +
      (first.loss !== null && last.loss !== null && last.loss > first.loss ? ': later tasks are fitted worse than early ones (a loss of plasticity).' : '.'),
  );
  if (cures.length && after > before)
    out.push(`This run has ${cures.join(' and ')}; units died anyway, but compare with the same run without it: one seed is noisy.`);
  return out;
}
