// The error contract (issue 16, items 8 and 10): every error a user can cause or fix prints one message naming the
// file or field and what to do and exits 2 (input) or 1 (environment), classified by class and errno code, never by
// message text; a stack trace only with DEBUG; a refused run leaves no folder; temp files of a killed write are
// removed on the next start. Cases that need an adapter (a model too big for it) are in tests/cli/faults-run.test.ts.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { reportError, reportFor } from '../../src/cli/errors';
import { MetricsFileError } from '../../src/cli/outputs/metrics-writer';
import { claimRunDir, RunDirError } from '../../src/cli/run-dir';
import { holdRunFolder, removeOrphanTempFiles } from '../../src/cli/run-folder';
import { ConfigError, parseRunConfig } from '../../src/config';
import { CapacityError } from '../../src/engine/layout';
import { NoAdapterError } from '../../src/gpu/device';
import { tempFileFor } from '../../src/io/atomic-file';
import { CheckpointError } from '../../src/io/checkpoint';
import { RunLockedError } from '../../src/io/run-lock';
import { runCli } from '../cli/run-cli';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'deadunits-errors-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A Node system error as fs throws it. */
function systemError(code: string, syscall: string, path: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: something, ${syscall} '${path}'`), { code, syscall, path, errno: -1 });
}

describe('errors by class', () => {
  it('input errors exit 2 with their own message; environment errors exit 1', () => {
    const owner = {
      format: 'deadunits-lock',
      host: 'h',
      pid: 1,
      started: 's',
      startTicks: null,
      bootId: null,
      command: 'run',
      acquired: 'a',
      heartbeat: 'b',
      token: 't',
    } as const;
    const cases: [unknown, number, string | RegExp][] = [
      [new ConfigError([{ path: 'lr', message: '7 is not in (0, 100]' }]), 2, 'Invalid run configuration:\n  lr: 7 is not in (0, 100]'],
      [new CheckpointError('x.safetensors: tensor "a": checksum 1 does not match'), 2, 'x.safetensors: tensor "a": checksum 1 does not match'],
      [new RunDirError('runs/a holds another run'), 2, 'runs/a holds another run'],
      [
        new MetricsFileError('runs/a/metrics.jsonl', 7, 'metrics line: not JSON'),
        2,
        /^runs\/a\/metrics\.jsonl line 7: metrics line: not JSON\. Restore that line, or delete it/,
      ],
      [
        new CapacityError('the model needs 12 TiB.'),
        2,
        'the model needs 12 TiB: make the model smaller (narrower or fewer layers, a smaller batch) or use an adapter with more memory',
      ],
      [new NoAdapterError('Install lavapipe.'), 1, 'No WebGPU adapter is available. Install lavapipe.'],
      [new RunLockedError('runs/a', owner, 3000), 1, /^runs\/a is in use by another deadunits process \(run\): PID 1 on host h/],
    ];
    for (const [error, exitCode, message] of cases) {
      const report = reportFor(error);
      expect(report?.exitCode, String(error)).toBe(exitCode);
      if (typeof message === 'string') expect(report?.message).toBe(message);
      else expect(report?.message).toMatch(message);
    }
  });

  it('system errors by errno code: a full, read-only or forbidden disk is the environment; a bad path is input; the path is named', () => {
    const cases: [string, string, number, string][] = [
      ['ENOSPC', 'write', 1, 'runs/a/.run.json.1.abcdefabcdef.tmp: no space left on the device (ENOSPC, write): free some space'],
      ['EDQUOT', 'write', 1, 'disk quota exceeded'],
      [
        'EROFS',
        'mkdir',
        1,
        'runs/a/.run.json.1.abcdefabcdef.tmp: the file system is read-only (EROFS, mkdir): choose a folder on a writable file system (--out)',
      ],
      ['EACCES', 'open', 1, 'permission denied (EACCES, open): choose a folder you may write to (--out)'],
      ['EPERM', 'mkdir', 1, 'operation not permitted'],
      ['ENAMETOOLONG', 'mkdir', 2, 'a file or folder name is too long (ENAMETOOLONG, mkdir): choose a shorter path'],
      ['ENOTDIR', 'mkdir', 2, 'a part of the path is a file, not a folder'],
      ['EEXIST', 'mkdir', 2, 'a file is in the way'],
    ];
    for (const [code, syscall, exitCode, text] of cases) {
      const report = reportFor(systemError(code, syscall, 'runs/a/.run.json.1.abcdefabcdef.tmp'));
      expect(report?.exitCode, code).toBe(exitCode);
      expect(report?.message).toContain(text);
    }
  });

  it('never classifies by message text: an Error that merely mentions ENOSPC or a ConfigError is a bug', () => {
    expect(reportFor(new Error('ENOSPC: no space left on device'))).toBeNull();
    expect(reportFor(new Error('ConfigError: lr'))).toBeNull();
    expect(reportFor(new RangeError('checkpointEvery must be an integer >= 0'))).toBeNull();
    expect(reportFor(Object.assign(new Error('x'), { code: 'ERR_SOMETHING' }))).toBeNull();
  });

  it('prints one line and no stack trace unless DEBUG asks for one', () => {
    const lines: string[] = [];
    const spy = vi.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
    try {
      expect(reportError(systemError('ENOSPC', 'write', '/x/y'), {})).toBe(1);
      expect(lines).toEqual([
        'error: /x/y: no space left on the device (ENOSPC, write): free some space (checkpoints written so far are intact), then run the same command again',
      ]);
      lines.length = 0;
      expect(reportError(new TypeError('cannot read properties of undefined'), {})).toBe(1);
      expect(lines.join('\n')).toBe(
        'error: cannot read properties of undefined\n(an unexpected error, probably a bug: run again with DEBUG=1 for the stack trace, and report it)',
      );
      expect(lines.join('\n')).not.toMatch(/^\s+at /m);
      lines.length = 0;
      expect(reportError(new TypeError('boom'), { DEBUG: '1' })).toBe(1);
      expect(lines.join('\n')).toMatch(/^TypeError: boom\n\s+at /);
    } finally {
      spy.mockRestore();
    }
  });
});

describe('the CLI on bad places to write (no adapter needed: refused before one is asked for)', () => {
  it('--out at a file: exit 2, one message naming the path, nothing created, the file untouched', async () => {
    const dir = await tempDir();
    const file = join(dir, 'notes.txt');
    await writeFile(file, 'mine');
    for (const out of [file, join(file, 'run')]) {
      const r = await runCli(['run', '--steps', '10', '--every', '5', '--out', out], { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`^error: ${out.replace(/[.]/g, '\\.')}: (a file is in the way|a part of the path is a file, not a folder)`, 'm'));
      expect(r.stderr).not.toMatch(/^\s+at /m);
    }
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(await readFile(file, 'utf8')).toBe('mine');
  });

  it('--out with a name too long for the file system: exit 2, nothing created', async () => {
    const dir = await tempDir();
    const out = join(dir, 'r'.repeat(300));
    const r = await runCli(['run', '--steps', '10', '--every', '5', '--out', out], { timeoutMs: 60_000 });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(': a file or folder name is too long (ENAMETOOLONG');
    expect(await readdir(dir)).toEqual([]);
  });

  it('no WebGPU adapter: exit 1 with what to do, no stack, and no run folder left behind', async () => {
    const dir = await tempDir();
    const out = join(dir, 'run');
    const r = await runCli(['run', '--steps', '10', '--every', '5', '--out', out], {
      timeoutMs: 60_000,
      env: { DEADUNITS_DAWN: 'adapter=No Such Adapter' },
    });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/^error: No WebGPU adapter is available\./m);
    expect(r.stderr).toContain('If DEADUNITS_DAWN is set, check that it names an available adapter.');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await readdir(dir)).toEqual([]);
  });
});

describe('run folders that failed to start', () => {
  const config = parseRunConfig({
    inputSize: 2,
    hidden: [{ width: 3 }],
    dataset: { kind: 'spirals', samples: 32 },
    batchSize: 8,
    steps: 10,
    snapshot: { every: 5, probeSize: 16 },
  });

  it('a fresh start that fails before saving any work (e.g. a full disk) removes what it wrote, and the folder it created', async () => {
    const parent = await tempDir();
    const fresh = join(parent, 'new');
    const full = systemError('ENOSPC', 'write', join(fresh, 'run.json'));
    await expect(
      holdRunFolder(fresh, { command: 'run' }, async (held) => {
        await claimRunDir(fresh, config);
        held.freshStart();
        await writeFile(join(fresh, 'config.json'), '{}');
        throw full;
      }),
    ).rejects.toBe(full);
    expect(await readdir(parent)).toEqual([]);
    // Parents it had to create go too.
    const deep = join(parent, 'a', 'b', 'run');
    await expect(holdRunFolder(deep, { command: 'run' }, async (held) => Promise.reject((held.freshStart(), full)))).rejects.toBe(full);
    expect(await readdir(parent)).toEqual([]);
    // A folder that existed (empty) stays, emptied.
    const existing = join(parent, 'existing');
    await mkdir(existing);
    await expect(
      holdRunFolder(existing, { command: 'run' }, async (held) => {
        held.freshStart();
        await mkdir(join(existing, 'checkpoints'));
        throw full;
      }),
    ).rejects.toBe(full);
    expect(await readdir(parent)).toEqual(['existing']);
    expect(await readdir(existing)).toEqual([]);
  });

  it('keeps the folder once work is saved (a checkpoint), and never rolls back a resume', async () => {
    const dir = await tempDir();
    await expect(
      holdRunFolder(dir, { command: 'run' }, async (held) => {
        held.freshStart();
        await mkdir(join(dir, 'checkpoints'));
        await writeFile(join(dir, 'checkpoints', 'checkpoint-0000000010.safetensors'), 'x');
        throw new Error('later failure');
      }),
    ).rejects.toThrow('later failure');
    expect(await readdir(join(dir, 'checkpoints'))).toEqual(['checkpoint-0000000010.safetensors']);
    await writeFile(join(dir, 'config.json'), '{}');
    await expect(holdRunFolder(dir, { command: 'resume', mustExist: true }, async () => Promise.reject(new Error('x')))).rejects.toThrow('x');
    expect((await readdir(dir)).sort()).toEqual(['checkpoints', 'config.json']);
    await expect(holdRunFolder(join(dir, 'missing'), { command: 'resume', mustExist: true }, async () => 1)).rejects.toThrow(
      /missing is not a deadunits run folder \(no run\.json\): the folder does not exist/,
    );
  });

  it('removes temp files a killed write left behind when the next owner starts, and says so', async () => {
    const dir = await tempDir();
    await mkdir(join(dir, 'checkpoints'));
    await mkdir(join(dir, 'maps', 'L1'), { recursive: true });
    const orphans = [
      tempFileFor(join(dir, 'run.json')),
      tempFileFor(join(dir, 'checkpoints', 'checkpoint-0000000010.safetensors')),
      tempFileFor(join(dir, 'maps', 'L1', 'step-0000000010.png')),
    ];
    const keep = [join(dir, 'run.json'), join(dir, 'notes.tmp'), join(dir, 'checkpoints', 'checkpoint-0000000005.safetensors')];
    for (const f of [...orphans, ...keep]) await writeFile(f, 'x');
    const lines: string[] = [];
    await holdRunFolder(dir, { command: 'resume', log: (l) => lines.push(l) }, async () => undefined);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^removed 3 temporary files left by an interrupted write: /);
    for (const f of orphans) await expect(readFile(f)).rejects.toThrow(/ENOENT/);
    for (const f of keep) expect(await readFile(f, 'utf8')).toBe('x');
    // Where others may be writing (a shared sweep folder), only old ones go.
    const young = tempFileFor(join(dir, 'results.json'));
    await writeFile(young, 'x');
    expect(await removeOrphanTempFiles(dir, { olderThanMs: 60_000 })).toEqual([]);
  });
});
