// Small hand-made benchmark results for the schema, compare and CLI tests.
import { BENCH_SCHEMA, BENCH_SCHEMA_VERSION, makeCase, type BenchResult, type CaseResult } from '../../bench/schema';

export function gflopsCase(id: string, impl: CaseResult['impl'], samples: number[]): CaseResult {
  return makeCase({
    id,
    group: 'matmul',
    impl,
    label: `${impl} ${id}`,
    params: { m: 64, n: 64, k: 64 },
    unit: 'GFLOP/s',
    timing: impl === 'tfjs' ? 'wall' : 'gpu-timestamp',
    samples,
  });
}

/** A valid result: our matmul at `ours` GFLOP/s (3 samples around it) against TF.js at `tfjs`. */
export function sampleResult(ours: number, tfjs: number, overrides: Partial<BenchResult> = {}): BenchResult {
  const a = gflopsCase('matmul.nn.64x64x64.deadunits', 'deadunits', [ours * 0.9, ours, ours * 1.1]);
  const b = gflopsCase('matmul.nn.64x64x64.tfjs', 'tfjs', [tfjs, tfjs * 1.2, tfjs * 0.8]);
  return {
    schema: BENCH_SCHEMA,
    version: BENCH_SCHEMA_VERSION,
    host: 'node',
    node: 'v20.19.0',
    quick: true,
    startedAt: '2026-11-27T06:00:00.000Z',
    durationSeconds: 12.5,
    adapter: {
      vendor: 'mesa',
      architecture: 'software',
      device: 'llvmpipe',
      description: 'llvmpipe: Mesa 25',
      isSoftware: true,
      features: ['subgroups', 'timestamp-query'],
      limits: { maxBufferSize: 2 ** 32 - 1 },
    },
    tfjs: { version: '4.22.0', backend: 'webgpu' },
    cases: [a, b],
    ratios: [{ name: 'matmul 64x64x64 nn: deadunits / TF.js', numerator: a.id, denominator: b.id, value: a.median / b.median, goal: 1 }],
    notes: [],
    ...overrides,
  };
}
