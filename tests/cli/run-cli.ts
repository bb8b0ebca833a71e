// Runs the real `deadunits` bin (bin/deadunits.mjs) in a child process, as a user would.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';

export const BIN = resolve(import.meta.dirname, '../../bin/deadunits.mjs');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(args: string[], options: { timeoutMs?: number; cwd?: string; env?: Record<string, string> } = {}): Promise<CliResult> {
  return new Promise((done) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      {
        cwd: options.cwd ?? resolve(import.meta.dirname, '../..'),
        env: options.env ? { ...process.env, ...options.env } : process.env,
        timeout: options.timeoutMs ?? 120_000,
        maxBuffer: 64 * 2 ** 20,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        done({ code, stdout, stderr });
      },
    );
  });
}

export interface EntryExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * The run/resume CLI entry (tests/cli/run-cli-entry.ts) as a child process; `onStart` gets the child while it runs
 * (to signal it, or to start a second one beside it).
 */
export function runCliEntry(args: string[], onStart?: (child: ChildProcess) => void): Promise<EntryExit> {
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'tests/cli/run-cli-entry.ts', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  onStart?.(child);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}
