// A sweep on a real Slurm cluster: a one-node cluster on this machine (scripts/slurm-local.sh: Debian's slurm-wlm
// and munge), the job array and collect job that `deadunits sweep plan --slurm` wrote, submitted with its
// submit.sh. While it runs, one task gets the time-limit warning (USR1: it checkpoints and requeues itself) and
// another is killed outright (SIGKILL, then requeued as Slurm does after a node failure). The collected summary
// must equal a single-process sweep of the same grid, point for point, and every point's final checkpoint must be
// the same bytes.
//
// Needs root (the Slurm daemons): `npm run test:cluster` as root; CI runs it. It fails, never skips, elsewhere.
import { execFile } from 'node:child_process';
import { access, chmod, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { latestCheckpoint } from '../../src/io/atomic-file';
import { pointRunDir, readPointResult } from '../../src/cli/sweep/folder';
import { sweepStatus } from '../../src/cli/sweep/status';
import { runCli } from '../cli/run-cli';

const SLURM_LOCAL = resolve(import.meta.dirname, '../../scripts/slurm-local.sh');
const SHARDS = 3;
const STEPS = 1000;
const CHECKPOINT_EVERY = 200;
// 6 tiny points: 2 array tasks at once on 2 CPUs, each running 2 points of a few seconds.
const SPEC = {
  base: {
    inputSize: 4,
    hidden: [
      { width: 8, dropout: 0.5 },
      { width: 6, dropout: 0.5 },
    ],
    dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
    batchSize: 8,
    optimizer: { kind: 'sgd' },
    snapshot: { every: 50, probeSize: 16 },
  },
  grid: { lr: [0.05, 0.3], 'hidden[*].activation.kind': ['relu', 'leaky_relu', 'elu'] },
  steps: STEPS,
};
/** Longest wait for one thing on the cluster (a busy CI machine is slow; nothing asserts on time). */
const WAIT_MS = 240_000;

let dir: string;
let slurmDir: string;
let env: Record<string, string>;

function run(command: string, args: string[], options: { allowFailure?: boolean } = {}): Promise<{ code: number; out: string }> {
  return new Promise((done, fail) =>
    execFile(command, args, { env: { ...process.env, ...env }, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      if (code !== 0 && !options.allowFailure) fail(new Error(`${command} ${args.join(' ')} exited ${code}: ${stderr}${stdout}`));
      else done({ code, out: stdout + stderr });
    }),
  );
}

/** Polls `probe` until it returns a value other than undefined; fails naming `what` after WAIT_MS. */
async function waitFor<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${WAIT_MS / 1000} s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** `scontrol show job` fields of one job, e.g. { JobState: 'RUNNING', Restarts: '0', JobId: '12' }. */
async function job(id: string): Promise<Record<string, string>> {
  const { out } = await run('scontrol', ['show', 'job', '-o', id]);
  return Object.fromEntries(
    out
      .trim()
      .split(/\s+/)
      .map((f) => [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)]),
  );
}

/** A point of the sweep that is running now, with a checkpoint on disk and steps left: its owner process stopped. */
async function stopPointMidRun(out: string, exclude: Set<string>): Promise<{ id: string; index: number; pid: number; checkpointStep: number }> {
  return waitFor('a running point with a checkpoint and steps left', async () => {
    const status = await sweepStatus(out, SHARDS);
    for (const p of status.list) {
      if (p.state !== 'running' || exclude.has(p.id) || p.step === null || p.step < CHECKPOINT_EVERY) continue;
      // Frozen, it can be inspected without racing it: it must not have finished, and must have a checkpoint to resume from.
      process.kill(p.owner.pid, 'SIGSTOP');
      const step = (await latestCheckpoint(join(pointRunDir(out, p.id), 'checkpoints')))?.step ?? 0;
      if (step > 0 && step < STEPS && (await readPointResult(out, p.id)) === null) return { id: p.id, index: p.index, pid: p.owner.pid, checkpointStep: step };
      process.kill(p.owner.pid, 'SIGCONT');
    }
    return undefined;
  });
}

/** Lets a requeued task start now rather than after Slurm's requeue delay (two minutes). */
async function startNow(task: string): Promise<void> {
  const requeued = await waitFor(`${task} to be requeued`, async () => {
    const j = await job(task);
    return j.JobState === 'PENDING' && Number(j.Restarts) >= 1 ? j : undefined;
  });
  await run('scontrol', ['update', `JobId=${requeued.JobId}`, 'StartTime=now']);
}

beforeAll(async () => {
  if (process.getuid?.() !== 0)
    throw new Error('the Slurm test needs root to start the Slurm daemons (scripts/slurm-local.sh): run `sudo npm run test:cluster`; CI runs it as root');
  for (const tool of ['slurmctld', 'slurmd', 'munged', 'sbatch'])
    await run('sh', ['-c', `command -v ${tool}`]).catch(() => {
      throw new Error(
        `${tool} is not installed: run \`bash scripts/slurm-local.sh install\` (Debian's slurm-wlm and munge), or \`npm run test:cluster\`, which does`,
      );
    });
  dir = await mkdtemp(join(tmpdir(), 'deadunits-slurm-'));
  // The munge daemon runs as its own user and must reach its folder inside (mkdtemp makes 0700 folders).
  await chmod(dir, 0o755);
  slurmDir = join(dir, 'slurm');
  env = { SLURM_CONF: join(slurmDir, 'slurm.conf'), SLURM_LOCAL_PORT: String(6900 + (process.pid % 50) * 2) };
  await run('bash', [SLURM_LOCAL, 'start', slurmDir]);
}, 120_000);

afterAll(async () => {
  if (slurmDir) await run('bash', [SLURM_LOCAL, 'stop', slurmDir], { allowFailure: true });
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('a sweep on a real one-node Slurm cluster', () => {
  it('the array of `sweep plan --slurm`, one task warned of its time limit and one killed, both requeued, collects to the single-process summary', async () => {
    const specFile = join(dir, 'sweep.json');
    await writeFile(specFile, JSON.stringify(SPEC));
    const out = join(dir, 'cluster');
    const plan = await runCli([
      'sweep', 'plan', specFile, '--out', out, '--slurm', '--shards', String(SHARDS), '--cpus', '1', '--mem', '500M', '--time', '30',
      '--checkpoint-every', String(CHECKPOINT_EVERY),
    ]); // prettier-ignore
    expect(plan.code, plan.stderr).toBe(0);

    const submitted = await run('bash', [join(out, 'slurm', 'submit.sh')]);
    const [, arrayJob, collectJob] = /array job (\d+) \(3 tasks\), collect job (\d+)/.exec(submitted.out)!;
    // The collect job waits for the whole array; held here as well, so that it cannot start in the moment between
    // the kill below and its requeue (after a node failure Slurm requeues at once, with no such moment).
    await run('scontrol', ['hold', collectJob]);
    expect((await job(collectJob)).Reason).toMatch(/^JobHeld/);

    // The time-limit warning: Slurm sends USR1 to the batch shell (#SBATCH --signal=B:USR1@180); the task stops its
    // sweep at a checkpoint and requeues itself.
    const warned = await stopPointMidRun(out, new Set());
    process.kill(warned.pid, 'SIGCONT');
    const warnedTask = `${arrayJob}_${warned.index % SHARDS}`;
    await run('scancel', ['--batch', '--signal=USR1', warnedTask]);
    await startNow(warnedTask);

    // A hard kill mid-run: no checkpoint at exit, the lock left behind; the next attempt resumes from the last
    // periodic checkpoint and takes the lock over.
    const killed = await stopPointMidRun(out, new Set([warned.id]));
    process.kill(killed.pid, 'SIGKILL');
    const killedTask = `${arrayJob}_${killed.index % SHARDS}`;
    await waitFor(`${killedTask} to fail`, async () => ((await job(killedTask)).JobState === 'FAILED' ? true : undefined));
    await run('scontrol', ['requeue', killedTask]);
    await startNow(killedTask);
    await run('scontrol', ['release', collectJob]);

    const collected = await waitFor('the collect job to end', async () => {
      const j = await job(collectJob);
      return ['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT'].includes(j.JobState) ? j : undefined;
    });
    const logs = join(out, 'logs');
    const collectLog = await readFile(join(logs, `collect-${collectJob}.log`), 'utf8');
    expect(collected.JobState, collectLog).toBe('COMPLETED');
    expect(collectLog).toContain('6 of 6 points finished');
    // Both tasks ran twice and resumed their point from a checkpoint.
    const warnedLog = await readFile(join(logs, `shard-${warned.index % SHARDS}.log`), 'utf8');
    expect(warnedLog).toContain('requeueing job');
    expect(warnedLog).toMatch(/attempt 2, job \d+ on /);
    expect(warnedLog).toMatch(new RegExp(`${warned.id} .*: resuming`));
    const killedLog = await readFile(join(logs, `shard-${killed.index % SHARDS}.log`), 'utf8');
    expect(killedLog).toMatch(/attempt 2, job \d+ on /);
    expect(killedLog).toMatch(new RegExp(`${killed.id} .*: resuming`));
    const status = await sweepStatus(out);
    expect(status.list.map((p) => p.state)).toEqual(Array(6).fill('done'));

    // The same grid in one process, no scheduler.
    const local = join(dir, 'local');
    const single = await runCli(['sweep', specFile, '--out', local, '--checkpoint-every', String(CHECKPOINT_EVERY), '--progress', 'none'], {
      timeoutMs: 600_000,
    });
    expect(single.code, single.stderr).toBe(0);
    expect((await runCli(['sweep', 'collect', local])).code).toBe(0);
    expect(withoutTiming(await readFile(join(out, 'summary.csv'), 'utf8'))).toBe(withoutTiming(await readFile(join(local, 'summary.csv'), 'utf8')));
    for (const id of await readdir(join(local, 'points'))) {
      const mine = await latestCheckpoint(join(pointRunDir(out, id), 'checkpoints'));
      const theirs = await latestCheckpoint(join(pointRunDir(local, id), 'checkpoints'));
      expect(mine?.step, id).toBe(STEPS);
      expect(Buffer.compare(await readFile(mine!.path), await readFile(theirs!.path)), `${id}: final checkpoints differ`).toBe(0);
    }
    await access(join(out, 'summary.svg'));
  }, 900_000);
});

/** The summary without steps_per_s, the one column that differs between two runs of a point. */
function withoutTiming(csv: string): string {
  const rows = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = rows[0].indexOf('steps_per_s');
  expect(col).toBeGreaterThan(0);
  return rows.map((r) => r.filter((_, i) => i !== col).join(',')).join('\n');
}
