// Node-only: one headless training run into a run folder (src/cli/run-dir.ts), used by `run`, `resume` and
// `sweep`. It trains with the observatory in chunks that end on snapshot steps, appends one metrics row per
// snapshot, writes unit maps, checks the loss and the parameters for NaN / Infinity, writes a checkpoint every
// `checkpointEvery` steps and at exit, and finally the report. Faults:
// - a non-finite loss or parameter stops the run (status 'non-finite', FAILED.md); no checkpoint of a bad state
//   is ever written, so the last good one stays;
// - a lost device is re-acquired and the run continues from its latest checkpoint (metrics after it are cut
//   and produced again), losing at most one checkpoint interval of work;
// - a GPU error (src/engine/gpu-faults.ts) stops the run (status 'gpu-error', FAILED.md naming the error and the
//   kernel): no metrics row, unit map or checkpoint comes from a chunk that failed, the last good checkpoint stays,
//   and `resume` continues from it. A run that does not fit the GPU (GpuAllocationError) fails before its first step
//   and leaves no run folder behind;
// - an aborted `signal` finishes the chunk in flight, writes a checkpoint and returns 'interrupted';
// - the folder has one owner at a time (./run-folder.ts: a lock, orphan temp files removed, a fresh start that
//   fails before any work is saved leaves nothing behind), and a damaged checkpoint is set aside for the newest
//   good one (./run-checkpoints.ts).
// Same seed, same adapter: a run interrupted and resumed (or recovered) ends bit-identical to an uninterrupted one.
//
// With progress on, the adapter is calibrated first (src/engine/calibration.ts, on the idle device) and the progress
// output starts with the run's estimate on it: seconds per step, per 1,000 steps and per snapshot, and memory.
//
// RunJob drives the pieces, each in its own module: the engine objects on the current device (./run-session.ts),
// the device and its replacement after a loss (./device-recovery.ts), the snapshot sinks (the divergence watch,
// metrics rows, unit maps), checkpoints, progress, and the report (./outputs/).
import { mkdir } from 'node:fs/promises';
import { ConfigError, toJson, type RunConfig } from '../config';
import type { Dataset, ProbeSet } from '../data';
import { calibrateThroughput } from '../engine/calibration';
import type { Throughput } from '../engine/cost-model';
import { GpuRunError } from '../engine/gpu-faults';
import { SNAPSHOT_RING_SIZE, type RunData } from '../engine/open-run';
import { estimateBuiltRun } from '../engine/run-estimate';
import { SnapshotSinks } from '../engine/snapshot-sink';
import type { Trainer } from '../engine/trainer';
import type { GpuContext } from '../gpu/device';
import { writeFileAtomic } from '../io/atomic-file';
import type { MetricsRow } from '../report/metrics';
import { estimateLine, estimateWarning } from '../report/run-estimate-text';
import { answerSeedQuestion, type LayerHistorySummary, type SeedAnswer } from '../report/seed-answer';
import { runDataOf, withRecordedFiles } from './data-files';
import { DeviceRecovery } from './device-recovery';
import { initialParametersOf } from './init-from';
import { acquireCliGpu } from './kernels-option';
import { divergenceMessage, DivergenceWatch, type Divergence } from './divergence-watch';
import { Checkpoints, type ManifestFields } from './outputs/checkpoints';
import { MetricsSink } from './outputs/metrics-sink';
import { ProgressOutput } from './outputs/progress-output';
import { clearFailure, readTaskEnds, recordFailure, recordGpuFailure, writeReport, type RunEndStatus } from './outputs/run-report';
import { UnitMapSink } from './outputs/unit-map-sink';
import type { ProgressMode } from './progress';
import {
  claimRunDir,
  DEFAULT_CHECKPOINT_EVERY,
  DEFAULT_KEEP,
  readManifest,
  readRunConfig,
  runPaths,
  RunDirError,
  unfinishedStart,
  writeManifest,
  type RunManifest,
  type RunPaths,
  type UnitMapKind,
} from './run-dir';
import { holdRunFolder, type HeldRunFolder } from './run-folder';
import { RunSession } from './run-session';

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
  /** Reuse a device (sweeps); otherwise acquireCliGpu(kernels). A device lost during the run is replaced by a fresh one. */
  gpu?: GpuContext;
  /** Matmul kernels of a device the job acquires: 'auto' (default) or a configuration name (./kernels-option.ts). */
  kernels?: string;
  /** Stop after the current chunk, write a checkpoint, return 'interrupted'. */
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** What owns the run folder while this runs, recorded in its lock (default "run" or "resume"). */
  owner?: string;
  /** For tests: called after every chunk of training (e.g. to destroy the device and simulate its loss). */
  testHooks?: { afterChunk?(state: { step: number; gpu: GpuContext; trainer: Trainer }): void | Promise<void> };
}

export interface RunJobResult {
  status: RunEndStatus;
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

/** Starts a run in `options.outDir` (or continues it, when the folder holds this same run). */
export async function runJob(options: RunJobOptions): Promise<RunJobResult> {
  checkOptions(options);
  const { outDir } = options;
  if (options.config.snapshot.every < 1) {
    throw new ConfigError([
      {
        path: 'snapshot.every',
        message: `0 turns snapshots off, but a run's metrics, unit maps and report come from snapshots: use an interval in [1, ${options.config.steps}]`,
      },
    ]);
  }
  // config.json records the data files' size and hash, which every later read must match.
  const config = await withRecordedFiles(options.config);
  return holdRunFolder(outDir, { command: options.owner ?? 'run', log: options.log }, async (held) => {
    const claim = await claimRunDir(outDir, config);
    if (claim === 'same-run') {
      options.log?.(`${outDir} already holds this run: continuing it`);
      const { config: _config, outDir: _outDir, ...rest } = options;
      return continueRun(outDir, rest, held);
    }
    held.freshStart();
    return startRun({ ...options, config }, held);
  });
}

/** Writes config.json, then run.json (the order unfinishedStart relies on), and trains from step 0. */
async function startRun(options: RunJobOptions, held: HeldRunFolder): Promise<RunJobResult> {
  const paths = runPaths(options.outDir);
  await mkdir(paths.checkpoints, { recursive: true });
  await writeFileAtomic(paths.config, new TextEncoder().encode(toJson(options.config) + '\n'));
  const manifest = manifestOf(options, 'running', 0);
  await writeManifest(options.outDir, manifest);
  return new RunJob(options.config, paths, manifest, { ...options, signal: held.signal(options.signal) }, await runDataOf(options.config)).run();
}

/** Continues the run in `outDir` from its latest checkpoint, with the options it was started with unless given here. */
export async function resumeJob(outDir: string, options: Partial<Omit<RunJobOptions, 'config' | 'outDir'>> = {}): Promise<RunJobResult> {
  return holdRunFolder(outDir, { command: options.owner ?? 'resume', log: options.log, mustExist: true }, (held) => continueRun(outDir, options, held));
}

async function continueRun(outDir: string, options: Partial<Omit<RunJobOptions, 'config' | 'outDir'>>, held: HeldRunFolder): Promise<RunJobResult> {
  const manifest = await readManifest(outDir);
  if (!manifest) {
    const started = await unfinishedStart(outDir);
    if (!started) throw new RunDirError(`${outDir} is not a deadunits run folder (no run.json): start one with \`deadunits run --out ${outDir}\``);
    options.log?.(`${outDir} holds a run that stopped while starting (no run.json, no checkpoint): starting it from step 0`);
    const full: RunJobOptions = { config: started, outDir, checkpointEvery: DEFAULT_CHECKPOINT_EVERY, keepCheckpoints: DEFAULT_KEEP, ...definedOnly(options) };
    checkOptions(full);
    return startRun(full, held);
  }
  const config = await readRunConfig(outDir);
  const full: RunJobOptions = {
    config,
    outDir,
    checkpointEvery: manifest.checkpointEvery,
    keepCheckpoints: manifest.keepCheckpoints,
    csv: manifest.csv,
    unitMaps: manifest.unitMaps,
    ...(manifest.kernels ? { kernels: manifest.kernels } : {}),
    ...definedOnly(options),
  };
  checkOptions(full);
  if (manifest.status === 'non-finite') {
    throw new RunDirError(
      `${outDir} stopped on a non-finite value (${manifest.message ?? 'see FAILED.md'}); resuming would repeat it bit for bit (same seed, same data): change the configuration (e.g. a lower lr) and start a new run`,
    );
  }
  const signal = held.signal(full.signal);
  return new RunJob(config, runPaths(outDir), manifestOf(full, 'running', manifest.step), { ...full, signal }, await runDataOf(config)).run();
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function checkOptions(o: RunJobOptions): void {
  if (!Number.isSafeInteger(o.checkpointEvery) || o.checkpointEvery < 0)
    throw new ConfigError(
      [{ path: '', message: `checkpointEvery must be an integer >= 0 (--checkpoint-every; 0: only at exit), got ${o.checkpointEvery}` }],
      'run options',
    );
  if (!Number.isSafeInteger(o.keepCheckpoints) || o.keepCheckpoints < 1)
    throw new ConfigError([{ path: '', message: `keepCheckpoints must be an integer >= 1, got ${o.keepCheckpoints} (--keep)` }], 'run options');
}

function manifestOf(o: RunJobOptions, status: RunManifest['status'], step: number, message?: string): ManifestFields {
  return {
    checkpointEvery: o.checkpointEvery,
    keepCheckpoints: o.keepCheckpoints,
    csv: o.csv ?? false,
    unitMaps: o.unitMaps ?? 'png',
    kernels: o.kernels ?? 'auto',
    status,
    step,
    ...(message ? { message } : {}),
  };
}

/** How training on one session ended. */
type Outcome =
  | { status: 'completed' }
  | { status: 'interrupted'; message: string }
  | { status: 'non-finite'; divergence: Divergence }
  | { status: 'gpu-error'; error: GpuRunError };

/** One run job: trains the run in `paths` to its end, through device losses, into its outputs. */
class RunJob {
  private readonly log: (line: string) => void;
  private readonly divergence: DivergenceWatch;
  private readonly metrics: MetricsSink;
  /** Every snapshot goes through these, in this order. */
  private readonly snapshots: SnapshotSinks;
  private readonly checkpoints: Checkpoints;
  /** Created once the device is there (a bar drawn before a failed device acquisition would be left behind). */
  private progress: ProgressOutput | null = null;
  private session: RunSession | null = null;
  /** The adapter's, when progress is shown; the estimate is reported once, for the first session. */
  private throughput: Throughput | null = null;

  constructor(
    private readonly config: RunConfig,
    private readonly paths: RunPaths,
    private readonly manifest: ManifestFields,
    private readonly options: RunJobOptions,
    /** Generated from the seed, or read from the recorded files (src/cli/data-files.ts). */
    private readonly data: RunData<Dataset, ProbeSet>,
  ) {
    this.log = options.log ?? (() => undefined);
    const files = { csv: options.csv ?? false, layerCount: config.hidden.length };
    this.divergence = new DivergenceWatch((line) => this.note(line));
    this.metrics = new MetricsSink(paths, files, (snapshot) => this.session!.timing(snapshot));
    const unitMaps = new UnitMapSink(paths, options.unitMaps ?? 'png', config.steps, config.snapshot.every);
    this.snapshots = new SnapshotSinks(this.divergence, this.metrics, unitMaps);
    this.checkpoints = new Checkpoints(paths, config, manifest, options.checkpointEvery, options.keepCheckpoints);
  }

  /** A message during the run (through the progress bar, if any). */
  private note(line: string): void {
    if (this.progress) this.progress.note(line);
    else this.log(line);
  }

  async run(): Promise<RunJobResult> {
    const recovery = await DeviceRecovery.start(
      this.options.gpu,
      () => this.session?.abandonSnapshots(),
      (line) => this.note(line),
      () => acquireCliGpu(this.options.kernels),
    );
    try {
      const mode = this.options.progress ?? 'none';
      if (mode !== 'none') this.throughput = await calibrateThroughput(recovery.gpu).catch(() => null);
      this.progress = new ProgressOutput(mode, this.config.steps, this.manifest.step, this.log);
      const outcome = await this.trainThroughLosses(recovery);
      return await this.finish(outcome, recovery.gpu, recovery.recoveries);
    } finally {
      this.progress?.stop();
      await this.snapshots.close();
      this.session?.destroy();
      recovery.close();
    }
  }

  /** Opens a session and trains to the end; after a device loss, again on a new device from the latest checkpoint. */
  private async trainThroughLosses(recovery: DeviceRecovery): Promise<Outcome> {
    for (;;) {
      try {
        const session = await this.openSession(recovery.gpu);
        if (session.step > 0) this.note(`continuing ${this.paths.dir} from step ${session.step}`);
        return await this.train(session, recovery);
      } catch (error) {
        if (!(await recovery.wasLost())) {
          // A GPU error stops the run where it is: nothing it computed after its last good step is used.
          if (error instanceof GpuRunError) return { status: 'gpu-error', error };
          throw error;
        }
        await recovery.replace(error as Error, () => {
          const old = this.session;
          this.session = null;
          old?.destroy();
        });
      }
    }
  }

  private async openSession(gpu: GpuContext): Promise<RunSession> {
    const session = await RunSession.open(
      gpu,
      this.config,
      this.data,
      this.paths,
      () => initialParametersOf(this.config),
      (line) => this.note(line),
    );
    this.session = session;
    this.reportEstimate(session);
    const matmul = session.run.trainer.matmulChoices().map(({ shape, kernel, source }) => ({ shape, kernel, source }));
    await this.checkpoints.recordMatmulKernels(matmul, 'running', session.step);
    await this.metrics.reopen(session.resumedFrom);
    this.divergence.restart(session.step);
    return session;
  }

  /** Trains to the end, until interrupted or diverged. Throws DeviceLostError on a lost device. */
  private async train(session: RunSession, recovery: DeviceRecovery): Promise<Outcome> {
    const { trainer, spec } = session.run;
    const target = this.config.steps;
    const signal = this.options.signal;
    if (trainer.step === 0) await session.deliverInitialSnapshot(this.snapshots);
    this.progress?.update(trainer.step, this.metrics.last);
    // Steps per chunk, adapted to the measured speed (the chunking does not change the results, only when we wait).
    let chunkSteps = spec.stepsPerSubmit;
    while (trainer.step < target) {
      if (signal?.aborted) {
        await this.divergence.checkTailLosses(trainer);
        await this.writeCheckpoint(session, recovery, 'interrupted');
        return { status: 'interrupted', message: abortReason(signal) };
      }
      const rate = await session.trainChunk(this.chunkEnd(trainer.step, chunkSteps), this.snapshots);
      chunkSteps = Math.max(spec.stepsPerSubmit, Math.round(rate * CHUNK_SECONDS));
      await this.options.testHooks?.afterChunk?.({ step: trainer.step, gpu: recovery.gpu, trainer });
      recovery.throwIfLost();
      this.progress?.update(trainer.step, this.metrics.last);
      const divergence = await this.divergence.check(trainer);
      if (divergence) return { status: 'non-finite', divergence };
      if (this.checkpoints.dueAt(trainer.step) && trainer.step < target) await this.writeCheckpoint(session, recovery, 'running');
    }
    await this.writeCheckpoint(session, recovery, 'completed');
    return { status: 'completed' };
  }

  /** Where a chunk from `start` ends: after about `chunkSteps`, within the staging ring (every snapshot of a chunk is read after it, so none is skipped), at the next checkpoint. */
  private chunkEnd(start: number, chunkSteps: number): number {
    const every = this.config.snapshot.every;
    return Math.min(this.config.steps, start + chunkSteps, (Math.floor(start / every) + SNAPSHOT_RING_SIZE) * every, this.checkpoints.nextAfter(start));
  }

  /** The first session's estimate, through the progress output. */
  private reportEstimate(session: RunSession): void {
    const throughput = this.throughput;
    if (!throughput) return;
    this.throughput = null;
    const estimate = estimateBuiltRun(session.run.trainer, throughput);
    this.note(`estimate on this adapter: ${estimateLine(estimate, this.config.snapshot.every)}`);
    this.progress?.estimate(estimate.stepSeconds + estimate.snapshotSeconds / this.config.snapshot.every);
    const warning = estimateWarning(estimate);
    if (warning) this.note(warning);
  }

  private async writeCheckpoint(session: RunSession, recovery: DeviceRecovery, status: RunManifest['status']): Promise<void> {
    await this.checkpoints.write(await session.readState(), status);
    recovery.checkpointWritten();
  }

  /** FAILED.md (or its removal), the seed answer, the report and the result. */
  private async finish(outcome: Outcome, gpu: GpuContext, recoveries: number): Promise<RunJobResult> {
    if (outcome.status === 'gpu-error') return this.finishAfterGpuError(outcome.error, gpu, recoveries);
    const { config, paths } = this;
    const session = this.session!;
    const step = session.step;
    let message: string | undefined;
    if (outcome.status === 'non-finite') {
      message = divergenceMessage(outcome.divergence, step);
      await recordFailure(paths, this.manifest, message);
    } else {
      if (outcome.status === 'interrupted') message = outcome.message;
      await clearFailure(paths);
    }
    const status = outcome.status;
    const layers = await session.layerSummaries();
    const probe = session.probeUsed;
    const tasks = config.tasks.every > 0 ? await readTaskEnds(paths.metrics, config.tasks.every) : undefined;
    const answer = answerSeedQuestion({ config, step, layers, probe, tasks });
    this.progress?.stop();
    await this.snapshots.close();
    const csv = this.options.csv ?? false;
    const unitMaps = this.options.unitMaps ?? 'png';
    await writeReport(paths, { config, status, step, answer, layers, probe, message, adapter: adapterLine(gpu), csv, unitMaps });
    // The headline itself is the caller's to print (run and resume: on stdout); the log says where things are.
    this.log(
      `outputs in ${paths.dir}: report.md, metrics.jsonl${csv ? ', metrics.csv' : ''}, config.json, checkpoints/${unitMaps !== 'none' ? ', maps/' : ''}, charts/${status === 'non-finite' ? ', FAILED.md' : ''}`,
    );
    return { status, step, outDir: paths.dir, last: this.metrics.last, layers, answer, message, recoveries };
  }

  /**
   * FAILED.md naming the GPU error, and a report of the run as its last good checkpoint holds it: nothing on the GPU is
   * read after a GPU error (src/engine/gpu-faults.ts).
   */
  private async finishAfterGpuError(error: GpuRunError, gpu: GpuContext, recoveries: number): Promise<RunJobResult> {
    const { config, paths } = this;
    await recordGpuFailure(paths, this.manifest, error);
    const good = await RunSession.lastGoodCheckpoint(config, paths);
    const step = good?.step ?? 0;
    const layers = good?.layers ?? [];
    const probe = { all: this.data.probe.samples === this.data.dataset.samples, rows: this.data.probe.samples };
    const tasks = good && config.tasks.every > 0 ? (await readTaskEnds(paths.metrics, config.tasks.every)).filter((t) => t.step <= step) : undefined;
    const answer = good
      ? answerSeedQuestion({ config, step, layers, probe, tasks })
      : { headline: 'No answer: a GPU error stopped the run before its first checkpoint.', findings: [] };
    this.progress?.stop();
    await this.snapshots.close();
    const csv = this.options.csv ?? false;
    const unitMaps = this.options.unitMaps ?? 'png';
    const message = error.message;
    await writeReport(paths, { config, status: 'gpu-error', step, answer, layers, probe, message, adapter: adapterLine(gpu), csv, unitMaps });
    this.log(`${statusWord('gpu-error')}: ${message}`);
    this.log(
      `outputs in ${paths.dir}: FAILED.md, report.md (as of step ${step}), metrics.jsonl, checkpoints/; \`deadunits resume ${paths.dir}\` continues from step ${step}`,
    );
    return { status: 'gpu-error', step, outDir: paths.dir, last: this.metrics.last, layers, answer, message, recoveries };
  }
}

function abortReason(signal: AbortSignal): string {
  const r: unknown = signal.reason;
  if (typeof r === 'string') return r;
  if (r instanceof Error && r.name !== 'AbortError') return r.message;
  return 'interrupted';
}

function statusWord(status: RunEndStatus): string {
  return status === 'completed'
    ? 'completed'
    : status === 'interrupted'
      ? 'interrupted'
      : status === 'gpu-error'
        ? 'STOPPED (GPU error)'
        : 'STOPPED (non-finite)';
}

function adapterLine(gpu: GpuContext): string {
  const a = gpu.adapter;
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') + (a.isSoftware ? ' (software)' : '');
}
