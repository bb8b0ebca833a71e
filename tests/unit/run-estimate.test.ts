// The cost model (src/engine/cost-model.ts), the run estimate with its faster alternatives (src/engine/run-estimate.ts)
// and its words (src/report/run-estimate-text.ts). The estimate against measured step times is reported by the GPU
// and end-to-end tests; here the arithmetic.
import { describe, expect, it } from 'vitest';
import { parseRunConfig, presetConfig } from '../../src/config';
import { secondsFor, snapshotWork, stepWork, workTotals, type Throughput } from '../../src/engine/cost-model';
import { modelSpecFromConfig } from '../../src/engine/from-config';
import { activationWidths, type ModelSpec } from '../../src/engine/model-spec';
import { estimateRun, SLOW_STEP_SECONDS } from '../../src/engine/run-estimate';
import { estimateLine, estimateWarning, formatMemory, formatSeconds, secondsPer1000Steps } from '../../src/report/run-estimate-text';

/** The net: one hidden layer of 1,048,576 units on the lr_too_high preset (input 32, batch 64, probe 256). */
function millionNet(dropout = 0.5): ModelSpec {
  const base = presetConfig('lr_too_high');
  const config = parseRunConfig({ ...base, hidden: [{ ...base.hidden[0], width: 1_048_576, dropout }] });
  return { ...modelSpecFromConfig(config), probeRows: config.snapshot.probeSize };
}

/** 2·m·n·k of the forward, weight-gradient and (above the first layer) input-gradient products. */
function matmulFlops(spec: ModelSpec): number {
  const w = activationWidths(spec);
  let flops = 0;
  for (let l = 1; l < w.length; l++) flops += 2 * spec.batch * w[l - 1] * w[l] * (l === 1 ? 2 : 3);
  return flops;
}

/** About what a software adapter does: 0.3 GFLOP/s, 1 GB/s, 50 µs a dispatch. */
const SOFTWARE: Throughput = { flopsPerSecond: 0.3e9, bytesPerSecond: 1e9, secondsPerDispatch: 50e-6 };

describe('cost model', () => {
  it("counts a step's matrix products as 2·m·n·k each (the rest is small on a wide net)", () => {
    const spec = millionNet(0);
    const { flops } = workTotals(stepWork(spec));
    expect(flops).toBeGreaterThanOrEqual(matmulFlops(spec));
    expect(flops).toBeLessThan(matmulFlops(spec) * 1.02);
    // 4.3 GFLOP each for the forward and weight-gradient products of the first layer, 1.3 for each of the output's three.
    expect(flops / 1e9).toBeGreaterThan(12.5);
    expect(flops / 1e9).toBeLessThan(13);
  });

  it('costs a sharded layer the same arithmetic in more dispatches', () => {
    const spec = millionNet();
    const shards = Array.from({ length: 8 }, (_, i) => ({ offset: i * 131_072, width: 131_072 }));
    const blocks = [[{ offset: 0, width: 32 }], shards, [{ offset: 0, width: 10 }]];
    const whole = workTotals(stepWork(spec));
    const sharded = workTotals(stepWork(spec, blocks));
    expect(sharded.flops).toBeCloseTo(whole.flops, -3);
    expect(sharded.dispatches).toBeGreaterThan(whole.dispatches);
    expect(workTotals(snapshotWork(spec, 256, blocks)).flops).toBeCloseTo(workTotals(snapshotWork(spec, 256)).flops, -3);
  });

  it("costs a snapshot's probe pass like the forward pass over the probe rows", () => {
    const spec = millionNet(0);
    const forward = 2 * 256 * spec.inputSize * spec.hidden[0].width;
    const { flops } = workTotals(snapshotWork(spec, 256));
    expect(flops).toBeGreaterThanOrEqual(forward);
    expect(flops).toBeLessThan(forward * 1.01);
    // Half the probe rows, half the probe pass.
    expect(workTotals(snapshotWork(spec, 128)).flops).toBeCloseTo(flops / 2, -6);
  });

  it('adds the cures of non-stationary runs: continual backprop every step, Shrink & Perturb every k steps', () => {
    const spec = millionNet();
    const plain = workTotals(stepWork(spec));
    const cbp = workTotals(stepWork({ ...spec, continualBackprop: { replacementRate: 1e-4, decay: 0.99, maturity: 100 } }));
    expect(cbp.bytes).toBeGreaterThan(plain.bytes);
    const perturb = (every: number) => workTotals(stepWork({ ...spec, shrinkPerturb: { shrink: 1e-2, noise: 1e-3, every } }));
    expect(perturb(1).bytes - plain.bytes).toBeCloseTo(10 * (perturb(10).bytes - plain.bytes), -3);
  });

  it('takes the slower of arithmetic and memory traffic per kernel, plus a cost per dispatch', () => {
    const throughput: Throughput = { flopsPerSecond: 100, bytesPerSecond: 10, secondsPerDispatch: 1 };
    expect(
      secondsFor(
        [
          { flops: 1000, bytes: 20 },
          { flops: 100, bytes: 50 },
        ],
        throughput,
      ),
    ).toBe(10 + 1 + 5 + 1);
  });
});

describe('run estimate', () => {
  it('warns about a slow step with a width, a batch and a probe set that would each be under the limit', () => {
    const spec = millionNet();
    const estimate = estimateRun({ spec, probeRows: 256, throughput: SOFTWARE, memoryBytes: 2.5 * 2 ** 30 });
    expect(estimate.stepSeconds).toBeGreaterThan(SLOW_STEP_SECONDS);
    const { width, batch, probeRows } = estimate.faster!;
    const under = (s: ModelSpec, rows: number) =>
      secondsFor(stepWork(s), SOFTWARE) <= SLOW_STEP_SECONDS && secondsFor(snapshotWork(s, rows), SOFTWARE) <= SLOW_STEP_SECONDS;
    const narrower = (w: number) => ({ ...spec, hidden: spec.hidden.map((h) => ({ ...h, width: w })) });
    expect(under(narrower(width!), 256)).toBe(true);
    expect(under(narrower(width! * 2), 256)).toBe(false);
    if (batch !== undefined) expect(under({ ...spec, batch }, 256)).toBe(true);
    if (probeRows !== undefined) expect(secondsFor(snapshotWork(spec, probeRows), SOFTWARE)).toBeLessThanOrEqual(SLOW_STEP_SECONDS);

    const warning = estimateWarning(estimate)!;
    expect(warning).toMatch(/^One step would take ≈ \d+ s( and one snapshot ≈ .+?)? on this adapter\. Under 10 s with /);
    expect(warning).toContain(`hidden layers at most ${width!.toLocaleString('en-US')} units wide`);
  });

  it('suggests a probe sample that a run can be given: snapshot.probe sample with that probeSize', () => {
    // The net probing its whole training set (snapshot.probe 'auto': 4,096 rows) at the software adapter's speed.
    const spec = millionNet();
    const estimate = estimateRun({ spec, probeRows: 4096, throughput: { ...SOFTWARE, flopsPerSecond: 30e9 }, memoryBytes: 2.5 * 2 ** 30 });
    expect(estimate.stepSeconds).toBeLessThanOrEqual(SLOW_STEP_SECONDS);
    const rows = estimate.faster!.probeRows!;
    expect(rows).toBeLessThan(4096);
    // probeSize alone changes nothing under 'auto' or 'all': the warning names the mode too.
    expect(estimateWarning(estimate)).toContain(
      `a probe sample of ${rows.toLocaleString('en-US')} rows (snapshot.probe sample, snapshot.probeSize ${rows.toLocaleString('en-US')})`,
    );
  });

  it('says nothing more for a fast step', () => {
    const base = presetConfig('dropout_only');
    const spec = { ...modelSpecFromConfig(base), probeRows: 256 };
    const estimate = estimateRun({
      spec,
      probeRows: 256,
      throughput: { flopsPerSecond: 1e12, bytesPerSecond: 1e11, secondsPerDispatch: 5e-6 },
      memoryBytes: 3e6,
    });
    expect(estimate.faster).toBeUndefined();
    expect(estimateWarning(estimate)).toBeNull();
  });

  it('reads as the page and the CLI show it', () => {
    const estimate = {
      stepSeconds: 5.2,
      snapshotSeconds: 0.97,
      memoryBytes: 0.27 * 2 ** 30,
      step: { flops: 0, bytes: 0, dispatches: 0 },
      snapshot: { flops: 0, bytes: 0, dispatches: 0 },
    };
    expect(secondsPer1000Steps(estimate, 100)).toBeCloseTo(5209.7, 6);
    expect(estimateLine(estimate, 100)).toBe('≈ 5.2 s per step, ≈ 1.4 h per 1,000 steps, snapshot ≈ 970 ms, memory ≈ 0.27 GiB');
    expect([85e-6, 0.012, 5.2, 57, 186, 5400, 200_000, 2e6].map(formatSeconds)).toEqual([
      '85 µs',
      '12 ms',
      '5.2 s',
      '57 s',
      '3.1 min',
      '1.5 h',
      '2.3 d',
      '23 d',
    ]);
    expect(formatSeconds(NaN)).toBe('?');
    expect([12 * 2 ** 20, 0.27 * 2 ** 30, 37.4 * 2 ** 30].map(formatMemory)).toEqual(['12 MiB', '0.27 GiB', '37 GiB']);
  });
});
