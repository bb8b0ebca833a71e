// `deadunits sweep plan` through the bin (no adapter needed): the Slurm scripts (directives, the shard count, the
// signal handling of the array script, run with a stand-in for deadunits and scontrol), the Kubernetes manifests
// (validated against the Kubernetes schema, offline, and their index handling with the variables Kubernetes sets),
// and the messages for bad flags.
import { spawn } from 'node:child_process';
import { access, chmod, constants, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Job } from 'kubernetes-models/batch/v1/Job';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planCommand } from '../../src/cli/commands/sweep-plan';
import { ConfigError } from '../../src/config';
import { readSweepManifest } from '../../src/cli/sweep/folder';
import { pointsOfShard } from '../../src/cli/sweep/shard';
import { SHARD_COUNT_VAR, shardFromEnvironment } from '../../src/cli/sweep/shard-env';
import { expandSweep, sweepSpecFromJson } from '../../src/cli/sweep/spec';
import { runCli } from './run-cli';

const SPEC = {
  base: {
    inputSize: 4,
    hidden: [{ width: 8, dropout: 0.5 }],
    dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
    batchSize: 8,
    snapshot: { every: 4 },
  },
  grid: { lr: [0.05, 0.5], 'hidden[*].activation.kind': ['relu', 'leaky_relu', 'elu'] },
  steps: 8,
};
const POINT_IDS = expandSweep(sweepSpecFromJson(SPEC)).map((p) => p.id);

let dir: string;
let specFile: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deadunits-plan-'));
  specFile = join(dir, 'sweep.json');
  await writeFile(specFile, JSON.stringify(SPEC));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Runs `bash script` with `env`, calls `during(pid)` once `started` exists, and resolves with the exit status. */
function runScript(script: string, env: Record<string, string>, started: string, during: (pid: number) => void): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script], { env: { ...process.env, ...env }, stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => resolve(code));
    const poll = setInterval(() => {
      access(started)
        .then(() => {
          clearInterval(poll);
          during(child.pid!);
        })
        .catch(() => undefined);
    }, 20);
  });
}

describe('sweep plan --slurm', () => {
  it('writes the array, the collect job and submit.sh, and claims the sweep folder', async () => {
    const out = join(dir, 'slurm-a');
    const r = await runCli([
      'sweep', 'plan', specFile, '--out', out, '--slurm', '--shards', '4', '--time', '1-00:00:00', '--mem', '8G', '--gpus', '1', '--cpus', '4',
      '--partition', 'gpu', '--account', 'lab', '--max-parallel', '2', '--sbatch', '--qos=long', '--setup', 'module load nodejs',
      '--checkpoint-every', '100', '--keep', '2', '--deadunits', '/opt/deadunits/bin/deadunits',
    ]); // prettier-ignore
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('6 points in 4 shards (Slurm job array deadunits-slurm-a)');
    expect(r.stdout).toContain(`submit with: bash ${join(out, 'slurm', 'submit.sh')}`);

    const array = await readFile(join(out, 'slurm', 'sweep.sbatch'), 'utf8');
    const lines = array.split('\n');
    for (const line of [
      '#SBATCH --job-name=deadunits-slurm-a',
      '#SBATCH --array=0-3%2',
      `#SBATCH --output=${out}/logs/shard-%a.log`,
      '#SBATCH --open-mode=append',
      '#SBATCH --requeue',
      '#SBATCH --cpus-per-task=4',
      '#SBATCH --time=1-00:00:00',
      '#SBATCH --signal=B:USR1@180',
      '#SBATCH --mem=8G',
      '#SBATCH --gres=gpu:1',
      '#SBATCH --partition=gpu',
      '#SBATCH --account=lab',
      '#SBATCH --qos=long',
      'module load nodejs',
      `export ${SHARD_COUNT_VAR}=4`,
      `/opt/deadunits/bin/deadunits sweep ${join(out, 'slurm', 'spec.json')} --out ${out} --shard auto --checkpoint-every 100 --keep 2 &`,
    ])
      expect(lines, line).toContain(line);
    // Every #SBATCH line comes before the first command: sbatch stops reading directives there.
    const lastDirective = lines.length - 1 - [...lines].reverse().findIndex((l) => l.startsWith('#SBATCH'));
    expect(lines.slice(1, lastDirective).every((l) => l.startsWith('#'))).toBe(true);

    const collect = await readFile(join(out, 'slurm', 'collect.sbatch'), 'utf8');
    expect(collect).toContain('#SBATCH --job-name=deadunits-slurm-a-collect');
    expect(collect).toContain(`/opt/deadunits/bin/deadunits sweep collect ${out}\n`);
    const submit = await readFile(join(out, 'slurm', 'submit.sh'), 'utf8');
    expect(submit).toContain('collect=$(sbatch --parsable --dependency=afterany:"$array" "$here/collect.sbatch")');
    expect((await stat(join(out, 'slurm', 'submit.sh'))).mode & 0o111).not.toBe(0);
    for (const f of ['sweep.sbatch', 'collect.sbatch', 'submit.sh']) {
      const syntax = await runBash(['-n', join(out, 'slurm', f)]);
      expect(syntax, f).toBe(0);
    }

    // The tasks read the same sweep: the spec written for them, and the sweep.json claimed now.
    const planned = sweepSpecFromJson(JSON.parse(await readFile(join(out, 'slurm', 'spec.json'), 'utf8')));
    expect(expandSweep(planned).map((p) => p.id)).toEqual(POINT_IDS);
    expect((await readSweepManifest(out))!.points.map((p) => p.id)).toEqual(POINT_IDS);
    await access(join(out, 'logs'));
  });

  it('the array task passes SIGTERM on, and on the time-limit warning (USR1) stops the sweep and requeues itself', async () => {
    const out = join(dir, 'slurm-b');
    // A stand-in for deadunits: records its arguments and environment, then waits for SIGTERM like the sweep does.
    const fake = join(dir, 'fake-deadunits.mjs');
    const record = join(dir, 'fake-record.json');
    await writeFile(
      fake,
      `import { writeFileSync } from 'node:fs';
process.on('SIGTERM', () => { writeFileSync(${JSON.stringify(record)} + '.term', 'TERM'); process.exit(143); });
writeFileSync(${JSON.stringify(record)}, JSON.stringify({ args: process.argv.slice(2), count: process.env.${SHARD_COUNT_VAR} }));
setInterval(() => {}, 1000);
`,
    );
    const bin = join(dir, 'fakebin');
    await runBash(['-c', `mkdir -p ${bin} && printf '#!/bin/sh\\necho "$@" > ${join(dir, 'scontrol-args')}\\n' > ${bin}/scontrol`]);
    await chmod(join(bin, 'scontrol'), 0o755);
    const plan = await runCli([
      'sweep',
      'plan',
      specFile,
      '--out',
      out,
      '--slurm',
      '--shards',
      '3',
      '--time',
      '30',
      '--deadunits',
      `${process.execPath} ${fake}`,
    ]);
    expect(plan.code, plan.stderr).toBe(0);
    const script = join(out, 'slurm', 'sweep.sbatch');
    const env = { SLURM_ARRAY_TASK_ID: '1', SLURM_JOB_ID: '77', PATH: `${bin}:${process.env.PATH}` };

    const warned = await runScript(script, env, record, (pid) => process.kill(pid, 'SIGUSR1'));
    expect(warned).toBe(143);
    expect(await readFile(`${record}.term`, 'utf8')).toBe('TERM');
    expect((await readFile(join(dir, 'scontrol-args'), 'utf8')).trim()).toBe('requeue 77');
    const seen = JSON.parse(await readFile(record, 'utf8')) as { args: string[]; count: string };
    expect(seen.count).toBe('3');
    expect(seen.args).toEqual(['sweep', join(out, 'slurm', 'spec.json'), '--out', out, '--shard', 'auto']);

    await rm(join(dir, 'scontrol-args'));
    await rm(record);
    const terminated = await runScript(script, env, record, (pid) => process.kill(pid, 'SIGTERM'));
    expect(terminated).toBe(143);
    await expect(access(join(dir, 'scontrol-args'), constants.F_OK)).rejects.toThrow();
  });

  it('without a time limit of 10 minutes or more there is no requeue on timeout, and it says so', async () => {
    const out = join(dir, 'slurm-c');
    const r = await runCli(['sweep', 'plan', specFile, '--out', out, '--slurm', '--time', '5']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('6 points in 6 shards');
    expect(r.stdout).toContain('(no requeue on timeout: that needs --time of at least 10 minutes');
    const array = await readFile(join(out, 'slurm', 'sweep.sbatch'), 'utf8');
    expect(array).not.toContain('--signal');
    expect(array).not.toContain('USR1');
    expect(array).toContain('#SBATCH --array=0-5\n');
  });
});

function runBash(args: string[]): Promise<number | null> {
  return new Promise((resolve) => spawn('bash', args, { stdio: 'ignore' }).on('exit', resolve));
}

describe('sweep plan --k8s', () => {
  it('writes an Indexed Job that validates against the Kubernetes schema, and a collect Job', async () => {
    const planDir = join(dir, 'k8s-a');
    const r = await runCli([
      'sweep', 'plan', specFile, '--out', '/sweeps/lr', '--k8s', '--shards', '3', '--image', 'registry.example/deadunits:0.1.0', '--pvc', 'sweeps',
      '--gpus', '1', '--mem', '8G', '--cpus', '2', '--parallelism', '2', '--retries', '5', '--checkpoint-every', '100', '--plan-dir', planDir,
    ]); // prettier-ignore
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('6 points in 3 shards (Kubernetes Indexed Job deadunits-lr)');
    expect(r.stdout).toContain(`kubectl apply -f ${join(planDir, 'job.json')} && kubectl wait --for=condition=complete`);

    const list = JSON.parse(await readFile(join(planDir, 'job.json'), 'utf8'));
    expect(list).toMatchObject({ apiVersion: 'v1', kind: 'List' });
    const [configMap, job] = list.items;
    new ConfigMap(configMap).validate();
    new Job(job).validate();
    new Job(JSON.parse(await readFile(join(planDir, 'collect.json'), 'utf8'))).validate();
    // The validator is not a no-op.
    expect(() => new Job({ ...job, spec: { ...job.spec, completionMode: 'Indexd' } }).validate()).toThrow(/completionMode/);

    expect(job.spec).toMatchObject({ completionMode: 'Indexed', completions: 3, parallelism: 2, backoffLimitPerIndex: 5, podReplacementPolicy: 'Failed' });
    const pod = job.spec.template.spec;
    expect(pod.restartPolicy).toBe('Never');
    const [container] = pod.containers;
    expect(container.image).toBe('registry.example/deadunits:0.1.0');
    expect(container.args).toEqual(['sweep', '/etc/deadunits/sweep.json', '--out', '/sweeps/lr', '--shard', 'auto', '--checkpoint-every', '100']);
    expect(container.resources).toEqual({ requests: { cpu: '2', memory: '8Gi' }, limits: { memory: '8Gi', 'nvidia.com/gpu': '1' } });
    expect(pod.volumes).toContainEqual({ name: 'sweeps', persistentVolumeClaim: { claimName: 'sweeps' } });
    expect(container.volumeMounts).toContainEqual({ name: 'sweeps', mountPath: '/sweeps' });
    // The ConfigMap holds the sweep the pods read at /etc/deadunits/sweep.json.
    expect(pod.volumes).toContainEqual({ name: 'spec', configMap: { name: configMap.metadata.name } });
    expect(expandSweep(sweepSpecFromJson(JSON.parse(configMap.data['sweep.json']))).map((p) => p.id)).toEqual(POINT_IDS);
  });

  it('each pod, with the variables Kubernetes sets, runs its own shard: every point exactly once', async () => {
    const planDir = join(dir, 'k8s-b');
    const r = await runCli(['sweep', 'plan', specFile, '--out', '/sweeps/b', '--k8s', '--shards', '4', '--image', 'i', '--pvc', 'c', '--plan-dir', planDir]);
    expect(r.code, r.stderr).toBe(0);
    const job = JSON.parse(await readFile(join(planDir, 'job.json'), 'utf8')).items[1];
    const container = job.spec.template.spec.containers[0];
    const points = expandSweep(sweepSpecFromJson(SPEC));
    const seen: string[] = [];
    for (let index = 0; index < job.spec.completions; index++) {
      // Kubernetes sets JOB_COMPLETION_INDEX (and the host name <job>-<index>-<suffix>) in each pod, plus the container's env.
      const env: Record<string, string> = { JOB_COMPLETION_INDEX: String(index), HOSTNAME: `${job.metadata.name}-${index}-x7k2p` };
      for (const e of container.env) env[e.name] = e.value;
      const { shard } = shardFromEnvironment(env);
      expect(shard).toEqual({ index, count: 4 });
      seen.push(...pointsOfShard(points, shard).map((p) => p.id));
    }
    expect(seen.sort()).toEqual([...POINT_IDS].sort());
  });
});

/** What `sweep plan ARGS` says when it refuses them (in-process: the same command the bin runs, without the start-up). */
async function refusal(args: string[]): Promise<string> {
  const command = planCommand();
  let output = '';
  command.exitOverride().configureOutput({ writeErr: (text) => (output += text), writeOut: (text) => (output += text) });
  try {
    await command.parseAsync(args, { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) return output;
    if (error instanceof ConfigError) return error.message;
    throw error;
  }
  throw new Error(`sweep plan ${args.join(' ')} was accepted`);
}

describe('sweep plan: bad flags, one message each', () => {
  it.each([
    [['--out', '/x'], 'give one of --slurm and --k8s'],
    [['--out', '/x', '--slurm', '--k8s'], 'give one of --slurm and --k8s'],
    [['--slurm'], "required option '--out <dir>' not specified"],
    [['--out', '/x', '--slurm', '--image', 'i', '--pvc', 'c'], '--image, --pvc are only for --k8s'],
    [['--out', '/sweeps/x', '--k8s', '--time', '10', '--image', 'i', '--pvc', 'c'], '--time is only for --slurm'],
    [['--out', '/sweeps/x', '--k8s'], '--image: is required with --k8s'],
    [['--out', '/elsewhere/x', '--k8s', '--image', 'i', '--pvc', 'c'], '--out: "/elsewhere/x" is not a folder inside --mount /sweeps'],
    [['--out', '/sweeps/x', '--k8s', '--image', 'i', '--pvc', 'c', '--mount', 'sweeps'], '--mount: "sweeps" is not an absolute path'],
    [['--out', '/tmp/deadunits-plan-never/x', '--slurm', '--shards', '7'], "--shards: 7 is more than the sweep's 6 points"],
    [['--out', '/tmp/deadunits-plan-never/x', '--slurm', '--time', '3 days'], '--time: "3 days" is not a Slurm time'],
    [['--out', '/tmp/deadunits-plan-never/x', '--slurm', '--mem', '8GB'], '--mem: "8GB" is not a size such as 8G'],
    [['--out', '/tmp/deadunits-plan-never/x', '--slurm', '--name', 'My_Sweep'], '--name: "My_Sweep" is not a valid job name'],
    [['--out', '/tmp/deadunits-plan-never/x', '--slurm', '--partition', 'a b'], '--partition: "a b" is not a plain word'],
    [['--out', '/tmp/deadunits-plan-never/x y', '--slurm'], 'holds a blank or a %'],
  ])('%j', async (args, message) => {
    expect(await refusal([specFile, ...args])).toContain(message);
  });

  it('refuses nothing silently: the sweep folder of a refused Slurm plan is not created', async () => {
    await refusal([specFile, '--out', join(dir, 'never'), '--slurm', '--shards', '7']);
    await expect(access(join(dir, 'never'))).rejects.toThrow();
  });
});
