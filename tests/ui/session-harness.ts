// A recording host for the engine Worker's session (src/ui/worker/session.ts), driven through its protocol on a real
// WebGPU adapter (Dawn on lavapipe), shared by the session tests.
import { parseRunConfig, presetConfig, type RunConfig } from '../../src/config';
import { acquireNodeGpu } from '../../src/gpu/dawn';
import type { GpuContext } from '../../src/gpu/device';
import { parseWorkerCommand, type WorkerCommand, type WorkerEvent } from '../../src/ui/protocol';
import { EngineSession, type SessionHost } from '../../src/ui/worker/session';

export const tiny = (steps: number): RunConfig => {
  const base = presetConfig('dropout_only');
  return parseRunConfig({
    ...base,
    inputSize: 8,
    hidden: base.hidden.map((h) => ({ ...h, width: 40 })),
    dataset: { kind: 'gaussian_mixture', samples: 128, classes: 4, spread: 1 },
    outputSize: 4,
    batchSize: 8,
    steps,
    stepsPerSubmit: 8,
    snapshot: { every: 10, probeSize: 16 },
  });
};

/** A session with a recording host; frames are acknowledged as a page would. */
export class Harness {
  readonly events: WorkerEvent[] = [];
  readonly gpus: GpuContext[] = [];
  readonly session: EngineSession;
  private waiters: (() => void)[] = [];
  autoAck = true;

  /**
   * `now`: the session's clock (milliseconds), the real one by default. `prepare`: called on every device the session
   * acquires, before the session uses it (to make it fail on purpose).
   */
  constructor(options: { now?: () => number; prepare?: (gpu: GpuContext) => void; stepZeroPieces?: SessionHost['stepZeroPieces'] } = {}) {
    const now = options.now ?? (() => performance.now());
    this.session = new EngineSession({
      acquire: async () => {
        const gpu = await acquireNodeGpu();
        options.prepare?.(gpu);
        this.gpus.push(gpu);
        return gpu;
      },
      post: (event) => {
        this.events.push(event);
        if (event.type === 'frame' && this.autoAck) queueMicrotask(() => void this.session.handle({ type: 'ack' }));
        for (const w of this.waiters.splice(0)) w();
      },
      now,
      yieldToEvents: () => new Promise((resolve) => setImmediate(resolve)),
      stepZeroPieces: options.stepZeroPieces,
    });
  }

  send(command: WorkerCommand): Promise<void> {
    return this.session.handle(parseWorkerCommand(command));
  }

  /** Waits until an event after index `from` matches. */
  async waitFor<T extends WorkerEvent['type']>(
    type: T,
    match: (e: Extract<WorkerEvent, { type: T }>) => boolean = () => true,
    from = 0,
    timeoutMs = 90_000,
  ): Promise<Extract<WorkerEvent, { type: T }>> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.events
        .slice(from)
        .find((e): e is Extract<WorkerEvent, { type: T }> => e.type === type && match(e as Extract<WorkerEvent, { type: T }>));
      if (found) return found;
      const errors = this.events.filter((e) => e.type === 'error');
      if (errors.length) throw new Error(`session error: ${JSON.stringify(errors)}`);
      if (Date.now() > deadline) throw new Error(`no ${type} event within ${timeoutMs} ms; got ${this.events.map((e) => e.type).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  frames(from = 0): Extract<WorkerEvent, { type: 'frame' }>[] {
    return this.events.slice(from).filter((e): e is Extract<WorkerEvent, { type: 'frame' }> => e.type === 'frame');
  }

  rowSteps(from = 0): number[] {
    return this.frames(from).flatMap((f) => f.rows.map((r) => r.step));
  }

  async checkpoint(id: number): Promise<Uint8Array> {
    const from = this.events.length;
    await this.send({ type: 'checkpoint', id });
    return (await this.waitFor('checkpoint', (e) => e.id === id, from)).bytes;
  }
}
