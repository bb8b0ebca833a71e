// `sweep status`: done / running (owner host, PID and step) / missing points per shard, read from the sweep folder
// alone. The folder is made by runSweep with a fake point runner, then run folders are dressed as the states a
// real sweep leaves: a live lock with metrics, a stale lock, a checkpointed run without a lock, nothing.
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pointLockOwner, pointRunDir, shardOfLockOwner } from '../../src/cli/sweep/folder';
import { runSweep, type PointRunRequest } from '../../src/cli/sweep/run-sweep';
import { expandSweep, type SweepSpec } from '../../src/cli/sweep/spec';
import { formatStatus, sweepStatus } from '../../src/cli/sweep/status';
import { metricsToJsonLine } from '../../src/report/metrics';

const spec: SweepSpec = {
  base: { inputSize: 4, hidden: [{ width: 8 }], dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 }, batchSize: 8, snapshot: { every: 5 } },
  axes: [{ path: 'lr', values: [0.01, 0.1, 1, 2, 3, 4] }],
  steps: 100,
};

const row = (step: number) => metricsToJsonLine({ step, elapsedSeconds: step / 10, loss: 1, stepsPerSecond: 10, skipped: 0, layers: [] }) + '\n';
const lock = (host: string, pid: number) => JSON.stringify({ format: 'deadunits-lock', host, pid, command: 'sweep point', token: 'x' });
/** A live lock of this process, owned by `command`. */
const lockOf = (command: string) => JSON.stringify({ format: 'deadunits-lock', host: hostname(), pid: process.pid, command, token: 'x' });

let dir: string;
/** The time the fixture's lock ages are measured from. */
let now: number;
const ids = expandSweep(spec).map((p) => p.id);
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deadunits-status-'));
  // Shard 0 of 2 finishes points 0, 2 and 4 (point 4 diverges); shard 1 never finishes anything.
  await runSweep({
    spec,
    outDir: dir,
    shard: { index: 0, count: 2 },
    runPoint: async (r: PointRunRequest) => ({
      status: r.point.index === 4 ? 'non-finite' : 'completed',
      step: r.point.index === 4 ? 40 : 100,
      last: null,
      layers: [],
    }),
  });
  const running = pointRunDir(dir, ids[1]);
  const stale = pointRunDir(dir, ids[3]);
  const stopped = pointRunDir(dir, ids[5]);
  for (const d of [running, stale, stopped]) {
    await mkdir(d, { recursive: true });
    await writeFile(join(d, 'config.json'), JSON.stringify({ steps: 100 }));
  }
  // Point 1 runs in this very process (a live PID on this host) and is at step 35 (a cut last line is ignored).
  await writeFile(join(running, 'run.lock'), lock(hostname(), process.pid));
  await writeFile(join(running, 'metrics.jsonl'), row(30) + row(35) + '{"step": 4');
  // Point 3's owner ran on another host and has sent no heartbeat for 5 minutes.
  await writeFile(join(stale, 'run.lock'), lock('node-17', 4242));
  // Ages are measured from `now`, fixed here: a test that read the clock again would see 300 s plus however long the
  // tests before it took.
  now = Date.now();
  const old = new Date(now - 300_000);
  await utimes(join(stale, 'run.lock'), old, old);
  await writeFile(join(stale, 'metrics.jsonl'), row(60));
  // Point 5 stopped at a checkpoint (run.json, no lock, no result).
  await writeFile(
    join(stopped, 'run.json'),
    JSON.stringify({
      format: 'deadunits-run',
      version: 1,
      checkpointEvery: 10,
      keepCheckpoints: 1,
      csv: false,
      unitMaps: 'none',
      status: 'interrupted',
      step: 20,
    }),
  );
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('sweepStatus', () => {
  it('tells done, running (host, PID, step) and missing (not started, stopped, stale lock) per point', async () => {
    const s = await sweepStatus(dir);
    expect(s.points).toBe(6);
    // The shard count comes from the results (written as i/2).
    expect(s.shards).toBe(2);
    const byIndex = (i: number) => s.list[i];
    expect(byIndex(0)).toMatchObject({ state: 'done', status: 'completed', step: 100, shard: '0/2' });
    expect(byIndex(4)).toMatchObject({ state: 'done', status: 'non-finite', step: 40, shard: '0/2' });
    expect(byIndex(1)).toMatchObject({ state: 'running', step: 35, steps: 100, shard: '1/2', owner: { host: hostname(), pid: process.pid } });
    expect(byIndex(3)).toMatchObject({ state: 'missing', reason: 'stale lock', step: 60, owner: { host: 'node-17', pid: 4242 } });
    expect(byIndex(5)).toMatchObject({ state: 'missing', reason: 'interrupted', step: 20 });
    expect(byIndex(2)).toMatchObject({ state: 'done' });
  });

  it('prints per shard: counts, then the running and missing points (and the done ones with --all)', async () => {
    const text = formatStatus(await sweepStatus(dir, undefined, now));
    const lines = text.trim().split('\n');
    expect(lines[0]).toBe(`${dir}: 6 points in 2 shards: done 3, running 1, missing 2`);
    expect(lines[1]).toBe('shard 0/2: done 3, running 0, missing 0');
    expect(lines[2]).toBe('shard 1/2: done 0, running 1, missing 2');
    expect(lines[3]).toMatch(new RegExp(`^  running  ${ids[1]}  step 35 of 100, on ${hostname()} \\(PID ${process.pid}\\), heartbeat \\d+ s ago$`));
    expect(lines[4]).toMatch(
      new RegExp(`^  missing  ${ids[3]}  stale lock of node-17 PID 4242 \\(heartbeat 300 s ago\\), step 60 of 100; the next attempt takes it over$`),
    );
    expect(lines[5]).toBe(`  missing  ${ids[5]}  stopped at step 20 of 100; resumes from its last checkpoint`);
    expect(lines).toHaveLength(6);
    expect(formatStatus(await sweepStatus(dir), true)).toContain(`  done     ${ids[4]}  non-finite at step 40`);
  });

  it('groups by a given shard count, and says how when there is none to go by', async () => {
    const s = await sweepStatus(dir, 3);
    expect(s.list.map((p) => p.shard)).toEqual(['0/3', '1/3', '2/3', '0/3', '1/3', '2/3']);
    const fresh = await mkdtemp(join(tmpdir(), 'deadunits-status-'));
    try {
      await runSweep({ spec, outDir: fresh, shard: { index: 0, count: 1 }, runPoint: () => Promise.reject(new Error('not run')) }).catch(() => undefined);
      const text = formatStatus(await sweepStatus(fresh));
      expect(text).toContain(`${fresh}: 6 points: done 0, running 0, missing 6`);
      expect(text).toContain('all points: done 0, running 0, missing 6');
      expect(text).toContain('  missing  p0-');
      expect(text).toContain('not started');
      expect(text).toContain('(give --shards N to group the points by shard)');
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('groups by the shard count the locks of running points name, before any point has a result', async () => {
    const fresh = await mkdtemp(join(tmpdir(), 'deadunits-status-'));
    try {
      // Three shards each run their first point (0, 1, 2): nothing finished yet, days before the first result.
      const requests: PointRunRequest[] = [];
      for (const index of [0, 1, 2])
        await runSweep({
          spec,
          outDir: fresh,
          shard: { index, count: 3 },
          runPoint: async (r) => {
            requests.push(r);
            return { status: 'interrupted', step: 10, last: null, layers: [] };
          },
        });
      expect(requests.map((r) => r.shard)).toEqual(['0/3', '1/3', '2/3']);
      // Still running: a live lock naming the owner, no result.
      await rm(join(fresh, 'results'), { recursive: true });
      for (const r of requests) {
        await mkdir(r.outDir, { recursive: true });
        await writeFile(join(r.outDir, 'run.lock'), lockOf(pointLockOwner(r.point.id, r.shard)));
      }
      const s = await sweepStatus(fresh);
      expect(s.shards).toBe(3);
      expect(s.list.map((p) => [p.state, p.shard])).toEqual([
        ['running', '0/3'],
        ['running', '1/3'],
        ['running', '2/3'],
        ['missing', '0/3'],
        ['missing', '1/3'],
        ['missing', '2/3'],
      ]);
      expect(formatStatus(s)).toContain('shard 1/3: done 0, running 1, missing 1');
      // A lock of another kind of owner names no shard: no grouping to go by.
      expect(shardOfLockOwner('sweep point p0-01234567')).toBeNull();
      expect(shardOfLockOwner('sweep point p0-01234567 shard 4/3')).toBeNull();
      expect(shardOfLockOwner(pointLockOwner('p0-01234567', '2/5'))).toEqual({ index: 2, count: 5 });
    } finally {
      await rm(fresh, { recursive: true, force: true });
    }
  });

  it('refuses a folder that is not a sweep, naming sweep.json', async () => {
    await expect(sweepStatus(join(dir, 'nope'))).rejects.toThrow(/sweep\.json: is missing/);
  });
});
