// `--shard auto`: the shard of this process, read from the environment a batch scheduler gives each task, so that
// one command line serves every task of a Slurm job array or a Kubernetes Indexed Job.
//
//   Slurm job array      SLURM_ARRAY_TASK_ID, with the array's size from SLURM_ARRAY_TASK_COUNT or _MIN/_MAX
//                        (index = ID - MIN: --array=1-4 works as well as --array=0-3)
//   Kubernetes           JOB_COMPLETION_INDEX (set in every pod of an Indexed Job); Kubernetes tells a pod nothing
//                        about the Job's completions, so the count comes from DEADUNITS_SHARD_COUNT (the manifest of
//                        `sweep plan --k8s` sets it to spec.completions)
//
// DEADUNITS_SHARD_COUNT, when set, is the shard count under either scheduler, and the task id is then the shard
// index itself. The scripts of `sweep plan --slurm` set it, so that resubmitting some tasks only
// (`sbatch --array=2,5 sweep.sbatch`) still runs shards 2 and 5 of the whole sweep: from the array alone
// (MIN 2, MAX 5, COUNT 2) that would be ambiguous, and is refused.
import { MAX_SHARDS, type Shard } from './shard';

export const SHARD_COUNT_VAR = 'DEADUNITS_SHARD_COUNT';

export interface ShardFromEnv {
  shard: Shard;
  /** Where it came from, for the log: e.g. "Slurm array task SLURM_ARRAY_TASK_ID=3 of SLURM_ARRAY_TASK_COUNT=4". */
  source: string;
}

export class ShardEnvError extends Error {
  override name = 'ShardEnvError';
}

type Env = Record<string, string | undefined>;

/** A variable that must hold a non-negative decimal integer; undefined when unset or empty. */
function integerVar(env: Env, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  if (!/^\s*\d+\s*$/.test(raw)) throw new ShardEnvError(`${name}=${JSON.stringify(raw)} is not a non-negative integer`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value)) throw new ShardEnvError(`${name}=${raw} is too large`);
  return value;
}

function checkCount(count: number, what: string): void {
  if (count < 1 || count > MAX_SHARDS) throw new ShardEnvError(`${what}: a shard count of ${count} is not in [1, ${MAX_SHARDS}]`);
}

function checkIndex(index: number, count: number, what: string): void {
  if (index >= count) throw new ShardEnvError(`${what}: shard index ${index} is not in [0, ${count - 1}]`);
}

/** The shard of this task; throws ShardEnvError naming the variables when they are missing or inconsistent. */
export function shardFromEnvironment(env: Env): ShardFromEnv {
  const slurmId = integerVar(env, 'SLURM_ARRAY_TASK_ID');
  const k8sIndex = integerVar(env, 'JOB_COMPLETION_INDEX');
  const explicit = integerVar(env, SHARD_COUNT_VAR);
  if (slurmId !== undefined && k8sIndex !== undefined)
    throw new ShardEnvError(
      `both SLURM_ARRAY_TASK_ID=${slurmId} and JOB_COMPLETION_INDEX=${k8sIndex} are set: cannot tell which scheduler runs this task; unset one, or give --shard i/n`,
    );
  if (slurmId === undefined && k8sIndex === undefined) {
    const notArray = env.SLURM_JOB_ID !== undefined ? ` This is Slurm job ${env.SLURM_JOB_ID}, but not an array job: submit it with --array=0-<shards-1>.` : '';
    throw new ShardEnvError(
      `--shard auto needs the task index a scheduler sets: SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); neither is set.${notArray} Elsewhere give --shard i/n.`,
    );
  }

  if (k8sIndex !== undefined) {
    if (explicit === undefined)
      throw new ShardEnvError(
        `JOB_COMPLETION_INDEX=${k8sIndex} is set, but not ${SHARD_COUNT_VAR}: Kubernetes does not tell a pod the Job's completions, so set ${SHARD_COUNT_VAR} to spec.completions in the container's env (the manifest of \`deadunits sweep plan --k8s\` does)`,
      );
    const what = `JOB_COMPLETION_INDEX=${k8sIndex} of ${SHARD_COUNT_VAR}=${explicit}`;
    checkCount(explicit, what);
    checkIndex(k8sIndex, explicit, what);
    return { shard: { index: k8sIndex, count: explicit }, source: `Kubernetes Indexed Job, ${what}` };
  }

  const id = slurmId!;
  if (explicit !== undefined) {
    const what = `SLURM_ARRAY_TASK_ID=${id} of ${SHARD_COUNT_VAR}=${explicit}`;
    checkCount(explicit, what);
    if (id >= explicit)
      throw new ShardEnvError(
        `${what}: with ${SHARD_COUNT_VAR} set, the array task ids are the shard indices, 0 to ${explicit - 1} (e.g. --array=0-${explicit - 1})`,
      );
    return { shard: { index: id, count: explicit }, source: `Slurm array, ${what}` };
  }

  const count = integerVar(env, 'SLURM_ARRAY_TASK_COUNT');
  const min = integerVar(env, 'SLURM_ARRAY_TASK_MIN');
  const max = integerVar(env, 'SLURM_ARRAY_TASK_MAX');
  const step = integerVar(env, 'SLURM_ARRAY_TASK_STEP');
  const vars = [
    `SLURM_ARRAY_TASK_ID=${id}`,
    ...Object.entries({ COUNT: count, MIN: min, MAX: max })
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `SLURM_ARRAY_TASK_${k}=${v}`),
  ].join(', ');
  const fix = `submit a contiguous array (e.g. --array=0-3), or set ${SHARD_COUNT_VAR} to the number of shards`;
  if (min !== undefined && max !== undefined) {
    if (max < min) throw new ShardEnvError(`${vars}: MAX is below MIN`);
    const span = max - min + 1;
    if ((step !== undefined && step !== 1 && span > 1) || (count !== undefined && count !== span))
      throw new ShardEnvError(
        `${vars}${step !== undefined && step !== 1 ? `, SLURM_ARRAY_TASK_STEP=${step}` : ''}: the array is not contiguous, so its ids are not shard indices: ${fix}`,
      );
    checkCount(span, vars);
    if (id < min || id > max) throw new ShardEnvError(`${vars}: the task id is outside MIN..MAX`);
    return { shard: { index: id - min, count: span }, source: `Slurm array, ${vars}` };
  }
  if (count !== undefined) {
    checkCount(count, vars);
    if (id >= count) throw new ShardEnvError(`${vars}: without SLURM_ARRAY_TASK_MIN the task ids must be 0 to ${count - 1}: ${fix}`);
    return { shard: { index: id, count }, source: `Slurm array, ${vars}` };
  }
  throw new ShardEnvError(`${vars}: the array's size is unknown (none of SLURM_ARRAY_TASK_COUNT, _MIN and _MAX is set): set ${SHARD_COUNT_VAR}`);
}
