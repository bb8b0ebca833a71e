import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField, initialUnitHistory } from '../../src/spec/unit-history';
import { answerSeedQuestion, expectedLongestDropRun, summarizeUnitHistory, type LayerHistorySummary } from '../../src/report/seed-answer';

function history(units: { dead?: boolean; firstDeath?: number; revivals?: number; longest?: number }[]): Uint32Array {
  const h = initialUnitHistory(units.length);
  units.forEach((u, i) => {
    const at = (f: number) => i * UNIT_HISTORY_WORDS + f;
    if (u.dead) h[at(UnitHistoryField.wasDead)] = 1;
    if (u.firstDeath !== undefined) h[at(UnitHistoryField.firstDeathStep)] = u.firstDeath;
    h[at(UnitHistoryField.revivals)] = u.revivals ?? 0;
    h[at(UnitHistoryField.longestDropRun)] = u.longest ?? 0;
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
    expect(summarizeUnitHistory(h, 4)).toEqual({ width: 4, deadNow: 1, everDead: 2, revivedUnits: 1, totalRevivals: 2, everDropped: 2, longestDropRun: 9 });
    expect(h[UNIT_HISTORY_WORDS * 3 + UnitHistoryField.firstDeathStep]).toBe(NEVER);
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
    const expected = Math.round(expectedLongestDropRun(0.5, 1_200_000, 512)!);
    expect(expected).toBe(28); // log2(1.2e6 · 512 · 0.5)
    expect(answer.findings[0]).toContain('Layer 1 (512 relu units, dropout p = 0.5): 0 dead now (0 %)');
    expect(answer.findings[0]).toContain('switched every unit off at some step');
    expect(answer.findings[0]).toContain(`stayed dropped was 27 steps (chance alone predicts about ${expected})`);
    expect(answer.findings).toHaveLength(2);
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

  it('says "dead-like" for activations that still pass a gradient and rejects a layer count mismatch', () => {
    const config = presetConfig('leaky_relu_cure');
    const answer = answerSeedQuestion({ config, step: 100, layers: config.hidden.map((h) => alive(h.width, 4)) });
    expect(answer.findings[0]).toMatch(/leaky_relu units.*dead-like now/);
    expect(() => answerSeedQuestion({ config, step: 1, layers: [] })).toThrow(/0 layer summaries/);
  });
});
