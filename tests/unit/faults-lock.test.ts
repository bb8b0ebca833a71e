// One owner per run folder (issue 16, item 1): the lock file, its message naming the owner, stale-lock takeover on
// the same host (dead PID, reused PID) and from another host (no heartbeat), atomicity under contention, and a
// lost lock aborting its holder. Before the lock, nothing stopped a second writer (see tests/cli/faults-lock.test.ts).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { InputFileError } from '../../src/io/regular-file';
import { LOCK_FILE, lockOwner, RunLock, RunLockedError, type LockOwner } from '../../src/io/run-lock';

/** A PID that belonged to a process that has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(child.stdout);
}

async function startTicks(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8');
  return Number(text.slice(text.lastIndexOf(')') + 2).split(' ')[19]);
}

function owner(overrides: Partial<LockOwner>): LockOwner {
  const now = new Date().toISOString();
  return {
    format: 'deadunits-lock',
    host: hostname(),
    pid: 1,
    started: now,
    startTicks: null,
    bootId: null,
    command: 'run',
    acquired: now,
    heartbeat: now,
    token: 'someone-else',
    ...overrides,
  };
}

async function refusal(p: Promise<unknown>): Promise<RunLockedError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(RunLockedError);
    return error as RunLockedError;
  }
  throw new Error('expected RunLockedError');
}

describe('run folder lock', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('admits one owner; a second is refused with a message naming host, PID and start; release frees it', async () => {
    const lock = await RunLock.acquire(dir, { command: 'run' });
    const held = await lockOwner(dir);
    expect(held).toMatchObject({ host: hostname(), pid: process.pid, command: 'run' });
    const e = await refusal(RunLock.acquire(dir, { command: 'resume' }));
    expect(e.message).toContain(`${dir} is in use by another deadunits process (run): PID ${process.pid} on host ${hostname()}, started ${held!.started}`);
    expect(e.message).toMatch(/Wait for it to finish or stop it \(e\.g\. `kill \d+`\)\. If that process is gone, the lock is taken over at once\./);
    await lock.release();
    expect(await readdir(dir)).toEqual([]);
    const again = await RunLock.acquire(dir, { command: 'resume' });
    await again.release();
    await again.release();
  });

  it('a damaged lock record or a FIFO in its place: refused naming the file and what to do (it was a bug message, and a FIFO blocked forever)', async () => {
    const path = join(dir, 'run.lock');
    await writeFile(path, '{"format":"deadunits-ru');
    const damaged = await RunLock.acquire(dir, { command: 'resume' }).catch((error: unknown) => error);
    expect(damaged).toBeInstanceOf(InputFileError);
    expect(String(damaged)).toContain(`${path}: is not a lock record deadunits can read (damaged?): if no deadunits process is using this folder, delete it`);
    await rm(path);
    execFileSync('mkfifo', [path]);
    const fifo = await RunLock.acquire(dir, { command: 'resume' }).catch((error: unknown) => error);
    expect(fifo).toBeInstanceOf(InputFileError);
    expect(String(fifo)).toContain(`${path}: is a FIFO (named pipe), not a regular file`);
  });

  it('takes over at once the lock of a process of this host that has exited, and says so', async () => {
    const pid = deadPid();
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid })));
    const lines: string[] = [];
    const lock = await RunLock.acquire(dir, { command: 'resume', log: (l) => lines.push(l) });
    expect(lines).toEqual([`took over the lock of ${dir}: PID ${pid} on host ${hostname()} is no longer running`]);
    expect((await lockOwner(dir))?.pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock whose PID now belongs to another process (started at another time)', async () => {
    // This very process is alive; the record says it started at another clock tick, as a reused PID would.
    const ticks = await startTicks(process.pid);
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid: process.pid, startTicks: ticks - 1 })));
    const lines: string[] = [];
    const lock = await RunLock.acquire(dir, { command: 'run', log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/has ended \(its PID now belongs to another process\)/);
    await lock.release();
    // The same record with the right start time is a live owner.
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid: process.pid, startTicks: ticks })));
    await refusal(RunLock.acquire(dir, { command: 'run' }));
  });

  it('refuses a lock of another host while its heartbeat is fresh, and takes it over once it is stale', async () => {
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ host: 'node-17.cluster', pid: 4242 })));
    const e = await refusal(RunLock.acquire(dir, { command: 'run' }));
    expect(e.message).toContain('PID 4242 on host node-17.cluster');
    expect(e.message).toMatch(/last heartbeat \d+ s ago/);
    expect(e.message).toContain(`taken over 60 s after its last heartbeat, or delete ${join(dir, LOCK_FILE)}`);
    // Its last heartbeat two minutes ago (by the file system's clock): stale.
    const old = new Date(Date.now() - 120_000);
    await utimes(join(dir, LOCK_FILE), old, old);
    const lines: string[] = [];
    const lock = await RunLock.acquire(dir, { command: 'run', log: (l) => lines.push(l) });
    expect(lines[0]).toMatch(/PID 4242 on host node-17\.cluster sent no heartbeat for 1\d\d s/);
    await lock.release();
  });

  it('gives the folder to exactly one of many processes that want it at once, also when they all take over a stale lock', async () => {
    for (const stale of [false, true]) {
      if (stale) await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ pid: deadPid() })));
      const results = await Promise.allSettled(Array.from({ length: 8 }, () => RunLock.acquire(dir, { command: 'run' })));
      const won = results.filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason instanceof RunLockedError)).toBe(true);
      await (won[0] as PromiseFulfilledResult<RunLock>).value.release();
      expect(await readdir(dir)).toEqual([]);
    }
  });

  it('aborts its holder when another process has taken the lock over, naming it', async () => {
    const lock = await RunLock.acquire(dir, { command: 'run', heartbeatMs: 20 });
    await writeFile(join(dir, LOCK_FILE), JSON.stringify(owner({ host: 'node-3', pid: 77, command: 'resume' })));
    await new Promise((resolve) => lock.lost.addEventListener('abort', resolve));
    expect(lock.lost.reason).toBe(`the lock of ${dir} is now held by PID 77 on host node-3 (resume): stopping so as not to write beside it`);
    await lock.release();
    // Not ours any more: release leaves the new owner's lock alone.
    expect((await lockOwner(dir))?.pid).toBe(77);
  });
});
