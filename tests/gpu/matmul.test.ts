import { beforeAll, describe, expect, it } from 'vitest';
import { MatmulKernel, NaiveMatmulKernel, vec4Aligned, type MatmulArgs, type MatmulVariant } from '../../src/gpu/kernels/matmul';
import { matmulReference } from '../../src/reference/matmul';
import { expectClose, randomArray, useGpu, runDispatches } from './harness';

/** A case: shape, optional sub-block layout (offset, extra ld) per operand, bias and accumulate. */
interface Case {
  m: number;
  n: number;
  k: number;
  bias?: boolean;
  accumulate?: boolean;
  /** Element offset and extra row stride applied to a, b and c (sub-blocks of bigger buffers). */
  offset?: number;
  pad?: number;
}

const SHAPES: Array<[number, number, number]> = [
  [1, 1, 1],
  [7, 7, 7],
  [33, 33, 33],
  [130, 130, 130],
  [1, 130, 7],
  [130, 1, 33],
  [7, 33, 130],
  [33, 7, 1],
  [17, 200, 40],
  [64, 72, 100],
];

const CASES: Case[] = [
  ...SHAPES.map(([m, n, k]) => ({ m, n, k })),
  { m: 33, n: 70, k: 45, bias: true },
  { m: 33, n: 70, k: 45, accumulate: true },
  { m: 20, n: 36, k: 68, bias: true, accumulate: true, offset: 8, pad: 4 }, // aligned sub-blocks: the vec4 path
  { m: 20, n: 37, k: 67, bias: true, accumulate: true, offset: 3, pad: 5 }, // unaligned sub-blocks: the scalar path
  { m: 7, n: 130, k: 33, offset: 4, pad: 12 },
];

const u = 2 ** -24;

describe('matmul on the GPU', () => {
  const t = useGpu();
  const kernels: Record<string, MatmulKernel> = {};
  let naive: NaiveMatmulKernel;

  beforeAll(async () => {
    kernels.auto = await MatmulKernel.create(t.gpu);
    kernels.portable = await MatmulKernel.create(t.gpu, { kernels: 'reg16x8-w8' });
    kernels.folded = await MatmulKernel.create(t.gpu, { maxWorkgroupsPerDimension: 2 });
    naive = await NaiveMatmulKernel.create(t.gpu);
  });

  /** Runs one case on `kernel` and compares with the reference; returns whether the vec4 path ran. */
  async function check(kernel: MatmulKernel | NaiveMatmulKernel, variant: MatmulVariant, cs: Case, seed: number): Promise<boolean> {
    const { m, n, k } = cs;
    const off = cs.offset ?? 0;
    const pad = cs.pad ?? 0;
    const [aRows, aCols] = variant === 'tn' ? [k, m] : [m, k];
    const [bRows, bCols] = variant === 'nt' ? [n, k] : [k, n];
    const lda = aCols + pad;
    const ldb = bCols + pad;
    const ldc = n + pad;
    const aData = randomArray(off + aRows * lda, seed);
    const bData = randomArray(off + bRows * ldb, seed + 1);
    const cData = randomArray(off + m * ldc, seed + 2);
    const biasData = cs.bias ? randomArray(off + n, seed + 3) : undefined;

    const expected = cData.slice();
    matmulReference({
      variant,
      m,
      n,
      k,
      a: aData,
      aOffset: off,
      lda,
      b: bData,
      bOffset: off,
      ldb,
      c: expected,
      cOffset: off,
      ldc,
      bias: biasData,
      biasOffset: off,
      accumulate: cs.accumulate,
    });
    // NOTE: both the GPU and the reference sum k products in f32, in different orders (and the GPU fuses
    // multiply-adds), so each is within gamma_{k+2} * (|A||B| + |bias| + |C|) of the exact result
    // (gamma_j ~ j * 2^-24; the +2 for the bias and accumulate additions); they may differ by twice that.
    // Inputs are in [-1, 1], so |A||B| + |bias| + |C| <= k + 2.
    const atol = 2 * (k + 2) * u * (k + 2) + 1e-7;

    const a = t.f32('a', aData);
    const b = t.f32('b', bData);
    const c = t.f32('c', cData);
    const bias = biasData ? t.f32('bias', biasData) : undefined;
    const args: MatmulArgs = {
      label: `Matmul.test.${variant}`,
      variant,
      m,
      n,
      k,
      a: { buffer: a, offset: off, ld: lda },
      b: { buffer: b, offset: off, ld: ldb },
      c: { buffer: c, offset: off, ld: ldc },
      bias: bias ? { buffer: bias, offset: off } : undefined,
      accumulate: cs.accumulate,
    };
    const d = kernel.prepare(args);
    runDispatches(t.device, args.label, [d]);
    const got = await t.readF32(c, cData.length);
    d.destroy();
    // The whole buffer: elements outside the m x n block must be untouched.
    expectClose(got, expected, {
      atol,
      cols: ldc,
      label: `${variant} m=${m} n=${n} k=${k}${cs.bias ? ' bias' : ''}${cs.accumulate ? ' acc' : ''} off=${off} pad=${pad}`,
    });
    return vec4Aligned(args);
  }

  for (const path of ['auto', 'portable'] as const) {
    for (const variant of ['nn', 'nt', 'tn'] as const) {
      it(`${path} ${variant}: all shapes, bias, accumulate, sub-blocks (vec4 and scalar paths)`, async () => {
        const paths = new Set<boolean>();
        for (const [i, cs] of CASES.entries()) paths.add(await check(kernels[path], variant, cs, 100 * i + 1));
        expect([...paths].sort()).toEqual([false, true]);
      });
    }
  }

  it('uses the subgroup path where the device has subgroups of >= 8 lanes, and not when told', () => {
    expect(kernels.auto.defaultKernel.startsWith('sg8-')).toBe(t.gpu.hasSubgroups && (t.gpu.handles.adapter.info.subgroupMinSize ?? 0) >= 8);
    expect(kernels.portable.defaultKernel.startsWith('sg')).toBe(false);
  });

  it('folds a dispatch above maxWorkgroupsPerDimension (forced to 2)', async () => {
    // 40 x 60 with 16-row and >= 64-column tiles: 3 workgroups, folded to 2 x 2 (the fourth returns at once).
    const [rows, cols] = kernels.folded.tile;
    expect(Math.ceil(40 / rows) * Math.ceil(60 / cols)).toBe(3);
    for (const variant of ['nn', 'nt', 'tn'] as const) await check(kernels.folded, variant, { m: 40, n: 60, k: 37, bias: true }, 7);
  });

  it('naive kernel matches the reference (nn)', async () => {
    for (const [i, cs] of [...SHAPES.map(([m, n, k]) => ({ m, n, k })), { m: 20, n: 37, k: 67, offset: 3, pad: 5 }].entries()) {
      await check(naive, 'nn', cs, 1000 + i);
    }
  });

  it('rejects operands that overrun their buffers and a C aliasing A', () => {
    const a = t.zeros('a', 16);
    const c = t.zeros('c', 16);
    const base = { label: 'Matmul.bad', variant: 'nn' as const, m: 4, n: 4, k: 4, b: { buffer: a, ld: 4 } };
    expect(() => kernels.auto.prepare({ ...base, a: { buffer: a, ld: 4, offset: 1 }, c: { buffer: c, ld: 4 } })).toThrow(RangeError);
    expect(() => kernels.auto.prepare({ ...base, a: { buffer: a, ld: 3 }, c: { buffer: c, ld: 4 } })).toThrow(RangeError);
    expect(() => kernels.auto.prepare({ ...base, a: { buffer: a, ld: 4 }, c: { buffer: a, ld: 4 } })).toThrow(/share/);
  });
});
