import { mkdtemp, mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { checkpointFileName, latestCheckpoint, listCheckpoints, pruneCheckpoints, writeFileAtomic } from '../../src/io/atomic-file';

describe('atomic checkpoint files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-atomic-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a new file and replaces an existing one, leaving no temporary file', async () => {
    const path = join(dir, 'a.bin');
    await writeFileAtomic(path, Uint8Array.from([1, 2, 3]));
    expect([...(await readFile(path))]).toEqual([1, 2, 3]);
    const big = new Uint8Array(1 << 20).map((_, i) => i & 0xff);
    await writeFileAtomic(path, big.subarray(5));
    expect((await readFile(path)).equals(Buffer.from(big.subarray(5)))).toBe(true);
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it('leaves no partial file and the target untouched when the write fails', async () => {
    // A non-empty folder at the target path: the data is written and synced, then the rename fails.
    const target = join(dir, 'taken');
    await mkdir(target);
    await writeFile(join(target, 'keep'), 'x');
    await expect(writeFileAtomic(target, new Uint8Array(1000))).rejects.toThrow(/EISDIR|ENOTEMPTY|EEXIST|EPERM/);
    expect(await readdir(dir)).toEqual(['taken']);
    expect(await readdir(target)).toEqual(['keep']);
    // A folder that does not exist: nothing can be created.
    await expect(writeFileAtomic(join(dir, 'missing', 'f'), new Uint8Array(4))).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual(['taken']);
  });

  it('names checkpoints so that they sort by step, and lists and prunes them by step', async () => {
    expect(checkpointFileName(42)).toBe('checkpoint-0000000042.safetensors');
    expect(() => checkpointFileName(-1)).toThrow(/non-negative integer/);
    expect(await listCheckpoints(join(dir, 'none'))).toEqual([]);
    expect(await latestCheckpoint(dir)).toBeNull();
    const steps = [500, 20, 4_294_967_295, 100, 3000];
    for (const step of steps) await writeFileAtomic(join(dir, checkpointFileName(step)), Uint8Array.from([step & 0xff]));
    await writeFile(join(dir, 'notes.txt'), 'not a checkpoint');
    await writeFile(join(dir, 'checkpoint-12.safetensors.bak'), 'not a checkpoint either');
    expect((await listCheckpoints(dir)).map((c) => c.step)).toEqual([20, 100, 500, 3000, 4_294_967_295]);
    expect(await latestCheckpoint(dir)).toEqual({ step: 4_294_967_295, path: join(dir, checkpointFileName(4_294_967_295)) });

    const removed = await pruneCheckpoints(dir, 2);
    expect(removed).toEqual([20, 100, 500].map((s) => join(dir, checkpointFileName(s))));
    expect((await readdir(dir)).sort()).toEqual([
      'checkpoint-0000003000.safetensors',
      'checkpoint-12.safetensors.bak',
      'checkpoint-4294967295.safetensors',
      'notes.txt',
    ]);
    expect(await pruneCheckpoints(dir, 5)).toEqual([]);
    await expect(pruneCheckpoints(dir, 0)).rejects.toThrow(/integer >= 1/);
  });
});
