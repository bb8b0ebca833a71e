// The training loop's lifetime, as a Lit ReactiveController: the engine Worker starts when the host element is
// connected and is terminated (GPU device and all) when it is disconnected, so a removed <du-app> leaves nothing
// training in the background.
//
// It also speaks the frame flow control of src/ui/protocol.ts (a frame is acknowledged on the next animation frame,
// after the host has drawn it) and keeps hover requests to one in flight, the newest waiting (never a queue).
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { RunConfig } from '../config';
import { kernelsFromUrl } from './page-params';
import type { WorkerCommand, WorkerEvent } from './protocol';

type UnitInfoEvent = Extract<WorkerEvent, { type: 'unit-info' }>;
type CheckpointEvent = Extract<WorkerEvent, { type: 'checkpoint' }>;
type DataEvent = Extract<WorkerEvent, { type: 'data' }>;
type DataRequest = Omit<Extract<WorkerCommand, { type: 'data' }>, 'type' | 'id'>;

export type WorkerFactory = () => Worker;

/** The Worker's name carries the page's matmul kernel setting (?kernels=, see ./page-params.ts) to the Worker's device. */
export const ENGINE_WORKER_NAME = 'deadunits-engine';

const engineWorker: WorkerFactory = () =>
  new Worker(new URL('./worker/engine-worker.ts', import.meta.url), {
    type: 'module',
    name: `${ENGINE_WORKER_NAME} kernels=${kernelsFromUrl(location.search).value}`,
  });

export class TrainingController implements ReactiveController {
  private worker: Worker | null = null;
  /** Sent again to a new worker (the host may configure before it is connected). */
  private lastConfigure: Extract<WorkerCommand, { type: 'configure' }> | null = null;
  private nextId = 1;
  private hoverInFlight = false;
  private hoverNext: { layer: number; unit: number } | null = null;
  private checkpoints = new Map<number, { resolve: (e: CheckpointEvent) => void; reject: (e: Error) => void }>();
  private dataRequests = new Map<number, (e: DataEvent) => void>();
  private waitingForWorker: ((worker: Worker) => void)[] = [];
  private ackFrame: number | null = null;

  constructor(
    host: ReactiveControllerHost,
    /** Every event from the worker (frames included; unit-info and checkpoint answers too). */
    private readonly listener: (event: WorkerEvent) => void,
    private readonly createWorker: WorkerFactory = engineWorker,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    const worker = this.createWorker();
    this.worker = worker;
    worker.onmessage = (message: MessageEvent<WorkerEvent>) => this.receive(message.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.listener({ type: 'error', message: `The engine worker failed: ${event.message || 'it could not be loaded'}` });
    };
    for (const post of this.waitingForWorker.splice(0)) post(worker);
    if (this.lastConfigure) worker.postMessage(this.lastConfigure);
  }

  hostDisconnected(): void {
    this.worker?.terminate();
    this.worker = null;
    if (this.ackFrame !== null) cancelAnimationFrame(this.ackFrame);
    this.ackFrame = null;
    this.hoverInFlight = false;
    this.hoverNext = null;
    for (const pending of this.checkpoints.values()) pending.reject(new Error('the page closed the engine'));
    this.checkpoints.clear();
    for (const answer of this.dataRequests.values()) answer({ type: 'data', id: 0, ok: false, message: 'the page closed the engine' });
    this.dataRequests.clear();
    this.waitingForWorker = [];
  }

  private send(command: WorkerCommand): void {
    this.worker?.postMessage(command);
  }

  private receive(event: WorkerEvent): void {
    if (event.type === 'unit-info') this.hoverAnswered();
    if (event.type === 'error') this.hoverAnswered();
    if (event.type === 'checkpoint') {
      this.checkpoints.get(event.id)?.resolve(event);
      this.checkpoints.delete(event.id);
    }
    if (event.type === 'data') {
      this.dataRequests.get(event.id)?.(event);
      this.dataRequests.delete(event.id);
    }
    if (event.type === 'error' && this.checkpoints.size) {
      // The worker reports a failed checkpoint as an error: fail the waiting request rather than leave it hanging.
      for (const pending of this.checkpoints.values()) pending.reject(new Error(event.message));
      this.checkpoints.clear();
    }
    this.listener(event);
    if (event.type === 'frame' && this.ackFrame === null) {
      // The host draws in its own animation frame; acknowledging in the next one keeps the worker to one frame each.
      this.ackFrame = requestAnimationFrame(() => {
        this.ackFrame = null;
        this.send({ type: 'ack' });
      });
    }
  }

  /** `stepsPerFrame`: the most steps a chunk of training may hold; null for none (chunks sized by time). */
  configure(config: RunConfig, snapshotEvery: number, stepsPerFrame: number | null): void {
    this.lastConfigure = { type: 'configure', config, snapshotEvery, stepsPerFrame };
    this.send(this.lastConfigure);
  }

  run(): void {
    this.send({ type: 'run' });
  }

  pause(): void {
    this.send({ type: 'pause' });
  }

  step(): void {
    this.send({ type: 'step' });
  }

  reset(): void {
    this.send({ type: 'reset' });
  }

  setOptions(options: { snapshotEvery?: number; stepsPerFrame?: number | null }): void {
    if (this.lastConfigure) this.lastConfigure = { ...this.lastConfigure, ...options };
    this.send({ type: 'options', ...options });
  }

  setOrder(layer: number, enabled: boolean): void {
    this.send({ type: 'order', layer, enabled });
  }

  resume(): void {
    this.send({ type: 'resume' });
  }

  /** For the end-to-end test of the device-loss path. */
  loseDevice(): void {
    this.send({ type: 'lose-device' });
  }

  /** For the end-to-end test of the GPU-error path: the run's next chunk fails on the GPU. */
  forceGpuError(): void {
    this.send({ type: 'force-gpu-error' });
  }

  /** Asks for one unit's history; while one request is in flight only the newest next one is kept. */
  requestUnitInfo(layer: number, unit: number): void {
    if (this.hoverInFlight) {
      this.hoverNext = { layer, unit };
      return;
    }
    this.hoverInFlight = true;
    this.send({ type: 'unit-info', id: this.nextId++, layer, unit });
  }

  private hoverAnswered(): void {
    this.hoverInFlight = false;
    const next = this.hoverNext;
    this.hoverNext = null;
    if (next) this.requestUnitInfo(next.layer, next.unit);
  }

  /**
   * Hands the user's files to the worker (their buffers are transferred: pass copies to keep the bytes), which parses
   * them and answers with the dataset fields and sizes, or why the files cannot be used.
   */
  loadData(request: DataRequest): Promise<DataEvent> {
    const id = this.nextId++;
    return new Promise<DataEvent>((resolve) => {
      this.dataRequests.set(id, resolve);
      const post = (worker: Worker) => {
        const transfer = [request.inputs.bytes, ...(request.targets ? [request.targets.bytes] : [])];
        worker.postMessage({ type: 'data', id, ...request } satisfies WorkerCommand, transfer);
      };
      // Before the host is connected (a URL restored in its constructor) the request waits for the worker.
      if (this.worker) post(this.worker);
      else this.waitingForWorker.push(post);
    });
  }

  /** The run's state as safetensors bytes (src/io/checkpoint.ts). */
  checkpoint(): Promise<CheckpointEvent> {
    const id = this.nextId++;
    return new Promise<CheckpointEvent>((resolve, reject) => {
      if (!this.worker) {
        reject(new Error('the engine is not running'));
        return;
      }
      this.checkpoints.set(id, { resolve, reject });
      this.send({ type: 'checkpoint', id });
    });
  }
}

export type { UnitInfoEvent };
