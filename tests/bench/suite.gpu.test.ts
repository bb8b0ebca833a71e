// A smoke run of every case of the suite on tiny shapes (quick mode), in Node on a real adapter, with
// TF.js's WebGPU backend on the same Dawn instance: every case and ratio is there, valid and consistent.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { matmulShapeId, matmulShapes } from '../../bench/matmul';
import { BENCH_GROUPS, benchResultFromJson, benchResultToJson, type BenchResult } from '../../bench/schema';
import { runSuite } from '../../bench/suite';
import type { Tf } from '../../bench/tfjs-mlp';
import { loadTfjsNode, releaseTfjsNode } from '../../bench/tfjs-node';
import { useGpu } from '../gpu/harness';

const gpuTest = useGpu();

describe('benchmark suite, quick mode (Node, Dawn)', () => {
  let tf: Tf;
  let result: BenchResult;
  const progress: Array<{ done: number; total: number }> = [];
  let streamed = 0;

  beforeAll(async () => {
    tf = await loadTfjsNode(gpuTest.gpu);
  });
  afterAll(() => releaseTfjsNode(tf));

  it('runs every group, streams progress and cases, and leaves no buffer behind', async () => {
    result = await runSuite(
      gpuTest.gpu,
      { host: 'node', node: process.version },
      {
        quick: true,
        tf,
        onProgress: (p) => progress.push(p),
        onCases: (cases) => (streamed += cases.length),
      },
    );
    expect(gpuTest.liveBuffers()).toBe(0);
    expect(result.quick).toBe(true);
    // TF.js ran on the very adapter our engine did.
    const { vendor, architecture } = gpuTest.gpu.adapter;
    expect(result.tfjs).toEqual({ version: tf.version.tfjs, backend: 'webgpu', adapter: `${vendor} / ${architecture}` });
    expect(new Set(result.cases.map((c) => c.group))).toEqual(new Set(BENCH_GROUPS));
    expect(streamed).toBe(result.cases.length);
    const total = progress[0].total;
    expect(progress.map((p) => p.done)).toEqual(Array.from({ length: total + 1 }, (_, i) => i));
    // What was measured survives its own file format.
    expect(benchResultFromJson(benchResultToJson(result))).toEqual(result);
  });

  it('has ours, the TF.js peer (and the naive floor on square shapes) for every matmul shape', () => {
    const ids = new Set(result.cases.map((c) => c.id));
    for (const shape of matmulShapes(true)) {
      const id = matmulShapeId(shape);
      expect(ids.has(`${id}.deadunits`) && ids.has(`${id}.deadunits-wall`) && ids.has(`${id}.tfjs`), id).toBe(true);
      expect(ids.has(`${id}.naive`), id).toBe(shape.m === shape.n && shape.n === shape.k);
    }
    const train = result.cases.filter((c) => c.group === 'train');
    // Per net: ours fused (GPU time, wall), ours unfused (GPU time, wall), TF.js.
    expect(train.map((c) => c.impl)).toEqual([
      ...['deadunits', 'deadunits', 'deadunits', 'deadunits', 'tfjs'],
      ...['deadunits', 'deadunits', 'deadunits', 'deadunits', 'tfjs'],
    ]);
    expect(train.map((c) => c.id.replace(/^train\.[^.]*\./, ''))).toEqual([
      ...['deadunits', 'deadunits-wall', 'deadunits-unfused', 'deadunits-unfused-wall', 'tfjs'],
      ...['deadunits', 'deadunits-wall', 'deadunits-unfused', 'deadunits-unfused-wall', 'tfjs'],
    ]);
    for (const c of train) expect(c.derived?.gflops).toBeCloseTo((c.median * Number(c.params.flopsPerStep)) / 1e9, 9);
    // The fused step has fewer dispatches and moves fewer bytes than the unfused one.
    for (let i = 0; i < train.length; i += 5) {
      expect(Number(train[i].params.dispatchesPerStep)).toBeLessThan(Number(train[i + 2].params.dispatchesPerStep));
      expect(Number(train[i].params.bytesPerStep)).toBeLessThan(Number(train[i + 2].params.bytesPerStep));
    }
  });

  it('times our GPU cases with timestamp queries on this adapter and the TF.js ones on the wall clock', () => {
    for (const c of result.cases) {
      const expected = c.impl === 'tfjs' || c.id.endsWith('-wall') || c.group === 'readback' ? 'wall' : 'gpu-timestamp';
      expect(c.timing, c.id).toBe(expected);
    }
  });

  it('computes every ratio from the medians of the cases it names, wall-clock against wall-clock for TF.js', () => {
    const byId = new Map(result.cases.map((c) => [c.id, c]));
    // One per matmul shape, two per training net (fused and unfused against TF.js).
    expect(result.ratios.filter((r) => r.name.includes('TF.js')).length).toBe(matmulShapes(true).length + 4);
    for (const r of result.ratios) {
      const num = byId.get(r.numerator)!;
      const den = byId.get(r.denominator)!;
      expect(r.value).toBeCloseTo(num.median / den.median, 12);
      if (den.impl === 'tfjs') expect(num.timing, r.name).toBe('wall');
    }
    const monitoring = result.ratios.filter((r) => r.name.startsWith('monitoring'));
    expect(monitoring.map((r) => r.goal)).toEqual([0.95, undefined, 0.95, undefined]);
  });
});
