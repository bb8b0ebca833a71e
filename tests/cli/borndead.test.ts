// `borndead` through the bin: its count of dead networks is the CPU reference's for the same seeds, and the
// interval is the Wilson interval of that count.
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { bornDeadSpecFromConfig, bornDeadSpecFromFlags, describeNetwork, type BornDeadFlags } from '../../src/cli/commands/borndead';
import { presetConfig } from '../../src/config';
import { wilsonInterval } from '../../src/engine/borndead-stats';
import { bornDeadTrialReference } from '../../src/reference/borndead';
import { trialSeed } from '../../src/spec/borndead-trials';
import { BIN, runCli } from './run-cli';

const FLAGS: BornDeadFlags = {
  width: 3,
  depth: 3,
  inputs: 2,
  activation: 'relu',
  init: 'he_normal',
  bias: -0.1,
  probe: 6,
  trials: 300,
  seed: 40,
  confidence: 0.9,
  progress: 'none',
};

describe('borndead through the bin', () => {
  it('counts the dead networks the CPU reference counts, with the Wilson interval', async () => {
    const r = await runCli([
      'borndead',
      '--width',
      '3',
      '--depth',
      '3',
      '--inputs',
      '2',
      '--bias',
      '-0.1',
      '--probe',
      '6',
      '--trials',
      '300',
      '--seed',
      '40',
      '--confidence',
      '0.9',
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      trials: number;
      dead: number;
      estimate: number;
      low: number;
      high: number;
      confidence: number;
      interval: string;
      adapter: string;
      trialsPerSecond: number;
    };
    const spec = bornDeadSpecFromFlags(FLAGS);
    let dead = 0;
    let nearZero = 0;
    for (let t = 0; t < FLAGS.trials; t++) {
      const v = bornDeadTrialReference(spec, trialSeed(FLAGS.seed, t));
      if (v.alive === 0) dead++;
      if (v.maxPre !== 0 && Math.abs(v.maxPre) < 1e-4) nearZero++;
    }
    // Verdicts within rounding of zero may differ between CPU and GPU; there are none or almost none here.
    expect(Math.abs(out.dead - dead)).toBeLessThanOrEqual(nearZero);
    expect(dead).toBeGreaterThan(0);
    expect(dead).toBeLessThan(FLAGS.trials);
    expect(out.trials).toBe(300);
    const ci = wilsonInterval(out.dead, 300, 0.9);
    expect([out.estimate, out.low, out.high, out.confidence]).toEqual([ci.estimate, ci.low, ci.high, 0.9]);
    expect(out.interval).toBe('wilson');
    expect(out.adapter.length).toBeGreaterThan(0);
    expect(out.trialsPerSecond).toBeGreaterThan(0);
  });

  it('prints a readable report', async () => {
    const r = await runCli(['borndead', '--width', '1', '--depth', '1', '--probe', '1', '--trials', '200', '--progress', 'lines']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^P\(dead\):\s+0\.\d{4}, 95\.0% Wilson interval \[0\.\d{4}, 0\.\d{4}\]$/m);
    expect(r.stdout).toMatch(/^trials:\s+200, seeds 1\.\.200$/m);
    expect(r.stderr).toMatch(/borndead: 200\/200 trials/);
  });

  it('reports the trials done when interrupted by SIGINT, exit 130', async () => {
    const child = spawn(process.execPath, [BIN, 'borndead', '--width', '64', '--depth', '8', '--trials', '1000000000', '--batch', '64', '--progress', 'lines']);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      // The first progress line: trials are running.
      if (/borndead: \d+\//.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    // Never leave the child behind, whatever happens to the test.
    const timer = setTimeout(() => child.kill('SIGKILL'), 90_000);
    const code = await new Promise<number | null>((done) => child.on('exit', (c) => done(c)));
    clearTimeout(timer);
    expect(code, stderr).toBe(130);
    expect(stdout).toMatch(/^trials:\s+\d+ of 1000000000 \(interrupted\)/m);
    expect(stdout).toMatch(/^P\(dead\):/m);
  });

  it('checks flags that depend on each other', () => {
    expect(() => bornDeadSpecFromFlags({ ...FLAGS, init: 'normal' })).toThrow('--init normal needs --std');
    expect(() => bornDeadSpecFromFlags({ ...FLAGS, limit: 1 })).toThrow('--limit applies only to --init uniform');
    expect(() => bornDeadSpecFromFlags({ ...FLAGS, alpha: 0.1 })).toThrow('--alpha applies only to leaky_relu and elu');
    expect(() => bornDeadSpecFromFlags({ ...FLAGS, activation: 'leaky_relu', alpha: 2 })).toThrow('--alpha 2 is not in (0, 1) (alpha of leaky_relu)');
    const spec = bornDeadSpecFromFlags({ ...FLAGS, activation: 'elu', init: 'uniform', limit: 0.5 });
    expect(spec.hidden).toHaveLength(3);
    expect(spec.hidden[2]).toEqual({ width: 3, activation: { kind: 'elu', alpha: 1 }, weights: { kind: 'uniform', limit: 0.5 }, bias: -0.1 });
    expect(describeNetwork(spec)).toBe('2 -> 3 x 3 elu(1) uniform(0.5) b=-0.1');
  });

  it('takes the network from a preset', () => {
    const spec = bornDeadSpecFromConfig(presetConfig('deep_narrow'), 32);
    expect(describeNetwork(spec)).toBe('2 -> 16 x 3 relu he_normal b=0');
    expect(spec.probeRows).toBe(32);
    const negative = bornDeadSpecFromConfig(presetConfig('negative_bias'), 8);
    expect(negative.hidden.map((h) => [h.width, h.bias, h.weights])).toEqual([
      [512, -1, { kind: 'normal', std: 0.05 }],
      [512, -1, { kind: 'normal', std: 0.05 }],
    ]);
  });
});
