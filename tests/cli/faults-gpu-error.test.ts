// GPU errors in the CLI (issue 18), on real adapters. A net the GPU cannot hold (SwiftShader, from Debian's chromium,
// cannot allocate a 1 GiB buffer) fails before its first step: exit 2, one message, no run folder. A buffer destroyed
// mid-run (a real validation error) stops the run: FAILED.md names the error and the kernel, no metrics row,
// map or checkpoint comes from the failed chunk, the last good checkpoint stays, and resuming from it ends
// bit-identical to a run that never failed.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readManifest } from '../../src/cli/run-dir';
import { resumeJob, runJob, type RunJobOptions } from '../../src/cli/run-job';
import { listCheckpoints } from '../../src/io/atomic-file';
import { runCli } from './run-cli';
import { expectSameFiles, listFiles, metricsRows, tempDir, tinyConfig, useRunGpu, withoutTiming } from './run-fixtures';

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

describe('GPU errors in a run', () => {
  const run = useRunGpu();

  it('a net the GPU cannot hold (SwiftShader, 1 GiB weights): exit 2, one message, no run folder, no metrics', async () => {
    expect(existsSync(SWIFTSHADER_ICD), `${SWIFTSHADER_ICD} (Debian's chromium) is needed for this test`).toBe(true);
    const out = join(await tempDir('oom'), 'run');
    const args = ['run', '--preset', 'lr_too_high', '--set', 'hidden[0].width=16384', '--set', 'hidden[1].width=16384'];
    const result = await runCli([...args, '--steps', '60', '--every', '20', '--out', out, '--progress', 'none'], {
      env: { VK_ICD_FILENAMES: SWIFTSHADER_ICD },
      timeoutMs: 300_000,
    });
    expect(result.code, result.stderr).toBe(2);
    const errors = result.stderr.split('\n').filter((line) => line.startsWith('error: '));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(
      /^error: The GPU could not allocate the (weights|gradients of the weights) \(16384 x 16384\) of hidden layer 2 \(Trainer\.W2\.0\.0(\.grad)?, 1\.0 GiB\): out of memory\. /,
    );
    expect(errors[0]).toMatch(/This run needs about [\d.]+ GiB of GPU memory in all \(parameters .*\) on google \/ swiftshader/);
    expect(errors[0]).toMatch(/Nothing was trained\. To fit, try narrower hidden layers \(hidden\[i\]\.width/);
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
  }, 320_000);

  it('a buffer destroyed mid-run: stops with FAILED.md, keeps the last good checkpoint, and resumes bit-identical', async () => {
    const config = tinyConfig();
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 10, keepCheckpoints: 5, unitMaps: 'npy', csv: true, gpu: run.gpu };
    const straightDir = await tempDir('straight');
    const straight = await runJob({ ...common, outDir: straightDir });

    const dir = await tempDir('gpu-error');
    const destroyedAt: number[] = [];
    const failed = await runJob({
      ...common,
      outDir: dir,
      testHooks: {
        // After the chunk that ends at step 20 (its snapshots written, its checkpoint not yet).
        afterChunk: ({ step, trainer }) => {
          if (step === 20 && destroyedAt.length === 0) {
            destroyedAt.push(step);
            trainer.buffers.layers[0].weights[0][0].value.destroy();
          }
        },
      },
    });
    expect(destroyedAt).toEqual([20]);
    expect(failed.status).toBe('gpu-error');
    expect(failed.step).toBe(10);
    expect(failed.message).toMatch(
      /^GPU validation error: .*Trainer\.W1\.0\.0.* \[kernel [\w.]+, command buffer [\w.]+\]\. Training stopped; nothing computed after step 20 is used\.$/,
    );

    const failedMd = await readFile(join(dir, 'FAILED.md'), 'utf8');
    expect(failedMd).toContain('# Run stopped: GPU error');
    expect(failedMd).toMatch(/- Kernel: `[\w.]+`/);
    expect(failedMd).toContain('Trainer.W1.0.0');
    expect(failedMd).toContain('The last good checkpoint is `checkpoints/checkpoint-0000000010.safetensors` (step 10)');
    expect(await readManifest(dir)).toMatchObject({ status: 'gpu-error', step: 10 });
    expect((await listCheckpoints(join(dir, 'checkpoints'))).map((c) => c.step)).toEqual([10]);
    await expectSameFiles(straightDir, dir, ['checkpoints/checkpoint-0000000010.safetensors']);
    // Rows up to the last chunk that ran clean, the same as the straight run's; none after it.
    const rows = withoutTiming(await metricsRows(dir));
    expect(rows.map((r) => r.step)).toEqual([0, 5, 10, 15, 20]);
    expect(rows).toEqual(withoutTiming(await metricsRows(straightDir)).slice(0, rows.length));
    expect(await readFile(join(dir, 'report.md'), 'utf8')).toContain('**Stopped: a GPU error.**');

    const resumed = await resumeJob(dir, { gpu: run.gpu });
    expect(resumed.status).toBe('completed');
    expect(resumed.answer).toEqual(straight.answer);
    expect(existsSync(join(dir, 'FAILED.md'))).toBe(false);
    const files = await listFiles(straightDir);
    expect(await listFiles(dir)).toEqual(files);
    await expectSameFiles(
      straightDir,
      dir,
      files.filter((f) => f.startsWith('checkpoints/') || f.startsWith('maps/')),
    );
    expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
    expect(await readManifest(dir)).toMatchObject({ status: 'completed', step: 40 });
  });
});
