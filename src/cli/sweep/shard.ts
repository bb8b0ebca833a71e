// Sharding a sweep over independent machines without a coordinator: `--shard i/n` (0-based, 0 <= i < n) runs
// the points whose index k has k mod n = i. Any batch scheduler's task index fits, expanded by the shell:
//   Slurm array (--array=0-3):           --shard "$SLURM_ARRAY_TASK_ID/4"
//   Kubernetes indexed Job (4 completions): --shard "$(JOB_COMPLETION_INDEX)/4"
//   GitHub Actions matrix (shard: [0,1,2,3]): --shard "${{ matrix.shard }}/4"
// Round-robin (rather than contiguous blocks) spreads each axis's slow and fast points over every shard.

export interface Shard {
  /** 0-based. */
  index: number;
  count: number;
}

export const MAX_SHARDS = 1_000_000;

export class ShardError extends Error {
  override name = 'ShardError';
}

/** Parses `i/n`; throws ShardError naming the rule that failed. */
export function parseShard(text: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ShardError(`"${text}" is not i/n (0-based shard index i of n shards, e.g. 0/4)`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) throw new ShardError(`shard count n = ${count} is not in [1, ${MAX_SHARDS}]`);
  if (index >= count) throw new ShardError(`shard index i = ${index} is not in [0, ${count - 1}] (shards are 0-based: 0/${count} to ${count - 1}/${count})`);
  return { index, count };
}

export function shardOfPoint(pointIndex: number, count: number): number {
  return pointIndex % count;
}

export function formatShard(s: Shard): string {
  return `${s.index}/${s.count}`;
}

/** The items of shard `s` (by their `index`), in order. */
export function pointsOfShard<T extends { index: number }>(points: T[], s: Shard): T[] {
  return points.filter((p) => shardOfPoint(p.index, s.count) === s.index);
}
