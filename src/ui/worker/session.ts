// The engine side of the simulator: one training run (Trainer + Observatory) driven by the page's commands
// (src/ui/protocol.ts). It runs inside the Worker (./engine-worker.ts) in the browser and, with Dawn, in Node tests:
// the GPU and the way events leave are injected.
//
// - Training runs in chunks of `stepsPerFrame` steps; between chunks the loop yields so commands are handled (pause,
//   hover, interval changes) and GPU readbacks that need a quiet queue (state, checkpoints, histories) take their turn
//   (one lock: a chunk, a state read and a rebuild never interleave).
// - Snapshots become metrics rows and timeline columns at once; frames leave under the page's flow control.
// - For device loss, the run's state (trainer + observatory) is read between chunks every `saveEvery` snapshots:
//   every snapshot while the state is under STATE_BYTES_PER_SNAPSHOT, proportionally rarer for large nets (a net
//   of 600 MB of parameters and optimizer state saves every 150 snapshots). Resume rebuilds on a new device from it.
import { type RunConfig } from '../../config';
import { generateDataset, probeSet, type ProbeSet } from '../../data';
import { modelSpecFromConfig } from '../../engine/from-config';
import { Observatory, type Snapshot } from '../../engine/observatory';
import { Trainer } from '../../engine/trainer';
import { NoAdapterError, type GpuContext } from '../../gpu/device';
import { type CheckpointState, checkpointToSafetensors } from '../../io/checkpoint';
import { metricsFromSnapshot, type MetricsRow } from '../../report/metrics';
import { summarizeUnitHistory } from '../../report/seed-answer';
import { UNIT_HISTORY_WORDS } from '../../spec/unit-history';
import { type RunState, type TimelineColumn, transferablesOf, type WorkerCommand, type WorkerEvent } from '../protocol';
import { timelineColumn } from '../timeline/columns';
import { deathOrder } from '../unit-map/order';
import { unitRecord } from './history';

/** Bytes of saved state per snapshot that device-loss recovery may read back (see the header). */
export const STATE_BYTES_PER_SNAPSHOT = 4 * 2 ** 20;
/** Staging buffers per observatory: snapshots taken faster than they come back beyond this are skipped (counted). */
const RING_SIZE = 8;
/** Chunks remembered to time snapshots (they come back from the GPU a little after their chunk). */
const CHUNKS_KEPT = 64;
/** Least time between two progress reports while running. */
const STATE_POST_INTERVAL_MS = 200;
/** Least time between two history reads for the seed answer and death orders. */
const MIN_SUMMARY_INTERVAL_MS = 1000;

export interface SessionHost {
  /** A fresh GPU device (called at start and again after a loss). */
  acquire(): Promise<GpuContext>;
  post(event: WorkerEvent, transfer: Transferable[]): void;
  now(): number;
  /** Lets queued messages run between training chunks. */
  yieldToEvents(): Promise<void>;
}

/** Runs tasks one at a time, in call order. */
class Lock {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.tail.then(task);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

interface Run {
  config: RunConfig;
  trainer: Trainer;
  observatory: Observatory;
  probe: ProbeSet;
  /** Ends when the observatory is closed or destroyed. */
  consumer: Promise<void>;
}

export class EngineSession {
  private gpu: GpuContext | null = null;
  private run: Run | null = null;
  private state: RunState = 'starting';
  private snapshotEvery = 100;
  private stepsPerFrame = 20;
  /** Bumped whenever the run is torn down: async work of an older run checks it and stops. */
  private generation = 0;
  private lock = new Lock();
  /** Commands are handled one after the other (none waits for the training loop). */
  private commands: Promise<void> = Promise.resolve();
  private looping = false;
  /** `step` command: pause when the trainer reaches this step. */
  private stopAt: number | null = null;

  // Frames
  private credit = true;
  private rows: MetricsRow[] = [];
  private columns: TimelineColumn[] = [];
  private latest: Snapshot | null = null;
  private coalesced = 0;
  /** Step of the last row sent: after a resume, snapshots replayed up to it are not sent twice. */
  private lastRowStep = -1;

  // Clock: training time only (pauses do not count).
  private activeMs = 0;
  private runningSince: number | null = null;
  private previous: { step: number; seconds: number } | null = null;
  private chunkRate: number | null = null;
  /** Recent chunks: steps [from, to] trained between these training-clock times (for snapshot timing). */
  private chunks: { from: number; to: number; fromSeconds: number; toSeconds: number }[] = [];
  private lastStatePost = -Infinity;
  private lastStep = 0;

  // Device loss
  private saved: CheckpointState | null = null;
  private snapshotsSinceSave = 0;
  private saveEvery = 1;
  /** The config of the run being built or trained (what `resume` rebuilds after a loss). */
  private config: RunConfig | null = null;

  // Histories
  private histories = new Map<number, { step: number; words: Uint32Array }>();
  private orderLayers = new Set<number>();
  private lastSummaryAt = -Infinity;
  private summaryIntervalMs = MIN_SUMMARY_INTERVAL_MS;
  private summaryPending = false;

  constructor(private readonly host: SessionHost) {}

  /** Queues a command; errors become `error` events. */
  handle(command: WorkerCommand): Promise<void> {
    // Flow control and pausing must not wait behind a rebuild.
    if (command.type === 'ack') {
      this.credit = true;
      this.flush();
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
      case 'configure': {
        this.stepsPerFrame = command.stepsPerFrame;
        const run = this.run;
        if (run && onlyLiveFieldsDiffer(run.config, command.config) && this.state !== 'error' && this.state !== 'lost') {
          // Steps and the snapshot interval change nothing that is trained: the run goes on.
          run.config = command.config;
          this.config = command.config;
          if (command.snapshotEvery !== this.snapshotEvery) {
            this.snapshotEvery = command.snapshotEvery;
            await this.replaceObservatory();
          }
          if (this.state === 'finished' && run.trainer.step < command.config.steps) this.setState('paused');
          else if (this.state !== 'running' && run.trainer.step >= command.config.steps) this.setState('finished');
          else this.postState();
          return;
        }
        this.snapshotEvery = command.snapshotEvery;
        await this.rebuild(command.config, null);
        return;
      }
      case 'reset':
        if (!this.run) return;
        await this.rebuild(this.run.config, null);
        return;
      case 'run':
        this.start(null);
        return;
      case 'step':
        if (!this.run) return;
        this.start(Math.min(this.run.config.steps, (Math.floor(this.run.trainer.step / this.snapshotEvery) + 1) * this.snapshotEvery));
        return;
      case 'pause':
        return;
      case 'options':
        if (command.stepsPerFrame !== undefined) this.stepsPerFrame = command.stepsPerFrame;
        if (command.snapshotEvery !== undefined && command.snapshotEvery !== this.snapshotEvery) {
          this.snapshotEvery = command.snapshotEvery;
          await this.replaceObservatory();
        }
        this.postState();
        return;
      case 'unit-info':
        await this.unitInfo(command.id, command.layer, command.unit);
        return;
      case 'order':
        if (command.enabled) this.orderLayers.add(command.layer);
        else this.orderLayers.delete(command.layer);
        if (command.enabled) await this.refreshHistories();
        return;
      case 'checkpoint':
        await this.checkpoint(command.id);
        return;
      case 'resume':
        await this.resume();
        return;
      case 'lose-device':
        // Destroying the device makes it "lost" with reason "destroyed"; the handler treats it like a real loss.
        this.gpu?.device.destroy();
        return;
      case 'ack':
        return;
    }
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Building and tearing down

  private async rebuild(config: RunConfig, saved: CheckpointState | null): Promise<void> {
    this.stopAt = null;
    this.config = config;
    this.setState('starting', false);
    await this.teardown();
    const generation = this.generation;
    if (!this.gpu) this.gpu = await this.acquire();
    const gpu = this.gpu;
    const data = generateDataset(config);
    const probe = probeSet(data, config.snapshot.probeSize, config.seed);
    const trainer = await Trainer.create(gpu, { ...modelSpecFromConfig(config), probeRows: probe.samples }, data);
    let observatory: Observatory;
    try {
      if (saved) trainer.writeState(saved.trainer);
      observatory = await Observatory.create(trainer, { every: this.snapshotEvery, probeInputs: probe.inputs, probeRows: probe.samples, ringSize: RING_SIZE });
      if (saved?.observatory) observatory.writeState(saved.observatory);
    } catch (error) {
      trainer.destroy();
      throw error;
    }
    if (generation !== this.generation) {
      observatory.destroy();
      trainer.destroy();
      return;
    }
    this.run = { config, trainer, observatory, probe, consumer: this.consume(observatory, generation) };
    this.saveEvery = Math.max(1, Math.ceil(stateBytes(trainer, config) / STATE_BYTES_PER_SNAPSHOT));
    if (!saved) {
      this.rows = [];
      this.columns = [];
      this.latest = null;
      this.coalesced = 0;
      this.lastRowStep = -1;
      this.activeMs = 0;
      this.previous = null;
      this.chunks = [];
      this.saved = null;
      this.histories.clear();
      this.lastSummaryAt = -Infinity;
    }
    this.chunkRate = null;
    this.snapshotsSinceSave = 0;
    this.post({ type: 'ready', adapter: gpu.adapter, step: trainer.step, widths: config.hidden.map((h) => h.width), resumed: saved !== null });
    this.setState(trainer.step >= config.steps ? 'finished' : 'paused');
  }

  private async acquire(): Promise<GpuContext> {
    const gpu = await this.host.acquire();
    gpu.onLost((info) => this.onDeviceLost(gpu, info));
    return gpu;
  }

  /** Stops the loop (at its next chunk boundary) and frees the run's GPU buffers. */
  private async teardown(): Promise<void> {
    this.generation++;
    const run = this.run;
    this.run = null;
    if (!run) return;
    await this.lock.run(async () => {
      run.observatory.destroy();
      run.trainer.destroy();
    });
    await run.consumer;
  }

  /** A new observatory with the current interval, carrying over the per-unit history (between chunks). */
  private async replaceObservatory(): Promise<void> {
    const run = this.run;
    if (!run) return;
    const generation = this.generation;
    await this.lock.run(async () => {
      if (generation !== this.generation) return;
      const state = await run.observatory.readState();
      run.observatory.close();
      await run.consumer;
      run.observatory.destroy();
      const observatory = await Observatory.create(run.trainer, {
        every: this.snapshotEvery,
        probeInputs: run.probe.inputs,
        probeRows: run.probe.samples,
        ringSize: RING_SIZE,
      });
      observatory.writeState(state);
      run.observatory = observatory;
      run.consumer = this.consume(observatory, generation);
    });
  }

  // ----------------------------------------------------------------------------------------------------------------
  // The training loop

  private start(stopAt: number | null): void {
    const run = this.run;
    if (!run || this.state === 'starting' || this.state === 'lost' || this.state === 'error') return;
    if (run.trainer.step >= run.config.steps) {
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
        const remaining = target - run.trainer.step;
        if (remaining <= 0) {
          this.stopAt = null;
          this.setState(run.trainer.step >= run.config.steps ? 'finished' : 'paused');
          break;
        }
        const chunk = Math.min(this.stepsPerFrame, remaining);
        await this.lock.run(async () => {
          if (generation !== this.generation) return;
          const started = this.host.now();
          const from = run.trainer.step;
          const fromSeconds = this.elapsedSeconds();
          await run.observatory.train(chunk);
          const ms = this.host.now() - started;
          this.chunkRate = ms > 0 ? (1000 * chunk) / ms : null;
          this.chunks.push({ from, to: run.trainer.step, fromSeconds, toSeconds: this.elapsedSeconds() });
          if (this.chunks.length > CHUNKS_KEPT) this.chunks.shift();
          if (this.snapshotsSinceSave >= this.saveEvery) await this.saveState(run);
        });
        // Progress while running: a few times a second is enough for the status line (each one re-renders it).
        if (this.state === 'running' && this.host.now() - this.lastStatePost >= STATE_POST_INTERVAL_MS) this.postState();
        await this.host.yieldToEvents();
      }
    } catch (error) {
      if (generation === this.generation && this.state !== 'lost') this.fail(error);
    } finally {
      this.looping = false;
    }
    // The final numbers (pause or finish) are the ones the seed answer should speak about.
    if (generation === this.generation && this.run && (this.state === 'paused' || this.state === 'finished')) {
      void this.refreshHistories();
      // A paused run is what the user expects "resume" to come back to (large nets keep their slower rhythm).
      if (this.saveEvery === 1 || this.snapshotsSinceSave >= this.saveEvery) {
        void this.lock.run(async () => {
          const run = this.run;
          if (generation === this.generation && run && this.saved?.trainer.step !== run.trainer.step) await this.saveState(run);
        });
      }
    }
  }

  private async saveState(run: Run): Promise<void> {
    this.saved = { trainer: await run.trainer.readState(), observatory: await run.observatory.readState() };
    this.snapshotsSinceSave = 0;
  }

  /**
   * Training-clock time when `step` was completed, interpolated inside the chunk that trained it. Snapshots are read
   * back asynchronously, often several at once: timing them on arrival would make throughput jump around.
   */
  private secondsAtStep(step: number): number {
    for (let i = this.chunks.length - 1; i >= 0; i--) {
      const c = this.chunks[i];
      if (step > c.from && step <= c.to) return c.fromSeconds + ((step - c.from) / (c.to - c.from)) * (c.toSeconds - c.fromSeconds);
    }
    return this.elapsedSeconds();
  }

  private elapsedSeconds(): number {
    const now = this.host.now();
    return (this.activeMs + (this.runningSince === null ? 0 : now - this.runningSince)) / 1000;
  }

  private setState(state: RunState, post = true): void {
    const now = this.host.now();
    if (this.runningSince !== null && state !== 'running') {
      this.activeMs += now - this.runningSince;
      this.runningSince = null;
    } else if (this.runningSince === null && state === 'running') {
      this.runningSince = now;
    }
    this.state = state;
    if (post) this.postState();
  }

  private postState(): void {
    this.lastStatePost = this.host.now();
    // Without a run (lost device, rebuilding) the step shown is the last one trained.
    if (this.run) this.lastStep = this.run.trainer.step;
    this.post({
      type: 'state',
      state: this.state,
      step: this.lastStep,
      stepsPerSecond: this.state === 'running' ? this.chunkRate : null,
      snapshotEvery: this.snapshotEvery,
      stepsPerFrame: this.stepsPerFrame,
    });
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Snapshots and frames

  private consume(observatory: Observatory, generation: number): Promise<void> {
    return (async () => {
      for await (const snapshot of observatory.snapshots()) {
        if (generation === this.generation) this.onSnapshot(snapshot);
      }
    })();
  }

  private onSnapshot(snapshot: Snapshot): void {
    this.snapshotsSinceSave++;
    if (snapshot.step > this.lastRowStep) {
      const seconds = this.secondsAtStep(snapshot.step);
      const prev = this.previous;
      const rate = prev && snapshot.step > prev.step && seconds > prev.seconds ? (snapshot.step - prev.step) / (seconds - prev.seconds) : null;
      this.previous = { step: snapshot.step, seconds };
      this.rows.push(metricsFromSnapshot(snapshot, { elapsedSeconds: seconds, stepsPerSecond: rate }));
      this.columns.push({ step: snapshot.step, layers: snapshot.layers.map((l) => timelineColumn(l)) });
      this.lastRowStep = snapshot.step;
    }
    if (this.latest) this.coalesced++;
    this.latest = snapshot;
    this.flush();
    if (this.host.now() - this.lastSummaryAt >= this.summaryIntervalMs) void this.refreshHistories();
  }

  /** Posts what accumulated since the last frame, if the page gave the credit back. */
  private flush(): void {
    if (!this.credit || (this.rows.length === 0 && this.latest === null)) return;
    const s = this.latest;
    const event: WorkerEvent = {
      type: 'frame',
      rows: this.rows,
      columns: this.columns,
      snapshot: s && { step: s.step, layers: s.layers.map(({ width, dead, dropped, revived }) => ({ width, dead, dropped, revived })), buffer: s.buffer },
      coalesced: this.coalesced,
    };
    this.rows = [];
    this.columns = [];
    this.latest = null;
    this.coalesced = 0;
    this.credit = false;
    this.post(event);
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Histories: seed answer, death orders, hover

  private async readHistory(run: Run, layer: number): Promise<Uint32Array> {
    const cached = this.histories.get(layer);
    if (cached && cached.step === run.trainer.step) return cached.words;
    const words = await run.observatory.readUnitHistory(layer);
    this.histories.set(layer, { step: run.trainer.step, words });
    return words;
  }

  private async refreshHistories(): Promise<void> {
    if (this.summaryPending) return;
    this.summaryPending = true;
    const generation = this.generation;
    try {
      await this.lock.run(async () => {
        const run = this.run;
        if (!run || generation !== this.generation) return;
        const started = this.host.now();
        const layers = [];
        for (let l = 1; l <= run.config.hidden.length; l++) {
          const width = run.config.hidden[l - 1].width;
          const words = await this.readHistory(run, l);
          layers.push(summarizeUnitHistory(words, width));
          if (this.orderLayers.has(l)) this.post({ type: 'order', layer: l, step: run.trainer.step, permutation: deathOrder(words, width) });
        }
        this.post({ type: 'summary', step: run.trainer.step, layers });
        const ms = this.host.now() - started;
        this.lastSummaryAt = this.host.now();
        // Reading a million-unit layer's history takes a while: keep it to a small share of the time.
        this.summaryIntervalMs = Math.max(MIN_SUMMARY_INTERVAL_MS, 20 * ms);
      });
    } finally {
      this.summaryPending = false;
    }
  }

  private async unitInfo(id: number, layer: number, unit: number): Promise<void> {
    const generation = this.generation;
    await this.lock.run(async () => {
      const run = this.run;
      if (!run || generation !== this.generation) return;
      const width = run.config.hidden[layer - 1]?.width;
      if (width === undefined || unit >= width)
        throw new RangeError(`unit-info: unit ${unit} of layer ${layer} does not exist (layers 1..${run.config.hidden.length})`);
      const words = await this.readHistory(run, layer);
      this.post({ type: 'unit-info', id, layer, unit, step: run.trainer.step, record: unitRecord(words, unit) });
    });
  }

  private async checkpoint(id: number): Promise<void> {
    const generation = this.generation;
    await this.lock.run(async () => {
      const run = this.run;
      if (!run || generation !== this.generation) throw new Error('checkpoint: there is no run to save');
      const state: CheckpointState = { trainer: await run.trainer.readState(), observatory: await run.observatory.readState() };
      this.post({ type: 'checkpoint', id, step: state.trainer.step, bytes: checkpointToSafetensors(state, run.config) });
    });
  }

  // ----------------------------------------------------------------------------------------------------------------
  // Device loss

  private onDeviceLost(gpu: GpuContext, info: GPUDeviceLostInfo): void {
    if (gpu !== this.gpu) return;
    this.gpu = null;
    this.generation++;
    this.lock = new Lock(); // a chunk in flight on the dead device may never settle
    const run = this.run;
    this.run = null;
    run?.observatory.destroy();
    run?.trainer.destroy();
    this.stopAt = null;
    this.setState('lost', false);
    const detail = info.message ? `: ${info.message.replace(/\.$/, '')}` : '';
    this.post({ type: 'device-lost', message: `The GPU device was lost${detail} (reason: ${info.reason}).`, resumeStep: this.saved?.trainer.step ?? null });
    this.postState();
  }

  private async resume(): Promise<void> {
    if (this.state !== 'lost') return;
    if (!this.config) throw new Error('resume: there is no run to resume');
    // Without a saved state the run starts over from step 0 (same seed: the same run).
    await this.rebuild(this.config, this.saved);
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

/** Bytes a saved state reads back: parameters and optimizer state of every layer, and the unit histories. */
function stateBytes(trainer: Trainer, config: RunConfig): number {
  const widths = [config.inputSize, ...config.hidden.map((h) => h.width), config.outputSize];
  let params = 0;
  for (let l = 1; l < widths.length; l++) params += widths[l - 1] * widths[l] + widths[l];
  const copies = { sgd: 1, momentum: 2, adam: 3, adamw: 3 }[trainer.spec.optimizer.kind];
  const history = config.hidden.reduce((n, h) => n + h.width * UNIT_HISTORY_WORDS, 0);
  return 4 * (params * copies + history + trainer.lossHistoryCapacity);
}
