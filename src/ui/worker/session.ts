// The engine side of the simulator: one training run driven by the page's commands (src/ui/protocol.ts). It runs
// inside the Worker (./engine-worker.ts) in the browser and, with Dawn, in Node tests: the GPU and the way events leave
// are injected. The session handles commands and the run's state machine; each other concern has its own object:
//   LiveRun          the run on the GPU (trainer, observatory) and its snapshot stream
//   Lock             a chunk, a readback and a rebuild never interleave
//   FrameOutbox      the page's snapshot sink (src/engine/snapshot-sink.ts): rows, timeline columns and bitmaps, under
//                    the page's flow control
//   RunClock         training time (pauses do not count) and throughput
//   ChunkPacer       how many steps the next chunk holds (src/engine/chunk-pacer.ts)
//   WorkProgressReporter  what runs on the GPU, when a chunk or the step-0 snapshot takes more than a second
//   DeviceLossSaver  the state a lost device resumes from
//   HistoryReports   seed answer, death orders and hover records, from the per-unit histories
// Training runs in chunks sized by wall time (ChunkPacer, src/engine/chunk-pacer.ts: a first single step, then about
// half a second each; `stepsPerFrame` is an optional cap); between chunks the loop yields so commands are handled
// (pause, hover, interval changes) and GPU readbacks that need a quiet queue (state, checkpoints, histories) take their
// turn. A fresh run's first chunk waits until the step-0 snapshot (the network before training) reached the page.
// That snapshot is taken in pieces of a few probe slices, each sized by time like a chunk (a ChunkPacer of its own,
// starting from one slice): after each, the units proven not dead so far go to the page (`partial`), and commands
// (Reset, Pause, a new configuration) are handled in between, so a wide net on a slow adapter shows its map within
// seconds and a Reset abandons the snapshot at the next piece.
// GPU errors: a run that does not fit fails while it is built (an `error` event with the engine's message; it never
// starts). A GPU error mid-run (src/engine/gpu-faults.ts GpuRunError, from a chunk or from the snapshot stream) stops
// it: state 'failed', a `run-failed` event, the run's buffers freed, and nothing after its last good snapshot is sent.
// Once per session the adapter is calibrated (src/engine/calibration.ts, on the idle device before the first run is
// built); every run built then gets an `estimate` (seconds per step and per snapshot, memory) before it starts.
import { ConfigError, type RunConfig } from '../../config';
import { runData } from '../../data';
import { calibrateThroughput } from '../../engine/calibration';
import { ChunkPacer, snapshotsBetween } from '../../engine/chunk-pacer';
import type { Throughput } from '../../engine/cost-model';
import { GpuRunError } from '../../engine/gpu-faults';
import { SNAPSHOT_RING_SIZE } from '../../engine/open-run';
import type { RunEstimate } from '../../engine/run-estimate';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import { NoAdapterError, type GpuContext } from '../../gpu/device';
import { type CheckpointState, checkpointToSafetensors } from '../../io/checkpoint';
import { type RunState, transferablesOf, type WorkerCommand, type WorkerEvent } from '../protocol';
import { DeviceLossSaver } from './device-loss-saver';
import { FrameOutbox } from './frame-outbox';
import { HistoryReports } from './history-reports';
import { LiveRun } from './live-run';
import { Lock } from './lock';
import { RunClock } from './run-clock';
import { UserDataStore } from './user-data-store';
import { WorkProgressReporter } from './work-progress';

export { STATE_BYTES_PER_SNAPSHOT } from './device-loss-saver';

/** Least time between two progress reports while running. */
const STATE_POST_INTERVAL_MS = 200;

export interface SessionHost {
  /** A fresh GPU device (called at start and again after a loss). */
  acquire(): Promise<GpuContext>;
  post(event: WorkerEvent, transfer: Transferable[]): void;
  now(): number;
  /** Lets queued messages run between training chunks. */
  yieldToEvents(): Promise<void>;
  /** Calls `callback` after `ms` and returns what cancels it (default: setTimeout). */
  setTimer?(callback: () => void, ms: number): () => void;
  /** The adapter's throughput (default: a short calibration, src/engine/calibration.ts). */
  measureThroughput?(gpu: GpuContext): Promise<Throughput>;
  /**
   * For tests: the step-0 snapshot in small pieces whatever the time they take: `probeChunkRows` rows per probe slice
   * (ModelSpec.probeChunkRows), at most `maxSlicesPerPiece` slices per piece.
   */
  stepZeroPieces?: { probeChunkRows: number; maxSlicesPerPiece: number };
}

const defaultTimer = (callback: () => void, ms: number) => {
  const id = setTimeout(callback, ms);
  return () => clearTimeout(id);
};

export class EngineSession {
  private gpu: GpuContext | null = null;
  private run: LiveRun | null = null;
  private state: RunState = 'starting';
  private snapshotEvery = 100;
  /** The user's cap on steps per chunk; null: none. */
  private stepsPerFrame: number | null = null;
  /** Bumped whenever the run is torn down: async work of an older run checks it and stops. */
  private generation = 0;
  private lock = new Lock();
  /** Commands are handled one after the other (none waits for the training loop). */
  private commands: Promise<void> = Promise.resolve();
  private looping = false;
  /** `step` command: pause when the trainer reaches this step. */
  private stopAt: number | null = null;
  private lastStatePost = -Infinity;
  /** The step the status line shows; without a run (lost device, rebuilding) the last one trained. */
  private lastStep = 0;
  /** Step of the last snapshot handed to the page (after a GPU error, the last good one). */
  private lastSnapshotStep = 0;

  private readonly clock: RunClock;
  private readonly pacer = new ChunkPacer();
  private readonly work: WorkProgressReporter;
  /** Of this session's adapter, measured once; null before, or when the measurement failed. */
  private throughput: Throughput | null = null;
  /** Of the current run; null without a throughput. */
  private estimate: RunEstimate | null = null;
  private readonly outbox: FrameOutbox;
  private readonly saver = new DeviceLossSaver();
  private readonly histories: HistoryReports;
  /** Data sets from the user's files, by hash. */
  private readonly userData = new UserDataStore(() => this.gpu?.device.limits.maxStorageBufferBindingSize ?? null);

  constructor(private readonly host: SessionHost) {
    this.clock = new RunClock(() => host.now());
    this.work = new WorkProgressReporter({
      now: () => host.now(),
      post: (work) => this.post({ type: 'progress', work }),
      setTimer: host.setTimer ? (callback, ms) => host.setTimer!(callback, ms) : defaultTimer,
    });
    this.outbox = new FrameOutbox(
      (frame) => this.post(frame),
      (step) => this.clock.snapshotTiming(step),
    );
    this.histories = new HistoryReports({ now: () => host.now(), post: (event) => this.post(event), withRun: (task) => this.withRun(task) });
  }

  /** Queues a command; errors become `error` events. */
  handle(command: WorkerCommand): Promise<void> {
    // Flow control and pausing must not wait behind a rebuild.
    if (command.type === 'ack') {
      this.outbox.ack();
      return Promise.resolve();
    }
    if (command.type === 'pause') {
      if (this.state === 'running') this.setState('paused');
      this.stopAt = null;
    }
    // A failed build stops the run; a failed request (a hover, a checkpoint) is only reported.
    const fatal = command.type === 'configure' || command.type === 'reset' || command.type === 'resume';
    this.commands = this.commands.then(() => this.dispatch(command)).catch((error: unknown) => this.fail(error, fatal));
    return this.commands;
  }

  private async dispatch(command: WorkerCommand): Promise<void> {
    switch (command.type) {
      case 'configure':
        this.stepsPerFrame = command.stepsPerFrame;
        return this.configure(command.config, command.snapshotEvery);
      case 'reset':
        if (this.run) await this.rebuild(this.run.config, null);
        return;
      case 'run':
        return this.start(null);
      case 'step':
        // One snapshot interval: up to the next snapshot step.
        if (this.run) this.start(Math.min(this.run.config.steps, (Math.floor(this.run.step / this.snapshotEvery) + 1) * this.snapshotEvery));
        return;
      case 'options':
        if (command.stepsPerFrame !== undefined) this.stepsPerFrame = command.stepsPerFrame;
        if (command.snapshotEvery !== undefined) await this.setSnapshotEvery(command.snapshotEvery);
        this.postState();
        return;
      case 'unit-info':
        return this.histories.unitInfo(command.id, command.layer, command.unit);
      case 'order':
        return this.histories.setOrder(command.layer, command.enabled);
      case 'checkpoint':
        return this.checkpoint(command.id);
      case 'resume':
        return this.resume();
      case 'data':
        return this.loadData(command);
      case 'lose-device':
        // Destroying the device makes it "lost" with reason "destroyed"; the handler treats it like a real loss.
        this.gpu?.device.destroy();
        return;
      case 'force-gpu-error':
        await this.withRun(async (run) => run.forceGpuError());
        return;
      case 'pause':
      case 'ack':
        return; // handled on arrival
    }
  }

  /** The user's files: parsed here and kept; the page gets the dataset fields and sizes, or a message naming the file. */
  private async loadData(command: Extract<WorkerCommand, { type: 'data' }>): Promise<void> {
    const { type: _type, id, ...request } = command;
    try {
      // The adapter's limits decide what fits: the device comes first.
      if (!this.gpu) this.gpu = await this.acquire();
      this.post({ type: 'data', id, ok: true, summary: await this.userData.load(request) });
    } catch (error) {
      // Every request gets its answer (the page waits for it); a bad file is a message, not a failed run.
      const message =
        error instanceof ConfigError ? error.issues.map((i) => `${i.path}: ${i.message}`).join('; ') : error instanceof Error ? error.message : String(error);
      this.post({ type: 'data', id, ok: false, message });
    }
  }

  private async configure(config: RunConfig, snapshotEvery: number): Promise<void> {
    const run = this.run;
    if (!run || !onlyLiveFieldsDiffer(run.config, config) || this.state === 'error' || this.state === 'lost' || this.state === 'failed') {
      this.snapshotEvery = snapshotEvery;
      await this.rebuild(config, null);
      return;
    }
    // Steps and the snapshot interval change nothing that is trained: the run goes on.
    run.config = config;
    this.saver.track(config);
    await this.setSnapshotEvery(snapshotEvery);
    if (this.state === 'finished' && !run.finished) this.setState('paused');
    else if (this.state !== 'running' && run.finished) this.setState('finished');
    else this.postState();
  }

  /** A new interval takes a new observatory, which carries over the per-unit history. */
  private async setSnapshotEvery(every: number): Promise<void> {
    if (every === this.snapshotEvery) return;
    this.snapshotEvery = every;
    await this.withRun((run) => run.replaceObservatory(every));
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Building and tearing down

  private async rebuild(config: RunConfig, saved: CheckpointState | null): Promise<void> {
    this.stopAt = null;
    this.saver.track(config);
    this.setState('starting', false);
    await this.teardown();
    const generation = this.generation;
    if (!this.gpu) this.gpu = await this.acquire();
    const gpu = this.gpu;
    const data = config.dataset.kind === 'file' ? this.userData.runData(config) : runData(config);
    const run = await LiveRun.open(gpu, config, this.snapshotEvery, saved, data, this.host.stepZeroPieces?.probeChunkRows);
    if (generation !== this.generation) {
      run.destroy();
      return;
    }
    const fresh = saved === null;
    this.run = run;
    this.saver.opened(run.stateBytes, fresh);
    // Another network or another device: its speed is measured again, from a single step.
    this.pacer.reset();
    this.lastSnapshotStep = run.step;
    if (fresh) {
      this.outbox.clear();
      this.clock.reset();
      this.histories.reset();
    } else {
      this.clock.forgetChunkRate();
    }
    run.streamTo(this.snapshotSink(generation), (error) => {
      if (generation === this.generation) this.onRunError(error);
    });
    this.post({ type: 'ready', adapter: gpu.adapter, step: run.step, widths: run.widths, resumed: !fresh, notice: this.saver.note });
    this.estimate = this.throughput && run.estimate(this.throughput);
    if (this.estimate) {
      this.post({ type: 'estimate', estimate: this.estimate });
      const weight = this.estimate.snapshotSeconds / this.estimate.stepSeconds;
      if (Number.isFinite(weight)) this.pacer.setSnapshotWeight(weight);
    }
    if (run.step === 0) {
      // The step-0 snapshot is on the GPU now; on a wide net on a slow adapter that takes a while.
      this.work.begin({ kind: 'snapshot', from: 0, to: 0, snapshots: 1, expectedSeconds: this.estimate?.snapshotSeconds ?? null });
      void run.firstSnapshot().then(() => generation === this.generation && this.work.end());
      void this.takeStepZero(run, generation);
    }
    this.setState(run.finished ? 'finished' : 'paused');
  }

  /**
   * The step-0 snapshot of `run`, a piece at a time (see the top of this file): each piece under the lock, so a Reset or
   * a rebuild waits for one piece at most and then ends this loop (the generation moved on).
   */
  private async takeStepZero(run: LiveRun, generation: number): Promise<void> {
    const pacer = new ChunkPacer();
    const cap = this.host.stepZeroPieces?.maxSlicesPerPiece ?? Infinity;
    try {
      while (generation === this.generation && run.stepZeroSlicesLeft > 0) {
        const ran = await this.withRun(async (current) => {
          const left = current === run ? run.stepZeroSlicesLeft : 0;
          if (left === 0) return;
          const slices = pacer.next({ maxSteps: Math.min(left, cap) });
          const started = this.host.now();
          const partial = await run.stepZeroPiece(slices);
          pacer.record(slices, (this.host.now() - started) / 1000);
          if (!partial || generation !== this.generation) return;
          this.work.measured(partial.rowsMeasured, partial.probeRows);
          this.post({ type: 'partial', rowsMeasured: partial.rowsMeasured, probeRows: partial.probeRows, layers: partial.layers });
        });
        if (!ran) return;
        await this.host.yieldToEvents();
      }
    } catch (error) {
      if (generation === this.generation && this.state !== 'lost') this.onRunError(error);
    }
  }

  private async acquire(): Promise<GpuContext> {
    const gpu = await this.host.acquire();
    gpu.onLost((info) => this.onDeviceLost(gpu, info));
    // Once, while the device is idle. Without a figure there is no estimate; training itself does not need one.
    if (!this.throughput) this.throughput = await (this.host.measureThroughput ?? calibrateThroughput)(gpu).catch(() => null);
    return gpu;
  }

  /** Stops the loop (at its next chunk boundary) and frees the run's GPU buffers. */
  private async teardown(): Promise<void> {
    this.generation++;
    this.work.end();
    const run = this.run;
    this.run = null;
    if (!run) return;
    await this.lock.run(async () => run.destroy());
    await run.closed();
  }

  /** Runs `task` on the current run when the GPU queue is its own; false when the run is gone by then. */
  private withRun(task: (run: LiveRun) => Promise<void>): Promise<boolean> {
    const generation = this.generation;
    return this.lock.run(async () => {
      const run = this.run;
      if (!run || generation !== this.generation) return false;
      await task(run);
      return true;
    });
  }

  // ----------------------------------------------------------------------------------------------------------------
  // The training loop

  private start(stopAt: number | null): void {
    const run = this.run;
    if (!run || this.state === 'starting' || this.state === 'lost' || this.state === 'failed' || this.state === 'error') return;
    if (run.finished) {
      this.setState('finished');
      return;
    }
    this.stopAt = stopAt;
    this.setState('running');
    if (!this.looping) void this.loop();
  }

  private async loop(): Promise<void> {
    this.looping = true;
    const generation = this.generation;
    try {
      while (this.state === 'running' && generation === this.generation && this.run) {
        const run = this.run;
        const target = Math.min(run.config.steps, this.stopAt ?? run.config.steps);
        if (run.step >= target) {
          this.stopAt = null;
          this.setState(run.finished ? 'finished' : 'paused');
          break;
        }
        // The network before training is on the page (and its summary queued) before anything is trained.
        if (run.step === 0) {
          await run.firstSnapshot();
          if (this.state !== 'running' || generation !== this.generation) break;
        }
        await this.trainChunk(this.chunkSteps(run, target));
        // Progress while running: a few times a second is enough for the status line (each one re-renders it).
        if (this.state === 'running' && this.host.now() - this.lastStatePost >= STATE_POST_INTERVAL_MS) this.postState();
        await this.host.yieldToEvents();
      }
    } catch (error) {
      if (generation === this.generation && this.state !== 'lost') this.onRunError(error);
    } finally {
      this.looping = false;
    }
    if (generation === this.generation && this.run && (this.state === 'paused' || this.state === 'finished')) this.afterStop();
  }

  /**
   * Steps of the next chunk, up to `target`: what the pacer's time budget holds, within the user's cap and within the
   * snapshot ring (snapshots are read as they come back, so a chunk of at most SNAPSHOT_RING_SIZE intervals never skips one).
   */
  private chunkSteps(run: LiveRun, target: number): number {
    const from = run.step;
    const every = this.snapshotEvery;
    const ringEnd = (Math.floor(from / every) + SNAPSHOT_RING_SIZE) * every;
    const maxSteps = Math.min(target - from, ringEnd - from, this.stepsPerFrame ?? Infinity);
    return this.pacer.next({ maxSteps, snapshotsIn: (steps) => snapshotsBetween(from, steps, every) });
  }

  /** Trains `steps` steps (timed for the pacer, shown when slow), then saves the state for device loss if a save is due. */
  private async trainChunk(steps: number): Promise<void> {
    await this.withRun(async (run) => {
      const from = run.step;
      const snapshots = snapshotsBetween(from, steps, this.snapshotEvery);
      this.work.begin({ kind: 'steps', from, to: from + steps, snapshots, expectedSeconds: this.expectedSeconds(steps, snapshots) });
      try {
        const seconds = await this.clock.timeChunk(from, steps, () => run.train(steps, (done) => this.work.advance(done)));
        this.pacer.record(steps, seconds, snapshots);
      } finally {
        this.work.end();
      }
      if (this.saver.due) await this.saver.save(run);
    });
  }

  /** What a chunk should take: from the speed measured so far, else from the estimate; null without either. */
  private expectedSeconds(steps: number, snapshots: number): number | null {
    const e = this.estimate;
    return this.pacer.expectedSeconds(steps, snapshots) ?? (e && steps * e.stepSeconds + snapshots * e.snapshotSeconds);
  }

  /** The run paused or finished: the seed answer speaks about the final numbers, and a resume comes back here. */
  private afterStop(): void {
    void this.histories.refresh();
    if (this.saver.dueAtStop) void this.withRun((run) => this.saver.saveIfNew(run));
  }

  private setState(state: RunState, post = true): void {
    this.clock.setRunning(state === 'running');
    this.state = state;
    if (post) this.postState();
  }

  private postState(): void {
    this.lastStatePost = this.host.now();
    if (this.run) this.lastStep = this.run.step;
    this.post({
      type: 'state',
      state: this.state,
      step: this.lastStep,
      stepsPerSecond: this.state === 'running' ? this.clock.chunkRate : null,
      snapshotEvery: this.snapshotEvery,
      stepsPerFrame: this.stepsPerFrame,
    });
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Snapshots, checkpoints, device loss

  /**
   * Where a run's snapshots go while it is the current one: the saver (counts them), the frame outbox (rows, columns,
   * bitmaps) and the history reports (a summary when one is due), in that order. All three are synchronous, so one
   * check covers them: nothing of an older run reaches the page.
   */
  private snapshotSink(generation: number): SnapshotSink {
    return {
      onSnapshot: (snapshot) => {
        if (generation !== this.generation) return;
        this.lastSnapshotStep = snapshot.step;
        this.saver.onSnapshot();
        this.outbox.onSnapshot(snapshot);
        this.histories.onSnapshot();
      },
    };
  }

  private async checkpoint(id: number): Promise<void> {
    const saved = await this.withRun(async (run) => {
      const state = await run.readState();
      this.post({ type: 'checkpoint', id, step: state.trainer.step, bytes: checkpointToSafetensors(state, run.config) });
    });
    if (!saved) throw new Error('checkpoint: there is no run to save');
  }

  private onDeviceLost(gpu: GpuContext, info: GPUDeviceLostInfo): void {
    if (gpu !== this.gpu) return;
    this.gpu = null;
    this.generation++;
    this.lock = new Lock(); // a chunk in flight on the dead device may never settle
    const run = this.run;
    this.run = null;
    run?.destroy();
    this.work.end();
    this.stopAt = null;
    this.setState('lost', false);
    const detail = info.message ? `: ${info.message.replace(/\.$/, '')}` : '';
    this.post({ type: 'device-lost', message: `The GPU device was lost${detail} (reason: ${info.reason}).`, resumeStep: this.saver.resumeStep });
    this.postState();
  }

  /** A GPU error stops the run (the first report wins: the loop and the snapshot stream both see it); others are errors. */
  private onRunError(error: unknown): void {
    if (!(error instanceof GpuRunError)) {
      this.fail(error);
      return;
    }
    if (this.state === 'failed') return;
    this.generation++;
    const run = this.run;
    this.run = null;
    this.stopAt = null;
    // The run's numbers after its last good snapshot are never shown: not the step count either.
    this.lastStep = this.lastSnapshotStep;
    this.setState('failed', false);
    this.post({ type: 'run-failed', message: error.message, lastGoodStep: this.lastSnapshotStep, resumeStep: this.saver.resumeStep });
    this.postState();
    // Freed once the chunk or readback holding the lock (if any) has given up.
    if (run) void this.lock.run(async () => run.destroy());
  }

  private async resume(): Promise<void> {
    if (this.state !== 'lost' && this.state !== 'failed') return;
    // Without a saved state the run starts over from step 0 (same seed: the same run).
    const { config, saved } = this.saver.resumePoint();
    await this.rebuild(config, saved);
  }

  // ----------------------------------------------------------------------------------------------------------------

  private post(event: WorkerEvent): void {
    this.host.post(event, transferablesOf(event));
  }

  private fail(error: unknown, fatal = true): void {
    const message = error instanceof Error ? error.message : String(error);
    if (fatal) this.setState('error', false);
    this.post({ type: 'error', message, noWebGpu: error instanceof NoAdapterError || undefined });
    if (fatal) this.postState();
  }

  /** Frees everything (the worker is closing). */
  async dispose(): Promise<void> {
    await this.teardown();
    this.gpu?.device.destroy();
    this.gpu = null;
  }
}

/** Whether two configs train the same network the same way (they may differ in steps and snapshot interval). */
function onlyLiveFieldsDiffer(a: RunConfig, b: RunConfig): boolean {
  const strip = (c: RunConfig) => JSON.stringify({ ...c, steps: 0, snapshot: { ...c.snapshot, every: 0 } });
  return strip(a) === strip(b);
}
