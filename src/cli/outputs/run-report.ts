// Node-only: how a run ends in its folder: report.md with its charts (charts/*.svg, streamed from metrics.jsonl),
// and for a run stopped on a non-finite value or a GPU error FAILED.md and the manifest that point at the last good
// checkpoint.
import { mkdir, readdir, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { RunConfig } from '../../config';
import type { GpuRunError } from '../../engine/gpu-faults';
import { checkpointFileName, latestCheckpoint, writeFileAtomic } from '../../io/atomic-file';
import { RunChartData } from '../../report/charts-run';
import { taskCharts } from '../../report/charts-tasks';
import { TaskEnds, type TaskEnd } from '../../report/tasks';
import type { MetricsRow } from '../../report/metrics';
import { renderReportMarkdown } from '../../report/report-md';
import type { LayerHistorySummary, ProbeUsed, SeedAnswer } from '../../report/seed-answer';
import { PRECEDENCE, UNIT_STATES } from '../../report/unit-states';
import { configSummary } from '../config-summary';
import { unitMapFile, writeManifest, type RunPaths, type UnitMapKind } from '../run-dir';
import type { ManifestFields } from './checkpoints';
import { readMetricsRows } from './metrics-writer';

/** How a run job ends. */
export type RunEndStatus = 'completed' | 'interrupted' | 'non-finite' | 'gpu-error';

/** A run stopped on a non-finite value: FAILED.md says why, and the manifest names the last good checkpoint. */
export async function recordFailure(paths: RunPaths, manifest: ManifestFields, message: string): Promise<void> {
  const latest = await latestCheckpoint(paths.checkpoints);
  await writeFileAtomic(paths.failed, new TextEncoder().encode(failedMarkdown(message, latest ? latest.step : null)));
  await writeManifest(paths.dir, { ...manifest, status: 'non-finite', step: latest ? latest.step : 0, message });
}

/**
 * A run stopped by a GPU error (src/engine/gpu-faults.ts): FAILED.md names the error and the kernel, and the manifest
 * names the last good checkpoint, which `resume` continues from. Returns that checkpoint's step (null: none).
 */
export async function recordGpuFailure(paths: RunPaths, manifest: ManifestFields, error: GpuRunError): Promise<number | null> {
  const latest = await latestCheckpoint(paths.checkpoints);
  const lastGood = latest ? latest.step : null;
  await writeFileAtomic(paths.failed, new TextEncoder().encode(gpuFailedMarkdown(error, lastGood)));
  await writeManifest(paths.dir, { ...manifest, status: 'gpu-error', step: lastGood ?? 0, message: error.message });
  return lastGood;
}

function gpuFailedMarkdown(error: GpuRunError, lastGood: number | null): string {
  const f = error.fault;
  const what =
    f.kind === 'canary'
      ? `the GPU's results failed the host's check: ${f.detail}`
      : `${f.kind === 'uncaptured' ? 'an error the device reported outside any check' : `a GPU ${f.filter ?? ''} error`.replace('  ', ' ')}`;
  return [
    '# Run stopped: GPU error',
    '',
    `The run stopped on ${what}.`,
    '',
    `- Kernel: ${f.kernel ? `\`${f.kernel}\`` : 'not known'}`,
    `- Command buffer: ${f.chunk ? `\`${f.chunk}\`` : 'not known'}`,
    `- Last step known to have run clean: ${f.lastGoodStep}. Nothing computed after it was used: no metrics row, unit map or checkpoint comes from a failed chunk.`,
    ...(f.kind === 'canary' ? [] : ['', "The GPU's message:", '', '```', f.detail.trim(), '```']),
    '',
    lastGood === null
      ? 'No checkpoint was written before the error; `deadunits resume` starts the run over from step 0.'
      : `The last good checkpoint is \`checkpoints/${checkpointFileName(lastGood)}\` (step ${lastGood}); \`deadunits resume\` continues from it, ` +
        'bit-identical to a run that never failed.',
    '',
    'An error that comes back at the same place on every resume is not chance: out of memory means the net does not fit',
    'this GPU (narrower layers, a smaller batch or probe set); a validation error is a bug: please report it with this file.',
    '',
  ].join('\n');
}

/** A run that did not fail leaves no FAILED.md behind (of an earlier attempt). */
export async function clearFailure(paths: RunPaths): Promise<void> {
  await unlink(paths.failed).catch(() => undefined);
}

function failedMarkdown(message: string, lastGood: number | null): string {
  return [
    '# Run stopped: non-finite values',
    '',
    message.charAt(0).toUpperCase() + message.slice(1),
    '',
    lastGood === null
      ? 'No checkpoint was written before the values went bad.'
      : `The last good checkpoint is \`checkpoints/${checkpointFileName(lastGood)}\` (step ${lastGood}); no checkpoint of the bad state was written.`,
    '',
    'Weight layers count the hidden layers first (1 = first hidden layer), then the output layer. Typical causes:',
    'a learning rate too high for the loss and optimizer (try a tenth of it), no warm-up, or huge initial weights.',
    'Resuming would repeat the divergence bit for bit; change the configuration and start a new run.',
    '',
  ].join('\n');
}

/** The newest unit map PNG of each layer (steps are zero-padded in the names, so the last name sorts highest). */
async function latestUnitMaps(paths: RunPaths, layerCount: number, maxStep: number): Promise<{ layer: number; step: number; file: string }[]> {
  const out: { layer: number; step: number; file: string }[] = [];
  for (let l = 1; l <= layerCount; l++) {
    const names = await readdir(join(paths.maps, `L${l}`)).catch(() => [] as string[]);
    const steps = names
      .map((n) => /^step-(\d+)\.png$/.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .filter((s) => s <= maxStep);
    if (steps.length) {
      const step = Math.max(...steps);
      out.push({ layer: l, step, file: unitMapFile(l, step, 'png') });
    }
  }
  return out;
}

export interface ReportFacts {
  config: RunConfig;
  status: RunEndStatus;
  step: number;
  answer: SeedAnswer;
  layers: LayerHistorySummary[];
  probe: ProbeUsed;
  message?: string;
  adapter: string;
  csv: boolean;
  unitMaps: UnitMapKind;
}

/** The end of each task of a non-stationary run (tasks of `every` steps), from its metrics rows. */
export async function readTaskEnds(path: string, every: number): Promise<TaskEnd[]> {
  const ends = new TaskEnds(every);
  for await (const row of readMetricsRows(path)) ends.push(row);
  return ends.list();
}

/** Charts (streamed from metrics.jsonl, down-sampled) and report.md. */
export async function writeReport(paths: RunPaths, f: ReportFacts): Promise<void> {
  const data = new RunChartData();
  const every = f.config.tasks.every;
  const ends = every > 0 ? new TaskEnds(every) : null;
  let last: MetricsRow | null = null;
  for await (const row of readMetricsRows(paths.metrics)) {
    data.push(row);
    ends?.push(row);
    last = row;
  }
  const tasks = ends?.list() ?? [];
  const charts = [...data.charts({ hasDropout: f.config.hidden.some((h) => h.dropout > 0) }), ...taskCharts(tasks)];
  await mkdir(paths.charts, { recursive: true });
  for (const c of charts) await writeFileAtomic(join(paths.charts, c.file), new TextEncoder().encode(c.svg));
  const files = [
    { file: 'config.json', what: 'the run configuration (load it with `deadunits run --config`)' },
    { file: 'metrics.jsonl', what: 'one row per snapshot: loss, per-layer dead / dropped / revived / ever-dead counts, steps/s, skipped snapshots' },
    ...(f.csv ? [{ file: 'metrics.csv', what: 'the same rows as CSV' }] : []),
    { file: 'checkpoints/', what: 'safetensors checkpoints (weights, optimizer state, per-unit history); `deadunits resume` continues from the latest' },
    ...(f.unitMaps !== 'none'
      ? [
          {
            file: 'maps/L<l>/step-<step>.{png,npy}',
            what: `unit maps; .npy: uint8 per unit, ${UNIT_STATES.map((s) => `${s.code} ${s.name}`).join(', ')} (precedence ${PRECEDENCE.join(' > ')})`,
          },
        ]
      : []),
    ...(f.status === 'non-finite' || f.status === 'gpu-error' ? [{ file: 'FAILED.md', what: 'why the run stopped' }] : []),
  ];
  const markdown = renderReportMarkdown({
    config: f.config,
    summary: configSummary(f.config),
    status: f.status,
    step: f.step,
    answer: f.answer,
    layers: f.layers,
    probe: f.probe,
    last,
    rows: data.rows,
    message: f.message,
    adapter: f.adapter,
    charts: charts.map((c) => ({ file: `charts/${c.file}`, title: c.title })),
    tasks,
    unitMaps: f.unitMaps === 'png' || f.unitMaps === 'both' ? await latestUnitMaps(paths, f.config.hidden.length, f.step) : [],
    files,
  });
  await writeFileAtomic(paths.report, new TextEncoder().encode(markdown));
}
