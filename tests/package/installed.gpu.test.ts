// The package as a user gets it: `npm pack`, installed into an empty folder (and with -g), run from there. It must
// run compiled JavaScript only (no tsx, no TypeScript installed, no src/), with the WGSL inlined, train, inspect
// and estimate born-dead nets, and give a typed library entry: import { openRun, Trainer } from 'deadunits'.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const TSC = join(ROOT, 'node_modules/typescript/bin/tsc');

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function run(file: string, args: string[], cwd: string, timeout = 300_000): Promise<Result> {
  return new Promise((done) => {
    execFile(file, args, { cwd, timeout, maxBuffer: 64 * 2 ** 20 }, (error, stdout, stderr) =>
      done({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr }),
    );
  });
}

async function ok(file: string, args: string[], cwd: string, timeout?: number): Promise<Result> {
  const r = await run(file, args, cwd, timeout);
  expect(r.code, `${file} ${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r;
}

let dir: string;
let app: string;
let globalPrefix: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deadunits-package-'));
  // prepack builds lib/ (scripts/build-package.mjs); --prefer-offline: the dependencies are in npm's cache after npm ci.
  const packed = await ok('npm', ['pack', '--pack-destination', dir, '--silent'], ROOT, 600_000);
  const tgz = join(dir, packed.stdout.trim().split('\n').pop()!);
  app = join(dir, 'app');
  globalPrefix = join(dir, 'globalPrefix');
  await mkdir(app);
  await ok('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tgz], app);
  await ok('npm', ['install', '-g', '--prefix', globalPrefix, '--prefer-offline', '--no-audit', '--no-fund', tgz], dir);
}, 900_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the packed, installed package', () => {
  it('holds compiled JavaScript only, with the shaders inlined; no tsx or TypeScript gets installed', async () => {
    const pkg = join(app, 'node_modules/deadunits');
    expect((await readdir(pkg)).sort()).toEqual(['README.md', 'bin', 'lib', 'package.json', 'scripts']);
    const modules = await readdir(join(app, 'node_modules'));
    expect(modules).not.toContain('tsx');
    expect(modules).not.toContain('typescript');
    const code = (await readdir(join(pkg, 'lib'), { recursive: true })).filter((f) => f.endsWith('.js'));
    const text = (await Promise.all(code.map((f) => readFile(join(pkg, 'lib', f), 'utf8')))).join('\n');
    expect(text).not.toMatch(/(from|import\()\s*['"][^'"]*\.wgsl\?raw|from ['"]tsx/);
    expect(text).toContain('@compute');
  });

  it('npx deadunits from the folder: 20 steps, inspect, borndead', async () => {
    const r = await ok(
      'npx',
      ['--no', 'deadunits', 'run', '--steps', '20', '--every', '10', '--set', 'hidden=[{"width":16,"dropout":0.5}]', '--out', 'r', '--progress', 'none'],
      app,
    );
    expect(r.stdout).toMatch(/^completed at step 20: /m);
    const inspect = await ok('npx', ['--no', 'deadunits', 'inspect', 'r'], app);
    expect(inspect.stdout).toMatch(/^step: +20$/m);
    const borndead = await ok('npx', ['--no', 'deadunits', 'borndead', '--width', '3', '--depth', '4', '--trials', '200'], app);
    expect(borndead.stdout).toMatch(/P\(dead\)/);
  });

  it('npm install -g puts a working deadunits on the PATH', async () => {
    const r = await ok(join(globalPrefix, 'bin', 'deadunits'), ['--version'], dir);
    expect(r.stdout.trim()).toBe(JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')).version);
  });

  it('import { openRun, Trainer } from "deadunits": runs, and type-checks under nodenext', async () => {
    const source = `import { openRun, Trainer, acquireNodeGpu, parseRunConfig, presetConfig, runData, type RunConfig, type Snapshot } from 'deadunits';
const config: RunConfig = parseRunConfig({ ...presetConfig('dropout_only'), hidden: [{ width: 16, dropout: 0.5 }], steps: 20, snapshot: { every: 10 } });
const gpu = await acquireNodeGpu();
const run = await openRun(gpu, { config, data: runData(config) });
const trainer: Trainer = run.trainer;
await trainer.train(20);
const steps: number[] = [];
for (let k = 0; k < 3; k++) {
  const snapshot: Snapshot | null = await run.observatory.next();
  if (snapshot) steps.push(snapshot.step);
}
console.log(JSON.stringify({ steps, isTrainer: trainer instanceof Trainer }));
run.destroy();
gpu.device.destroy();
process.exit(0);
`;
    await writeFile(join(app, 'use.mts'), source);
    // Type-check as a consumer would (declarations checked too: no skipLibCheck), with Node's types from this repo.
    await ok(
      process.execPath,
      [
        TSC,
        '--noEmit',
        '--strict',
        '--module',
        'nodenext',
        '--moduleResolution',
        'nodenext',
        '--target',
        'es2022',
        '--types',
        'node',
        '--typeRoots',
        join(ROOT, 'node_modules/@types'),
        'use.mts',
      ],
      app,
    );
    // And run it: the same file as JavaScript (types erased by hand: only the annotations differ).
    const js = source.replace(/, type RunConfig, type Snapshot/, '').replace(/: RunConfig|: Trainer|: Snapshot \| null|: number\[\]/g, '');
    await writeFile(join(app, 'use.mjs'), js);
    const r = await ok(process.execPath, ['use.mjs'], app);
    expect(JSON.parse(r.stdout)).toEqual({ steps: [0, 10, 20], isTrainer: true });
  });
});
