// Sweep grid: spec parsing, field paths, enumeration order, ids, validation messages, sharding.
import { describe, expect, it } from 'vitest';
import { ConfigError, presetConfig } from '../../src/config';
import { formatShard, parseShard, pointsOfShard, ShardError } from '../../src/cli/sweep/shard';
import { expandSweep, MAX_POINTS, parseGridFlag, parsePath, pointId, sweepSpecFromJson, sweepSpecToJson, type SweepSpec } from '../../src/cli/sweep/spec';

const message = (fn: () => unknown): string => {
  try {
    fn();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
};

describe('grid flags and paths', () => {
  it('parses values as JSON where they are JSON and as strings otherwise', () => {
    expect(parseGridFlag('lr=0.01,0.1, 1')).toEqual({ path: 'lr', values: [0.01, 0.1, 1] });
    expect(parseGridFlag('hidden[*].activation.kind=relu,"gelu"')).toEqual({ path: 'hidden[*].activation.kind', values: ['relu', 'gelu'] });
    expect(parseGridFlag('optimizer.nesterov=true,false').values).toEqual([true, false]);
  });

  it('rejects malformed flags naming the flag', () => {
    expect(message(() => parseGridFlag('lr'))).toMatch(/--grid lr: expected PATH=V1,V2/);
    expect(message(() => parseGridFlag('lr='))).toMatch(/--grid lr=: lists no values/);
    expect(message(() => parseGridFlag('lr=1,,2'))).toMatch(/has an empty value/);
  });

  it('splits paths into names, indices and [*]', () => {
    expect(parsePath('hidden[*].init.bias.value')).toEqual(['hidden', '*', 'init', 'bias', 'value']);
    expect(parsePath('hidden[12].dropout')).toEqual(['hidden', 12, 'dropout']);
    expect(parsePath('lr')).toEqual(['lr']);
    for (const bad of ['', '[0]', 'hidden[x]', 'a..b', 'a b', 'hidden[1']) expect(parsePath(bad), bad).toBeNull();
  });
});

describe('expanding a sweep', () => {
  const base = {
    inputSize: 4,
    hidden: [{ width: 8 }, { width: 8 }],
    dataset: { kind: 'gaussian_mixture', samples: 64, classes: 3 },
    batchSize: 8,
    snapshot: { every: 5, probeSize: 16 },
  };
  const spec = (axes: SweepSpec['axes'], extra: Partial<SweepSpec> = {}): SweepSpec => ({ base, axes, steps: 10, ...extra });

  it('enumerates row-major, the last axis fastest, with ids from index and overrides', () => {
    const points = expandSweep(
      spec([
        { path: 'lr', values: [0.01, 0.1, 1] },
        { path: 'hidden[*].dropout', values: [0, 0.5] },
      ]),
    );
    expect(points.map((p) => p.overrides)).toEqual([
      [
        ['lr', 0.01],
        ['hidden[*].dropout', 0],
      ],
      [
        ['lr', 0.01],
        ['hidden[*].dropout', 0.5],
      ],
      [
        ['lr', 0.1],
        ['hidden[*].dropout', 0],
      ],
      [
        ['lr', 0.1],
        ['hidden[*].dropout', 0.5],
      ],
      [
        ['lr', 1],
        ['hidden[*].dropout', 0],
      ],
      [
        ['lr', 1],
        ['hidden[*].dropout', 0.5],
      ],
    ]);
    expect(points.map((p) => p.index)).toEqual([0, 1, 2, 3, 4, 5]);
    expect(points[3].config.lr).toBe(0.1);
    expect(points[3].config.hidden.map((h) => h.dropout)).toEqual([0.5, 0.5]);
    expect(points[3].config.steps).toBe(10);
    expect(points[3].id).toMatch(/^p3-[0-9a-f]{8}$/);
    expect(new Set(points.map((p) => p.id)).size).toBe(6);
    // Stable: the same overrides give the same id; other overrides another hash.
    expect(
      expandSweep(
        spec([
          { path: 'lr', values: [0.01, 0.1, 1] },
          { path: 'hidden[*].dropout', values: [0, 0.5] },
        ]),
      )[3].id,
    ).toBe(points[3].id);
    expect(
      pointId(3, 6, [
        ['lr', 0.2],
        ['hidden[*].dropout', 0.5],
      ]),
    ).not.toBe(points[3].id);
    // Indices are padded to the width of the last one.
    expect(pointId(7, 120, [])).toMatch(/^p007-/);
  });

  it('lowers a snapshot interval longer than the steps, as run --steps does, unless the grid sets it', () => {
    const short = expandSweep({ base: 'dropout_only', axes: [{ path: 'lr', values: [0.01] }], steps: 20 });
    expect(presetConfig('dropout_only').snapshot.every).toBeGreaterThan(20);
    expect(short[0].config.snapshot.every).toBe(20);
    expect(short[0].loweredEvery).toBe(presetConfig('dropout_only').snapshot.every);
    const long = expandSweep({ base: 'dropout_only', axes: [{ path: 'lr', values: [0.01] }], steps: 5000 });
    expect(long[0].config.snapshot.every).toBe(presetConfig('dropout_only').snapshot.every);
    expect(long[0].loweredEvery).toBeUndefined();
    // An interval the grid asks for is the user's: it is checked, not changed.
    expect(() => expandSweep({ base: 'dropout_only', axes: [{ path: 'snapshot.every', values: [50] }], steps: 20 })).toThrow(
      'snapshot.every: 50 is larger than steps = 20',
    );
  });

  it('reads sweep.json with seeds as the last axis and a preset base', () => {
    const s = sweepSpecFromJson({ base: 'dropout_only', grid: { lr: [0.01, 0.1], 'hidden[0].init.bias.value': [0, -1] }, steps: 200, seeds: [1, 2] });
    expect(s.axes.map((a) => a.path)).toEqual(['lr', 'hidden[0].init.bias.value', 'seed']);
    const points = expandSweep(s);
    expect(points).toHaveLength(8);
    expect(points[1].config.seed).toBe(2);
    expect(points[2].config.hidden[0].init.bias.value).toBe(-1);
    expect(points[2].config.hidden[1].init.bias.value).toBe(0);
    // The rest is the preset's.
    const preset = presetConfig('dropout_only');
    expect(points[0].config).toEqual({ ...preset, lr: 0.01, steps: 200, seed: 1 });
  });

  it('writes a spec back as a sweep file that reads to the same points (what sweep plan hands the tasks)', () => {
    const s = sweepSpecFromJson({ base: { inputSize: 4 }, grid: { 'hidden[*].dropout': [0, 0.5], lr: [0.1, 0.01] }, steps: 300, seeds: [3, 1] });
    const text = JSON.stringify(sweepSpecToJson(s));
    expect(JSON.parse(text)).toEqual({ base: { inputSize: 4 }, grid: { 'hidden[*].dropout': [0, 0.5], lr: [0.1, 0.01], seed: [3, 1] }, steps: 300 });
    const again = sweepSpecFromJson(JSON.parse(text));
    expect(again).toEqual(s);
    expect(expandSweep(again).map((p) => p.id)).toEqual(expandSweep(s).map((p) => p.id));
    expect(sweepSpecToJson({ base: 'dropout_only', axes: [{ path: 'lr', values: [1] }] })).toEqual({ base: 'dropout_only', grid: { lr: [1] } });
  });

  it("switches variants: a new kind drops the old kind's fields", () => {
    const points = expandSweep({
      base: 'dropout_only',
      steps: 200,
      axes: [
        { path: 'optimizer.kind', values: ['sgd', 'adam'] },
        { path: 'hidden[*].activation.kind', values: ['leaky_relu', 'relu'] },
      ],
    });
    expect(points[0].config.optimizer).toEqual({ kind: 'sgd' });
    expect(points[0].config.hidden[0].activation).toEqual({ kind: 'leaky_relu', alpha: 0.01 });
    expect(points[3].config.optimizer.kind).toBe('adam');
    expect(points[3].config.hidden[1].activation).toEqual({ kind: 'relu' });
  });

  it('validates every point first and names the point, the field and the limit', () => {
    const error = (() => {
      try {
        expandSweep(
          spec([
            { path: 'lr', values: [0.1, 500] },
            { path: 'hidden[*].dropout', values: [0, 1] },
          ]),
        );
      } catch (e) {
        return e as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    // Points 1, 2 and 3 are bad; all are reported.
    expect(error.message).toMatch(/point 1 \(p1-[0-9a-f]{8}: lr=0\.1 hidden\[\*\]\.dropout=1\) hidden\[0\]\.dropout: 1 is not in \[0, 1\)/);
    expect(error.message).toMatch(/point 2 \(p2-[0-9a-f]{8}: lr=500 hidden\[\*\]\.dropout=0\) lr: 500 is not in \(0, 100\]/);
    expect(error.message).toMatch(/point 3 .*lr: 500 is not in/);
    expect(error.message).not.toMatch(/point 0/);
  });

  it('rejects bad specs with the field named', () => {
    expect(message(() => expandSweep(spec([])))).toMatch(/grid: has no axes/);
    expect(message(() => expandSweep(spec([{ path: 'hidden[', values: [1] }])))).toMatch(/grid hidden\[: is not a field path/);
    expect(
      message(() =>
        expandSweep(
          spec([
            { path: 'lr', values: [1] },
            { path: 'lr', values: [2] },
          ]),
        ),
      ),
    ).toMatch(/grid lr: appears twice/);
    expect(message(() => expandSweep(spec([{ path: 'hidden[5].dropout', values: [0] }])))).toMatch(
      /point 0 .*hidden\[5\]\.dropout: \[5\] is past the end of a list of 2/,
    );
    expect(message(() => expandSweep(spec([{ path: 'nosuch', values: [1] }])))).toMatch(/nosuch: is not a known field/);
    expect(message(() => expandSweep(spec([{ path: 'lr', values: [1] }], { steps: 0 })))).toMatch(/steps: 0 is not an integer in \[1, 4294967295\]/);
    expect(message(() => expandSweep({ base: 'nope', axes: [{ path: 'lr', values: [1] }] }))).toMatch(/base: "nope" is not a preset/);
    expect(message(() => expandSweep({ base: { lr: -1 }, axes: [{ path: 'lr', values: [1] }] }))).toMatch(/base\.lr: -1 is not in/);
    const big = Array.from({ length: 5 }, (_, i) => ({ path: `hidden[0].width${i}`, values: Array.from({ length: 10 }, (_, k) => k) }));
    expect(MAX_POINTS).toBeLessThan(10 ** 5 + 1);
    expect(message(() => expandSweep(spec([...big, { path: 'lr', values: [1, 2] }])))).toMatch(/grid: has 200000 points, more than the limit of 100000/);
    expect(message(() => sweepSpecFromJson({ grid: { lr: [] } }, 'x.json'))).toMatch(/x\.json: grid\.lr: must list at least one value/);
    expect(message(() => sweepSpecFromJson({ grid: { lr: [1] }, extra: 1 }, 'x.json'))).toMatch(/x\.json/);
  });
});

describe('shards', () => {
  it('parses i/n, 0-based, and refuses i >= n, n = 0 and malformed text', () => {
    expect(parseShard('0/1')).toEqual({ index: 0, count: 1 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(formatShard({ index: 2, count: 5 })).toBe('2/5');
    expect(() => parseShard('4/4')).toThrow(/shard index i = 4 is not in \[0, 3\]/);
    expect(() => parseShard('0/0')).toThrow(/shard count n = 0 is not in \[1, /);
    for (const bad of ['1', '-1/2', '1/2/3', 'a/b', '1.5/2', '']) expect(() => parseShard(bad), bad).toThrow(ShardError);
  });

  it('gives every point to exactly one shard, round-robin', () => {
    const points = Array.from({ length: 11 }, (_, index) => ({ index }));
    for (const n of [1, 2, 3, 11, 20]) {
      const seen = Array.from({ length: n }, (_, i) => pointsOfShard(points, { index: i, count: n }).map((p) => p.index)).flat();
      expect(seen.sort((a, b) => a - b)).toEqual(points.map((p) => p.index));
    }
    expect(pointsOfShard(points, { index: 1, count: 3 }).map((p) => p.index)).toEqual([1, 4, 7, 10]);
  });
});
