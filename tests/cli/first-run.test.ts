// A new user's first commands, from a shell: `deadunits run --steps 1` trains (the snapshot interval follows the
// steps, with one line saying so), and Dawn's adapter warnings do not reach the terminal, a file or a pipe; with
// progress on, the run's estimate on this adapter comes first.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BIN } from './run-cli';
import { metricsRows, removeTempDirs, tempDir } from './run-fixtures';

/** Runs the bin through bash with stderr into a file (a real file descriptor, as a shell gives it). */
function shell(command: string, cwd: string): Promise<{ code: number; stdout: string }> {
  return new Promise((done) => {
    execFile('bash', ['-c', command], { cwd, timeout: 120_000, env: { ...process.env, BIN, NODE: process.execPath } }, (error, stdout) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout }),
    );
  });
}

afterAll(removeTempDirs);

describe('a first run', () => {
  it('run --steps 1 trains one step with a snapshot interval of 1, saying so; no Dawn warnings on stderr or through a pipe', async () => {
    const dir = await tempDir('first');
    const r = await shell('"$NODE" "$BIN" run --steps 1 --set \'hidden=[{"width":8}]\' --out run --progress none 2>err.txt', dir);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^completed at step 1: /m);
    const err = await readFile(join(dir, 'err.txt'), 'utf8');
    expect(err).toContain("snapshot interval: 1 step (the preset's 100 is more than --steps 1)");
    expect(err).not.toMatch(/artificially reduced|Warning:/);
    expect((await metricsRows(join(dir, 'run'))).map((row) => row.step)).toEqual([0, 1]);

    const piped = await shell('"$NODE" "$BIN" run --steps 2 --every 1 --set \'hidden=[{"width":8}]\' --out run2 --progress none 2>&1 | cat', dir);
    expect(piped.code).toBe(0);
    expect(piped.stdout).toContain('completed at step 2');
    expect(piped.stdout).not.toMatch(/artificially reduced/);
  });

  it("run --progress lines starts with the run's estimate on this adapter, as the page shows it next to Start", async () => {
    const dir = await tempDir('first');
    const r = await shell('"$NODE" "$BIN" run --steps 2 --every 1 --set \'hidden=[{"width":8}]\' --out run --progress lines 2>err.txt', dir);
    expect(r.code).toBe(0);
    const err = await readFile(join(dir, 'err.txt'), 'utf8');
    expect(err).toMatch(/^estimate on this adapter: ≈ \S+ \S+ per step, ≈ \S+ \S+ per 1,000 steps, snapshot ≈ \S+ \S+, memory ≈ \S+ (MiB|GiB)$/m);
    // Before any progress line: the estimate is what a user sees first.
    expect(err.indexOf('estimate on this adapter:')).toBeLessThan(err.search(/^step \d+\/2 /m));
  });
});
