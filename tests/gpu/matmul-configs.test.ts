// TUNING NEVER CHANGES NUMBERS: every matmul kernel configuration the tuner may pick on this adapter gives the same
// bits as every other, on shapes that are not multiples of any tile, for nn/nt/tn, with the bias and accumulate
// epilogues, on the vec4 and the scalar paths (sub-blocks at aligned and unaligned offsets). The first one is also
// checked against the CPU reference, so all of them are right, not just alike.
// NOTE: the candidates of this adapter kind (candidateConfigs), not the whole family: on lavapipe each GPU-sized
// configuration (64-256 lanes) takes LLVM minutes per pipeline to compile, and it runs the same code as a candidate
// here (reg, flat, sg and wgmem kernels) with other tile constants. On a GPU, this test covers the GPU candidates.
import { beforeAll, describe, expect, it } from 'vitest';
import {
  candidateConfigs,
  configName,
  GPU_CANDIDATES,
  parseConfigName,
  SOFTWARE_CANDIDATES,
  SWIFTSHADER_CANDIDATES,
  unsupportedReason,
  type MatmulConfig,
} from '../../src/gpu/kernels/matmul-configs';
import { matmulCapabilities, MatmulKernel, vec4Aligned, type MatmulArgs, type MatmulVariant } from '../../src/gpu/kernels/matmul';
import { matmulReference } from '../../src/reference/matmul';
import { expectClose, randomArray, runDispatches, useGpu } from './harness';

interface Case {
  m: number;
  n: number;
  k: number;
  bias?: boolean;
  accumulate?: boolean;
  offset?: number;
  pad?: number;
}

/** Odd sizes around every tile (4..64 rows, 16..512 columns) and every k step (4, 16, 32 and TK panels). */
const CASES: Case[] = [
  { m: 1, n: 1, k: 1 },
  { m: 7, n: 13, k: 5 },
  { m: 67, n: 130, k: 37, bias: true },
  { m: 130, n: 67, k: 100, accumulate: true },
  { m: 33, n: 515, k: 71, bias: true, accumulate: true },
  { m: 20, n: 36, k: 68, bias: true, accumulate: true, offset: 8, pad: 4 }, // aligned sub-blocks: vec4 loads
  { m: 21, n: 37, k: 67, bias: true, accumulate: true, offset: 3, pad: 5 }, // unaligned sub-blocks: scalar loads
];

const u = 2 ** -24;

describe('matmul kernel configurations are bit-identical', () => {
  const t = useGpu();
  const kernels = new Map<string, MatmulKernel>();
  let runnable: string[] = [];

  beforeAll(async () => {
    const caps = matmulCapabilities(t.gpu);
    const swiftShader = caps.isSoftware ? SWIFTSHADER_CANDIDATES.filter((n) => unsupportedReason(parseConfigName(n) as MatmulConfig, caps) === null) : [];
    runnable = [...new Set([...candidateConfigs(caps).map(configName), ...swiftShader])];
    for (const name of runnable) kernels.set(name, await MatmulKernel.create(t.gpu, { kernels: name }));
  });

  it("covers every candidate of this adapter (on lavapipe: the whole software list and SwiftShader's, all four kernels)", () => {
    const list = t.gpu.adapter.isSoftware ? [...new Set([...SOFTWARE_CANDIDATES, ...SWIFTSHADER_CANDIDATES])] : GPU_CANDIDATES;
    if (t.gpu.adapter.vendor === 'mesa') expect(runnable).toEqual(list);
    const kinds = t.gpu.adapter.isSoftware ? ['reg', 'flat', 'wgmem'] : ['reg', 'wgmem'];
    expect(new Set(runnable.map((n) => n.replace(/\d.*$/, '')))).toEqual(new Set(t.gpu.hasSubgroups ? [...kinds, 'sg'] : kinds));
  });

  /** C after one product with `kernel`, as raw bits, plus whether the vec4 path was eligible. */
  async function run(kernel: MatmulKernel, variant: MatmulVariant, cs: Case, seed: number) {
    const { m, n, k } = cs;
    const off = cs.offset ?? 0;
    const pad = cs.pad ?? 0;
    const [aRows, aCols] = variant === 'tn' ? [k, m] : [m, k];
    const [bRows, bCols] = variant === 'nt' ? [n, k] : [k, n];
    const [lda, ldb, ldc] = [aCols + pad, bCols + pad, n + pad];
    const data = {
      a: randomArray(off + aRows * lda, seed),
      b: randomArray(off + bRows * ldb, seed + 1),
      c: randomArray(off + m * ldc, seed + 2),
      bias: randomArray(off + n, seed + 3),
    };
    const c = t.f32('c', data.c);
    const args: MatmulArgs = {
      label: `MatmulConfigs.test.${variant}`,
      variant,
      m,
      n,
      k,
      a: { buffer: t.f32('a', data.a), offset: off, ld: lda },
      b: { buffer: t.f32('b', data.b), offset: off, ld: ldb },
      c: { buffer: c, offset: off, ld: ldc },
      bias: cs.bias ? { buffer: t.f32('bias', data.bias), offset: off } : undefined,
      accumulate: cs.accumulate,
    };
    const d = kernel.prepare(args);
    runDispatches(t.device, args.label, [d]);
    const got = await t.readF32(c, data.c.length);
    d.destroy();
    return { got, data, layout: { off, lda, ldb, ldc }, vec4: vec4Aligned(args) };
  }

  /** Per variant and case: the first configuration's bits, checked once against the CPU reference. */
  const baselines = new Map<string, Promise<Uint32Array>>();
  function baseline(variant: MatmulVariant, i: number): Promise<Uint32Array> {
    const id = `${variant}${i}`;
    let p = baselines.get(id);
    if (!p) baselines.set(id, (p = computeBaseline(variant, i)));
    return p;
  }

  async function computeBaseline(variant: MatmulVariant, i: number): Promise<Uint32Array> {
    const cs = CASES[i];
    const first = runnable[0];
    const base = await run(kernels.get(first)!, variant, cs, 100 * i + 7);
    const expected = base.data.c.slice();
    const { off, lda, ldb, ldc } = base.layout;
    matmulReference({
      variant,
      m: cs.m,
      n: cs.n,
      k: cs.k,
      a: base.data.a,
      aOffset: off,
      lda,
      b: base.data.b,
      bOffset: off,
      ldb,
      c: expected,
      cOffset: off,
      ldc,
      bias: cs.bias ? base.data.bias : undefined,
      biasOffset: off,
      accumulate: cs.accumulate,
    });
    // Within twice the f32 summation bound of the exact result (see tests/gpu/matmul.test.ts).
    expectClose(base.got, expected, { atol: 2 * (cs.k + 2) * u * (cs.k + 2) + 1e-7, cols: ldc, label: `${first} ${describeCase(variant, cs)}` });
    return new Uint32Array(base.got.buffer);
  }

  const describeCase = (variant: MatmulVariant, cs: Case) =>
    `${variant} m=${cs.m} n=${cs.n} k=${cs.k}${cs.bias ? ' bias' : ''}${cs.accumulate ? ' acc' : ''} off=${cs.offset ?? 0} pad=${cs.pad ?? 0}`;

  it('the cases take both the vec4 and the scalar path', () => {
    const args = (cs: Case) => {
      const buffer = { size: 1 << 20 } as GPUBuffer;
      const pad = cs.pad ?? 0;
      const ref = (ld: number) => ({ buffer, offset: cs.offset ?? 0, ld: ld + pad });
      return { variant: 'nn' as const, m: cs.m, n: cs.n, k: cs.k, a: ref(cs.k), b: ref(cs.n) };
    };
    expect([...new Set(CASES.map((cs) => vec4Aligned(args(cs))))].sort()).toEqual([false, true]);
  });

  for (const variant of ['nn', 'nt', 'tn'] as const) {
    it(`${variant}: every candidate gives the same bits as the first on every case`, async () => {
      for (const name of runnable.slice(1)) {
        for (const [i, cs] of CASES.entries()) {
          const expected = await baseline(variant, i);
          const bits = new Uint32Array((await run(kernels.get(name)!, variant, cs, 100 * i + 7)).got.buffer);
          const at = bits.findIndex((b, j) => b !== expected[j]);
          expect(at, `${name} vs ${runnable[0]}, ${describeCase(variant, cs)}: first differing element ${at}`).toBe(-1);
        }
      }
    }, 600_000);
  }
});
