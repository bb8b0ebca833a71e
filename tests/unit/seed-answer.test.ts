import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField, initialUnitHistory } from '../../src/spec/unit-history';
import { longestRunDistribution } from '../../src/report/drop-runs';
import { answerSeedQuestion, chanceLongestDropRun, summarizeUnitHistory, type LayerHistorySummary } from '../../src/report/seed-answer';
import { TRAIN_RECORD_WORDS, TrainRecordField, initialTrainRecord } from '../../src/spec/train-record';

function history(units: { dead?: boolean; firstDeath?: number; revivals?: number; longest?: number; run?: number }[]): Uint32Array {
  const h = initialUnitHistory(units.length);
  units.forEach((u, i) => {
    const at = (f: number) => i * UNIT_HISTORY_WORDS + f;
    if (u.dead) h[at(UnitHistoryField.wasDead)] = 1;
    if (u.firstDeath !== undefined) h[at(UnitHistoryField.firstDeathStep)] = u.firstDeath;
    h[at(UnitHistoryField.revivals)] = u.revivals ?? 0;
    h[at(UnitHistoryField.longestDropRun)] = u.longest ?? 0;
    h[at(UnitHistoryField.dropRun)] = u.run ?? 0;
  });
  return h;
}

const alive = (width: number, longest: number): LayerHistorySummary => ({
  width,
  deadNow: 0,
  everDead: 0,
  revivedUnits: 0,
  totalRevivals: 0,
  everDropped: width,
  longestDropRun: longest,
});

describe('summarizeUnitHistory', () => {
  it('counts dead, ever-dead, revived and dropped units from the history words', () => {
    const h = history([{ dead: true, firstDeath: 100 }, { firstDeath: 200, revivals: 2, longest: 3 }, { longest: 9 }, {}]);
    expect(summarizeUnitHistory(h, 4)).toEqual({
      width: 4,
      deadNow: 1,
      everDead: 2,
      revivedUnits: 1,
      totalRevivals: 2,
      everDropped: 2,
      longestDropRun: 9,
      inDropRunNow: 0,
      longestRunOngoing: 0,
    });
    expect(h[UNIT_HISTORY_WORDS * 3 + UnitHistoryField.firstDeathStep]).toBe(NEVER);
  });

  it('counts units mid-run and whether the longest run is still going', () => {
    const h = history([{ longest: 9, run: 9 }, { longest: 4, run: 2 }, { longest: 7 }]);
    const s = summarizeUnitHistory(h, 3);
    expect([s.inDropRunNow, s.longestRunOngoing]).toEqual([2, 1]);
  });

  it('adds the training record: frozen, dead-not-frozen, frozen-not-dead, non-finite, first non-finite step, thaws', () => {
    // After 20 steps with W = 5. Unit 0: dead, never active (frozen). Unit 1: dead on the probe, active at step 18
    // (not frozen). Unit 2: alive on the probe, last active at step 10 (frozen). Unit 3: NaN at steps 12 and 19 (the
    // last step: non-finite). Unit 4: active at 19, thawed once.
    const h = history([{ dead: true, firstDeath: 5 }, { dead: true, firstDeath: 10 }, {}, {}, {}]);
    const record = initialTrainRecord(5);
    const set = (u: number, f: number, v: number) => (record[u * TRAIN_RECORD_WORDS + f] = v);
    set(1, TrainRecordField.lastActiveStep, 18);
    set(2, TrainRecordField.lastActiveStep, 10);
    set(3, TrainRecordField.firstNonFiniteStep, 12);
    set(3, TrainRecordField.lastNonFiniteStep, 19);
    set(4, TrainRecordField.lastActiveStep, 19);
    set(4, TrainRecordField.thaws, 1);
    const s = summarizeUnitHistory(h, 5, { record, step: 20, window: 5 });
    expect(s.training).toEqual({ window: 5, frozenNow: 2, deadNotFrozen: 1, frozenNotDead: 1, nonFiniteNow: 1, firstNonFiniteStep: 12, thawedUnits: 1 });
    expect(() => summarizeUnitHistory(h, 5, { record: new Uint32Array(4), step: 20, window: 5 })).toThrow(/training record holds 4 words/);
  });

  it('refuses a history shorter than the width', () => {
    expect(() => summarizeUnitHistory(new Uint32Array(8), 2)).toThrow(/fewer than 2 units/);
  });
});

describe('answerSeedQuestion', () => {
  it('answers "no" for dropout alone and puts the longest drop run beside what chance predicts', () => {
    const config = presetConfig('dropout_only');
    const answer = answerSeedQuestion({ config, step: 1_200_000, layers: [alive(512, 27), alive(512, 26)] });
    expect(answer.headline).toBe(
      'After 1,200,000 steps with dropout p = 0.5: no unit is dead. Dropout switches a fresh random set of units off every step and freezes none of them for good.',
    );
    // The exact expectation of the maximum, not the first-order log2(1.2e6 · 512 · 0.5) = 28.2.
    const exact = longestRunDistribution(0.5, 1_200_000, 512)!;
    expect(Math.round(exact.mean)).toBe(29);
    const chance = chanceLongestDropRun(0.5, 1_200_000, 512)!;
    expect(chance).toBe(`about 29 on average, 90 % of runs between ${exact.low}–${exact.high}`);
    expect(answer.findings[0]).toContain('Layer 1 (512 relu units, dropout p = 0.5): 0 dead now (0 %)');
    expect(answer.findings[0]).toContain('switched every unit off at some step');
    expect(answer.findings[0]).toContain(`stayed dropped was 27 steps (chance alone: ${chance})`);
    expect(answer.findings).toHaveLength(2);
    // "Each came back" only where true: units dropped at the last step are mid-run.
    const midRun = answerSeedQuestion({ config, step: 1_200_000, layers: [{ ...alive(512, 27), inDropRunNow: 260, longestRunOngoing: 1 }, alive(512, 26)] });
    expect(midRun.findings[0]).toContain('260 units were dropped at the last step (mid-run when training stopped, one of them in the longest run)');
    const ended = answerSeedQuestion({ config, step: 1_200_000, layers: [{ ...alive(512, 27), inDropRunNow: 0, longestRunOngoing: 0 }, alive(512, 26)] });
    expect(ended.findings[0]).toContain('every drop run ended with the unit back in the network');
  });

  it('reports dead units as a separate failure, names the suspects in the config and a fully dead layer', () => {
    const config = presetConfig('lr_too_high');
    const layers = [alive(512, 20), { ...alive(512, 21), deadNow: 512, everDead: 512 }];
    const answer = answerSeedQuestion({ config, step: 10_000, layers });
    expect(answer.headline).toMatch(/^After 10,000 steps with dropout p = 0\.5: 512 of 1,024 hidden units \(50 %\) are dead\.$/);
    expect(answer.findings.join(' ')).toMatch(/dropout is not what killed them/);
    expect(answer.findings.join(' ')).toContain(`a large learning rate (lr = ${config.lr}, sgd)`);
    expect(answer.findings).toContain("Layer 2 is entirely dead: the network's output no longer depends on its input.");
  });

  it('speaks of the initialization before training and of revivals when there were some', () => {
    const config = presetConfig('negative_bias');
    const born = answerSeedQuestion({ config, step: 0, layers: config.hidden.map((h) => ({ ...alive(h.width, 0), deadNow: 5, everDead: 5, everDropped: 0 })) });
    expect(born.headline).toMatch(/^Before training: 10 of/);
    expect(born.findings.join(' ')).toMatch(/the initialization itself/);
    expect(born.findings.join(' ')).toMatch(/negative bias init \(layer 1: -/);
    const revived = answerSeedQuestion({ config, step: 50, layers: config.hidden.map((h) => ({ ...alive(h.width, 3), revivedUnits: 1, totalRevivals: 1 })) });
    expect(revived.findings.at(-1)).toMatch(/^2 units came back from the dead/);
  });

  it('names frozen beside dead, and says which dead units dropout below keeps waking', () => {
    const config = presetConfig('lr_too_high');
    const training = (frozenNow: number, deadNotFrozen: number, frozenNotDead: number) => ({
      window: 100,
      frozenNow,
      deadNotFrozen,
      frozenNotDead,
      nonFiniteNow: 0,
      firstNonFiniteStep: null,
      thawedUnits: 0,
    });
    const layers = [
      { ...alive(512, 20), deadNow: 10, everDead: 12, training: training(7, 3, 0) },
      { ...alive(512, 21), deadNow: 40, everDead: 40, training: training(30, 12, 2) },
    ];
    const answer = answerSeedQuestion({ config, step: 1000, layers, probe: { all: true, rows: 4096 } });
    expect(answer.headline).toBe(
      'After 1,000 steps with dropout p = 0.5: 50 of 1,024 hidden units (5 %) are dead on all 4,096 training rows; 37 (4 %) are frozen — no training row gave them a positive pre-activation for 100 steps, so they received exactly zero gradient.',
    );
    expect(answer.findings[1]).toContain('40 dead now (8 %), 30 frozen (6 %)');
    const text = answer.findings.join(' ');
    expect(text).toContain('15 of the 50 dead units are not frozen');
    expect(text).toContain('dropout in the layer below zeroes some of their inputs and scales the others by 1/(1−p)');
    expect(text).toContain('2 frozen units are alive on the probe set');
    const sampled = answerSeedQuestion({ config, step: 1000, layers, probe: { all: false, rows: 256 } });
    expect(sampled.headline).toContain('dead on a fixed sample of 256 training rows');
    expect(sampled.findings.join(' ')).toContain('training rows outside the probe sample can make them positive');
  });

  it('says a diverged run diverged, when and where — never "dead"', () => {
    const config = presetConfig('lr_too_high');
    const training = (nonFiniteNow: number, firstNonFiniteStep: number | null) => ({
      window: 100,
      frozenNow: 0,
      deadNotFrozen: 0,
      frozenNotDead: 0,
      nonFiniteNow,
      firstNonFiniteStep,
      thawedUnits: 0,
    });
    const layers = [
      { ...alive(512, 20), training: training(512, 41) },
      { ...alive(512, 20), training: training(512, 40) },
    ];
    const answer = answerSeedQuestion({ config, step: 300, layers });
    expect(answer.headline).toBe(
      'After 300 steps with dropout p = 0.5: the run diverged — pre-activations became NaN or ±Inf at step 40, first in layer 2. 1,024 of 1,024 hidden units are non-finite now.',
    );
    expect(answer.headline).not.toMatch(/dead/);
    expect(answer.findings.join(' ')).toContain('Non-finite units are neither dead nor frozen');
    expect(answer.findings.join(' ')).not.toMatch(/output no longer depends on its input/);
  });

  it('says "dead-like" for activations that still pass a gradient and rejects a layer count mismatch', () => {
    const config = presetConfig('leaky_relu_cure');
    const answer = answerSeedQuestion({ config, step: 100, layers: config.hidden.map((h) => alive(h.width, 4)) });
    expect(answer.findings[0]).toMatch(/leaky_relu units.*dead-like now/);
    expect(() => answerSeedQuestion({ config, step: 1, layers: [] })).toThrow(/0 layer summaries/);
  });
});
