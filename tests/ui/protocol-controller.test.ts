// @vitest-environment happy-dom
// The TrainingController: the Worker lives exactly as long as the host is connected, the last configuration reaches a
// new Worker, frames are acknowledged one animation frame later, hover requests never queue up, and a pending
// checkpoint fails instead of hanging when the host goes away.
import { describe, expect, it } from 'vitest';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { parseRunConfig, presetConfig } from '../../src/config';
import type { WorkerCommand, WorkerEvent } from '../../src/ui/protocol';
import { TrainingController } from '../../src/ui/training-controller';

class FakeWorker {
  sent: WorkerCommand[] = [];
  terminated = false;
  onmessage: ((e: MessageEvent<WorkerEvent>) => void) | null = null;
  onerror: ((e: ErrorEvent) => void) | null = null;
  postMessage(command: WorkerCommand): void {
    this.sent.push(command);
  }
  terminate(): void {
    this.terminated = true;
  }
  emit(event: WorkerEvent): void {
    this.onmessage?.({ data: event } as MessageEvent<WorkerEvent>);
  }
}

function setup() {
  const controllers: ReactiveController[] = [];
  const host = { addController: (c: ReactiveController) => controllers.push(c) } as unknown as ReactiveControllerHost;
  const workers: FakeWorker[] = [];
  const events: WorkerEvent[] = [];
  const controller = new TrainingController(
    host,
    (e) => events.push(e),
    () => {
      const w = new FakeWorker();
      workers.push(w);
      return w as unknown as Worker;
    },
  );
  return { controller, controllers, workers, events };
}

const config = parseRunConfig({ ...presetConfig('dropout_only'), steps: 100 });
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve(null)));

describe('TrainingController', () => {
  it('starts the worker on connect with the latest configuration and terminates it on disconnect', () => {
    const { controller, controllers, workers } = setup();
    expect(controllers).toEqual([controller]);
    controller.configure(config, 10, 20);
    controller.setOptions({ stepsPerFrame: 5 });
    expect(workers).toHaveLength(0);
    controller.hostConnected();
    expect(workers[0].sent).toEqual([{ type: 'configure', config, snapshotEvery: 10, stepsPerFrame: 5 }]);
    controller.run();
    expect(workers[0].sent.at(-1)).toEqual({ type: 'run' });
    controller.hostDisconnected();
    expect(workers[0].terminated).toBe(true);
    // Reconnected: a fresh worker gets the same run.
    controller.hostConnected();
    expect(workers).toHaveLength(2);
    expect(workers[1].sent).toEqual([{ type: 'configure', config, snapshotEvery: 10, stepsPerFrame: 5 }]);
  });

  it('acknowledges a frame on the next animation frame, once however many arrive', async () => {
    const { controller, workers, events } = setup();
    controller.hostConnected();
    const frame: WorkerEvent = { type: 'frame', rows: [], columns: [], snapshot: null, coalesced: 0 };
    workers[0].emit(frame);
    workers[0].emit(frame);
    expect(events).toHaveLength(2);
    expect(workers[0].sent.filter((c) => c.type === 'ack')).toHaveLength(0);
    await nextFrame();
    expect(workers[0].sent.filter((c) => c.type === 'ack')).toHaveLength(1);
  });

  it('keeps one hover request in flight and only the newest waiting', () => {
    const { controller, workers } = setup();
    controller.hostConnected();
    controller.requestUnitInfo(1, 5);
    controller.requestUnitInfo(1, 6);
    controller.requestUnitInfo(2, 7);
    const asked = () => workers[0].sent.filter((c): c is Extract<WorkerCommand, { type: 'unit-info' }> => c.type === 'unit-info').map((c) => [c.layer, c.unit]);
    expect(asked()).toEqual([[1, 5]]);
    const record = { firstDeathStep: null, deaths: 0, revivals: 0, lastChangeStep: null, dead: false, dropRun: 0, longestDropRun: 0 };
    workers[0].emit({ type: 'unit-info', id: 1, layer: 1, unit: 5, step: 0, record });
    expect(asked()).toEqual([
      [1, 5],
      [2, 7],
    ]);
    workers[0].emit({ type: 'unit-info', id: 2, layer: 2, unit: 7, step: 0, record });
    expect(asked()).toHaveLength(2);
  });

  it('resolves a checkpoint by id, and rejects one still pending when the host disconnects', async () => {
    const { controller, workers } = setup();
    controller.hostConnected();
    const first = controller.checkpoint();
    const request = workers[0].sent.at(-1) as Extract<WorkerCommand, { type: 'checkpoint' }>;
    const bytes = new Uint8Array([1, 2, 3]);
    workers[0].emit({ type: 'checkpoint', id: request.id, step: 40, bytes });
    await expect(first).resolves.toMatchObject({ step: 40, bytes });
    const second = controller.checkpoint();
    controller.hostDisconnected();
    await expect(second).rejects.toThrow(/closed the engine/);
    await expect(controller.checkpoint()).rejects.toThrow(/not running/);
  });

  it('reports a worker that fails to load as an error event', () => {
    const { controller, workers, events } = setup();
    controller.hostConnected();
    workers[0].onerror?.({ message: '', preventDefault() {} } as unknown as ErrorEvent);
    expect(events).toEqual([{ type: 'error', message: 'The engine worker failed: it could not be loaded' }]);
  });
});
