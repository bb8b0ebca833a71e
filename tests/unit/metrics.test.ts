import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../../src/engine/observatory';
import { metricsCsvHeader, metricsFromJsonLine, metricsFromSnapshot, metricsToCsv, metricsToJsonLine, type MetricsRow } from '../../src/report/metrics';

function snapshot(step: number, losses: number[]): Snapshot {
  const layer = (width: number, dead: number) => ({
    width,
    dead: new Uint32Array(Math.ceil(width / 32)),
    dropped: new Uint32Array(Math.ceil(width / 32)),
    revived: new Uint32Array(Math.ceil(width / 32)),
    frozen: new Uint32Array(Math.ceil(width / 32)),
    nonFinite: new Uint32Array(Math.ceil(width / 32)),
    counts: { dead, revived: 1, everDead: dead + 1, dropped: 7, frozen: dead === 0 ? 0 : dead - 1, nonFinite: width === 8 ? 2 : 0 },
  });
  return { step, gpuStep: step, layers: [layer(40, 3), layer(8, 0)], losses: new Float32Array(losses), skipped: 2, buffer: new ArrayBuffer(0) };
}

describe('metrics rows', () => {
  it('takes the counts of every layer and the mean loss of the interval from a snapshot', () => {
    const row = metricsFromSnapshot(snapshot(300, [1, 2, 4.5]), { elapsedSeconds: 1.5, stepsPerSecond: 200 });
    expect(row).toEqual({
      step: 300,
      elapsedSeconds: 1.5,
      loss: 2.5,
      stepsPerSecond: 200,
      skipped: 2,
      layers: [
        { width: 40, dead: 3, dropped: 7, revived: 1, everDead: 4, frozen: 2, nonFinite: 0 },
        { width: 8, dead: 0, dropped: 7, revived: 1, everDead: 1, frozen: 0, nonFinite: 2 },
      ],
    });
    expect(metricsFromSnapshot(snapshot(0, []), { elapsedSeconds: 0, stepsPerSecond: null }).loss).toBeNull();
  });

  it('round trips through a JSON line, non-finite losses included', () => {
    for (const loss of [0.25, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, null]) {
      const row: MetricsRow = { ...metricsFromSnapshot(snapshot(10, [1]), { elapsedSeconds: 0.1, stepsPerSecond: 100 }), loss };
      const line = metricsToJsonLine(row);
      expect(line).not.toContain('\n');
      expect(metricsFromJsonLine(line)).toEqual(row);
    }
  });

  it('rejects malformed lines naming the field', () => {
    const good = JSON.parse(metricsToJsonLine(metricsFromSnapshot(snapshot(10, [1]), { elapsedSeconds: 0.1, stepsPerSecond: 100 })));
    expect(() => metricsFromJsonLine('{"step": 1')).toThrow(/not JSON/);
    expect(() => metricsFromJsonLine(JSON.stringify({ ...good, step: -1 }))).toThrow(/field step/);
    expect(() => metricsFromJsonLine(JSON.stringify({ ...good, loss: 'oops' }))).toThrow(/field loss/);
    expect(() => metricsFromJsonLine(JSON.stringify({ ...good, extra: 1 }))).toThrow(/extra/);
    const tooMany = { ...good, layers: [{ ...good.layers[0], dead: 41 }, good.layers[1]] };
    expect(() => metricsFromJsonLine(JSON.stringify(tooMany))).toThrow(/layers\.0\.dead: 41 exceeds the layer width 40/);
    const tooFrozen = { ...good, layers: [good.layers[0], { ...good.layers[1], frozen: 9 }] };
    expect(() => metricsFromJsonLine(JSON.stringify(tooFrozen))).toThrow(/layers\.1\.frozen: 9 exceeds the layer width 8/);
  });

  it('reads rows written before the frozen statistic (no frozen, no non-finite) and leaves their CSV cells empty', () => {
    const row = metricsFromSnapshot(snapshot(10, [1]), { elapsedSeconds: 0.1, stepsPerSecond: 100 });
    const old = { ...row, layers: row.layers.map(({ frozen: _f, nonFinite: _n, ...rest }) => rest) };
    const parsed = metricsFromJsonLine(metricsToJsonLine(old));
    expect(parsed.layers[0].frozen).toBeUndefined();
    expect(metricsToCsv([parsed]).trimEnd().split('\n')[1]).toBe('10,0.1,1,100,2,40,3,7,1,4,,,8,0,7,1,1,,');
  });

  it('writes CSV with one column group per layer and empty cells for unknown values', () => {
    const rows = [
      metricsFromSnapshot(snapshot(0, []), { elapsedSeconds: 0, stepsPerSecond: null }),
      metricsFromSnapshot(snapshot(100, [Number.NaN]), { elapsedSeconds: 2.123456, stepsPerSecond: 47.123456 }),
    ];
    const csv = metricsToCsv(rows);
    expect(csv.endsWith('\n')).toBe(true);
    const lines = csv.trimEnd().split('\n');
    expect(lines[0]).toBe(metricsCsvHeader(2));
    expect(lines[0]).toBe(
      'step,elapsed_s,loss,steps_per_s,skipped,L1_width,L1_dead,L1_dropped,L1_revived,L1_ever_dead,L1_frozen,L1_non_finite,' +
        'L2_width,L2_dead,L2_dropped,L2_revived,L2_ever_dead,L2_frozen,L2_non_finite',
    );
    expect(lines[1]).toBe('0,0,,,2,40,3,7,1,4,2,0,8,0,7,1,1,0,2');
    expect(lines[2]).toBe('100,2.123,NaN,47.123,2,40,3,7,1,4,2,0,8,0,7,1,1,0,2');
    for (const line of lines) expect(line.split(',')).toHaveLength(19);
  });
});
