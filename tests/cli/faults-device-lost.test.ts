// A device lost mid-run (simulated with device.destroy(), which fires device.lost as a real loss does): the run
// acquires a new device, reloads its latest checkpoint, cuts the metrics after it, and ends bit-identical to a run
// that never lost its device, losing at most one checkpoint interval of work.
import { describe, expect, it } from 'vitest';
import { acquireNodeGpu } from '../../src/gpu/dawn';
import { runJob, type RunJobOptions } from '../../src/cli/run-job';
import { expectSameFiles, listFiles, metricsRows, tempDir, tinyConfig, useRunGpu, withoutTiming } from './run-fixtures';

describe('device loss', () => {
  const run = useRunGpu();

  it('re-acquires a device, resumes from the latest checkpoint and ends as if nothing happened', async () => {
    const config = tinyConfig();
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 10, keepCheckpoints: 2, unitMaps: 'npy', csv: true };

    const straightDir = await tempDir('straight');
    const straight = await runJob({ ...common, outDir: straightDir, gpu: run.gpu });

    // A device of its own, destroyed after the chunk that ends at step 20 (its snapshots written, its checkpoint not).
    const doomed = await acquireNodeGpu();
    const dir = await tempDir('lost');
    const lines: string[] = [];
    const destroyedAt: number[] = [];
    const result = await runJob({
      ...common,
      outDir: dir,
      gpu: doomed,
      log: (l) => lines.push(l),
      testHooks: {
        afterChunk: ({ step, gpu: current }) => {
          if (step === 20 && destroyedAt.length === 0) {
            destroyedAt.push(step);
            current.device.destroy();
          }
        },
      },
    });
    expect(destroyedAt).toEqual([20]);
    expect(result.status).toBe('completed');
    expect(result.recoveries).toBe(1);
    expect(lines.join('\n')).toMatch(/WebGPU device lost .*continuing from the latest checkpoint/);
    expect(lines.join('\n')).toMatch(/continuing .* from step 10/);
    expect(result.answer).toEqual(straight.answer);

    const files = await listFiles(straightDir);
    expect(await listFiles(dir)).toEqual(files);
    await expectSameFiles(
      straightDir,
      dir,
      files.filter((f) => f.startsWith('checkpoints/') || f.startsWith('maps/')),
    );
    expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
  });
});
