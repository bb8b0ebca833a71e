// report.md from a run's numbers: status line, the seed answer, the final table, plots and maps.
import { describe, expect, it } from 'vitest';
import { presetConfig } from '../../src/config';
import { renderReportMarkdown, type ReportInput } from '../../src/report/report-md';
import { answerSeedQuestion, type LayerHistorySummary } from '../../src/report/seed-answer';

const config = presetConfig('lr_too_high');
const layers: LayerHistorySummary[] = [
  { width: 512, deadNow: 3, everDead: 5, revivedUnits: 2, totalRevivals: 4, everDropped: 512, longestDropRun: 11 },
  { width: 512, deadNow: 100, everDead: 120, revivedUnits: 20, totalRevivals: 21, everDropped: 512, longestDropRun: 12 },
];
const answer = answerSeedQuestion({ config, step: 20_000, layers });

function input(overrides: Partial<ReportInput> = {}): ReportInput {
  return {
    config,
    summary: 'a summary',
    status: 'completed',
    step: 20_000,
    answer,
    layers,
    last: {
      step: 20_000,
      elapsedSeconds: 60,
      loss: 0.4321,
      stepsPerSecond: 333.3,
      skipped: 0,
      layers: layers.map((l) => ({ width: l.width, dead: l.deadNow, dropped: 256, revived: l.revivedUnits, everDead: l.everDead })),
    },
    rows: 201,
    charts: [{ file: 'charts/dead.svg', title: 'Dead units' }],
    unitMaps: [{ layer: 2, step: 20_000, file: 'maps/L2/step-0000020000.png' }],
    files: [{ file: 'metrics.jsonl', what: 'rows' }],
    ...overrides,
  };
}

describe('renderReportMarkdown', () => {
  it('answers the question from the numbers and tabulates every layer', () => {
    const md = renderReportMarkdown(input());
    expect(md).toContain('Completed: 20,000 of 100,000 steps.');
    expect(md).toContain(`**${answer.headline}**`);
    for (const f of answer.findings) expect(md).toContain(`- ${f}`);
    // No training record in these summaries: the frozen, dead-not-frozen and non-finite cells say so.
    expect(md).toContain('| L2 | 512 | relu | 0.5 | 100 (19.5 %) | – | – | – | 120 | 20 (21) | 256 (50.0 %) | 512 | 12 steps |');
    expect(md).toContain('- loss (mean of the last interval): 0.4321');
    expect(md).toContain('- throughput: 333.3 steps/s');
    expect(md).toContain('![Dead units](charts/dead.svg)');
    expect(md).toContain('![unit map of layer 2 at step 20000](maps/L2/step-0000020000.png)');
    expect(md).toContain('dead `#111111`');
    expect(md).toContain('- `metrics.jsonl`: rows');
  });

  it('says when the run diverged or was interrupted, and shows a non-finite loss as such', () => {
    const base = input();
    const diverged = renderReportMarkdown(input({ status: 'non-finite', message: 'loss NaN at step 7.', last: { ...base.last!, loss: NaN } }));
    expect(diverged).toContain('**Stopped: the run diverged** after 20,000 of 100,000 steps. loss NaN at step 7. See FAILED.md.');
    expect(diverged).toContain('- loss (mean of the last interval): NaN');
    const gpuError = renderReportMarkdown(input({ status: 'gpu-error', step: 10_000, message: 'GPU validation error: x.' }));
    expect(gpuError).toContain(
      '**Stopped: a GPU error.** GPU validation error: x. The answer below is that of the last good checkpoint (10,000 of 100,000 steps); ' +
        'the metrics and maps go up to the last chunk that ran clean. See FAILED.md; `deadunits resume` continues from that checkpoint.',
    );
    const interrupted = renderReportMarkdown(input({ status: 'interrupted', message: 'received SIGTERM' }));
    expect(interrupted).toContain('Interrupted after 20,000 of 100,000 steps (received SIGTERM); `deadunits resume` continues it');
    const bare = renderReportMarkdown(input({ last: null, charts: [], unitMaps: [], files: [] }));
    expect(bare).not.toContain('## Plots');
    expect(bare).not.toContain('## Unit maps');
    expect(bare).toContain('| L1 | 512 | relu | 0.5 | 3 (0.6 %) | – | – | – | 5 | 2 (4) | – |');
  });

  it('tabulates frozen, dead-not-frozen and non-finite from the training record, says which probe set, defines frozen', () => {
    const training = { window: 100, frozenNow: 80, deadNotFrozen: 25, frozenNotDead: 5, nonFiniteNow: 0, firstNonFiniteStep: null, thawedUnits: 3 };
    const withTraining = [layers[0], { ...layers[1], training }];
    const md = renderReportMarkdown(input({ layers: withTraining, probe: { all: true, rows: 4096 } }));
    expect(md).toContain('| L2 | 512 | relu | 0.5 | 100 (19.5 %) | 80 (15.6 %) | 25 | 0 | 120 | 20 (21) | 256 (50.0 %) | 512 | 12 steps |');
    expect(md).toContain('probe set: all 4,096 training rows');
    expect(md).toContain('- **Frozen**: no row of any training batch');
    expect(md).toContain('- **Non-finite**');
    expect(md).not.toContain('so its weights stop changing');
    expect(renderReportMarkdown(input({ probe: { all: false, rows: 256 } }))).toContain('probe set: a fixed random sample of 256 training rows');
  });
});
