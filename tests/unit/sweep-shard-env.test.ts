// `--shard auto`: the shard read from the variables Slurm sets in a job array's tasks and Kubernetes in an Indexed
// Job's pods, and one clear message for every way they can be missing or inconsistent.
import { describe, expect, it } from 'vitest';
import { SHARD_COUNT_VAR, shardFromEnvironment } from '../../src/cli/sweep/shard-env';

/** What sbatch --array=LO-HI sets in task `id` (Slurm 22.05). */
function slurmArrayTask(id: number, lo: number, hi: number, extra: Record<string, string> = {}): Record<string, string> {
  return {
    SLURM_JOB_ID: String(100 + id),
    SLURM_ARRAY_JOB_ID: '99',
    SLURM_ARRAY_TASK_ID: String(id),
    SLURM_ARRAY_TASK_COUNT: String(hi - lo + 1),
    SLURM_ARRAY_TASK_MIN: String(lo),
    SLURM_ARRAY_TASK_MAX: String(hi),
    SLURM_ARRAY_TASK_STEP: '1',
    ...extra,
  };
}

describe('shardFromEnvironment: Slurm job arrays', () => {
  it('--array=0-3: task id = shard index, of 4', () => {
    for (let id = 0; id < 4; id++) expect(shardFromEnvironment(slurmArrayTask(id, 0, 3)).shard).toEqual({ index: id, count: 4 });
    expect(shardFromEnvironment(slurmArrayTask(2, 0, 3)).source).toBe(
      'Slurm array, SLURM_ARRAY_TASK_ID=2, SLURM_ARRAY_TASK_COUNT=4, SLURM_ARRAY_TASK_MIN=0, SLURM_ARRAY_TASK_MAX=3',
    );
  });

  it('--array=1-4: shards 0-3 (id - MIN)', () => {
    expect([1, 2, 3, 4].map((id) => shardFromEnvironment(slurmArrayTask(id, 1, 4)).shard)).toEqual([0, 1, 2, 3].map((index) => ({ index, count: 4 })));
  });

  it('only _MIN/_MAX (no _COUNT), or only _COUNT (no _MIN/_MAX)', () => {
    const { SLURM_ARRAY_TASK_COUNT: _c, ...noCount } = slurmArrayTask(3, 2, 5);
    expect(shardFromEnvironment(noCount).shard).toEqual({ index: 1, count: 4 });
    expect(shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '2', SLURM_ARRAY_TASK_COUNT: '3' }).shard).toEqual({ index: 2, count: 3 });
  });

  it(`${SHARD_COUNT_VAR} makes the task id the shard index: a resubmitted subset (--array=2,5) keeps its shards`, () => {
    // sbatch --array=2,5: COUNT 2, MIN 2, MAX 5 — without the explicit count this is refused below.
    const env = { ...slurmArrayTask(5, 2, 5), SLURM_ARRAY_TASK_COUNT: '2', [SHARD_COUNT_VAR]: '8' };
    expect(shardFromEnvironment(env).shard).toEqual({ index: 5, count: 8 });
    expect(shardFromEnvironment(env).source).toBe(`Slurm array, SLURM_ARRAY_TASK_ID=5 of ${SHARD_COUNT_VAR}=8`);
  });

  it('refuses arrays whose ids are not shard indices, naming the variables and the fix', () => {
    const subset = { ...slurmArrayTask(5, 2, 5), SLURM_ARRAY_TASK_COUNT: '2' };
    expect(() => shardFromEnvironment(subset)).toThrow(
      `SLURM_ARRAY_TASK_ID=5, SLURM_ARRAY_TASK_COUNT=2, SLURM_ARRAY_TASK_MIN=2, SLURM_ARRAY_TASK_MAX=5: the array is not contiguous, so its ids are not shard indices: submit a contiguous array (e.g. --array=0-3), or set ${SHARD_COUNT_VAR} to the number of shards`,
    );
    // --array=0-6:2 (ids 0, 2, 4, 6)
    expect(() => shardFromEnvironment({ ...slurmArrayTask(2, 0, 6), SLURM_ARRAY_TASK_COUNT: '4', SLURM_ARRAY_TASK_STEP: '2' })).toThrow(
      /SLURM_ARRAY_TASK_STEP=2: the array is not contiguous/,
    );
    expect(() => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(
      /SLURM_ARRAY_TASK_ID=3, SLURM_ARRAY_TASK_COUNT=3: without SLURM_ARRAY_TASK_MIN the task ids must be 0 to 2/,
    );
    expect(() => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '3' })).toThrow(`SLURM_ARRAY_TASK_ID=3: the array's size is unknown`);
    expect(() => shardFromEnvironment({ ...slurmArrayTask(4, 0, 3), [SHARD_COUNT_VAR]: '4' })).toThrow(
      `SLURM_ARRAY_TASK_ID=4 of ${SHARD_COUNT_VAR}=4: with ${SHARD_COUNT_VAR} set, the array task ids are the shard indices, 0 to 3 (e.g. --array=0-3)`,
    );
  });

  it('a Slurm job that is not an array says so', () => {
    expect(() => shardFromEnvironment({ SLURM_JOB_ID: '42' })).toThrow(/This is Slurm job 42, but not an array job: submit it with --array=0-<shards-1>/);
  });
});

describe('shardFromEnvironment: Kubernetes Indexed Jobs', () => {
  it(`JOB_COMPLETION_INDEX with ${SHARD_COUNT_VAR}`, () => {
    for (let i = 0; i < 3; i++)
      expect(shardFromEnvironment({ JOB_COMPLETION_INDEX: String(i), [SHARD_COUNT_VAR]: '3', HOSTNAME: `j-${i}-abcde` }).shard).toEqual({ index: i, count: 3 });
  });

  it(`refuses a missing ${SHARD_COUNT_VAR} and an index past it`, () => {
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '1' })).toThrow(
      `JOB_COMPLETION_INDEX=1 is set, but not ${SHARD_COUNT_VAR}: Kubernetes does not tell a pod the Job's completions`,
    );
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '3', [SHARD_COUNT_VAR]: '3' })).toThrow(
      `JOB_COMPLETION_INDEX=3 of ${SHARD_COUNT_VAR}=3: shard index 3 is not in [0, 2]`,
    );
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '0', [SHARD_COUNT_VAR]: '0' })).toThrow('a shard count of 0 is not in [1, 1000000]');
  });
});

describe('shardFromEnvironment: neither, both, or garbage', () => {
  it('names both schedulers when neither index is set', () => {
    expect(() => shardFromEnvironment({})).toThrow(
      '--shard auto needs the task index a scheduler sets: SLURM_ARRAY_TASK_ID (a Slurm job array) or JOB_COMPLETION_INDEX (a Kubernetes Indexed Job); neither is set. Elsewhere give --shard i/n.',
    );
  });

  it('refuses both at once, and values that are not integers', () => {
    expect(() => shardFromEnvironment({ ...slurmArrayTask(0, 0, 1), JOB_COMPLETION_INDEX: '0' })).toThrow(
      /both SLURM_ARRAY_TASK_ID=0 and JOB_COMPLETION_INDEX=0 are set/,
    );
    expect(() => shardFromEnvironment({ SLURM_ARRAY_TASK_ID: '1a', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(
      'SLURM_ARRAY_TASK_ID="1a" is not a non-negative integer',
    );
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '-1', [SHARD_COUNT_VAR]: '4' })).toThrow(
      'JOB_COMPLETION_INDEX="-1" is not a non-negative integer',
    );
    expect(() => shardFromEnvironment({ JOB_COMPLETION_INDEX: '0', [SHARD_COUNT_VAR]: 'four' })).toThrow(
      `${SHARD_COUNT_VAR}="four" is not a non-negative integer`,
    );
  });
});
