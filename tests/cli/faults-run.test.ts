// Runs under faults, on the real adapter (issue 16): two writers in one folder, a folder that stopped while
// starting, damaged checkpoints, a model too big for the adapter, a damaged metrics line, borndead beyond its
// buffers. Each case failed before its fix: a second writer "continued" the folder of a live one; `run` and
// `resume` both refused a folder with config.json but no run.json; flipped bytes were trained on; a CapacityError
// or a bad metrics line exited 1 with a stack trace, the former after creating the folder.
import { spawn } from 'node:child_process';
import { cp, mkdir, open, readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it, onTestFinished } from 'vitest';
import { resumeJob, runJob, type RunJobOptions } from '../../src/cli/run-job';
import { RunDirError, readManifest } from '../../src/cli/run-dir';
import { runSweep } from '../../src/cli/sweep/run-sweep';
import { toJson } from '../../src/config';
import { listCheckpoints, tempFileFor } from '../../src/io/atomic-file';
import { lockOwner, RunLock } from '../../src/io/run-lock';
import { runCli, runCliEntry } from './run-cli';
import { expectSameFiles, listFiles, metricsRows, tempDir, tinyConfig, useRunGpu, withoutTiming } from './run-fixtures';

/** Resolves once `dir` holds a checkpoint after step 0 (the run is under way and holds the folder). */
async function training(dir: string): Promise<void> {
  for (;;) {
    const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
    if (checkpoints.some((c) => c.step > 0) && (await lockOwner(dir))) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Flips one bit of the byte `fromEnd` bytes before the end of the file (inside the last tensor's data). */
async function flipByte(path: string, fromEnd: number): Promise<void> {
  const handle = await open(path, 'r+');
  try {
    const { size } = await handle.stat();
    const byte = Buffer.alloc(1);
    await handle.read(byte, 0, 1, size - fromEnd);
    byte[0] ^= 0x04;
    await handle.write(byte, 0, 1, size - fromEnd);
  } finally {
    await handle.close();
  }
}

describe('run folders under faults', () => {
  const run = useRunGpu();

  it('gives a folder one writer: a second run or resume is refused naming the owner, and the first completes with every row once', async () => {
    const config = tinyConfig({ steps: 600, snapshot: { every: 10, probeSize: 16 } });
    const configFile = join(await tempDir('cfg'), 'tiny.json');
    await writeFile(configFile, toJson(config));
    const dir = join(await tempDir('two'), 'run');
    const args = ['run', '--config', configFile, '--out', dir, '--checkpoint-every', '50', '--unit-maps', 'none', '--progress', 'none'];
    let first!: ReturnType<typeof spawn>;
    const firstExit = runCliEntry(args, (child) => (first = child));
    await training(dir);
    // Frozen while the others try: it is alive and holds the folder, whatever the speed of this machine.
    first.kill('SIGSTOP');
    try {
      for (const other of [args, ['resume', dir, '--progress', 'none']]) {
        const refused = await runCliEntry(other);
        expect(refused.code, refused.stderr).toBe(1);
        expect(refused.stderr).toContain(`error: ${dir} is in use by another deadunits process (run): PID ${first.pid} on host `);
        expect(refused.stderr).not.toMatch(/^\s+at /m);
      }
    } finally {
      first.kill('SIGCONT');
    }
    const done = await firstExit;
    expect(done.code, done.stderr).toBe(0);
    expect(done.stdout).toMatch(/^completed at step 600: /);
    expect((await metricsRows(dir)).map((r) => r.step)).toEqual(Array.from({ length: 61 }, (_, i) => i * 10));
    expect(await lockOwner(dir)).toBeNull();
  });

  it('skips a sweep point whose folder another process holds (a retried shard), and runs the others', async () => {
    const out = await tempDir('sweep');
    const spec = {
      base: JSON.parse(toJson(tinyConfig({ steps: 10 }))) as Record<string, unknown>,
      axes: [{ path: 'lr', values: [0.01, 0.02] }],
    };
    const busyDir = join(out, 'points');
    await mkdir(busyDir, { recursive: true });
    // The first attempt of the shard, still running point 0.
    const { expandSweep } = await import('../../src/cli/sweep/spec');
    const [p0] = expandSweep(spec);
    await mkdir(join(busyDir, p0.id));
    const held = await RunLock.acquire(join(busyDir, p0.id), { command: `sweep point ${p0.id}` });
    try {
      const lines: string[] = [];
      const summary = await runSweep({
        spec,
        outDir: out,
        shard: { index: 0, count: 1 },
        log: (l) => lines.push(l),
        runPoint: ({ config, outDir }) => runJob({ config, outDir, checkpointEvery: 0, keepCheckpoints: 1, unitMaps: 'none', gpu: run.gpu }),
      });
      expect(summary.busy).toEqual([p0.id]);
      expect(summary.ran.map((r) => r.status)).toEqual(['completed']);
      expect(lines.join('\n')).toMatch(new RegExp(`${p0.id} lr=0\\.01: skipped, .* is in use by another deadunits process \\(sweep point ${p0.id}\\)`));
    } finally {
      await held.release();
    }
  });

  it('recovers a folder that stopped between config.json and run.json, by `run` on the same config and by `resume`', async () => {
    const config = tinyConfig();
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 10, keepCheckpoints: 2, unitMaps: 'none', gpu: run.gpu };
    const straight = await tempDir('straight');
    await runJob({ ...common, outDir: straight });
    const stuck = async () => {
      const dir = join(await tempDir('stuck'), 'run');
      await mkdir(join(dir, 'checkpoints'), { recursive: true });
      await writeFile(join(dir, 'config.json'), toJson(config) + '\n');
      await writeFile(tempFileFor(join(dir, 'run.json')), '{"format": "deadunits-ru');
      return dir;
    };

    const byRun = await stuck();
    expect((await runJob({ ...common, outDir: byRun })).status).toBe('completed');
    await expectSameFiles(straight, byRun, ['checkpoints/checkpoint-0000000040.safetensors', 'config.json']);
    expect(await listFiles(byRun)).toEqual(await listFiles(straight));

    const byResume = await stuck();
    const lines: string[] = [];
    expect((await resumeJob(byResume, { gpu: run.gpu, log: (l) => lines.push(l), checkpointEvery: 10, keepCheckpoints: 2, unitMaps: 'none' })).status).toBe(
      'completed',
    );
    expect(lines).toContain(`${byResume} holds a run that stopped while starting (no run.json, no checkpoint): starting it from step 0`);
    await expectSameFiles(straight, byResume, ['checkpoints/checkpoint-0000000040.safetensors']);

    const other = await stuck();
    await expect(runJob({ ...common, config: tinyConfig({ seed: 9 }), outDir: other })).rejects.toThrow(
      new RunDirError(
        `${other} holds a run that stopped while starting (config.json without run.json) of another configuration: start that one with \`deadunits resume ${other}\`, or choose another --out folder`,
      ),
    );
  });

  it('sets a damaged checkpoint aside with a line saying so, continues from the newest good one, and ends bit-identical', async () => {
    const config = tinyConfig();
    const common: Omit<RunJobOptions, 'outDir'> = { config, checkpointEvery: 10, keepCheckpoints: 4, csv: true, unitMaps: 'none', gpu: run.gpu };
    const straight = await tempDir('straight');
    await runJob({ ...common, outDir: straight });
    const last = 'checkpoints/checkpoint-0000000040.safetensors';

    // A flipped bit in the data of the last checkpoint, and a temp file a killed write left.
    const flipped = await tempDir('flipped');
    await cp(straight, flipped, { recursive: true });
    await flipByte(join(flipped, last), 5);
    const orphan = tempFileFor(join(flipped, last));
    await writeFile(orphan, 'half a checkpoint');
    const lines: string[] = [];
    const resumed = await resumeJob(flipped, { gpu: run.gpu, log: (l) => lines.push(l) });
    expect(resumed.status).toBe('completed');
    expect(lines).toContain(`removed 1 temporary file left by an interrupted write: checkpoints/${orphan.split('/').pop()}`);
    expect(lines.join('\n')).toMatch(
      new RegExp(
        `checkpoint damaged: ${join(flipped, last).replace(/\./g, '\\.')}: tensor "[^"]+": checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}: its data is damaged; set aside as checkpoint-0000000040\\.safetensors\\.damaged, continuing from checkpoint-0000000030\\.safetensors \\(step 30\\) instead`,
      ),
    );
    await expectSameFiles(straight, flipped, [last, 'config.json']);
    expect(withoutTiming(await metricsRows(flipped))).toEqual(withoutTiming(await metricsRows(straight)));
    expect(await readdir(join(flipped, 'checkpoints'))).toContain('checkpoint-0000000040.safetensors.damaged');

    // A checkpoint copied over a newer one's name: refused naming the file, the older one used.
    const renamed = await tempDir('renamed');
    await cp(straight, renamed, { recursive: true });
    await cp(join(renamed, 'checkpoints/checkpoint-0000000020.safetensors'), join(renamed, last));
    lines.length = 0;
    await resumeJob(renamed, { gpu: run.gpu, log: (l) => lines.push(l) });
    expect(lines.join('\n')).toContain(
      `checkpoint damaged: ${join(renamed, last)}: the file name says step 40 but the checkpoint inside is of step 20 (a file renamed or copied over another?); set aside`,
    );
    await expectSameFiles(straight, renamed, [last]);

    // Nothing good left: refused, naming every file, and nothing renamed.
    const ruined = await tempDir('ruined');
    await cp(straight, ruined, { recursive: true });
    for (const c of await listCheckpoints(join(ruined, 'checkpoints'))) await flipByte(c.path, 9);
    const error = await resumeJob(ruined, { gpu: run.gpu }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RunDirError);
    expect((error as Error).message).toMatch(
      /^every checkpoint in .* is damaged, so there is nothing to continue from:\n {2}.*checkpoint-0000000040\.safetensors: tensor/,
    );
    expect((await listCheckpoints(join(ruined, 'checkpoints'))).map((c) => c.step)).toEqual([10, 20, 30, 40]);
  });

  it('a model too big for the adapter: exit 2 naming the limit and what to do, no stack, no folder left', async () => {
    const parent = await tempDir('big');
    const out = join(parent, 'run');
    const r = await runCli(['run', '--steps', '10', '--every', '5', '--set', 'hidden[0].width=1048576', '--set', 'hidden[1].width=1048576', '--out', out]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(
      /^error: the model needs .* of GPU memory .*: make the model smaller \(narrower or fewer layers, a smaller batch\) or use an adapter with more memory$/m,
    );
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(await readdir(parent)).toEqual([]);
  });

  it('a malformed metrics.jsonl line: resume exits 2 naming the file, the line and what to do', async () => {
    const dir = await tempDir('metrics');
    await runJob({ config: tinyConfig(), outDir: dir, checkpointEvery: 10, keepCheckpoints: 1, unitMaps: 'none', gpu: run.gpu });
    const path = join(dir, 'metrics.jsonl');
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[2] = '{"step": "three"}';
    await writeFile(path, lines.join('\n'));
    const r = await runCliEntry(['resume', dir, '--progress', 'none']);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(new RegExp(`^error: ${path.replace(/\./g, '\\.')} line 3: .*\\. Restore that line, or delete it and every line after it`, 'm'));
    expect(r.stderr).not.toMatch(/^\s+at /m);
  });

  it('borndead beyond its buffers: exit 2 naming the flag to change, no stack', async () => {
    const wide = await runCli(['borndead', '--width', '1048576', '--inputs', '4096', '--depth', '1', '--trials', '1', '--progress', 'none']);
    expect(wide.code, wide.stderr).toBe(2);
    expect(wide.stderr).toMatch(
      /^error: one trial needs a \d+-byte buffer, more than the \d+ bytes a batch may use: use fewer probe rows \(--probe\) or narrower layers/m,
    );
    const batch = await runCli(['borndead', '--width', '2048', '--inputs', '2048', '--depth', '1', '--trials', '64', '--batch', '64', '--progress', 'none']);
    expect(batch.code, batch.stderr).toBe(2);
    expect(batch.stderr).toMatch(
      /^error: 64 trials per submit need a \d+-byte buffer, more than the adapter's limit of \d+ bytes: use a batch \(--batch\) of at most \d+$/m,
    );
    for (const r of [wide, batch]) expect(r.stderr).not.toMatch(/^\s+at /m);
  });
});

describe('stop requests', () => {
  useRunGpu();

  it('SIGHUP stops like SIGTERM: a checkpoint, status interrupted, exit 129', async () => {
    const config = tinyConfig({ steps: 100_000, snapshot: { every: 50, probeSize: 16 } });
    const configFile = join(await tempDir('cfg'), 'tiny.json');
    await writeFile(configFile, toJson(config));
    const dir = join(await tempDir('hup'), 'run');
    const exit = await runCliEntry(
      ['run', '--config', configFile, '--out', dir, '--checkpoint-every', '50', '--unit-maps', 'none', '--progress', 'none'],
      (child) => void training(dir).then(() => child.kill('SIGHUP')),
    );
    expect({ code: exit.code, signal: exit.signal }, exit.stderr).toEqual({ code: 129, signal: null });
    expect(exit.stderr).toContain('SIGHUP: finishing the current chunk and writing a checkpoint');
    const manifest = await readManifest(dir);
    expect(manifest?.status).toBe('interrupted');
    const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
    expect(checkpoints[checkpoints.length - 1].step).toBe(manifest!.step);
  });

  it('`npx deadunits run … & kill -TERM <npx>`: the trainer stops with a checkpoint instead of running on as an orphan', async () => {
    const config = tinyConfig({ steps: 1_000_000, snapshot: { every: 50, probeSize: 16 } });
    const configFile = join(await tempDir('cfg'), 'tiny.json');
    await writeFile(configFile, toJson(config));
    const dir = join(await tempDir('npx'), 'run');
    const npx = spawn(
      'npx',
      ['deadunits', 'run', '--config', configFile, '--out', dir, '--checkpoint-every', '50', '--unit-maps', 'none', '--progress', 'none'],
      {
        stdio: 'ignore',
      },
    );
    const npxExit = new Promise((resolve) => npx.on('exit', resolve));
    await training(dir);
    const trainer = (await lockOwner(dir))!.pid;
    // Should the trainer not stop, do not leave it training for hours.
    onTestFinished(() => void (isAlive(trainer) && process.kill(trainer, 'SIGKILL')));
    expect(trainer).not.toBe(npx.pid);
    npx.kill('SIGTERM');
    await npxExit;
    // The trainer is not our child: wait until it is gone (the test's timeout catches one that never stops).
    while (isAlive(trainer)) await new Promise((resolve) => setTimeout(resolve, 100));
    // Whether npm passed the signal on or just died, the run stopped as on SIGTERM.
    const manifest = await readManifest(dir);
    expect(manifest?.status).toBe('interrupted');
    expect(manifest!.step).toBeLessThan(1_000_000);
    const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
    expect(checkpoints[checkpoints.length - 1].step).toBe(manifest!.step);
    expect(await lockOwner(dir)).toBeNull();
  });

  it('a launcher killed outright (it can pass nothing on): the trainer sees its parent gone and stops with a checkpoint', async () => {
    const config = tinyConfig({ steps: 1_000_000, snapshot: { every: 50, probeSize: 16 } });
    const configFile = join(await tempDir('cfg'), 'tiny.json');
    await writeFile(configFile, toJson(config));
    const dir = join(await tempDir('orphan'), 'run');
    const entry = ['--import', 'tsx', '--import', './scripts/register-wgsl.mjs', 'tests/cli/run-cli-entry.ts'];
    const args = [...entry, 'run', '--config', configFile, '--out', dir, '--checkpoint-every', '50', '--unit-maps', 'none', '--progress', 'none'];
    // A stand-in for npx: starts the trainer, passes its output through, and is then killed with SIGKILL.
    const launcherCode = `require('node:child_process').spawn(process.execPath, ${JSON.stringify(args)}, { stdio: 'inherit' }); setInterval(() => {}, 1e9);`;
    const launcher = spawn(process.execPath, ['-e', launcherCode], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, npm_command: 'exec' } });
    let stderr = '';
    launcher.stderr!.on('data', (d) => (stderr += d));
    // The trainer holds the pipes too: they end when it exits.
    const output = new Promise((resolve) => launcher.stderr!.on('end', resolve));
    await training(dir);
    const trainer = (await lockOwner(dir))!.pid;
    onTestFinished(() => void (isAlive(trainer) && process.kill(trainer, 'SIGKILL')));
    launcher.kill('SIGKILL');
    await output;
    while (isAlive(trainer)) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(stderr).toMatch(/the launching process \(PID \d+\) has exited: finishing the current chunk and writing a checkpoint/);
    const manifest = await readManifest(dir);
    expect(manifest?.status).toBe('interrupted');
    const checkpoints = await listCheckpoints(join(dir, 'checkpoints'));
    expect(checkpoints[checkpoints.length - 1].step).toBe(manifest!.step);
  });
});

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
