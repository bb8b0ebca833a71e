// CPU reference of shaders/matmul.wgsl: C = op(A)·op(B) (+ bias[j]) (+ C) on row-major sub-blocks.
// NOTE: accumulates in f32 (Math.fround after each product and each add), k ascending. The GPU fuses
// multiply-adds and sums in another order, so parity tests use a tolerance that grows with k.
import type { MatmulVariant } from '../gpu/kernels/matmul';

export interface MatmulReferenceArgs {
  variant: MatmulVariant;
  m: number;
  n: number;
  k: number;
  /** nn/nt: [m, k]; tn: stored [k, m]. */
  a: Float32Array;
  aOffset?: number;
  lda: number;
  /** nn/tn: [k, n]; nt: stored [n, k]. */
  b: Float32Array;
  bOffset?: number;
  ldb: number;
  /** [m, n], written in place (only the m x n block). */
  c: Float32Array;
  cOffset?: number;
  ldc: number;
  /** [n]: C[i, j] += bias[j]. */
  bias?: Float32Array;
  biasOffset?: number;
  /** C = C + op(A)·op(B). */
  accumulate?: boolean;
}

export function matmulReference(args: MatmulReferenceArgs): void {
  const { variant, m, n, k, a, b, c, lda, ldb, ldc } = args;
  const ao = args.aOffset ?? 0;
  const bo = args.bOffset ?? 0;
  const co = args.cOffset ?? 0;
  const bias = args.bias;
  const biasOffset = args.biasOffset ?? 0;
  // Element strides of op(A) along (i, p) and op(B) along (p, j).
  const [aRow, aCol] = variant === 'tn' ? [1, lda] : [lda, 1];
  const [bRow, bCol] = variant === 'nt' ? [1, ldb] : [ldb, 1];
  const fr = Math.fround;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let sum = 0;
      const ai = ao + i * aRow;
      const bj = bo + j * bCol;
      for (let p = 0; p < k; p++) sum = fr(sum + fr(a[ai + p * aCol] * b[bj + p * bRow]));
      if (bias) sum = fr(sum + bias[biasOffset + j]);
      const idx = co + i * ldc + j;
      c[idx] = args.accumulate ? fr(c[idx] + sum) : sum;
    }
  }
}
