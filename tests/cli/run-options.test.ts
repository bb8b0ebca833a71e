// How `run` builds its configuration from flags, and how it reports progress.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, presetConfig, toJson } from '../../src/config';
import { applySet, configFromFlags, integerFlag, parseSetPath, parseSetValue } from '../../src/cli/commands/run-options';
import { defaultOutDir, runCommand } from '../../src/cli/commands/run';
import { resumeCommand } from '../../src/cli/commands/resume';
import { createProgress, formatDuration } from '../../src/cli/progress';
import type { MetricsRow } from '../../src/report/metrics';
import { removeTempDirs, tempDir, tinyConfig } from './run-fixtures';

afterAll(removeTempDirs);

describe('--set', () => {
  it('parses paths and values', () => {
    expect(parseSetPath('hidden[1].init.bias.value')).toEqual(['hidden', 1, 'init', 'bias', 'value']);
    expect(parseSetPath('lr')).toEqual(['lr']);
    expect(() => parseSetPath('hidden.[1]')).toThrow(/"\[1\]" is not a field name/);
    expect([parseSetValue('0.5'), parseSetValue('true'), parseSetValue('relu'), parseSetValue('{"kind":"sgd"}')]).toEqual([0.5, true, 'relu', { kind: 'sgd' }]);
  });

  it('overrides fields, resets an object whose kind changes, and names bad paths', () => {
    const c = structuredClone(presetConfig('dropout_only')) as unknown as Record<string, unknown>;
    applySet(c, 'lr=0.5');
    applySet(c, 'hidden[1].dropout=0.3');
    applySet(c, 'optimizer.kind=adam');
    applySet(c, 'hidden[0].activation.kind=leaky_relu');
    expect(c.lr).toBe(0.5);
    expect((c.hidden as { dropout: number }[])[1].dropout).toBe(0.3);
    expect(c.optimizer).toEqual({ kind: 'adam' });
    expect((c.hidden as { activation: unknown }[])[0].activation).toEqual({ kind: 'leaky_relu' });
    expect(() => applySet(c, 'hidden[5].width=3')).toThrow(/hidden\[5\]: index 5 is out of range \(hidden has 2 entries\)/);
    expect(() => applySet(c, 'nope.x=1')).toThrow(/nope: is not a field of the configuration \(fields: inputSize, hidden/);
    expect(() => applySet(c, 'lr.x=1')).toThrow(/lr\.x: lr is not an object/);
    expect(() => applySet(c, 'lr')).toThrow(/expected path=value/);
  });
});

describe('configFromFlags', () => {
  it('starts from a preset (dropout_only by default), applies --set and the shortcuts, validates once', async () => {
    const { config, name } = await configFromFlags({ set: ['lr=0.2', 'optimizer.kind=sgd'], steps: '1000', seed: '9', every: '50' });
    expect(name).toBe('dropout_only');
    expect(config).toMatchObject({ lr: 0.2, optimizer: { kind: 'sgd' }, steps: 1000, seed: 9, snapshot: { every: 50, probeSize: 256 } });
    const lr = await configFromFlags({ preset: 'lr_too_high' });
    expect(lr.config).toEqual(presetConfig('lr_too_high'));
  });

  it('reads a config file and reports every problem with the field and the limit', async () => {
    const dir = await tempDir('flags');
    const file = join(dir, 'mine.json');
    await writeFile(file, toJson(tinyConfig()));
    const { config, name } = await configFromFlags({ config: file, set: ['hidden[0].width=33'] });
    expect(name).toBe('mine');
    expect(config.hidden[0].width).toBe(33);
    await expect(configFromFlags({ config: file, set: ['hidden[0].dropout=1'] })).rejects.toThrow(/hidden\[0\]\.dropout: 1 is not in \[0, 1\)/);
    await expect(configFromFlags({ steps: '5000000000' })).rejects.toThrow(/steps: 5000000000 is not an integer in \[1, 4294967295\]/);
    await expect(configFromFlags({ steps: '1e3' })).rejects.toThrow(/--steps: "1e3" is not a non-negative integer/);
    await expect(configFromFlags({ every: '200000' })).rejects.toThrow(/snapshot\.every: 200000 is larger than steps = 100000/);
    await expect(configFromFlags({ set: ['lrr=0.1'] })).rejects.toThrow(/lrr: is not a known field/);
    await expect(configFromFlags({ preset: 'nope' })).rejects.toThrow(/--preset: "nope" is not one of dropout_only/);
    await expect(configFromFlags({ preset: 'dropout_only', config: file })).rejects.toThrow(ConfigError);
    await expect(configFromFlags({ config: join(dir, 'missing.json') })).rejects.toThrow(/--config: cannot read .*missing\.json: ENOENT/);
    await writeFile(join(dir, 'bad.json'), '{ nope');
    await expect(configFromFlags({ config: join(dir, 'bad.json') })).rejects.toThrow(/bad\.json is not valid JSON/);
    expect(() => integerFlag('--keep', '-1')).toThrow(/--keep: "-1" is not a non-negative integer/);
  });

  it('names a default run folder after the run, its seed and the time', () => {
    expect(defaultOutDir('my config', 7, new Date('2026-11-27T06:40:01.123Z'))).toBe('runs/my_config-seed7-20261127-064001');
  });
});

describe('--help', () => {
  it('documents every flag of run and resume', () => {
    const run = runCommand().helpInformation();
    for (const flag of [
      '--preset',
      '--config',
      '--set',
      '--steps',
      '--seed',
      '--every',
      '--out',
      '--checkpoint-every',
      '--keep',
      '--csv',
      '--unit-maps',
      '--progress',
    ])
      expect(run).toContain(flag);
    const resume = resumeCommand().helpInformation();
    expect(resume).toMatch(/resume \[options\] <dir>/);
    for (const flag of ['--checkpoint-every', '--keep', '--csv', '--unit-maps', '--progress']) expect(resume).toContain(flag);
  });
});

describe('progress', () => {
  const sink = () => {
    const lines: string[] = [];
    const stream = new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }) as unknown as NodeJS.WriteStream;
    return { lines, stream };
  };
  const row: MetricsRow = {
    step: 500,
    elapsedSeconds: 5,
    loss: 0.25,
    stepsPerSecond: 100,
    skipped: 0,
    layers: [{ width: 8, dead: 2, dropped: 3, revived: 0, everDead: 2 }],
  };

  it('prints plain lines at most every interval, with steps/s, ETA, loss and dead units, and a last line at stop', () => {
    const { lines, stream } = sink();
    let t = 0;
    const p = createProgress({ mode: 'auto', total: 1000, start: 0, stream, lineInterval: 5, now: () => t });
    t = 1;
    p.update(100, null);
    t = 2;
    p.update(200, null);
    t = 5;
    p.update(500, row);
    p.log('a message');
    t = 6;
    p.update(600, row);
    t = 7;
    p.update(700, row);
    p.stop();
    expect(lines).toEqual([
      'step 100/1000 (10.0 %) 100.0 steps/s ETA 9s\n',
      'a message\n',
      'step 600/1000 (60.0 %) 100.0 steps/s ETA 4s loss 0.2500 dead L1 2/8\n',
      'step 700/1000 (70.0 %) 100.0 steps/s ETA 3s loss 0.2500 dead L1 2/8\n',
    ]);
  });

  it('shows the estimate per step and its ETA until a speed is measured', () => {
    const { lines, stream } = sink();
    let t = 0;
    const p = createProgress({ mode: 'lines', total: 1000, start: 0, stream, lineInterval: 5, now: () => t });
    p.estimate(0.5);
    p.update(0, null);
    t = 10;
    p.update(20, null);
    expect(lines).toEqual(['step 0/1000 (0.0 %) ≈ 500 ms per step (estimate) ETA ≈ 8m20s\n', 'step 20/1000 (2.0 %) 2.0 steps/s ETA 8m10s\n']);
  });

  it('formats durations', () => {
    expect([12, 185, 3720, NaN].map(formatDuration)).toEqual(['12s', '3m05s', '1h02m', '?']);
  });
});
