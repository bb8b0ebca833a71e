// `deadunits sweep plan SPEC --out OUT --slurm | --k8s`: writes what runs the sweep on a scheduler, one task per
// shard (src/cli/sweep/plan-slurm.ts, plan-k8s.ts). The sweep is expanded and checked here first, so that a bad
// point fails now rather than in every task on the cluster.
import { mkdir, writeFile } from 'node:fs/promises';
import { isAbsolute, join, posix, resolve } from 'node:path';
import { Command, Option } from 'commander';
import type { ConfigIssue } from '../../config';
import { claimSweepFolder, sweepManifest } from '../sweep/folder';
import { defaultJobName, nameIssue, type PlanFile, type PlannedRun, shardsIssue, shellQuote, throwIssues } from '../sweep/plan';
import { k8sPlanFiles } from '../sweep/plan-k8s';
import { MIN_TIME_FOR_REQUEUE, slurmMemoryIsValid, slurmPlanFiles, slurmTimeSeconds } from '../sweep/plan-slurm';
import { checkHeadless } from '../sweep/run-sweep';
import { MAX_SHARDS } from '../sweep/shard';
import { expandSweep, sweepSpecToJson } from '../sweep/spec';
import { binPath } from '../package-root';
import { numberIn } from './borndead';
import { addPointOptions, addSpecOptions, type PointFlags, pointArgs, type SpecFlags, specFromInputs } from './sweep-inputs';

/** Default shard count: one point per task, up to Slurm's default MaxArraySize (1001 tasks, ids 0-1000). */
const DEFAULT_MAX_SHARDS = 1000;
const BIN = binPath();

interface PlanFlags extends SpecFlags, PointFlags {
  out?: string;
  slurm?: boolean;
  k8s?: boolean;
  shards?: number;
  name?: string;
  planDir?: string;
  cpus: number;
  mem?: string;
  gpus: number;
  // Slurm
  time?: string;
  partition?: string;
  account?: string;
  maxParallel?: number;
  sbatch?: string[];
  setup?: string[];
  deadunits?: string;
  collectTime: string;
  // Kubernetes
  image?: string;
  pvc?: string;
  mount: string;
  parallelism?: number;
  retries: number;
}

const SLURM_ONLY = ['time', 'partition', 'account', 'maxParallel', 'sbatch', 'setup', 'deadunits'] as const;
const K8S_ONLY = ['image', 'pvc', 'parallelism'] as const;
const flagName = (key: string) => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

const repeatable = (v: string, prev: string[] = []) => [...prev, v];

/** Slurm's memory ("8G", "500M", "2000" = MB) as a Kubernetes quantity (binary units). */
function k8sMemory(slurm: string): string {
  const m = /^(\d+)([KMGT]?)$/i.exec(slurm.trim())!;
  return `${m[1]}${(m[2] || 'M').toUpperCase()}i`;
}

function wordIssue(flag: string, value: string | undefined): ConfigIssue | null {
  if (value === undefined || /^[A-Za-z0-9_.,=:+-]+$/.test(value)) return null;
  return { path: flag, message: `${JSON.stringify(value)} is not a plain word (letters, digits, _ . , = : + -)` };
}

async function writePlan(dir: string, files: PlanFile[]): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const written: string[] = [];
  for (const f of files) {
    const path = join(dir, f.name);
    await writeFile(path, f.text, { mode: f.executable ? 0o755 : 0o644 });
    written.push(path);
  }
  return written;
}

export function planCommand(): Command {
  const command = new Command('plan')
    .description('Write the job scripts that run a sweep on a scheduler, one task per shard: a Slurm job array (--slurm) or a Kubernetes Indexed Job (--k8s).')
    .argument('[spec]', 'a sweep file, as for `deadunits sweep`; or give everything with flags')
    .option('--out <dir>', 'the sweep folder, as the tasks see it (required; on a file system every task shares)')
    .option('--slurm', 'plan a Slurm job array (sweep.sbatch, collect.sbatch, submit.sh)')
    .option('--k8s', 'plan a Kubernetes Indexed Job (job.json, collect.json)');
  addSpecOptions(command)
    .addOption(
      new Option('--shards <n>', `number of shards = array tasks = completions (default: one per point, at most ${DEFAULT_MAX_SHARDS})`).argParser(
        numberIn({ min: 1, max: MAX_SHARDS, int: true }),
      ),
    )
    .option('--name <name>', 'job name (default: deadunits-<name of the --out folder>)')
    .option('--plan-dir <dir>', 'where to write the files (default: OUT/slurm for Slurm, ./<name>-k8s for Kubernetes)')
    .addOption(new Option('--cpus <n>', 'CPUs per task').argParser(numberIn({ min: 1, max: 1024, int: true })).default(2))
    .option('--mem <size>', 'memory per task, e.g. 8G (K, M, G, T; a bare number is MB)')
    .addOption(
      new Option('--gpus <n>', 'GPUs per task (Slurm --gres=gpu:N; Kubernetes nvidia.com/gpu)').argParser(numberIn({ min: 0, max: 64, int: true })).default(0),
    )
    .option('--time <limit>', 'Slurm: time limit per task, e.g. 2-00:00:00 (days-hours:minutes:seconds) or 90 (minutes)')
    .option('--partition <name>', 'Slurm: partition')
    .option('--account <name>', 'Slurm: account')
    .addOption(new Option('--max-parallel <k>', 'Slurm: at most k tasks at once (--array=0-N%k)').argParser(numberIn({ min: 1, max: MAX_SHARDS, int: true })))
    .option('--sbatch <option>', 'Slurm: one more #SBATCH option for the array, e.g. --qos=long (repeatable)', repeatable)
    .option('--setup <line>', "Slurm: a shell line run before deadunits, e.g. 'module load nodejs' (repeatable)", repeatable)
    .option('--deadunits <command>', 'Slurm: how a task starts deadunits (default: this installation, by absolute path)')
    .option('--collect-time <limit>', 'Slurm: time limit of the collect job', '1:00:00')
    .option('--image <image>', 'Kubernetes: the container image (built from the Dockerfile in the repository; required)')
    .option('--pvc <claim>', 'Kubernetes: the PersistentVolumeClaim (ReadWriteMany) that holds the sweep folder (required)')
    .option('--mount <path>', 'Kubernetes: where the claim is mounted in the pods; --out must be inside it', '/sweeps')
    .addOption(new Option('--parallelism <p>', 'Kubernetes: pods at once (default: all shards)').argParser(numberIn({ min: 1, max: MAX_SHARDS, int: true })))
    .addOption(
      new Option('--retries <r>', 'Kubernetes: retries of each shard (backoffLimitPerIndex)').argParser(numberIn({ min: 0, max: 100, int: true })).default(3),
    );
  addPointOptions(command)
    .addHelpText(
      'after',
      `
Every task runs \`deadunits sweep SPEC --out OUT --shard auto\` with the point flags given here. A task that is
requeued or retried skips its shard's finished points and resumes the others from their last checkpoints; a
point is written by one process at a time (its run folder's lock).

Slurm: writes OUT/slurm/{sweep.sbatch, collect.sbatch, submit.sh} and the sweep's sweep.json; run submit.sh.
Kubernetes: writes job.json (the spec's ConfigMap and the Indexed Job) and collect.json; kubectl apply -f job.json,
wait for the Job to complete, then kubectl apply -f collect.json.

Examples:
  $ deadunits sweep plan sweep.json --out /scratch/me/lr --slurm --shards 16 --time 1-00:00:00 --mem 8G --gpus 1
  $ bash /scratch/me/lr/slurm/submit.sh
  $ deadunits sweep plan sweep.json --out /sweeps/lr --k8s --shards 16 --image registry.example/deadunits:0.1.0 --pvc sweeps --gpus 1`,
    )
    .action(async (file: string | undefined, flags: PlanFlags) => {
      const fail = (message: string) => command.error(`error: ${message}`, { exitCode: 2, code: 'deadunits.usage' });
      if (flags.out === undefined) fail("required option '--out <dir>' not specified");
      if (Boolean(flags.slurm) === Boolean(flags.k8s)) fail('give one of --slurm and --k8s');
      const scheduler = flags.slurm ? 'slurm' : 'k8s';
      const foreign = (scheduler === 'slurm' ? K8S_ONLY : SLURM_ONLY).filter((k) => flags[k] !== undefined);
      if (foreign.length)
        fail(`${foreign.map(flagName).join(', ')} ${foreign.length > 1 ? 'are' : 'is'} only for ${scheduler === 'slurm' ? '--k8s' : '--slurm'}`);

      const spec = await specFromInputs(file, flags);
      const points = expandSweep(spec);
      checkHeadless(points);
      const shards = flags.shards ?? Math.min(points.length, DEFAULT_MAX_SHARDS);
      const issues: (ConfigIssue | null)[] = [shardsIssue(shards, points.length)];
      if (flags.mem !== undefined && !slurmMemoryIsValid(flags.mem))
        issues.push({ path: '--mem', message: `"${flags.mem}" is not a size such as 8G, 500M or 2000 (MB)` });
      const specText = JSON.stringify(sweepSpecToJson(spec), null, 2) + '\n';

      if (scheduler === 'slurm') {
        const outDir = resolve(flags.out!);
        const name = flags.name ?? defaultJobName(outDir);
        issues.push(nameIssue(name), wordIssue('--partition', flags.partition), wordIssue('--account', flags.account));
        // Slurm expands % in --output paths and splits #SBATCH lines on blanks.
        if (/[\s%]/.test(outDir)) issues.push({ path: '--out', message: `"${outDir}" holds a blank or a %, which #SBATCH --output cannot take` });
        for (const [flag, value] of [
          ['--time', flags.time],
          ['--collect-time', flags.collectTime],
        ] as const)
          if (value !== undefined && slurmTimeSeconds(value) === null)
            issues.push({ path: flag, message: `"${value}" is not a Slurm time (minutes, hours:minutes:seconds or days-hours:minutes:seconds)` });
        throwIssues(issues);
        const run: PlannedRun = { name, outDir, shards, points: points.length, sweepArgs: pointArgs(flags) };
        const planDir = resolve(flags.planDir ?? join(outDir, 'slurm'));
        // The folder is claimed now: a folder of another sweep is refused here, not in every task; the logs' folder
        // must exist before Slurm opens the logs.
        await claimSweepFolder(outDir, sweepManifest(spec, points));
        await mkdir(join(outDir, 'logs'), { recursive: true });
        const specFile = join(planDir, 'spec.json');
        const files = slurmPlanFiles(run, {
          deadunits: flags.deadunits ?? `${shellQuote(process.execPath)} ${shellQuote(BIN)}`,
          specFile,
          time: flags.time,
          mem: flags.mem,
          cpus: flags.cpus,
          gpus: flags.gpus,
          partition: flags.partition,
          account: flags.account,
          maxParallel: flags.maxParallel,
          sbatch: flags.sbatch ?? [],
          setup: flags.setup ?? [],
          collectTime: flags.collectTime,
        });
        const written = await writePlan(planDir, [{ name: 'spec.json', text: specText }, ...files]);
        console.log(`${points.length} points in ${shards} shards (Slurm job array ${name}); wrote:\n${written.map((p) => `  ${p}`).join('\n')}`);
        const seconds = flags.time === undefined ? null : slurmTimeSeconds(flags.time);
        if (seconds === null || seconds < MIN_TIME_FOR_REQUEUE)
          console.log(
            `(no requeue on timeout: that needs --time of at least ${MIN_TIME_FOR_REQUEUE / 60} minutes; a task that times out resumes when submitted again)`,
          );
        console.log(`submit with: bash ${shellQuote(join(planDir, 'submit.sh'))}`);
        return;
      }

      const outDir = flags.out!;
      const name = flags.name ?? defaultJobName(outDir);
      issues.push(nameIssue(name));
      if (flags.image === undefined)
        issues.push({ path: '--image', message: 'is required with --k8s: the image built from the Dockerfile, pushed where the cluster can pull it' });
      if (flags.pvc === undefined)
        issues.push({ path: '--pvc', message: 'is required with --k8s: a PersistentVolumeClaim (ReadWriteMany) every pod mounts, holding the sweep folder' });
      const mount = posix.normalize(flags.mount);
      const out = posix.normalize(outDir);
      if (!posix.isAbsolute(mount)) issues.push({ path: '--mount', message: `"${flags.mount}" is not an absolute path` });
      if (!isAbsolute(outDir) || !out.startsWith(mount.replace(/\/?$/, '/')))
        issues.push({ path: '--out', message: `"${outDir}" is not a folder inside --mount ${flags.mount}: the sweep folder must be on the shared volume` });
      throwIssues(issues);
      const run: PlannedRun = { name, outDir: out, shards, points: points.length, sweepArgs: pointArgs(flags) };
      const planDir = resolve(flags.planDir ?? `${name}-k8s`);
      const files = k8sPlanFiles(run, {
        image: flags.image!,
        claim: flags.pvc!,
        mountPath: mount,
        specText,
        parallelism: flags.parallelism ?? shards,
        retries: flags.retries,
        cpu: String(flags.cpus),
        memory: flags.mem === undefined ? undefined : k8sMemory(flags.mem),
        gpus: flags.gpus,
      });
      const written = await writePlan(planDir, files);
      console.log(`${points.length} points in ${shards} shards (Kubernetes Indexed Job ${name}); wrote:\n${written.map((p) => `  ${p}`).join('\n')}`);
      console.log(
        `run with: kubectl apply -f ${shellQuote(written[0])} && kubectl wait --for=condition=complete --timeout=-1s job/${name} && kubectl apply -f ${shellQuote(written[1])}`,
      );
    });
  return command;
}
