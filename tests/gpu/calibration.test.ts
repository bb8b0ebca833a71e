// The adapter's calibration (src/engine/calibration.ts) on Dawn: finite, positive figures, with every buffer it made
// freed; and the estimate it gives (src/engine/run-estimate.ts) beside the measured step time of a net whose step is
// mostly matrix products. The ratio is reported, not asserted: it depends on the machine and its load.
import { describe, expect, it } from 'vitest';
import { parseRunConfig, presetConfig } from '../../src/config';
import { runData } from '../../src/data';
import { calibrateThroughput } from '../../src/engine/calibration';
import { openRun } from '../../src/engine/open-run';
import { estimateBuiltRun } from '../../src/engine/run-estimate';
import { useGpu } from './harness';

describe('calibration', () => {
  const t = useGpu();

  it("measures the adapter's arithmetic, memory and dispatch rates and frees what it made", async () => {
    const before = t.liveBuffers();
    const throughput = await calibrateThroughput(t.gpu);
    expect(t.liveBuffers()).toBe(before);
    for (const figure of [throughput.flopsPerSecond, throughput.bytesPerSecond, throughput.secondsPerDispatch]) {
      expect(Number.isFinite(figure)).toBe(true);
      expect(figure).toBeGreaterThan(0);
    }

    const base = presetConfig('lr_too_high');
    const config = parseRunConfig({ ...base, hidden: [{ ...base.hidden[0], width: 8192 }], snapshot: { every: 1000, probeSize: 64 } });
    const run = await openRun(t.gpu, { config, data: runData(config) });
    try {
      const estimate = estimateBuiltRun(run.trainer, throughput);
      await run.observatory.next(); // the step-0 snapshot, out of the way
      await run.trainer.train(1); // the first step (pipelines warm)
      const started = performance.now();
      await run.trainer.train(4);
      const measured = (performance.now() - started) / 4000;
      console.log(
        `calibration: ${(throughput.flopsPerSecond / 1e9).toFixed(2)} GFLOP/s, ${(throughput.bytesPerSecond / 1e9).toFixed(2)} GB/s, ` +
          `${(throughput.secondsPerDispatch * 1e6).toFixed(0)} µs a dispatch; step 32-8192-10 b64: estimated ${estimate.stepSeconds.toFixed(4)} s, ` +
          `measured ${measured.toFixed(4)} s (ratio ${(estimate.stepSeconds / measured).toFixed(2)})`,
      );
      expect(Number.isFinite(estimate.stepSeconds) && estimate.stepSeconds > 0).toBe(true);
      expect(estimate.memoryBytes).toBe(run.trainer.layout.memory.total);
    } finally {
      run.destroy();
    }
  });
});
