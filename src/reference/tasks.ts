// CPU mirror of shaders/tasks.wgsl: the task of a step, the per-task Feistel permutation, and the block a task
// reset draws. Permutations and relabellings are bit for bit; reset draws as src/reference/init.ts (uniform and
// constant exact, normal up to the GPU's log/cos accuracy).
import { initDraw, type InitScheme } from '../spec/init-schemes';
import { philox4x32, type Key } from '../spec/philox';
import { initNormalAt, initUniformAt } from './init';

const FEISTEL_ROUNDS = 4;

/** The task of step `step` (0-based) with `every` steps per task; `completed`: the step is a count of completed steps. */
export function taskAt(step: number, every: number, completed = false): number {
  const t = completed && step > 0 ? step - 1 : step;
  return every === 0 ? 0 : Math.floor(t / every);
}

/** π_task(x) over [0, n): see shaders/tasks.wgsl. */
export function taskPermute(x: number, n: number, key: Key, task: number): number {
  if (n <= 1) return 0;
  let bits = 32 - Math.clz32(n - 1);
  bits += bits & 1;
  const half = bits / 2;
  const mask = half === 32 ? 0xffffffff : 2 ** half - 1;
  let y = x;
  for (;;) {
    let l = Math.floor(y / 2 ** half);
    let r = y & mask;
    for (let round = 0; round < FEISTEL_ROUNDS; round++) {
      const f = philox4x32([r, task, round, 0], key)[0] & mask;
      const next = (l ^ f) >>> 0;
      l = r;
      r = next;
    }
    y = l * 2 ** half + r;
    if (y < n) return y;
  }
}

/** The whole permutation of task `task`: perm[c] = π(c). */
export function taskPermutation(n: number, key: Key, task: number): Uint32Array {
  return Uint32Array.from({ length: n }, (_, c) => taskPermute(c, n, key, task));
}

/** permute_columns: out[r, c] = src[r, π(c)]. */
export function permuteColumns(src: Float32Array, rows: number, cols: number, key: Key, task: number): Float32Array {
  const perm = taskPermutation(cols, key, task);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[r * cols + c] = src[r * cols + perm[c]];
  return out;
}

/** relabel: y[r] = π(y[r]) over [0, classes). */
export function relabel(labels: Uint32Array, classes: number, key: Key, task: number): Uint32Array {
  const perm = taskPermutation(classes, key, task);
  return labels.map((y) => perm[y]);
}

export interface ResetBlockReference {
  scheme: InitScheme;
  key: Key;
  fanIn: number;
  fanOut: number;
  rows: number;
  cols: number;
  globalCols: number;
  rowOffset?: number;
  colOffset?: number;
}

/** What reset_block writes at step t: the block's fresh values, or undefined when t does not begin a task k >= 1. */
export function resetBlockAt(a: ResetBlockReference, step: number, every: number): Float32Array | undefined {
  if (every === 0 || step === 0 || step % every !== 0) return undefined;
  const task = step / every;
  const { distribution, scale } = initDraw(a.scheme, a.fanIn, a.fanOut);
  const out = new Float32Array(a.rows * a.cols);
  for (let r = 0; r < a.rows; r++) {
    for (let c = 0; c < a.cols; c++) {
      const i = ((a.rowOffset ?? 0) + r) * a.globalCols + (a.colOffset ?? 0) + c;
      out[r * a.cols + c] =
        distribution === 'uniform' ? initUniformAt(a.key, i, scale, task) : distribution === 'normal' ? initNormalAt(a.key, i, scale, task) : scale;
    }
  }
  return out;
}
