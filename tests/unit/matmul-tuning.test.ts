// The matmul autotuner without a GPU: the configuration family, the choice from timings, the order and budget
// of measuring (with made-up timings and a fake clock: nothing here depends on real speed), the cut-down
// products, and where choices are kept.
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  candidateConfigs,
  configHeader,
  configName,
  configTile,
  MATMUL_FAMILY,
  parseConfigName,
  unsupportedReason,
  type MatmulCapabilities,
  type MatmulConfig,
} from '../../src/gpu/kernels/matmul-configs';
import { measuredShape } from '../../src/gpu/kernels/matmul-measure';
import { chooseConfig, fillTimings, isComplete, runShareMs, SWITCH_MARGIN, TUNING_SHARE, type TuneShape } from '../../src/gpu/tuning/choose';
import { peakMacsPerMs } from '../../src/gpu/tuning/policy';
import { FileTuningStore, userCacheDir } from '../../src/gpu/tuning/file-store';
import { emptyRecord, MemoryTuningStore, parseTuningRecord, tuningKey, TUNING_FORMAT, TUNING_VERSION, type ShapeTimings } from '../../src/gpu/tuning/store';
import { cliKernelPolicy, parseKernelsFlag } from '../../src/cli/kernels-option';

const LAVAPIPE: MatmulCapabilities = {
  isSoftware: true,
  isSwiftShader: false,
  hasSubgroups: true,
  subgroupMinSize: 8,
  subgroupMaxSize: 8,
  maxInvocationsPerWorkgroup: 1024,
  maxWorkgroupStorageSize: 32768,
};
const SWIFTSHADER: MatmulCapabilities = { ...LAVAPIPE, isSwiftShader: true, subgroupMinSize: 4, subgroupMaxSize: 4, maxInvocationsPerWorkgroup: 256 };
const GPU_NO_SUBGROUPS: MatmulCapabilities = {
  ...LAVAPIPE,
  isSoftware: false,
  hasSubgroups: false,
  subgroupMinSize: 0,
  subgroupMaxSize: 0,
  maxInvocationsPerWorkgroup: 256,
};

const config = (name: string) => parseConfigName(name) as MatmulConfig;

describe('the configuration family', () => {
  it('names round-trip and every family member parses', () => {
    for (const name of MATMUL_FAMILY) expect(configName(config(name))).toBe(name);
    expect(config('sg8-16x8-w8')).toEqual({ kind: 'sg', share: 8, rows: 16, cols: 8, wg: 8 });
    expect(config('wgmem4x4-8x8-k16')).toEqual({ kind: 'wgmem', tm: 4, tn: 4, tx: 8, ty: 8, tk: 16 });
    expect(config('flat8x16-w8')).toEqual({ kind: 'flat', rows: 8, cols: 16, wg: 8 });
  });

  it('refuses malformed names and impossible shapes with a message naming them', () => {
    expect(parseConfigName('fast')).toMatch(/"fast" is not a matmul kernel name/);
    expect(parseConfigName('reg12x8-w8')).toMatch(/reg12x8-w8: rows must be 4, 8, 16 or 32/);
    expect(parseConfigName('flat16x12-w8')).toMatch(/flat16x12-w8: rows must be 4, 8, 16 or 32, columns 4, 8 or 16/);
    expect(parseConfigName('sg2-16x8-w8')).toMatch(/subgroup sharing must be 4 or 8/);
    expect(parseConfigName('wgmem3x4-8x8-k16')).toMatch(/powers of two/);
  });

  it('tiles: rows x (columns per lane x lanes), or (TM x TY) x (TN x TX)', () => {
    expect(configTile(config('reg16x8-w8'))).toEqual([16, 64]);
    expect(configTile(config('reg16x4-w16'))).toEqual([16, 64]);
    expect(configTile(config('flat8x16-w8'))).toEqual([8, 128]);
    expect(configTile(config('wgmem4x4-8x8-k16'))).toEqual([32, 32]);
  });

  it('says why an adapter cannot run a configuration', () => {
    expect(unsupportedReason(config('sg8-16x8-w8'), SWIFTSHADER)).toMatch(/shares across 8 lanes, the adapter's subgroups may have 4/);
    expect(unsupportedReason(config('sg4-16x8-w8'), SWIFTSHADER)).toBeNull();
    expect(unsupportedReason(config('sg8-16x8-w64'), GPU_NO_SUBGROUPS)).toMatch(/no subgroups/);
    expect(unsupportedReason(config('reg16x8-w512'), GPU_NO_SUBGROUPS)).toMatch(/512 lanes per workgroup, the adapter allows 256/);
    expect(unsupportedReason(config('wgmem8x8-16x16-k64'), LAVAPIPE)).toMatch(/bytes of workgroup memory/);
    expect(unsupportedReason(config('sg8-16x8-w4'), LAVAPIPE)).toMatch(/not a multiple of the adapter's subgroup size 8/);
  });

  it('candidates: the adapter kind picks the list, unsupported ones drop out, the default comes first', () => {
    expect(candidateConfigs(LAVAPIPE).map(configName)[0]).toBe('sg8-16x8-w8');
    expect(candidateConfigs(LAVAPIPE).some((c) => c.kind === 'flat')).toBe(false);
    const swift = candidateConfigs(SWIFTSHADER).map(configName);
    expect(swift).not.toContain('sg8-16x8-w8');
    expect(swift[0]).toBe('flat8x16-w8');
    expect(swift).toContain('reg16x8-w8');
    // Another CPU adapter with subgroups of 4 gets the CPU list, with the 4-lane subgroup kernel.
    expect(candidateConfigs({ ...SWIFTSHADER, isSwiftShader: false }).map(configName)).toContain('sg4-16x8-w8');
    const gpu = candidateConfigs(GPU_NO_SUBGROUPS).map(configName);
    expect(gpu.some((n) => n.startsWith('sg'))).toBe(false);
    expect(gpu.length).toBeGreaterThan(2);
  });

  it('the WGSL header declares every tile const the kernels use', () => {
    const header = configHeader(config('reg16x4-w16'));
    for (const name of ['ROWS', 'COLS4', 'TM', 'TN', 'TX', 'TY', 'TK']) expect(header).toMatch(new RegExp(`const ${name}: u32 = \\d+u;`));
    expect(header).toContain('const COLS4: u32 = 1u;');
  });
});

describe('choosing from timings', () => {
  const candidates = ['a', 'b', 'c'];

  it('the default without timings, or when none of the measured ones ran', () => {
    expect(chooseConfig(candidates, undefined)).toBe('a');
    expect(chooseConfig(candidates, { b: null, c: null })).toBe('a');
  });

  it('the fastest, unless the default is within the switch margin of it', () => {
    expect(chooseConfig(candidates, { a: 10, b: 5, c: 7 })).toBe('b');
    expect(chooseConfig(candidates, { a: 10, b: 10 / (1 + SWITCH_MARGIN / 2), c: 11 })).toBe('a');
    expect(chooseConfig(candidates, { a: null, b: 8, c: 7 })).toBe('c');
    expect(chooseConfig(candidates, { b: 8 })).toBe('b');
  });

  it('a configuration that failed (null) is never chosen', () => {
    expect(chooseConfig(candidates, { a: 10, b: null, c: 12 })).toBe('a');
  });

  it('complete once every candidate has a timing or a failure', () => {
    expect(isComplete(candidates, { a: 1, b: null })).toBe(false);
    expect(isComplete(candidates, { a: 1, b: null, c: 2 })).toBe(true);
  });
});

describe('measuring within a budget (fake clock, made-up timings)', () => {
  const shapes: TuneShape[] = [
    { key: 'small', work: 10 },
    { key: 'big', work: 1000 },
    { key: 'mid', work: 100 },
  ];
  const candidates = ['d', 'x', 'y'];

  function plan(budgetMs: number, timings: Record<string, ShapeTimings> = {}, costMs = 10, expected?: { uses: number; peakMacsPerMs: number }) {
    let clock = 0;
    const calls: string[] = [];
    return {
      calls,
      timings,
      run: () =>
        fillTimings({
          shapes,
          candidates,
          timings,
          budgetMs,
          expected,
          now: () => clock,
          measure: async (shape, name) => {
            calls.push(`${shape.key}:${name}`);
            clock += costMs;
            return name === 'y' ? null : shape.work * (name === 'x' ? 0.5 : 1);
          },
        }),
    };
  }

  it('measures everything missing, biggest shapes first, the default first within a shape', async () => {
    const p = plan(Infinity);
    const outcome = await p.run();
    expect(p.calls).toEqual(['big:d', 'big:x', 'big:y', 'mid:d', 'mid:x', 'mid:y', 'small:d', 'small:x', 'small:y']);
    expect(outcome).toEqual({ measured: 9, incomplete: [] });
    expect(chooseConfig(candidates, p.timings.big)).toBe('x');
  });

  it('starts no measurement once the budget is spent, and lists the shapes left incomplete', async () => {
    const p = plan(35); // measurements at t = 0, 10, 20, 30; none at 40
    const outcome = await p.run();
    expect(p.calls).toEqual(['big:d', 'big:x', 'big:y', 'mid:d']);
    expect(outcome.incomplete.sort()).toEqual(['mid', 'small']);
    expect(chooseConfig(candidates, p.timings.mid)).toBe('d');
    expect(chooseConfig(candidates, p.timings.small)).toBe('d');
  });

  it('never re-measures what is known: a later round completes an earlier one', async () => {
    const first = plan(35);
    await first.run();
    const second = plan(Infinity, first.timings);
    await second.run();
    expect(second.calls).toEqual(['mid:x', 'mid:y', 'small:d', 'small:x', 'small:y']);
  });

  it('sized to the run: at most TUNING_SHARE of the shortest time its products could take', async () => {
    // 1,110 multiply-adds per use of the three shapes; at 0.01 per ms one use takes at least 111,000 ms.
    expect(TUNING_SHARE).toBe(0.05);
    expect(runShareMs({ shapes, expected: { uses: 1, peakMacsPerMs: 0.01 } })).toBeCloseTo(5550);
    const short = plan(Infinity, {}, 1000, { uses: 1, peakMacsPerMs: 0.01 }); // measurements start at 0..5,000 ms only
    await short.run();
    expect(short.calls).toEqual(['big:d', 'big:x', 'big:y', 'mid:d', 'mid:x', 'mid:y']);
    const long = plan(Infinity, {}, 1000, { uses: 1000, peakMacsPerMs: 0.01 });
    expect((await long.run()).measured).toBe(9);
    const capped = plan(2500, {}, 1000, { uses: 1000, peakMacsPerMs: 0.01 }); // the device's budget still bounds a long run
    await capped.run();
    expect(capped.calls).toEqual(['big:d', 'big:x', 'big:y']);
    // A share under MIN_TUNING_MS (one candidate's compile and timing on a CPU adapter) measures nothing.
    expect(runShareMs({ shapes, expected: { uses: 1, peakMacsPerMs: 0.1 } })).toBe(0);
    const tiny = plan(Infinity, {}, 1000, { uses: 1, peakMacsPerMs: 0.1 });
    expect((await tiny.run()).measured).toBe(0);
  });

  it('a run with nothing left to train measures nothing', async () => {
    const p = plan(Infinity, {}, 10, { uses: 0, peakMacsPerMs: 1 });
    expect((await p.run()).measured).toBe(0);
  });

  it('the peak rates keep a short CLI run on a CPU adapter from measuring', () => {
    // lr_too_high (512-wide, batch 64) for 20 steps: ~10 products of ~16M multiply-adds at most.
    const run = [{ key: 'step', work: 10 * 64 * 512 * 512 }];
    expect(runShareMs({ shapes: run, expected: { uses: 20, peakMacsPerMs: peakMacsPerMs(true) } })).toBe(0);
    // The wide MLP (1024->4096->4096->10, batch 128) for 10,000 steps: worth the whole 20 s budget.
    const wide = [{ key: 'step', work: 6 * 128 * 4096 * 4096 }];
    expect(runShareMs({ shapes: wide, expected: { uses: 10_000, peakMacsPerMs: peakMacsPerMs(true) } })).toBeGreaterThan(20_000);
  });

  it('a zero budget measures nothing', async () => {
    const p = plan(0);
    expect((await p.run()).measured).toBe(0);
    expect(p.calls).toEqual([]);
  });
});

describe('cut-down products', () => {
  it('keeps a small product whole', () => {
    const shape = { variant: 'nn' as const, m: 64, n: 64, k: 64, aligned: true };
    expect(measuredShape(shape, [16, 64])).toEqual(shape);
  });

  it('cuts m to a multiple of the tile rows, then n to a multiple of the tile columns, keeping k', () => {
    const big = { variant: 'tn' as const, m: 4096, n: 4096, k: 128, aligned: true };
    const cut = measuredShape(big, [32, 128], 1 << 22);
    expect(cut.k).toBe(128);
    expect(cut.m % 32).toBe(0);
    expect(cut.n === 4096 || cut.n % 128 === 0).toBe(true);
    expect(cut.m * cut.n * cut.k).toBeLessThanOrEqual(1 << 22);
    const deep = measuredShape({ variant: 'nt', m: 128, n: 1024, k: 4096, aligned: false }, [32, 128], 1 << 22);
    expect([deep.m, deep.n, deep.k, deep.aligned]).toEqual([32, 128, 4096, false]);
  });
});

describe('where tuning results are kept', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('the cache folder follows each platform: XDG_CACHE_HOME, %LOCALAPPDATA%, ~/Library/Caches, ~/.cache', () => {
    expect(userCacheDir({ XDG_CACHE_HOME: '/x/cache' }, 'linux', '/home/u')).toBe('/x/cache');
    expect(userCacheDir({}, 'linux', '/home/u')).toBe(join('/home/u', '.cache'));
    expect(userCacheDir({}, 'darwin', '/Users/u')).toBe(join('/Users/u', 'Library', 'Caches'));
    expect(userCacheDir({ LOCALAPPDATA: 'C:\\Users\\u\\AppData\\Local' }, 'win32', 'C:\\Users\\u')).toBe('C:\\Users\\u\\AppData\\Local');
  });

  it('keys name the adapter, its driver (description) and the kernel sources', () => {
    const key = tuningKey({ vendor: 'mesa', architecture: 'software', device: 'llvmpipe', description: 'Mesa 25.0.7', kernels: 'abcd1234' });
    expect(key).toBe('mesa | software | llvmpipe | Mesa 25.0.7 | abcd1234');
  });

  it('a file store round-trips a record, and reads a missing, corrupt or foreign file as nothing', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'deadunits-tuning-'));
    dirs.push(dir);
    const store = new FileTuningStore(join(dir, 'nested', 'tuning'));
    expect(await store.load('k')).toBeNull();
    const record = { ...emptyRecord('k'), shapes: { 'nn 8x8x8': { a: 1.5, b: null } } };
    await store.save(record);
    expect(await store.load('k')).toEqual(record);
    expect(await store.load('other')).toBeNull();
    const [file] = await readdir(join(dir, 'nested', 'tuning'));
    await writeFile(join(dir, 'nested', 'tuning', file), '{ not json');
    expect(await store.load('k')).toBeNull();
  });

  it('a record read back keeps only well-formed timings', () => {
    const raw = { format: TUNING_FORMAT, version: TUNING_VERSION, key: 'k', shapes: { s: { a: 2, b: null, c: -1, d: 'fast' }, t: 'x' } };
    expect(parseTuningRecord(raw, 'k')?.shapes).toEqual({ s: { a: 2, b: null } });
    expect(parseTuningRecord({ ...raw, version: 99 }, 'k')).toBeNull();
    expect(parseTuningRecord(raw, 'another key')).toBeNull();
  });

  it('the memory store keeps copies, not the caller’s object', async () => {
    const store = new MemoryTuningStore();
    const record = emptyRecord('k');
    await store.save(record);
    record.shapes.s = { a: 1 };
    expect((await store.load('k'))?.shapes).toEqual({});
  });
});

describe('--kernels', () => {
  it('accepts auto and well-formed names, and refuses others naming the forms', () => {
    expect(parseKernelsFlag('auto')).toBe('auto');
    expect(parseKernelsFlag('wgmem4x4-8x8-k16')).toBe('wgmem4x4-8x8-k16');
    expect(() => parseKernelsFlag('fastest')).toThrow(/"fastest" is not a matmul kernel name .*; or auto/);
  });

  it('the CLI policy: the flag, else $DEADUNITS_KERNELS, else auto; $DEADUNITS_TUNING_BUDGET_MS checked', () => {
    expect(cliKernelPolicy(undefined, {}).matmul).toBe('auto');
    expect(cliKernelPolicy(undefined, { DEADUNITS_KERNELS: 'reg16x8-w8' }).matmul).toBe('reg16x8-w8');
    expect(cliKernelPolicy('reg8x8-w8', { DEADUNITS_KERNELS: 'reg16x8-w8' }).matmul).toBe('reg8x8-w8');
    expect(cliKernelPolicy(undefined, { DEADUNITS_TUNING_BUDGET_MS: '1500' }).budgetMs).toBe(1500);
    expect(cliKernelPolicy(undefined, {}).budgetMs).toBeUndefined();
    expect(() => cliKernelPolicy(undefined, { DEADUNITS_TUNING_BUDGET_MS: 'soon' })).toThrow(/DEADUNITS_TUNING_BUDGET_MS must be a number/);
  });
});
