// Running and collecting a sweep with an injected point runner (no GPU): shards, skips, resumes, missing points,
// the summary table and plot.
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { collectSweep } from '../../src/cli/sweep/collect';
import { pointResultPath, readPointResult, writePointResult } from '../../src/cli/sweep/folder';
import { type LockOwner, RunLockedError } from '../../src/io/run-lock';
import { runSweep, type PointOutcome, type PointRunRequest } from '../../src/cli/sweep/run-sweep';
import type { SweepSpec } from '../../src/cli/sweep/spec';
import { formatStatus, sweepStatus } from '../../src/cli/sweep/status';
import { modelSpecFromConfig } from '../../src/engine/from-config';
import { GpuAllocationError } from '../../src/engine/gpu-faults';

const spec: SweepSpec = {
  base: {
    inputSize: 4,
    hidden: [{ width: 8 }, { width: 4 }],
    dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
    batchSize: 8,
    snapshot: { every: 5, probeSize: 16 },
  },
  axes: [
    { path: 'lr', values: [0.01, 1] },
    { path: 'hidden[*].activation.kind', values: ['relu', 'leaky_relu'] },
  ],
  steps: 10,
};

/** A deterministic fake run: its numbers follow from the config, so any shard computes the same ones. */
function fakeOutcome(request: PointRunRequest, status: PointOutcome['status'] = 'completed'): PointOutcome {
  const c = request.config;
  const dead = c.lr >= 1 ? 3 : 1;
  return {
    status,
    step: status === 'completed' ? c.steps : 5,
    last: { step: c.steps, elapsedSeconds: 1, loss: c.lr * 2, stepsPerSecond: 100, skipped: 0, layers: [] },
    layers: c.hidden.map((h) => ({
      width: h.width,
      deadNow: Math.min(dead, h.width),
      everDead: Math.min(dead + 1, h.width),
      revivedUnits: 1,
      totalRevivals: 2,
      everDropped: 0,
      longestDropRun: 0,
    })),
  };
}

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deadunits-sweep-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('runSweep and collectSweep', () => {
  it('two shards in two folders collect to the same summary as one shard', async () => {
    const [one, a, b] = [await tempDir(), await tempDir(), await tempDir()];
    const calls: string[] = [];
    const runPoint = async (r: PointRunRequest) => {
      calls.push(`${r.point.id}:${r.mode}`);
      return fakeOutcome(r);
    };
    await runSweep({ spec, outDir: one, shard: { index: 0, count: 1 }, runPoint });
    expect(calls).toHaveLength(4);
    calls.length = 0;
    const s0 = await runSweep({ spec, outDir: a, shard: { index: 0, count: 2 }, runPoint });
    const s1 = await runSweep({ spec, outDir: b, shard: { index: 1, count: 2 }, runPoint });
    expect([s0.mine, s1.mine]).toEqual([2, 2]);
    expect(calls.map((c) => c.split('-')[0])).toEqual(['p0', 'p2', 'p1', 'p3']);
    expect(calls.every((c) => c.endsWith(':fresh'))).toBe(true);

    const single = await collectSweep(one);
    const merged = await collectSweep(a, [b]);
    // A new folder can gather the shard folders.
    const gathered = await collectSweep(join(one, 'gathered'), [a, b]);
    expect(gathered.csv).toBe(single.csv);
    expect(gathered.missing).toEqual([]);
    expect(single.missing).toEqual([]);
    expect(merged.missing).toEqual([]);
    expect(merged.csv).toBe(single.csv);
    expect(await readFile(join(a, 'summary.csv'), 'utf8')).toBe(single.csv);
    const lines = single.csv.trim().split('\n');
    expect(lines[0]).toBe(
      'index,id,lr,hidden[*].activation.kind,status,step,final_loss,steps_per_s,' +
        'L1_width,L1_dead_frac,L1_dead,L1_ever_dead,L1_revived_units,L1_revivals,L1_ever_dropped,L1_longest_drop_run,L1_frozen,L1_non_finite,' +
        'L2_width,L2_dead_frac,L2_dead,L2_ever_dead,L2_revived_units,L2_revivals,L2_ever_dropped,L2_longest_drop_run,L2_frozen,L2_non_finite',
    );
    // These fake results carry no training record: frozen and non-finite cells are empty.
    expect(lines[3]).toMatch(/^2,p2-[0-9a-f]{8},1,relu,completed,10,2,100,8,0\.375,3,4,1,2,0,0,,,4,0\.75,3,4,1,2,0,0,,$/);
    expect(single.svg).toContain('<svg');
    expect(single.svg).toContain('activation=leaky_relu');
    expect(single.svg).toContain('lr (log scale)');
  });

  it('skips finished points, resumes interrupted ones, and stops the shard on an interruption', async () => {
    const dir = await tempDir();
    const calls: string[] = [];
    // Point 1 is interrupted on the first pass.
    const first = await runSweep({
      spec,
      outDir: dir,
      shard: { index: 0, count: 1 },
      runPoint: async (r) => {
        calls.push(`${r.point.index}:${r.mode}`);
        if (r.point.index === 1) {
          // What runJob leaves: a run folder with its manifest.
          await mkdir(r.outDir, { recursive: true });
          await writeFile(join(r.outDir, 'run.json'), '{}');
          return fakeOutcome(r, 'interrupted');
        }
        return fakeOutcome(r, r.point.index === 0 ? 'non-finite' : 'completed');
      },
    });
    expect(first.interrupted).toBe(true);
    expect(calls).toEqual(['0:fresh', '1:fresh']);
    const partial = await collectSweep(dir);
    expect(partial.missing.map((m) => [m.index, m.reason, m.shard])).toEqual([
      [1, 'interrupted', '0/1'],
      [2, 'no result', '0/1'],
      [3, 'no result', '0/1'],
    ]);
    expect((await readPointResult(dir, partial.manifest.points[0].id))?.status).toBe('non-finite');

    calls.length = 0;
    const second = await runSweep({
      spec,
      outDir: dir,
      shard: { index: 0, count: 1 },
      runPoint: async (r) => (calls.push(`${r.point.index}:${r.mode}`), fakeOutcome(r)),
    });
    // The non-finite point is finished (it would diverge again); the interrupted one resumes.
    expect(calls).toEqual(['1:resume', '2:fresh', '3:fresh']);
    expect(second.skipped).toBe(1);
    expect((await collectSweep(dir)).missing).toEqual([]);
  });

  it('a point a GPU error stopped is not finished: collect lists it as such, the next pass resumes it, the shard goes on', async () => {
    const dir = await tempDir();
    const calls: string[] = [];
    const first = await runSweep({
      spec,
      outDir: dir,
      shard: { index: 0, count: 1 },
      runPoint: async (r) => {
        calls.push(`${r.point.index}:${r.mode}`);
        if (r.point.index !== 2) return fakeOutcome(r);
        await mkdir(r.outDir, { recursive: true });
        await writeFile(join(r.outDir, 'run.json'), '{}');
        return fakeOutcome(r, 'gpu-error');
      },
    });
    expect(first.interrupted).toBe(false);
    expect(calls).toEqual(['0:fresh', '1:fresh', '2:fresh', '3:fresh']);
    expect((await collectSweep(dir)).missing.map((m) => [m.index, m.reason])).toEqual([[2, 'gpu-error']]);

    calls.length = 0;
    await runSweep({ spec, outDir: dir, shard: { index: 0, count: 1 }, runPoint: async (r) => (calls.push(`${r.point.index}:${r.mode}`), fakeOutcome(r)) });
    expect(calls).toEqual(['2:resume']);
    expect((await collectSweep(dir)).missing).toEqual([]);
  });

  it('a point the GPU cannot hold is recorded as does-not-fit and the shard goes on; the next pass tries it again', async () => {
    const dir = await tempDir();
    const calls: string[] = [];
    const tooBig = (r: PointRunRequest) => {
      const memory = { parameters: 1 << 30, gradients: 1 << 30, optimizerState: 0, activations: 0, data: 0, total: 2 ** 31 };
      const adapter = { vendor: 'google', architecture: '', device: 'swiftshader', description: '', isSoftware: true, features: [] };
      const failed = { label: 'Trainer.W2.0.0', bytes: 1 << 30, error: { filter: 'out-of-memory' as const, message: 'out of memory' } };
      return new GpuAllocationError(failed, memory, adapter, modelSpecFromConfig(r.config));
    };
    const first = await runSweep({
      spec,
      outDir: dir,
      shard: { index: 0, count: 1 },
      runPoint: async (r) => {
        calls.push(`${r.point.index}:${r.mode}`);
        if (r.point.index === 1) throw tooBig(r);
        return fakeOutcome(r);
      },
    });
    expect(calls).toEqual(['0:fresh', '1:fresh', '2:fresh', '3:fresh']);
    expect(first.ran.map((p) => p.status)).toEqual(['completed', 'does-not-fit', 'completed', 'completed']);
    const result = await readPointResult(dir, first.ran[1].id);
    expect(result?.status).toBe('does-not-fit');
    expect(result?.message).toMatch(/could not allocate .*Trainer\.W2\.0\.0/);
    expect((await collectSweep(dir)).missing.map((m) => [m.index, m.reason])).toEqual([[1, 'does-not-fit']]);
    expect(formatStatus(await sweepStatus(dir))).toMatch(/missing {2}p1-\S+ {2}does not fit the GPU of its last attempt: The GPU could not allocate/);

    calls.length = 0;
    await runSweep({ spec, outDir: dir, shard: { index: 0, count: 1 }, runPoint: async (r) => (calls.push(`${r.point.index}:${r.mode}`), fakeOutcome(r)) });
    expect(calls).toEqual(['1:fresh']);
    expect((await collectSweep(dir)).missing).toEqual([]);
  });

  it('reports missing points by id and shard when a shard never ran', async () => {
    const dir = await tempDir();
    await runSweep({ spec, outDir: dir, shard: { index: 1, count: 3 }, runPoint: async (r) => fakeOutcome(r) });
    const result = await collectSweep(dir);
    expect(result.missing.map((m) => `${m.index}@${m.shard}`)).toEqual(['0@0/3', '2@2/3', '3@0/3']);
    expect(result.missing[0].id).toBe(result.manifest.points[0].id);
    // Rows of missing points keep their index, id and overrides.
    expect(result.csv.split('\n')[1]).toMatch(/^0,p0-[0-9a-f]{8},0\.01,relu$/);
  });

  it('refuses points a headless run cannot do before running any, naming them', async () => {
    const dir = await tempDir();
    const calls: number[] = [];
    const bad: SweepSpec = { ...spec, axes: [{ path: 'snapshot.every', values: [5, 0] }] };
    await expect(
      runSweep({ spec: bad, outDir: dir, shard: { index: 0, count: 1 }, runPoint: async (r) => (calls.push(r.point.index), fakeOutcome(r)) }),
    ).rejects.toThrow(/point 1 \(p1-[0-9a-f]{8}: snapshot\.every=0\) snapshot\.every: 0 turns snapshots off/);
    expect(calls).toEqual([]);
  });

  it('refuses a folder holding another sweep, and a malformed result file naming it', async () => {
    const dir = await tempDir();
    await runSweep({ spec, outDir: dir, shard: { index: 0, count: 1 }, runPoint: async (r) => fakeOutcome(r) });
    const other: SweepSpec = { ...spec, axes: [{ path: 'lr', values: [0.5] }] };
    await expect(runSweep({ spec: other, outDir: dir, shard: { index: 0, count: 1 }, runPoint: async (r) => fakeOutcome(r) })).rejects.toThrow(
      /sweep\.json: holds another sweep/,
    );
    const manifest = JSON.parse(await readFile(join(dir, 'sweep.json'), 'utf8')) as { points: { id: string }[] };
    const path = pointResultPath(dir, manifest.points[2].id);
    await writeFile(path, '{"format": "deadunits-sweep-point", "version": 1}');
    await expect(collectSweep(dir)).rejects.toThrow(new RegExp(`${manifest.points[2].id}\\.json: field index`));
    await expect(collectSweep(join(dir, 'nope'))).rejects.toThrow(/sweep\.json: is missing/);
  });
});

describe('runSweep and points locked by another process', () => {
  const owner = (host: string): LockOwner => ({
    format: 'deadunits-lock',
    host,
    pid: 4242,
    started: '2026-01-01T00:00:00Z',
    startTicks: null,
    bootId: null,
    command: 'sweep point',
    acquired: '2026-01-01T00:00:00Z',
    heartbeat: '2026-01-01T00:00:00Z',
    token: 't',
  });
  const oneShard = { index: 0, count: 4 };

  it('waits for a point held from another host (a lost node leaves its lock until it goes stale), then runs it', async () => {
    const dir = await tempDir();
    const lines: string[] = [];
    let refusals = 2;
    const calls: string[] = [];
    const summary = await runSweep({
      spec,
      outDir: dir,
      shard: oneShard,
      log: (l) => lines.push(l),
      lockPollMs: 1,
      runPoint: async (r) => {
        calls.push(r.mode);
        if (refusals-- > 0) throw new RunLockedError(r.outDir, owner('node-17'), 30_000);
        return fakeOutcome(r);
      },
    });
    expect(calls).toEqual(['fresh', 'fresh', 'fresh']);
    expect(summary.busy).toEqual([]);
    expect(summary.ran).toHaveLength(1);
    expect(lines.filter((l) => l.includes('held by PID 4242 on host node-17, last heartbeat 30 s ago; waiting up to'))).toHaveLength(2);
  });

  it('leaves it as busy when the owner keeps it (the wait runs out), or runs on this host (a live process)', async () => {
    for (const [host, lockWaitMs] of [
      ['node-17', 0],
      [hostname(), 60_000],
    ] as const) {
      const dir = await tempDir();
      const calls: string[] = [];
      const summary = await runSweep({
        spec,
        outDir: dir,
        shard: oneShard,
        lockWaitMs,
        runPoint: async (r) => {
          calls.push(r.point.id);
          throw new RunLockedError(r.outDir, owner(host), 1000);
        },
      });
      expect(calls, host).toHaveLength(1);
      expect(summary.busy).toEqual(calls);
      expect(summary.ran).toEqual([]);
    }
  });

  it('skips a point that its owner finished while this shard waited', async () => {
    const dir = await tempDir();
    let first = true;
    const summary = await runSweep({
      spec,
      outDir: dir,
      shard: oneShard,
      lockPollMs: 1,
      runPoint: async (r) => {
        if (!first) throw new Error('ran a point that was finished');
        first = false;
        // The owner finishes the point and records it while this shard waits.
        await writePointResult(dir, {
          index: r.point.index,
          id: r.point.id,
          overrides: r.point.overrides,
          shard: '0/4',
          status: 'completed',
          step: 10,
          steps: 10,
          finalLoss: 1,
          stepsPerSecond: 1,
          layers: [],
        });
        throw new RunLockedError(r.outDir, owner('node-17'), 0);
      },
    });
    expect(summary.skipped).toBe(1);
    expect(summary.busy).toEqual([]);
  });
});
