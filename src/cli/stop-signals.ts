// Node-only: the requests that stop a run or sweep with a checkpoint. SIGINT (Ctrl-C), SIGTERM, and SIGHUP (the
// terminal went away) are signals to this process. A launcher is the other way to be left running by mistake:
// `npx deadunits run ... & kill -TERM $!` stops npx, whose `sh -c` child dies with it without passing the signal on,
// and the trainer would run to the end as an orphan. So when npm launched this process (npx, npm run, npm exec), it
// also watches its parent: when the parent dies the process is re-parented (its ppid changes), and that is a stop
// request like SIGHUP. A process started directly (a shell, nohup, a scheduler) is left alone when its parent exits.

export type StopReason = 'SIGINT' | 'SIGTERM' | 'SIGHUP' | 'launcher';

/** Exit status after each stop request (128 + the signal's number; a dead launcher counts as a hang-up). */
export const EXIT_STATUS: Readonly<Record<StopReason, number>> = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129, launcher: 129 };

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** How often the parent is checked: a stop is noticed within this, and the check costs one system call. */
const PARENT_POLL_MS = 1000;

/** True when npm (npx, npm run, npm exec) started this process: then its death must stop the run. */
export function launchedByNpm(env: NodeJS.ProcessEnv = process.env): boolean {
  return env.npm_command !== undefined || env.npm_lifecycle_event !== undefined || env.DEADUNITS_STOP_WITH_PARENT === '1';
}

export interface StopWatchOptions {
  /** Watch the parent process (default: launchedByNpm()). */
  watchParent?: boolean;
  pollMs?: number;
}

/**
 * Calls `onStop` for every stop request (each signal, and the launcher's death once), with a line describing it.
 * Returns a function that removes the handlers and the parent watch.
 */
export function watchStopRequests(onStop: (reason: StopReason, description: string) => void, options: StopWatchOptions = {}): () => void {
  const handlers = SIGNALS.map((signal) => {
    const handler = () => onStop(signal, signal);
    process.on(signal, handler);
    return () => void process.off(signal, handler);
  });
  let timer: NodeJS.Timeout | null = null;
  if (options.watchParent ?? launchedByNpm()) {
    const parent = process.ppid;
    timer = setInterval(() => {
      if (process.ppid === parent) return;
      clearInterval(timer!);
      timer = null;
      onStop('launcher', `the launching process (PID ${parent}) has exited`);
    }, options.pollMs ?? PARENT_POLL_MS);
    // The watch alone must not keep the process alive.
    timer.unref();
  }
  return () => {
    handlers.forEach((off) => off());
    if (timer) clearInterval(timer);
  };
}
