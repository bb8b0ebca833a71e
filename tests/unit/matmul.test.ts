import { describe, expect, it } from 'vitest';
import { matmulReference } from '../../src/reference/matmul';
import { expectClose, randomArray } from '../gpu/harness';

/** The obvious version: build op(A) and op(B) as dense 2-D arrays element by element, then a float64 triple loop. */
function obvious(
  variant: 'nn' | 'nt' | 'tn',
  m: number,
  n: number,
  k: number,
  a: Float32Array,
  aOff: number,
  lda: number,
  b: Float32Array,
  bOff: number,
  ldb: number,
): number[][] {
  const opA = Array.from({ length: m }, (_, i) => Array.from({ length: k }, (_, p) => (variant === 'tn' ? a[aOff + p * lda + i] : a[aOff + i * lda + p])));
  const opB = Array.from({ length: k }, (_, p) => Array.from({ length: n }, (_, j) => (variant === 'nt' ? b[bOff + j * ldb + p] : b[bOff + p * ldb + j])));
  const c: number[][] = [];
  for (let i = 0; i < m; i++) {
    c.push([]);
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += opA[i][p] * opB[p][j];
      c[i].push(s);
    }
  }
  return c;
}

describe('matmulReference', () => {
  it('computes a 2x2 product by hand (nn, nt, tn)', () => {
    const a = Float32Array.of(1, 2, 3, 4); // [[1, 2], [3, 4]]
    const b = Float32Array.of(5, 6, 7, 8); // [[5, 6], [7, 8]]
    const run = (variant: 'nn' | 'nt' | 'tn') => {
      const c = new Float32Array(4);
      matmulReference({ variant, m: 2, n: 2, k: 2, a, lda: 2, b, ldb: 2, c, ldc: 2 });
      return [...c];
    };
    expect(run('nn')).toEqual([19, 22, 43, 50]);
    expect(run('nt')).toEqual([17, 23, 39, 53]); // A·Bᵀ
    expect(run('tn')).toEqual([26, 30, 38, 44]); // Aᵀ·B
  });

  for (const variant of ['nn', 'nt', 'tn'] as const) {
    it(`${variant}: matches the obvious triple loop on sub-blocks, with bias and accumulate`, () => {
      for (const [m, n, k, off, pad] of [
        [1, 1, 1, 0, 0],
        [7, 5, 3, 2, 3],
        [13, 9, 17, 5, 1],
        [4, 33, 8, 1, 7],
      ]) {
        const [aRows, aCols] = variant === 'tn' ? [k, m] : [m, k];
        const [bRows, bCols] = variant === 'nt' ? [n, k] : [k, n];
        const lda = aCols + pad;
        const ldb = bCols + pad;
        const ldc = n + pad;
        const a = randomArray(off + aRows * lda, 11);
        const b = randomArray(off + bRows * ldb, 12);
        const bias = randomArray(off + n, 13);
        const c0 = randomArray(off + m * ldc, 14);
        const prod = obvious(variant, m, n, k, a, off, lda, b, off, ldb);
        for (const mode of ['plain', 'bias', 'accumulate'] as const) {
          const c = c0.slice();
          matmulReference({
            variant,
            m,
            n,
            k,
            a,
            aOffset: off,
            lda,
            b,
            bOffset: off,
            ldb,
            c,
            cOffset: off,
            ldc,
            bias: mode === 'bias' ? bias : undefined,
            biasOffset: off,
            accumulate: mode === 'accumulate',
          });
          const expected = Array.from(c0);
          for (let i = 0; i < m; i++) {
            for (let j = 0; j < n; j++) {
              const idx = off + i * ldc + j;
              expected[idx] = prod[i][j] + (mode === 'bias' ? bias[off + j] : 0) + (mode === 'accumulate' ? c0[idx] : 0);
            }
          }
          // NOTE: the reference rounds to f32 after each of k+1 operations on values <= 1 in magnitude, the
          // triple loop sums in float64: the gap is at most about (k + 2) * 2^-24 * (k + 2).
          expectClose(c, expected, { atol: (k + 2) ** 2 * 2 ** -24, cols: ldc, label: `${variant} ${mode} m=${m} n=${n} k=${k}` });
        }
      }
    });
  }
});
