// A real sweep through the bin: a 2 x 2 grid of tiny runs, as two shards (in separate folders, and in one shared
// folder) and as one, collected to the same summary; a re-run shard skips its finished points.
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

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
    snapshot: { every: 4, probeSize: 16 },
  },
  grid: { lr: [0.05, 2] },
  steps: 8,
};

/** The summary without steps_per_s: throughput is the one column that differs between two runs of a point. */
function withoutTiming(csv: string): string {
  const rows = csv
    .trim()
    .split('\n')
    .map((l) => l.split(','));
  const col = rows[0].indexOf('steps_per_s');
  expect(col).toBeGreaterThan(0);
  return rows.map((r) => r.filter((_, i) => i !== col).join(',')).join('\n');
}

describe('sweep through the bin', () => {
  let dir: string;
  let specFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-sweep-cli-'));
    specFile = join(dir, 'sweep.json');
    await writeFile(specFile, JSON.stringify(SPEC));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const sweep = (...args: string[]) =>
    runCli(['sweep', specFile, '--grid', 'hidden[*].activation.kind=relu,leaky_relu', '--progress', 'none', ...args], { timeoutMs: 300_000 });

  it('two shards collect to the same summary as one shard, in separate or shared folders', async () => {
    const [one, a, b, shared] = ['one', 'a', 'b', 'shared'].map((d) => join(dir, d));
    for (const r of [
      await sweep('--out', one),
      await sweep('--out', a, '--shard', '0/2'),
      await sweep('--out', b, '--shard', '1/2'),
      await sweep('--out', shared, '--shard', '1/2'),
      await sweep('--out', shared, '--shard', '0/2'),
    ]) {
      expect(r.code, r.stdout + r.stderr).toBe(0);
    }
    expect((await readdir(join(a, 'points'))).sort()).toHaveLength(2);

    const collected = [];
    for (const args of [[one], [a, b], [shared]]) {
      const r = await runCli(['sweep', 'collect', ...args]);
      expect(r.code, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain('4 of 4 points finished');
      collected.push(await readFile(join(args[0], 'summary.csv'), 'utf8'));
      expect(await readFile(join(args[0], 'summary.svg'), 'utf8')).toContain('<svg');
    }
    const expected = withoutTiming(collected[0]);
    expect(withoutTiming(collected[1])).toBe(expected);
    expect(withoutTiming(collected[2])).toBe(expected);
    const rows = collected[0].trim().split('\n');
    expect(rows).toHaveLength(5);
    expect(rows[0]).toMatch(/^index,id,lr,hidden\[\*\]\.activation\.kind,status,step,final_loss,steps_per_s,L1_width,L1_dead_frac,/);
    for (const row of rows.slice(1)) expect(row).toMatch(/^\d,p\d-[0-9a-f]{8},(0\.05|2),(relu|leaky_relu),completed,8,\d/);
  });

  it('--shard auto in the pods of the Indexed Job that `sweep plan --k8s` wrote (their args, env and index) collects the same summary', async () => {
    const one = join(dir, 'one');
    // Finished points are skipped: this only makes sure the single-process summary exists when run on its own.
    expect((await sweep('--out', one)).code).toBe(0);
    expect((await runCli(['sweep', 'collect', one])).code).toBe(0);
    const planDir = join(dir, 'k8s');
    const grid = ['--grid', 'hidden[*].activation.kind=relu,leaky_relu'];
    const plan = await runCli([
      'sweep',
      'plan',
      specFile,
      ...grid,
      '--out',
      '/sweeps/k',
      '--k8s',
      '--shards',
      '3',
      '--image',
      'i',
      '--pvc',
      'c',
      '--plan-dir',
      planDir,
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const [configMap, job] = JSON.parse(await readFile(join(planDir, 'job.json'), 'utf8')).items;
    const container = job.spec.template.spec.containers[0];
    // The pods' paths, mapped to this machine: the ConfigMap's sweep.json and the shared volume.
    const local = (arg: string) => (arg === '/etc/deadunits/sweep.json' ? join(planDir, 'sweep.json') : arg.replace(/^\/sweeps\//, `${dir}/`));
    await writeFile(join(planDir, 'sweep.json'), configMap.data['sweep.json']);
    const env: Record<string, string> = Object.fromEntries(container.env.map((e: { name: string; value: string }) => [e.name, e.value]));
    for (let index = 0; index < job.spec.completions; index++) {
      const r = await runCli([...container.args.map(local), '--progress', 'none'], {
        env: { ...env, JOB_COMPLETION_INDEX: String(index) },
        timeoutMs: 300_000,
      });
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toContain(`--shard auto: shard ${index}/3 (Kubernetes Indexed Job, JOB_COMPLETION_INDEX=${index} of DEADUNITS_SHARD_COUNT=3)`);
    }
    const r = await runCli(['sweep', 'collect', join(dir, 'k')]);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(withoutTiming(await readFile(join(dir, 'k', 'summary.csv'), 'utf8'))).toBe(withoutTiming(await readFile(join(one, 'summary.csv'), 'utf8')));
  });

  it('a re-run shard skips its finished points; collect lists the points of a shard that never ran', async () => {
    const out = join(dir, 'partial');
    expect((await sweep('--out', out, '--shard', '1/2')).code).toBe(0);
    const again = await sweep('--out', out, '--shard', '1/2');
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('shard 1/2: 0 run, 2 already finished, of 2 (sweep of 4)');
    expect(again.stderr).toMatch(/p1-[0-9a-f]{8} .*already completed at step 8, skipped/);
    const r = await runCli(['sweep', 'collect', out]);
    expect(r.code).toBe(4);
    expect(r.stdout).toContain('2 of 4 points finished');
    expect(r.stdout).toMatch(/p0-[0-9a-f]{8} \(index 0, shard 0\/2\): no result/);
    expect(r.stdout).toMatch(/p2-[0-9a-f]{8} \(index 2, shard 0\/2\): no result/);
  });
});
