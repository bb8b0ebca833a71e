// Node-only: one owner per run folder. `run`, `resume` and every sweep point hold an exclusive lock file,
// <folder>/run.lock, while they write the folder; a second process that wants the folder is refused with a message
// naming the owner. Built to work on a file system shared by several hosts (NFS and the like):
//
// - Taking it: the owner record (host, PID, the process's start, a random token) is written to a temp file and
//   hard-linked to run.lock; link() fails with EEXIST when the lock exists, atomically, on every file system that
//   has links (NFS included). Where links are not supported it falls back to an O_EXCL create.
// - Heartbeat: the owner rewrites the record every HEARTBEAT_MS. The file's mtime is set by the file server, so
//   its age is measured against the server's clock (the mtime of a probe file written just before), not this host's.
// - Stale locks are taken over: on the owner's own host at once when its PID is not running (or is running but
//   started at another time: the PID was reused, or the host rebooted); from another host when the heartbeat is
//   older than STALE_MS. A takeover happens under a second lock file (run.lock.takeover), so that two processes
//   that both find the lock stale do not both take it.
// - Losing it: if another process took the lock over (this one stalled past STALE_MS, e.g. a suspended laptop), the
//   heartbeat notices and `lost` aborts, so the run stops instead of writing beside the new owner.
//
// Limits: two containers that share a hostname but not a PID namespace look like one host; give them distinct
// hostnames (Docker and Kubernetes do by default).
import { randomBytes } from 'node:crypto';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { tempFileFor, writeFileAtomic } from './atomic-file';
import { InputFileError, readRegularTextIfExists } from './regular-file';

export const LOCK_FILE = 'run.lock';
/** A lock record is a few hundred bytes; more is not one. */
const MAX_LOCK_BYTES = 64 * 1024;
const TAKEOVER_FILE = 'run.lock.takeover';
const LOCK_FORMAT = 'deadunits-lock';

/** How often the owner rewrites the lock record. */
export const HEARTBEAT_MS = 10_000;
/** A lock from another host whose heartbeat is older than this is stale (several missed heartbeats). */
export const STALE_MS = 60_000;

export interface LockOwner {
  format: typeof LOCK_FORMAT;
  host: string;
  pid: number;
  /** When the owning process started (ISO 8601, this host's clock; for the message). */
  started: string;
  /** Linux: the process's start time in clock ticks since boot (/proc/<pid>/stat field 22), to tell a reused PID. */
  startTicks: number | null;
  /** Linux: /proc/sys/kernel/random/boot_id, to tell a rebooted host. */
  bootId: string | null;
  /** What holds the folder, e.g. "run", "resume", "sweep point p03-1a2b3c4d". */
  command: string;
  /** When the lock was taken and last renewed (ISO 8601, this host's clock; for the message). */
  acquired: string;
  heartbeat: string;
  token: string;
}

/** The run folder is held by another live process. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
  constructor(
    readonly dir: string,
    readonly owner: LockOwner,
    readonly heartbeatAgeMs: number | null,
  ) {
    const sameHost = owner.host === hostname();
    const age = heartbeatAgeMs === null ? '' : `, last heartbeat ${Math.round(heartbeatAgeMs / 1000)} s ago`;
    super(
      `${dir} is in use by another deadunits process (${owner.command}): PID ${owner.pid} on host ${owner.host}, started ${owner.started}${age}. ` +
        `Wait for it to finish or stop it (e.g. \`kill ${owner.pid}\`${sameHost ? '' : ` on ${owner.host}`}). ` +
        (sameHost
          ? 'If that process is gone, the lock is taken over at once.'
          : `If that process is gone, the lock is taken over ${Math.round(STALE_MS / 1000)} s after its last heartbeat, or delete ${join(dir, LOCK_FILE)}.`),
    );
  }
}

export interface LockOptions {
  /** Recorded in the lock, shown to whoever is refused. */
  command: string;
  /** Told when a stale lock is taken over. */
  log?: (line: string) => void;
  /** Tests: shorter intervals. */
  heartbeatMs?: number;
  staleMs?: number;
}

/** An exclusive lock on a run folder, held until release(). */
export class RunLock {
  private readonly controller = new AbortController();
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> = Promise.resolve();
  private released = false;

  private constructor(
    readonly dir: string,
    private owner: LockOwner,
    private readonly heartbeatMs: number,
  ) {}

  /** Aborted (with a message naming the new owner) when another process has taken the lock over. */
  get lost(): AbortSignal {
    return this.controller.signal;
  }

  /**
   * Takes the lock of `dir` (which must exist), taking over a stale one. Throws RunLockedError when a live
   * process holds it.
   */
  static async acquire(dir: string, options: LockOptions): Promise<RunLock> {
    const staleMs = options.staleMs ?? STALE_MS;
    const path = join(dir, LOCK_FILE);
    const now = new Date().toISOString();
    const owner: LockOwner = {
      format: LOCK_FORMAT,
      host: hostname(),
      pid: process.pid,
      started: new Date(Date.now() - process.uptime() * 1000).toISOString(),
      startTicks: await processStartTicks(process.pid),
      bootId: await bootId(),
      command: options.command,
      acquired: now,
      heartbeat: now,
      token: randomBytes(12).toString('hex'),
    };
    // Each round either takes the lock, refuses, or removes a stale lock and tries again.
    for (let round = 0; round < 10; round++) {
      if (await createExclusive(path, record(owner))) {
        const lock = new RunLock(dir, owner, options.heartbeatMs ?? HEARTBEAT_MS);
        lock.startHeartbeat();
        return lock;
      }
      const held = await readOwner(path);
      if (held === null) {
        // Released in between, or an O_EXCL-created record not written yet: try again shortly.
        await new Promise((resolve) => setTimeout(resolve, 50));
        continue;
      }
      const verdict = await judge(dir, held, staleMs);
      if (!verdict.stale) throw new RunLockedError(dir, held, verdict.ageMs);
      if (await removeStale(dir, held, staleMs)) options.log?.(`took over the lock of ${dir}: ${verdict.why}`);
    }
    // A record that never becomes readable is damaged (a crash mid-write where hard links are missing, a bad
    // disk), not being written: no process can be judged alive from it, so the user decides.
    if ((await readOwner(path)) === null && (await stat(path).catch(() => null)))
      throw new InputFileError(
        path,
        'is not a lock record deadunits can read (damaged?): if no deadunits process is using this folder, delete it and start again',
      );
    throw new Error(`could not take the lock of ${dir} after 10 attempts (other processes keep taking it)`);
  }

  private startHeartbeat(): void {
    this.timer = setInterval(() => {
      this.beating = this.beat();
    }, this.heartbeatMs);
    // The heartbeat must not keep a finished process alive.
    this.timer.unref();
  }

  /** Renews the record, after checking it is still ours. */
  private async beat(): Promise<void> {
    if (this.released) return;
    const path = join(this.dir, LOCK_FILE);
    try {
      const held = await readOwner(path);
      if (held?.token !== this.owner.token) {
        this.stopHeartbeat();
        const by = held ? `PID ${held.pid} on host ${held.host} (${held.command})` : 'nobody (the lock file was removed)';
        this.controller.abort(`the lock of ${this.dir} is now held by ${by}: stopping so as not to write beside it`);
        return;
      }
      this.owner = { ...this.owner, heartbeat: new Date().toISOString() };
      // Replaced atomically (temp + rename), so that a reader never sees half a record.
      await writeFileAtomic(path, new TextEncoder().encode(record(this.owner)));
    } catch {
      // A failed heartbeat (a full disk, a brief NFS outage) is retried at the next interval.
    }
  }

  private stopHeartbeat(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Removes the lock if it is still ours. Safe to call twice. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    this.stopHeartbeat();
    await this.beating;
    const path = join(this.dir, LOCK_FILE);
    const held = await readOwner(path).catch(() => null);
    if (held?.token === this.owner.token) await unlink(path).catch(() => undefined);
  }
}

function record(owner: LockOwner): string {
  return JSON.stringify(owner, null, 2) + '\n';
}

/** Creates `path` with `text` unless it exists (false then). Atomic: readers see the whole record or no file. */
async function createExclusive(path: string, text: string): Promise<boolean> {
  const temp = tempFileFor(path);
  await writeFile(temp, text, { flag: 'wx' });
  try {
    await link(temp, path);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // ENOENT: the temp file was removed under us (the owner clears orphan temp files): the lock is held.
    if (code === 'EEXIST' || code === 'ENOENT') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
  } finally {
    await unlink(temp).catch(() => undefined);
  }
  // No hard links here (FAT, some SMB mounts): O_EXCL create, then the record (a reader may briefly see it empty).
  try {
    await writeFile(path, text, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** The lock's owner record; null when there is no lock file or it cannot be parsed yet (being written). */
async function readOwner(path: string): Promise<LockOwner | null> {
  // A regular file of bounded size only: a FIFO put in its place would block every start forever.
  const text = await readRegularTextIfExists(path, MAX_LOCK_BYTES, 'a lock record');
  if (text === null) return null;
  try {
    const value = JSON.parse(text) as LockOwner;
    if (value?.format !== LOCK_FORMAT || typeof value.pid !== 'number' || typeof value.host !== 'string' || typeof value.token !== 'string') return null;
    return value;
  } catch {
    return null;
  }
}

interface Verdict {
  stale: boolean;
  why: string;
  ageMs: number | null;
}

/** Is the lock held by `owner` stale? */
async function judge(dir: string, owner: LockOwner, staleMs: number): Promise<Verdict> {
  const ageMs = await lockAge(dir);
  const who = `PID ${owner.pid} on host ${owner.host}`;
  if (owner.host === hostname()) {
    const boot = await bootId();
    if (owner.bootId && boot && owner.bootId !== boot) return { stale: true, why: `${who} was running before this host rebooted`, ageMs };
    if (!isRunning(owner.pid)) return { stale: true, why: `${who} is no longer running`, ageMs };
    const ticks = await processStartTicks(owner.pid);
    if (owner.startTicks !== null && ticks !== null && ticks !== owner.startTicks)
      return { stale: true, why: `${who} has ended (its PID now belongs to another process)`, ageMs };
    return { stale: false, why: '', ageMs };
  }
  if (ageMs !== null && ageMs > staleMs) return { stale: true, why: `${who} sent no heartbeat for ${Math.round(ageMs / 1000)} s`, ageMs };
  return { stale: false, why: '', ageMs };
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Age of the lock's last heartbeat by the file server's clock: the mtime of a probe written now, minus the lock's mtime. */
async function lockAge(dir: string): Promise<number | null> {
  const probe = tempFileFor(join(dir, 'clock'));
  try {
    const lock = await stat(join(dir, LOCK_FILE));
    await writeFile(probe, '');
    const now = await stat(probe);
    return Math.max(0, now.mtimeMs - lock.mtimeMs);
  } catch {
    return null;
  } finally {
    await unlink(probe).catch(() => undefined);
  }
}

/**
 * Removes the stale lock of `owner`, under the takeover lock so that only one process does it, and only if the lock
 * file still holds that owner. True when it was removed here.
 */
async function removeStale(dir: string, owner: LockOwner, staleMs: number): Promise<boolean> {
  const guard = join(dir, TAKEOVER_FILE);
  if (!(await createExclusive(guard, `${process.pid}@${hostname()}\n`))) {
    // Another process is taking over (a few milliseconds), or died doing it: clear a guard left for long.
    const info = await stat(guard).catch(() => null);
    if (info && Date.now() - info.mtimeMs > staleMs) await unlink(guard).catch(() => undefined);
    else await new Promise((resolve) => setTimeout(resolve, 50));
    return false;
  }
  try {
    const held = await readOwner(join(dir, LOCK_FILE));
    if (held?.token !== owner.token) return false;
    await unlink(join(dir, LOCK_FILE));
    return true;
  } finally {
    await unlink(guard).catch(() => undefined);
  }
}

/** Linux: field 22 of /proc/<pid>/stat (start time in clock ticks since boot); null elsewhere. */
async function processStartTicks(pid: number): Promise<number | null> {
  try {
    const text = await readFile(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its closing one.
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[22 - 3]);
    return Number.isSafeInteger(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

async function bootId(): Promise<string | null> {
  try {
    return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8')).trim();
  } catch {
    return null;
  }
}

/** The owner recorded in `dir`'s lock, if any (for messages and tests). */
export async function lockOwner(dir: string): Promise<LockOwner | null> {
  return readOwner(join(dir, LOCK_FILE));
}

/** Runs `f` holding the lock of `dir`, released afterwards whatever happens. */
export async function withRunLock<T>(dir: string, options: LockOptions, f: (lock: RunLock) => Promise<T>): Promise<T> {
  const lock = await RunLock.acquire(dir, options);
  try {
    return await f(lock);
  } finally {
    await lock.release();
  }
}
