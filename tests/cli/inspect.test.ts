// `inspect` on a checkpoint written from a tiny real run (Trainer + Observatory on the adapter), in process and
// through the bin; truncated and foreign files are errors that name the file.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCheckpoint, resolveCheckpoint, summarizeTensor } from '../../src/cli/commands/inspect';
import { matchingPreset } from '../../src/cli/config-summary';
import { parseRunConfig, presetConfig } from '../../src/config';
import { generateDataset, probeSet } from '../../src/data';
import { modelSpecFromConfig } from '../../src/engine/from-config';
import { Observatory, type ObservatoryState } from '../../src/engine/observatory';
import { Trainer, type TrainerState } from '../../src/engine/trainer';
import { CheckpointError, checkpointToSafetensors } from '../../src/io/checkpoint';
import { summarizeUnitHistory } from '../../src/report/seed-answer';
import { useGpu } from '../gpu/harness';
import { runCli } from './run-cli';

const config = parseRunConfig({
  inputSize: 4,
  hidden: [
    { width: 8, dropout: 0.5 },
    { width: 5, activation: { kind: 'leaky_relu' } },
  ],
  dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
  batchSize: 8,
  optimizer: { kind: 'momentum' },
  lr: 0.5,
  steps: 12,
  snapshot: { every: 4, probeSize: 16 },
});

describe('inspect', () => {
  const t = useGpu();
  let dir: string;
  let file: string;
  let trainer: TrainerState;
  let observatory: ObservatoryState;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-inspect-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a checkpoint from a tiny run', async () => {
    const dataset = generateDataset(config);
    const probe = probeSet(dataset, config.snapshot.probeSize, config.seed);
    const tr = await Trainer.create(t.gpu, { ...modelSpecFromConfig(config), probeRows: probe.samples }, dataset);
    const obs = await Observatory.create(tr, { every: 4, probeInputs: probe.inputs, probeRows: probe.samples, ringSize: 4 });
    await tr.train(12);
    obs.close();
    let snapshots = 0;
    for await (const snapshot of obs.snapshots()) snapshots += snapshot.step >= 0 ? 1 : 0;
    expect(snapshots).toBeGreaterThan(0);
    trainer = await tr.readState();
    observatory = await obs.readState();
    obs.destroy();
    tr.destroy();
    // A NaN in the loss ring (allowed there) must be counted, not hidden.
    trainer.lossHistory[0] = NaN;
    file = join(dir, 'checkpoint-0000000012.safetensors');
    await writeFile(file, checkpointToSafetensors({ trainer, observatory }, config));
  });

  it('summarizes format, step, config, every tensor and the observatory', async () => {
    const s = await inspectCheckpoint(file);
    expect(s.format).toBe('deadunits-checkpoint');
    expect(s.version).toBe(1);
    expect(s.step).toBe(12);
    expect(s.optimizer).toBe('momentum');
    expect(s.configValid).toBe(true);
    expect(s.config).toEqual(JSON.parse(JSON.stringify(config)));
    expect(s.configSummary).toBe(
      '4 -> 8 relu p=0.5 he_normal -> 5 leaky_relu(0.01) he_normal -> 3; softmax_ce, momentum lr 0.5, batch 8, 12 steps, seed 1, gaussian_mixture(64)',
    );
    expect(s.preset).toBeNull();
    expect(s.tensors.map((x) => x.name)).toEqual([
      'layers.1.bias',
      'layers.1.bias.momentum',
      'layers.1.weight',
      'layers.1.weight.momentum',
      'layers.2.bias',
      'layers.2.bias.momentum',
      'layers.2.weight',
      'layers.2.weight.momentum',
      'layers.3.bias',
      'layers.3.bias.momentum',
      'layers.3.weight',
      'layers.3.weight.momentum',
      'loss_history',
      'step_state',
      'train_record.1',
      'train_record.2',
      'unit_history.1',
      'unit_history.2',
    ]);
    const w1 = s.tensors.find((x) => x.name === 'layers.1.weight')!;
    expect(w1).toEqual(summarizeTensor('layers.1.weight', { dtype: 'F32', shape: [4, 8], data: trainer.layers[0].weights }));
    expect(w1.bytes).toBe(4 * 8 * 4);
    const values = Array.from(trainer.layers[0].weights);
    expect(w1.min).toBe(Math.min(...values));
    expect(w1.max).toBe(Math.max(...values));
    expect(w1.mean).toBeCloseTo(values.reduce((a, b) => a + b, 0) / values.length, 12);
    expect(s.tensors.find((x) => x.name === 'loss_history')!.nonFinite).toBe(1);
    expect(s.tensors.find((x) => x.name === 'unit_history.2')!.shape).toEqual([5, 8]);
    expect(s.tensors.find((x) => x.name === 'train_record.2')!.shape).toEqual([5, 4]);
    expect(s.observatory?.lastSnapshotStep).toBe(12);
    // With the training records the checkpoint carries, read with the config's frozen window.
    const training = (l: number) => ({ record: observatory.trainRecord![l], step: 12, window: config.snapshot.frozenWindow });
    expect(s.observatory?.layers).toEqual([
      summarizeUnitHistory(observatory.unitHistory[0], 8, training(0)),
      summarizeUnitHistory(observatory.unitHistory[1], 5, training(1)),
    ]);
  });

  it('names the matching preset', () => {
    expect(matchingPreset(presetConfig('lr_too_high'))).toBe('lr_too_high');
    expect(matchingPreset({ ...presetConfig('lr_too_high'), seed: 2 })).toBeUndefined();
  });

  it('prints text and JSON through the bin', async () => {
    const text = await runCli(['inspect', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^step:\s+12$/m);
    expect(text.stdout).toMatch(/^\s+layers\.1\.weight\s+F32\s+\[4, 8\]\s+128\s/m);
    expect(text.stdout).toMatch(/^\s+L2\s+5\s/m);
    const json = await runCli(['inspect', '--json', file]);
    expect(json.code, json.stderr).toBe(0);
    const parsed = JSON.parse(json.stdout) as { step: number; tensors: unknown[]; config: unknown };
    expect(parsed.step).toBe(12);
    expect(parsed.tensors).toHaveLength(18);
    expect(parsed.config).toEqual(JSON.parse(JSON.stringify(config)));
  });

  it("takes a run folder's latest checkpoint", async () => {
    const run = join(dir, 'run');
    await mkdir(join(run, 'checkpoints'), { recursive: true });
    const bytes = checkpointToSafetensors({ trainer, observatory }, config);
    await writeFile(join(run, 'checkpoints', 'checkpoint-0000000004.safetensors'), bytes);
    await writeFile(join(run, 'checkpoints', 'checkpoint-0000000012.safetensors'), bytes);
    expect(await resolveCheckpoint(run)).toBe(join(run, 'checkpoints', 'checkpoint-0000000012.safetensors'));
    expect(await resolveCheckpoint(file)).toBe(file);
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(resolveCheckpoint(empty)).rejects.toThrow(/empty: a folder without checkpoints/);
    const r = await runCli(['inspect', run]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('checkpoint-0000000012.safetensors');
  });

  it('rejects truncated and foreign files with an error naming the file', async () => {
    const bytes = checkpointToSafetensors({ trainer, observatory }, config);
    const truncated = join(dir, 'truncated.safetensors');
    await writeFile(truncated, bytes.subarray(0, bytes.length - 7));
    await expect(inspectCheckpoint(truncated)).rejects.toThrow(CheckpointError);
    await expect(inspectCheckpoint(truncated)).rejects.toThrow(new RegExp(`^${truncated.replace(/[.]/g, '\\.')}: .*(truncated|data area)`));
    const foreign = join(dir, 'notes.txt');
    await writeFile(foreign, 'hello, this is not a checkpoint at all');
    await expect(inspectCheckpoint(foreign)).rejects.toThrow(/notes\.txt: header length/);
    await expect(inspectCheckpoint(join(dir, 'missing.safetensors'))).rejects.toThrow(/missing\.safetensors: cannot read/);

    const r = await runCli(['inspect', truncated]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`error: ${truncated}: `);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
