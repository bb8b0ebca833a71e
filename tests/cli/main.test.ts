// The `deadunits` program through its real bin: help on every command, usage errors with exit status 2 and a
// message naming the flag (and no stack trace).
import { describe, expect, it } from 'vitest';
import { runCli } from './run-cli';

const COMMANDS = ['run', 'resume', 'sweep', 'sweep collect', 'borndead', 'inspect'];

describe('deadunits CLI', () => {
  it('prints the program help with every command, exit 0', async () => {
    const r = await runCli(['--help']);
    expect(r.code, r.stderr).toBe(0);
    for (const c of ['run', 'resume', 'sweep', 'borndead', 'inspect']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
    expect(r.stdout).toContain('Examples:');
  });

  it('prints the version from package.json', async () => {
    const r = await runCli(['--version']);
    expect(r.code).toBe(0);
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it.each(COMMANDS)('prints help with examples for `%s --help`', async (command) => {
    const r = await runCli([...command.split(' '), '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Usage: deadunits ${command}`);
    expect(r.stdout).toMatch(/Examples?:/);
  });

  const usageErrors: [string, string[], RegExp][] = [
    ['an unknown option', ['borndead', '--widht', '3'], /unknown option '--widht'/],
    ['an out-of-range flag', ['borndead', '--width', '0'], /option '--width <n>' argument '0' is invalid\. expected an integer in \[1, 1048576\]/],
    ['a non-number', ['borndead', '--trials', 'many'], /option '--trials <n>' argument 'many' is invalid/],
    [
      'a bad choice',
      ['borndead', '--activation', 'tanh'],
      /option '--activation <kind>' argument 'tanh' is invalid\. Allowed choices are relu, leaky_relu, elu, gelu/,
    ],
    ['a flag that needs another', ['borndead', '--std', '0.1'], /--std applies only to --init normal/],
    [
      'a bad shard',
      ['sweep', '--out', '/tmp/x', '--grid', 'lr=1', '--shard', '2/2'],
      /option '--shard <i\/n\|auto>' argument '2\/2' is invalid\. shard index i = 2 is not in \[0, 1\]/,
    ],
    ['a missing --out', ['sweep', '--grid', 'lr=1'], /required option '--out <dir>'/],
    ['an unknown command', ['sweeep'], /unknown command 'sweeep'/],
    ['a missing argument', ['inspect'], /missing required argument 'checkpoint'/],
  ];
  it.each(usageErrors)('exits 2 on %s, naming it', async (_, args, message) => {
    const r = await runCli(args);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('exits 2 on an invalid sweep point, naming the point, the field and the limit, before running anything', async () => {
    const out = `/tmp/deadunits-main-test-${process.pid}`;
    const r = await runCli(['sweep', '--out', out, '--base', 'dropout_only', '--steps', '200', '--grid', 'lr=0.1,1000', '--grid', 'hidden[*].dropout=0,1']);
    expect(r.code, r.stdout + r.stderr).toBe(2);
    expect(r.stderr).toMatch(/point 1 \(p1-[0-9a-f]{8}: lr=0\.1 hidden\[\*\]\.dropout=1\) hidden\[0\]\.dropout: 1 is not in \[0, 1\)/);
    expect(r.stderr).toMatch(/point 2 \(p2-[0-9a-f]{8}: lr=1000 hidden\[\*\]\.dropout=0\) lr: 1000 is not in \(0, 100\]/);
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});
