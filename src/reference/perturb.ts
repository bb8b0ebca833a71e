// CPU mirror of shaders/perturb.wgsl: Shrink & Perturb of one parameter block at step t.
import type { Key } from '../spec/philox';
import { initNormalAt } from './init';

export interface PerturbReference {
  key: Key;
  shrink: number;
  noise: number;
  every: number;
  rows: number;
  cols: number;
  globalCols: number;
  rowOffset?: number;
  colOffset?: number;
}

/** The block [rows, cols] after step t: keep·p + noise·z on every `every`-th step, unchanged otherwise. */
export function shrinkPerturbAt(a: PerturbReference, block: Float32Array, step: number): Float32Array {
  if ((step + 1) % a.every !== 0) return block.slice();
  const keep = Math.fround(1 - a.shrink);
  const noise = Math.fround(a.noise);
  return block.map((p, index) => {
    const r = Math.floor(index / a.cols);
    const c = index % a.cols;
    const i = ((a.rowOffset ?? 0) + r) * a.globalCols + (a.colOffset ?? 0) + c;
    return Math.fround(Math.fround(keep * p) + Math.fround(noise * initNormalAt(a.key, i, 1, step)));
  });
}
