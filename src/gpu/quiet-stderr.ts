// Node-only: runs a synchronous native call with the process's stderr (fd 2) pointed at /dev/null, so that what
// Dawn prints there itself while it enumerates adapters ("Warning: maxDynamicUniformBuffersPerPipelineLayout
// artificially reduced ...", about lavapipe's limits, nothing a user can act on) does not reach the user.
//
// Node cannot dup2, but open() returns the lowest free descriptor: close 2, open /dev/null (gets 2), call, close
// 2, reopen the original through /dev/fd/<copy> (gets 2 again). Only where that is safe: POSIX, and a stderr that
// can be reopened (a terminal, a pipe, a file; appended to). A socket cannot be reopened: then the call just runs.
// Nothing else writes to fd 2 meanwhile: the window is synchronous (no event-loop turn).
import { closeSync, openSync } from 'node:fs';

function tryOpen(path: string, flags: string): number | null {
  try {
    return openSync(path, flags);
  } catch {
    return null;
  }
}

export function withQuietStderr<T>(call: () => T): T {
  if (process.platform === 'win32' || process.env.DEADUNITS_DAWN_WARNINGS === '1') return call();
  const copy = tryOpen('/dev/fd/2', 'a');
  if (copy === null) return call();
  closeSync(2);
  const devNull = tryOpen('/dev/null', 'w');
  try {
    return call();
  } finally {
    if (devNull !== null) closeSync(devNull);
    const restored = tryOpen(`/dev/fd/${copy}`, 'a');
    closeSync(copy);
    // open() hands out the lowest free descriptor, 2: anything else means stderr could not be put back.
    if (restored !== 2 && restored !== null) closeSync(restored);
  }
}
