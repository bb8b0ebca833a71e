// Node-only: one headless training run into a run folder (src/cli/run-dir.ts), used by `run`, `resume` and
// `sweep`. It trains with the observatory in chunks that end on snapshot steps, appends one metrics row per
// snapshot, writes unit maps, checks the loss and the parameters for NaN / Infinity, writes a checkpoint every
// `checkpointEvery` steps and at exit, and finally the report. Faults:
// - a non-finite loss or parameter stops the run (status 'non-finite', FAILED.md); no checkpoint of a bad state
//   is ever written, so the last good one stays;
// - a lost device is re-acquired and the run continues from its latest checkpoint (metrics after it are cut
//   and produced again), losing at most one checkpoint interval of work;
// - an aborted `signal` finishes the chunk in flight, writes a checkpoint and returns 'interrupted'.
// Same seed, same adapter: a run interrupted and resumed (or recovered) ends bit-identical to an uninterrupted one.
import { mkdir, readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError, toJson, type RunConfig } from '../config';
import { runData } from '../data';
import type { Snapshot } from '../engine/observatory';
import { openRun, SNAPSHOT_RING_SIZE, type OpenedRun } from '../engine/open-run';
import type { NonFiniteParameters } from '../engine/parameter-check';
import { acquireNodeGpu } from '../gpu/dawn';
import type { GpuContext } from '../gpu/device';
import { writeFileAtomic, checkpointFileName, latestCheckpoint, pruneCheckpoints } from '../io/atomic-file';
import { checkpointFromSafetensors, checkpointToSafetensors } from '../io/checkpoint';
import { metricsFromSnapshot, type MetricsRow } from '../report/metrics';
import { answerSeedQuestion, summarizeUnitHistory, type LayerHistorySummary, type SeedAnswer } from '../report/seed-answer';
import { RunChartData } from '../report/charts-run';
import { renderReportMarkdown } from '../report/report-md';
import { PRECEDENCE, UNIT_STATES } from '../report/unit-states';
import { configSummary } from './config-summary';
import { MetricsWriter, readMetricsRows, truncateMetrics } from './outputs/metrics-writer';
import { unitMapInterval, writeUnitMaps } from './outputs/unit-maps';
import { createProgress, type Progress, type ProgressMode } from './progress';
import {
  claimRunDir,
  readManifest,
  readRunConfig,
  runPaths,
  RunDirError,
  unitMapFile,
  writeManifest,
  type RunManifest,
  type RunPaths,
  type UnitMapKind,
} from './run-dir';

export interface RunJobOptions {
  /** Validated. */
  config: RunConfig;
  /** Created if missing; a non-empty folder that is not this run's is refused (a folder of this very run is continued). */
  outDir: string;
  /** Steps between checkpoints; 0 = only at exit. */
  checkpointEvery: number;
  /** Keep the last M checkpoints. */
  keepCheckpoints: number;
  /** Also write metrics.csv. */
  csv?: boolean;
  /** Default 'png'. */
  unitMaps?: UnitMapKind;
  /** Default 'none'. */
  progress?: ProgressMode;
  /** Reuse a device (sweeps); otherwise acquireNodeGpu(). A device lost during the run is replaced by a fresh one. */
  gpu?: GpuContext;
  /** Stop after the current chunk, write a checkpoint, return 'interrupted'. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** For tests: called after every chunk of training (e.g. to destroy the device and simulate its loss). */
  testHooks?: { afterChunk?(state: { step: number; gpu: GpuContext }): void | Promise<void> };
}

export interface RunJobResult {
  status: 'completed' | 'interrupted' | 'non-finite';
  step: number;
  outDir: string;
  last: MetricsRow | null;
  layers: LayerHistorySummary[];
  answer: SeedAnswer;
  message?: string;
  /** Devices re-acquired after a loss. */
  recoveries?: number;
}

/**
 * Target wall time of one chunk. Chunks end with a wait for the GPU, so longer is faster, but a signal is only
 * honoured between chunks: a few seconds keeps Ctrl-C prompt even for nets that take seconds per step.
 */
const CHUNK_SECONDS = 2;
/** Consecutive device losses without a checkpoint in between before the run gives up. */
const MAX_RECOVERIES = 3;

class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

/** Starts a run in `options.outDir` (or continues it, when the folder holds this same run). */
export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  checkOptions(options);
  const { config, outDir } = options;
  if (config.snapshot.every < 1) {
    throw new ConfigError([
      {
        path: 'snapshot.every',
        message: `0 turns snapshots off, but a run's metrics, unit maps and report come from snapshots: use an interval in [1, ${config.steps}]`,
      },
    ]);
  }
  if (config.dataset.kind === 'file') {
    throw new ConfigError([
      { path: 'dataset.kind', message: '"file" is not supported by the headless run (its arrays are not part of the configuration): use a synthetic data set' },
    ]);
  }
  const claim = await claimRunDir(outDir, config);
  if (claim === 'same-run') {
    options.log?.(`${outDir} already holds this run: continuing it`);
    const { config: _config, outDir: _outDir, ...rest } = options;
    return resumeJob(outDir, rest);
  }
  const paths = runPaths(outDir);
  await writeFileAtomic(paths.config, new TextEncoder().encode(toJson(config) + '\n'));
  await mkdir(paths.checkpoints, { recursive: true });
  const manifest = manifestOf(options, 'running', 0);
  await writeManifest(outDir, manifest);
  return execute(config, paths, manifest, options);
}

/** Continues the run in `outDir` from its latest checkpoint, with the options it was started with unless given here. */
export async function resumeJob(outDir: string, options: Partial<Omit<RunJobOptions, 'config' | 'outDir'>> = {}): Promise<RunJobResult> {
  const manifest = await readManifest(outDir);
  if (!manifest) throw new RunDirError(`${outDir} is not a deadunits run folder (no run.json): start one with \`deadunits run --out ${outDir}\``);
  const config = await readRunConfig(outDir);
  const full: RunJobOptions = {
    config,
    outDir,
    checkpointEvery: manifest.checkpointEvery,
    keepCheckpoints: manifest.keepCheckpoints,
    csv: manifest.csv,
    unitMaps: manifest.unitMaps,
    ...definedOnly(options),
  };
  checkOptions(full);
  if (manifest.status === 'non-finite') {
    throw new RunDirError(
      `${outDir} stopped on a non-finite value (${manifest.message ?? 'see FAILED.md'}); resuming would repeat it bit for bit (same seed, same data): change the configuration (e.g. a lower lr) and start a new run`,
    );
  }
  return execute(config, runPaths(outDir), manifestOf(full, 'running', manifest.step), full);
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(o: RunJobOptions): void {
  if (!Number.isSafeInteger(o.checkpointEvery) || o.checkpointEvery < 0)
    throw new RangeError(`checkpointEvery must be an integer >= 0 (0: only at exit), got ${o.checkpointEvery}`);
  if (!Number.isSafeInteger(o.keepCheckpoints) || o.keepCheckpoints < 1)
    throw new RangeError(`keepCheckpoints must be an integer >= 1, got ${o.keepCheckpoints}`);
}

function manifestOf(o: RunJobOptions, status: RunManifest['status'], step: number, message?: string): Omit<RunManifest, 'format' | 'version'> {
  return {
    checkpointEvery: o.checkpointEvery,
    keepCheckpoints: o.keepCheckpoints,
    csv: o.csv ?? false,
    unitMaps: o.unitMaps ?? 'png',
    status,
    step,
    ...(message ? { message } : {}),
  };
}

/** The engine objects of one device: rebuilt from the latest checkpoint after a device loss. */
type Session = OpenedRun;

/** Where the run stands, across device losses. */
interface RunState {
  last: MetricsRow | null;
  /** First step whose loss was NaN / Infinity (1-based: the n-th training step), once seen. */
  badLossStep: number | null;
  /** Step of the latest snapshot handled (its losses have been checked up to here). */
  checkedStep: number;
}

async function execute(config: RunConfig, paths: RunPaths, manifest: Omit<RunManifest, 'format' | 'version'>, options: RunJobOptions): Promise<RunJobResult> {
  const log = options.log ?? (() => undefined);
  const every = config.snapshot.every;
  const target = config.steps;
  const layerCount = config.hidden.length;
  const csv = options.csv ?? false;
  const unitMaps = options.unitMaps ?? 'png';
  const mapEvery = unitMapInterval(target, every);
  const lastSnapshotStep = Math.floor(target / every) * every;

  const data = runData(config);

  let gpu = options.gpu ?? (await acquireNodeGpu());
  let ownGpu = !options.gpu;
  let session: Session | null = null;
  let lost = false;
  let offLost = () => {};
  const watch = (g: GpuContext) => {
    offLost();
    lost = false;
    const off = g.onLost(() => {
      lost = true;
      // Wakes a reader waiting for snapshots that will never come back from a dead device.
      session?.observatory.destroy();
    });
    offLost = () => void off();
  };
  watch(gpu);

  const state: RunState = { last: null, badLossStep: null, checkedStep: 0 };
  const metrics: { writer: MetricsWriter | null } = { writer: null };
  let progress: Progress | null = null;
  let recoveries = 0;
  let lostInARow = 0;
  // Messages during training go through the bar (so it is not torn) when there is one, else to the caller's log.
  const note = (line: string) => (progress && (options.progress ?? 'none') !== 'none' ? progress.log(line) : log(line));

  const openSession = async (): Promise<Session> => {
    // A checkpoint at step 0 (a run stopped before its first chunk) holds nothing a fresh start would not redo.
    const found = await latestCheckpoint(paths.checkpoints);
    const latest = found && found.step > 0 ? found : null;
    let restored: ReturnType<typeof checkpointFromSafetensors> | null = null;
    if (latest) {
      restored = checkpointFromSafetensors(new Uint8Array(await readFile(latest.path)));
      if (JSON.stringify(restored.config) !== JSON.stringify(config))
        throw new RunDirError(`${latest.path} belongs to another configuration than ${paths.config}`);
      if (!restored.observatory) throw new RunDirError(`${latest.path} has no observatory state (unit history): it was not written by a run`);
    }
    const run = await openRun(gpu, { config, data, saved: restored });
    // What the checkpoint does not cover is produced again (an empty folder starts from scratch).
    await metrics.writer?.close();
    metrics.writer = null;
    await truncateMetrics(paths, latest ? latest.step : -1, { csv, layerCount });
    metrics.writer = await MetricsWriter.open(paths, { csv, layerCount });
    state.checkedStep = run.trainer.step;
    state.badLossStep = null;
    return run;
  };

  let runStart = performance.now();
  const handleSnapshot = async (snapshot: Snapshot, stepsPerSecond: number | null): Promise<void> => {
    const row = metricsFromSnapshot(snapshot, { elapsedSeconds: (performance.now() - runStart) / 1000, stepsPerSecond });
    // The snapshot's losses are those of steps (step - count, step]: the n-th entry is training step first + n + 1.
    const first = snapshot.step - snapshot.losses.length;
    if (state.badLossStep === null) {
      const bad = snapshot.losses.findIndex((v) => !Number.isFinite(v));
      if (bad >= 0) state.badLossStep = first + bad + 1;
      else if (first > state.checkedStep) {
        // Only when the interval is longer than the GPU's loss history (lossHistoryCapacity in src/engine/open-run.ts): some losses were never seen.
        note(`note: losses of steps ${state.checkedStep + 1}..${first} were not kept on the GPU and could not be checked`);
      }
    }
    state.checkedStep = snapshot.step;
    state.last = row;
    await metrics.writer!.append(row);
    if (unitMaps !== 'none' && (snapshot.step % mapEvery === 0 || snapshot.step === lastSnapshotStep)) {
      await writeUnitMaps(paths, snapshot, unitMaps);
    }
  };

  /** Losses of steps after the latest snapshot (a run or chunk that does not end on a snapshot step). */
  const checkTailLosses = async (s: Session) => {
    const from = state.checkedStep;
    const count = s.trainer.step - from;
    if (count <= 0 || state.badLossStep !== null || count > s.trainer.lossHistoryCapacity) return;
    const losses = await s.trainer.readLosses(from, count);
    const bad = losses.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) state.badLossStep = from + bad + 1;
    state.checkedStep = s.trainer.step;
  };

  const writeCheckpoint = async (s: Session, status: RunManifest['status']) => {
    const bytes = checkpointToSafetensors({ trainer: await s.trainer.readState(), observatory: await s.observatory.readState() }, config);
    await writeFileAtomic(join(paths.checkpoints, checkpointFileName(s.trainer.step)), bytes);
    await pruneCheckpoints(paths.checkpoints, options.keepCheckpoints);
    await writeManifest(paths.dir, { ...manifest, status, step: s.trainer.step });
    lostInARow = 0;
  };

  /** Trains to the end (or until interrupted / diverged) on the current session. Throws DeviceLostError on a lost device. */
  const trainLoop = async (s: Session): Promise<{ status: RunJobResult['status']; message?: string; bad?: NonFiniteParameters | null }> => {
    const { trainer, observatory } = s;
    if (trainer.step === 0) {
      // The step-0 snapshot (taken by Observatory.create): the network before training.
      const snapshot = await observatory.next();
      if (!snapshot) throw new DeviceLostError('the step-0 snapshot never came back');
      await handleSnapshot(snapshot, null);
    }
    progress?.update(trainer.step, state.last);
    // Steps per chunk, adapted to the measured speed (the chunking does not change the results, only when we wait).
    let chunkSteps = s.spec.stepsPerSubmit;
    while (trainer.step < target) {
      if (options.signal?.aborted) {
        await checkTailLosses(s);
        await writeCheckpoint(s, 'interrupted');
        return { status: 'interrupted', message: abortReason(options.signal) };
      }
      const start = trainer.step;
      // Within the staging ring: every snapshot of the chunk is read after it, so none is skipped.
      let end = Math.min(target, start + chunkSteps, (Math.floor(start / every) + SNAPSHOT_RING_SIZE) * every);
      if (options.checkpointEvery > 0) end = Math.min(end, (Math.floor(start / options.checkpointEvery) + 1) * options.checkpointEvery);
      const began = performance.now();
      const skippedBefore = observatory.skipped;
      await trainer.train(end - start);
      const rate = (end - start) / Math.max(1e-9, (performance.now() - began) / 1000);
      chunkSteps = Math.max(s.spec.stepsPerSubmit, Math.round(rate * CHUNK_SECONDS));
      const expected = Math.floor(end / every) - Math.floor(start / every) - (observatory.skipped - skippedBefore);
      for (let k = 0; k < expected; k++) {
        const snapshot = await observatory.next();
        if (!snapshot) throw new DeviceLostError('snapshots stopped coming back');
        await handleSnapshot(snapshot, rate);
      }
      await options.testHooks?.afterChunk?.({ step: trainer.step, gpu });
      if (lost) throw new DeviceLostError('device lost');
      progress?.update(trainer.step, state.last);
      await checkTailLosses(s);
      const bad = await trainer.firstNonFiniteLayer();
      if (state.badLossStep !== null || bad) return { status: 'non-finite', bad };
      if (options.checkpointEvery > 0 && trainer.step % options.checkpointEvery === 0 && trainer.step < target) await writeCheckpoint(s, 'running');
    }
    await writeCheckpoint(s, 'completed');
    return { status: 'completed' };
  };

  try {
    progress = createProgress({ mode: options.progress ?? 'none', total: target, start: manifest.step });
    let outcome: Awaited<ReturnType<typeof trainLoop>>;
    for (;;) {
      try {
        session = await openSession();
        if (session.trainer.step > 0) note(`continuing ${paths.dir} from step ${session.trainer.step}`);
        runStart = performance.now();
        outcome = await trainLoop(session);
        break;
      } catch (error) {
        if (!(await wasLost(gpu, lost))) throw error;
        recoveries++;
        lostInARow++;
        if (lostInARow > MAX_RECOVERIES)
          throw new Error(
            `the WebGPU device was lost ${lostInARow} times without a checkpoint in between; giving up (last error: ${(error as Error).message})`,
          );
        note(`WebGPU device lost (${(error as Error).message}); acquiring a new one and continuing from the latest checkpoint`);
        const old = session;
        session = null;
        try {
          old?.destroy();
        } catch {
          // Destroying objects of a lost device may fail; they are gone either way.
        }
        offLost();
        if (ownGpu) gpu.device.destroy();
        gpu = await acquireNodeGpu();
        ownGpu = true;
        watch(gpu);
      }
    }
    const s = session!;
    const step = s.trainer.step;
    let message = outcome.message;
    const status = outcome.status;
    if (status === 'non-finite') {
      message = nonFiniteMessage(state.badLossStep, outcome.bad ?? null, step);
      const latest = await latestCheckpoint(paths.checkpoints);
      await writeFileAtomic(paths.failed, new TextEncoder().encode(failedMarkdown(message, latest ? latest.step : null)));
      await writeManifest(paths.dir, { ...manifest, status, step: latest ? latest.step : 0, message });
    } else {
      await unlink(paths.failed).catch(() => undefined);
    }
    const layers: LayerHistorySummary[] = [];
    for (let l = 1; l <= layerCount; l++) layers.push(summarizeUnitHistory(await s.observatory.readUnitHistory(l), config.hidden[l - 1].width));
    const answer = answerSeedQuestion({ config, step, layers });
    progress.stop();
    progress = null;
    await metrics.writer?.close();
    metrics.writer = null;
    await writeReport(paths, { config, status, step, answer, layers, message, adapter: adapterLine(gpu), csv, unitMaps });
    log(`${statusWord(status)} at step ${step}: ${answer.headline}`);
    log(
      `outputs in ${paths.dir}: report.md, metrics.jsonl${csv ? ', metrics.csv' : ''}, config.json, checkpoints/${unitMaps !== 'none' ? ', maps/' : ''}, charts/${status === 'non-finite' ? ', FAILED.md' : ''}`,
    );
    return { status, step, outDir: paths.dir, last: state.last, layers, answer, message, recoveries };
  } finally {
    progress?.stop();
    await metrics.writer?.close();
    offLost();
    session?.destroy();
    if (ownGpu) gpu.device.destroy();
  }
}

/** After an error: was the device lost? device.lost settles asynchronously, so give it a moment. */
async function wasLost(gpu: GpuContext, flagged: boolean): Promise<boolean> {
  if (flagged) return true;
  const settled = await Promise.race([gpu.device.lost.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 500))]);
  return settled;
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'interrupted';
}

function statusWord(status: RunJobResult['status']): string {
  return status === 'completed' ? 'completed' : status === 'interrupted' ? 'interrupted' : 'STOPPED (non-finite)';
}

function adapterLine(gpu: GpuContext): string {
  const a = gpu.adapter;
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') + (a.isSoftware ? ' (software)' : '');
}

function nonFiniteMessage(badLossStep: number | null, bad: NonFiniteParameters | null, step: number): string {
  const parts: string[] = [];
  if (badLossStep !== null) parts.push(`the loss became non-finite (NaN or Infinity) first at training step ${badLossStep}`);
  if (bad) {
    const layer = `weight layer ${bad.layer}`;
    parts.push(`at step ${step} the first layer with non-finite parameters is ${layer} (${bad.weights} weights, ${bad.bias} biases)`);
  } else if (badLossStep !== null) parts.push(`at step ${step} every parameter is still finite`);
  return parts.join('; ') + '.';
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

interface ReportFacts {
  config: RunConfig;
  status: RunJobResult['status'];
  step: number;
  answer: SeedAnswer;
  layers: LayerHistorySummary[];
  message?: string;
  adapter: string;
  csv: boolean;
  unitMaps: UnitMapKind;
}

/** Charts (streamed from metrics.jsonl, down-sampled) and report.md. */
async function writeReport(paths: RunPaths, f: ReportFacts): Promise<void> {
  const data = new RunChartData();
  let last: MetricsRow | null = null;
  for await (const row of readMetricsRows(paths.metrics)) {
    data.push(row);
    last = row;
  }
  const charts = data.charts({ hasDropout: f.config.hidden.some((h) => h.dropout > 0) });
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
    ...(f.status === 'non-finite' ? [{ file: 'FAILED.md', what: 'why the run stopped' }] : []),
  ];
  const markdown = renderReportMarkdown({
    config: f.config,
    summary: configSummary(f.config),
    status: f.status,
    step: f.step,
    answer: f.answer,
    layers: f.layers,
    last,
    rows: data.rows,
    message: f.message,
    adapter: f.adapter,
    charts: charts.map((c) => ({ file: `charts/${c.file}`, title: c.title })),
    unitMaps: f.unitMaps === 'png' || f.unitMaps === 'both' ? await latestUnitMaps(paths, f.config.hidden.length, f.step) : [],
    files,
  });
  await writeFileAtomic(paths.report, new TextEncoder().encode(markdown));
}
