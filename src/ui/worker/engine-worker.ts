// The engine Worker: WebGPU works in dedicated workers, so training, readbacks and snapshot decoding never block the
// page. It turns messages into EngineSession commands (src/ui/worker/session.ts) and session events into messages,
// handing buffers over without copies.
import '../csp';
import { acquireBrowserGpu } from '../../gpu/device';
import { IndexedDbTuningStore } from '../../gpu/tuning/idb-store';
import { parseWorkerCommand, type WorkerEvent } from '../protocol';
import { EngineSession } from './session';

const scope = self as unknown as DedicatedWorkerGlobalScope;
const post = (event: WorkerEvent, transfer: Transferable[] = []) => scope.postMessage(event, transfer);

// A zero-delay yield: a MessageChannel task runs after queued messages without setTimeout's clamping.
const channel = new MessageChannel();
const waiting: (() => void)[] = [];
channel.port1.onmessage = () => waiting.shift()?.();
const yieldToEvents = () =>
  new Promise<void>((resolve) => {
    waiting.push(resolve);
    channel.port2.postMessage(null);
  });

// The page's ?kernels= setting, passed in the Worker's name (src/ui/training-controller.ts); tuned choices live in IndexedDB.
const kernels = /kernels=(\S+)/.exec(scope.name)?.[1] ?? 'auto';
const tuningStore = new IndexedDbTuningStore();

const session = new EngineSession({
  acquire: () => acquireBrowserGpu({ kernels: { matmul: kernels, store: tuningStore } }),
  post,
  now: () => performance.now(),
  yieldToEvents,
});

scope.onmessage = (message: MessageEvent<unknown>) => {
  try {
    void session.handle(parseWorkerCommand(message.data));
  } catch (error) {
    post({ type: 'error', message: error instanceof Error ? error.message : String(error) });
  }
};
