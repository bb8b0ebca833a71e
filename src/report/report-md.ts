// report.md of a headless run: the answer to "will all my units end up stuck at zero?" from the run's own
// numbers (seed-answer.ts), a table of the final numbers per layer, the charts and the latest unit maps.
// Pure text from its input; browser-safe (no Node imports).
import type { RunConfig } from '../config';
import type { MetricsRow } from './metrics';
import type { LayerHistorySummary, ProbeUsed, SeedAnswer } from './seed-answer';
import { deadFraction, type TaskEnd } from './tasks';
import { EMPTY_COLOR, UNIT_STATES } from './unit-states';

export interface ReportInput {
  config: RunConfig;
  /** One line on the configuration (e.g. configSummary). */
  summary: string;
  /** 'gpu-error': stopped by a GPU error; the numbers are those of the last good checkpoint (`step`). */
  status: 'completed' | 'interrupted' | 'non-finite' | 'gpu-error';
  /** Steps trained when the report was written. */
  step: number;
  answer: SeedAnswer;
  layers: LayerHistorySummary[];
  /** The probe set the dead scan used; absent: not said. */
  probe?: ProbeUsed;
  /** The last metrics row (null when the run wrote none). */
  last: MetricsRow | null;
  /** Metrics rows written over the whole run. */
  rows: number;
  /** Why the run stopped early (non-finite, interrupted). */
  message?: string;
  adapter?: string;
  /** Chart files relative to the run folder, in order. */
  charts: { file: string; title: string }[];
  /** The latest unit map PNG per hidden layer, relative to the run folder. */
  unitMaps: { layer: number; step: number; file: string }[];
  /** Other outputs worth pointing at, relative to the run folder, with a word on each. */
  files: { file: string; what: string }[];
  /** A non-stationary run: the end of each task (src/report/tasks.ts); absent or empty otherwise. */
  tasks?: readonly TaskEnd[];
}

/** Task-by-task table: all tasks up to 12, else the first 4, the middle 4 and the last 4. */
function taskSection(config: RunConfig, tasks: readonly TaskEnd[]): string[] {
  if (tasks.length === 0) return [];
  const out = ['## Task by task', ''];
  out.push(
    `A new task every ${n(config.tasks.every)} steps. At the end of each task: the mean loss of the snapshot interval that ended it ` +
      "(the plasticity curve) and the units dead on that task's inputs.",
    '',
  );
  const layers = tasks[0].widths.map((_, l) => `dead L${l + 1}`);
  out.push(`| task | step | loss at its end | ${layers.join(' | ')} | dead, all layers |`);
  out.push(`| ---: | ---: | ---: | ${layers.map(() => '---:').join(' | ')} | ---: |`);
  const shown =
    tasks.length <= 12
      ? tasks.map((t, i) => [t, i] as const)
      : [0, 1, 2, 3, ...[-2, -1, 0, 1].map((d) => Math.floor(tasks.length / 2) + d), ...[4, 3, 2, 1].map((d) => tasks.length - d)].map(
          (i) => [tasks[i], i] as const,
        );
  let previous = -1;
  for (const [t, i] of shown) {
    if (previous >= 0 && i > previous + 1) out.push(`| … | | | ${layers.map(() => '').join(' | ')} | |`);
    previous = i;
    const loss = t.loss === null ? '–' : Number.isFinite(t.loss) ? t.loss.toPrecision(4) : String(t.loss);
    const dead = t.dead.map((d, l) => `${n(d)} (${pct(d, t.widths[l])})`);
    out.push(`| ${n(t.task + 1)}${t.complete ? '' : ' (so far)'} | ${n(t.step)} | ${loss} | ${dead.join(' | ')} | ${(100 * deadFraction(t)).toFixed(1)} % |`);
  }
  out.push('');
  return out;
}

const n = (v: number) => v.toLocaleString('en-US');
const pct = (part: number, whole: number) => `${((100 * part) / whole).toFixed(1)} %`;

function statusLine(input: ReportInput): string {
  const of = `${n(input.step)} of ${n(input.config.steps)} steps`;
  switch (input.status) {
    case 'completed':
      return `Completed: ${of}.`;
    case 'interrupted':
      return `Interrupted after ${of}${input.message ? ` (${input.message})` : ''}; \`deadunits resume\` continues it from its last checkpoint.`;
    case 'non-finite':
      return `**Stopped: the run diverged** after ${of}. ${input.message ?? ''} See FAILED.md.`;
    case 'gpu-error':
      return (
        `**Stopped: a GPU error.** ${input.message ?? ''} The answer below is that of the last good checkpoint (${of}); the ` +
        'metrics and maps go up to the last chunk that ran clean. See FAILED.md; `deadunits resume` continues from that checkpoint.'
      );
  }
}

function probeWords(input: ReportInput): string {
  const p = input.probe;
  if (!p) return `probe set: snapshot.probe = ${input.config.snapshot.probe}`;
  if (p.task === 'inputs') return `probe set: the current task's ${n(p.rows)} inputs, regenerated as the task changes`;
  const rows = p.all ? `probe set: all ${n(p.rows)} training rows` : `probe set: a fixed random sample of ${n(p.rows)} training rows`;
  return p.task === 'permuted' ? `${rows}, permuted as the current task permutes them` : rows;
}

export function renderReportMarkdown(input: ReportInput): string {
  const { answer, layers, last, config } = input;
  const out: string[] = [];
  out.push('# deadunits run report', '');
  out.push(statusLine(input), '');
  out.push(`Network and training: ${input.summary}.`);
  if (input.adapter) out.push(`Adapter: ${input.adapter}.`);
  out.push('');

  out.push('## Will all my units end up stuck at zero?', '');
  out.push(`**${answer.headline}**`, '');
  for (const f of answer.findings) out.push(`- ${f}`);
  out.push('');

  out.push('## Final numbers', '');
  out.push(
    "Per hidden layer, from the observatory's per-unit history at the end of the run" + (last ? ` and the last snapshot (step ${n(last.step)})` : '') + ':',
    '',
  );
  out.push(
    '| layer | width | activation | dropout p | dead on probe now | frozen now | dead, not frozen | non-finite | dead at some snapshot | revived units (revivals) | dropped at last snapshot | ever dropped | longest drop run |',
  );
  out.push('| --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  layers.forEach((s, l) => {
    const h = config.hidden[l];
    const t = s.training;
    const dropped = last?.layers[l] ? `${n(last.layers[l].dropped)} (${pct(last.layers[l].dropped, s.width)})` : '–';
    const training = t ? [`${n(t.frozenNow)} (${pct(t.frozenNow, s.width)})`, n(t.deadNotFrozen), n(t.nonFiniteNow)] : ['–', '–', '–'];
    out.push(
      `| L${l + 1} | ${n(s.width)} | ${h.activation.kind} | ${h.dropout} | ${n(s.deadNow)} (${pct(s.deadNow, s.width)}) | ${training.join(' | ')} | ${n(s.everDead)} | ${n(s.revivedUnits)} (${n(s.totalRevivals)}) | ${dropped} | ${h.dropout > 0 ? n(s.everDropped) : '–'} | ${h.dropout > 0 ? `${n(s.longestDropRun)} steps` : '–'} |`,
    );
  });
  out.push('');
  if (last) {
    const facts = [
      `loss (mean of the last interval): ${last.loss === null ? '–' : Number.isFinite(last.loss) ? last.loss.toPrecision(4) : String(last.loss)}`,
      `throughput: ${last.stepsPerSecond === null ? '–' : `${last.stepsPerSecond.toFixed(1)} steps/s`}`,
      `metrics rows: ${n(input.rows)} (a snapshot every ${n(config.snapshot.every)} steps, ${probeWords(input)})`,
      `snapshots skipped (slow reader): ${n(last.skipped)}`,
    ];
    out.push(...facts.map((f) => `- ${f}`), '');
  }

  out.push(...taskSection(config, input.tasks ?? []));

  if (input.charts.length) {
    out.push('## Plots', '');
    for (const c of input.charts) out.push(`![${c.title}](${c.file})`, '');
  }

  if (input.unitMaps.length) {
    out.push('## Unit maps', '');
    const legend = UNIT_STATES.map((s) => `${s.name} \`${s.colour}\``).join(', ');
    out.push(`One cell per unit, row-major on a near-square grid (unit 0 top left); colours: ${legend}; \`${EMPTY_COLOR}\` cells are padding.`, '');
    for (const m of input.unitMaps) out.push(`**L${m.layer}** at step ${n(m.step)}:`, '', `![unit map of layer ${m.layer} at step ${m.step}](${m.file})`, '');
  }

  out.push('## Definitions', '');
  out.push(
    "- **Dead (on the probe set)**: the unit's pre-activation is ≤ 0 and finite for every probe input, evaluated without dropout. Not absorbing: in training, dropout in the layer below zeroes some inputs and scales the others by 1/(1−p), which can push it above 0 and give it gradient.",
  );
  out.push(
    `- **Frozen**: no row of any training batch (dropout on, as trained) gave the unit a positive pre-activation over the last ${n(config.snapshot.frozenWindow)} steps (W), so its incoming weights and bias received exactly zero gradient in each; with plain SGD and no weight decay they did not change at all (momentum, Adam and weight decay still move them).`,
  );
  out.push(
    '- **Non-finite**: a NaN or ±Inf pre-activation on a probe input or a training row of the last step: the run diverged. Never counted dead or frozen.',
  );
  out.push("- **Dropped**: masked by dropout for probe sample 0 at the snapshot's last step; every unit is eligible again at the next step.");
  out.push('- **Revived**: alive now after being dead at an earlier snapshot.');
  if (config.tasks.every > 0) {
    out.push(
      "- **Non-stationary runs**: the probe set follows the task. Dead means dead on the current task's inputs (for the slowly-changing regression, every input that shares the task's flipping bits), the ones the network is being trained on.",
    );
  }
  out.push('');
  if (input.files.length) {
    out.push('## Files', '');
    for (const f of input.files) out.push(`- \`${f.file}\`: ${f.what}`);
    out.push('');
  }
  return out.join('\n');
}
