// The engine Worker: WebGPU works in dedicated workers, so training, readbacks and snapshot decoding never block the
// page. It turns messages into EngineSession commands (src/ui/worker/session.ts) and session events into messages,
// handing buffers over without copies.
import '../csp';
import { acquireBrowserGpu } from '../../gpu/device';
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

const session = new EngineSession({
  acquire: () => acquireBrowserGpu(),
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
