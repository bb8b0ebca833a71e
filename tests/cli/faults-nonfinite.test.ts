// A run that diverges stops at the chunk where it happened: the first non-finite step is exact (checked against
// the trainer's own loss history), the first bad layer is named, FAILED.md says so, only checkpoints of good
// states exist, and resuming is refused (it would diverge again bit for bit).
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateDataset } from '../../src/data';
import { modelSpecFromConfig } from '../../src/engine/from-config';
import { Trainer } from '../../src/engine/trainer';
import { listCheckpoints } from '../../src/io/atomic-file';
import { checkpointFromSafetensors } from '../../src/io/checkpoint';
import { countNonFinite } from '../../src/reference/finite';
import { resumeJob, runJob } from '../../src/cli/run-job';
import { readManifest } from '../../src/cli/run-dir';
import { divergentConfig, metricsRows, tempDir, useRunGpu } from './run-fixtures';

describe('a run that diverges', () => {
  const run = useRunGpu();

  it('stops, names the first bad step and layer, and keeps the last good checkpoint', async () => {
    const config = divergentConfig();
    const outDir = await tempDir('diverge');
    const result = await runJob({ config, outDir, checkpointEvery: 10, keepCheckpoints: 5, gpu: run.gpu });
    expect(result.status).toBe('non-finite');

    // The oracle: the same training on a bare trainer, its per-step losses read back.
    const trainer = await Trainer.create(run.gpu, modelSpecFromConfig(config), generateDataset(config));
    await trainer.train(result.step);
    const losses = await trainer.readLosses(0, result.step);
    const params = await trainer.readParameters();
    trainer.destroy();
    const firstBad = losses.findIndex((v) => !Number.isFinite(v)) + 1;
    expect(firstBad, 'the fixture must really diverge').toBeGreaterThan(20);
    // Detected at the end of the chunk in flight, never later than the next checkpoint step.
    expect(result.step).toBeGreaterThanOrEqual(firstBad);
    expect(result.step).toBeLessThanOrEqual(Math.ceil(firstBad / 10) * 10);
    expect(result.message).toContain(`first at training step ${firstBad};`);
    const badLayer = params.findIndex((p) => countNonFinite(p.weights).bad + countNonFinite(p.bias).bad > 0) + 1;
    expect(badLayer, 'the parameters must be non-finite too').toBeGreaterThan(0);
    const { weights, bias } = params[badLayer - 1];
    expect(result.message).toContain(
      `at step ${result.step} the first layer with non-finite parameters is weight layer ${badLayer} (${countNonFinite(weights).bad} weights, ${countNonFinite(bias).bad} biases)`,
    );

    const failed = await readFile(join(outDir, 'FAILED.md'), 'utf8');
    expect(failed).toContain(`training step ${firstBad}`);
    expect(failed).toContain('checkpoints/checkpoint-0000000020.safetensors');
    // Only good states were saved (the reader itself refuses non-finite tensors).
    const checkpoints = await listCheckpoints(join(outDir, 'checkpoints'));
    expect(checkpoints.map((c) => c.step)).toEqual([10, 20]);
    for (const c of checkpoints) checkpointFromSafetensors(new Uint8Array(await readFile(c.path)));

    const rows = await metricsRows(outDir);
    expect(rows[rows.length - 1].step).toBe(result.step);
    expect(rows.some((r) => r.loss !== null && !Number.isFinite(r.loss))).toBe(true);
    expect(await readManifest(outDir)).toMatchObject({ status: 'non-finite', step: 20 });
    const report = await readFile(join(outDir, 'report.md'), 'utf8');
    expect(report).toContain(`**Stopped: the run diverged** after ${result.step} of 100 steps`);
    // The answer says the run diverged, at which training step and in which layer its pre-activations went bad, and
    // never calls NaN units dead (issue 12: "256 of 256 hidden units are dead" blamed the updates for a divergence).
    const headline = /\*\*After [\d,]+ steps.*?\*\*/.exec(report)?.[0] ?? '';
    expect(headline).toMatch(/the run diverged — pre-activations became NaN or ±Inf at step \d+, first in layer \d+\./);
    expect(headline).toMatch(/hidden units are non-finite now/);
    expect(headline).not.toMatch(/are dead/);
    expect(report).not.toMatch(/the network's output no longer depends on its input/);
    const lastRow = rows[rows.length - 1];
    expect(
      lastRow.layers.some((l) => (l.nonFinite ?? 0) > 0),
      'the last snapshot counts non-finite units',
    ).toBe(true);
    expect(lastRow.layers.every((l) => l.dead + (l.nonFinite ?? 0) <= l.width)).toBe(true);
    await expect(resumeJob(outDir, { gpu: run.gpu })).rejects.toThrow(/stopped on a non-finite value .*resuming would repeat it bit for bit/);
  });
});
