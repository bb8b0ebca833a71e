// The `run` and `resume` commands as real processes: SIGTERM / SIGINT finish the chunk in flight, write a
// checkpoint and exit 143 / 130; `resume` then completes the run bit-identical to an uninterrupted one. Also the
// exit statuses of a diverged run (3) and of bad input (2, naming the field).
import type { ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listCheckpoints } from '../../src/io/atomic-file';
import { toJson } from '../../src/config';
import { runJob } from '../../src/cli/run-job';
import { readManifest } from '../../src/cli/run-dir';
import { runCliEntry } from './run-cli';
import { divergentConfig, expectSameFiles, metricsRows, tempDir, tinyConfig, useRunGpu, withoutTiming } from './run-fixtures';

/** Polls until `dir` holds a checkpoint (the run is under way), then sends `signal`. */
function signalOnceTraining(dir: string, signal: NodeJS.Signals) {
  return (child: ChildProcess) => {
    const timer = setInterval(async () => {
      if ((await listCheckpoints(join(dir, 'checkpoints'))).length > 0) {
        clearInterval(timer);
        child.kill(signal);
      }
    }, 50);
    child.on('exit', () => clearInterval(timer));
  };
}

describe('run and resume as processes', () => {
  const run = useRunGpu();

  for (const [signal, status] of [
    ['SIGTERM', 143],
    ['SIGINT', 130],
  ] as const) {
    it(`${signal}: checkpoint, exit ${status}; resume completes bit-identical to an uninterrupted run`, async () => {
      const config = tinyConfig({ steps: 2000, snapshot: { every: 10, probeSize: 16 } });
      const configFile = join(await tempDir('cfg'), 'tiny.json');
      await writeFile(configFile, toJson(config));
      const dir = join(await tempDir('sig'), 'run');
      const exit = await runCliEntry(
        ['run', '--config', configFile, '--out', dir, '--checkpoint-every', '100', '--keep', '2', '--unit-maps', 'none', '--progress', 'lines'],
        signalOnceTraining(dir, signal),
      );
      expect(exit.stderr).toContain(`${signal}: finishing the current chunk and writing a checkpoint`);
      expect({ code: exit.code, signal: exit.signal }, exit.stderr).toEqual({ code: status, signal: null });
      const manifest = await readManifest(dir);
      expect(manifest?.status).toBe('interrupted');
      expect(manifest!.step).toBeGreaterThan(0);
      expect(manifest!.step, 'the signal must arrive mid-run for this test to mean anything').toBeLessThan(2000);
      const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
      expect(checkpoints[checkpoints.length - 1].step).toBe(manifest!.step);
      expect(exit.stdout).toMatch(/^interrupted at step \d+: /);

      const resumed = await runCliEntry(['resume', dir, '--progress', 'none']);
      expect(resumed.code, resumed.stderr).toBe(0);
      expect(resumed.stdout).toMatch(/^completed at step 2000: /);

      const straightDir = await tempDir('straight');
      await runJob({ config, outDir: straightDir, checkpointEvery: 100, keepCheckpoints: 2, unitMaps: 'none', gpu: run.gpu });
      await expectSameFiles(straightDir, dir, ['checkpoints/checkpoint-0000002000.safetensors', 'config.json']);
      expect(withoutTiming(await metricsRows(dir))).toEqual(withoutTiming(await metricsRows(straightDir)));
    });
  }

  it('exits 3 on a diverged run and 2 on bad input, naming the field', async () => {
    const configFile = join(await tempDir('cfg'), 'diverge.json');
    await writeFile(configFile, toJson(divergentConfig()));
    const dir = join(await tempDir('div'), 'run');
    const diverged = await runCliEntry(['run', '--config', configFile, '--out', dir, '--checkpoint-every', '10', '--progress', 'none']);
    expect(diverged.code, diverged.stderr).toBe(3);
    expect(diverged.stdout).toMatch(/first at training step \d+/);
    expect(await readFile(join(dir, 'FAILED.md'), 'utf8')).toMatch(/^# Run stopped: non-finite values/);

    const bad = await runCliEntry(['run', '--preset', 'dropout_only', '--set', 'hidden[0].dropout=1', '--out', join(dir, 'x')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/hidden\[0\]\.dropout: 1 is not in \[0, 1\)/);
    const steps = await runCliEntry(['run', '--steps', '5000000000', '--out', join(dir, 'y')]);
    expect(steps.code).toBe(2);
    expect(steps.stderr).toMatch(/steps: 5000000000 is not an integer in \[1, 4294967295\]/);
    const notRun = await runCliEntry(['resume', dir + '-missing']);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toMatch(/is not a deadunits run folder \(no run\.json\)/);
  });
});
