// The unit-history reports of the Worker (src/ui/worker/history-reports.ts, history-cache.ts): the seed-answer
// summary of every layer and the death orders asked for, hover records, one read per layer and step, and summaries
// paced so that reading histories stays a small share of the time.
import { describe, expect, it } from 'vitest';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField } from '../../src/spec/unit-history';
import { summarizeUnitHistory } from '../../src/report/seed-answer';
import type { WorkerEvent } from '../../src/ui/protocol';
import { HistoryReports, MIN_SUMMARY_INTERVAL_MS, type HistoryRun } from '../../src/ui/worker/history-reports';

/** A layer's history where unit u died first at step deathSteps[u] (NEVER: never). */
function history(deathSteps: number[]): Uint32Array {
  const words = new Uint32Array(deathSteps.length * UNIT_HISTORY_WORDS);
  deathSteps.forEach((step, u) => {
    words[u * UNIT_HISTORY_WORDS + UnitHistoryField.firstDeathStep] = step;
    words[u * UNIT_HISTORY_WORDS + UnitHistoryField.wasDead] = step === NEVER ? 0 : 1;
  });
  return words;
}

const LAYERS = [history([NEVER, 30, 10]), history([20, NEVER])];

function setup(readMs = 0) {
  const time = { ms: 0 };
  const events: WorkerEvent[] = [];
  const reads: number[] = [];
  const run: HistoryRun & { step: number } = {
    step: 40,
    widths: [3, 2],
    async readUnitHistory(layer) {
      reads.push(layer);
      time.ms += readMs;
      return LAYERS[layer - 1];
    },
  };
  let current: (HistoryRun & { step: number }) | null = run;
  /** Tasks wait here while `hold` is set (a training chunk holding the GPU queue). */
  const held: (() => void)[] = [];
  const gate = { hold: false };
  const reports = new HistoryReports({
    now: () => time.ms,
    post: (event) => events.push(event),
    withRun: async (task) => {
      if (gate.hold) await new Promise<void>((resolve) => held.push(resolve));
      if (current) await task(current);
    },
  });
  return { time, events, reads, run, reports, held, gate, drop: () => (current = null) };
}

/** Lets every promise chain started so far finish (no real time passes on the fake clock). */
const settled = () => new Promise((resolve) => setTimeout(resolve));

const ofType = <T extends WorkerEvent['type']>(events: WorkerEvent[], type: T) => events.filter((e): e is Extract<WorkerEvent, { type: T }> => e.type === type);

describe('HistoryReports', () => {
  it('summarizes every layer, and sends death orders only for the layers that asked', async () => {
    const { events, reports } = setup();
    await reports.setOrder(2, true);
    const [summary] = ofType(events, 'summary');
    expect(summary.step).toBe(40);
    expect(summary.layers).toEqual([summarizeUnitHistory(LAYERS[0], 3), summarizeUnitHistory(LAYERS[1], 2)]);
    expect(ofType(events, 'order').map((o) => [o.layer, [...o.permutation]])).toEqual([[2, [0, 1]]]);
    await reports.setOrder(2, false);
    await reports.refresh();
    expect(ofType(events, 'summary')).toHaveLength(2);
    expect(ofType(events, 'order')).toHaveLength(1);
  });

  it('answers a hover with the unit record, and names the layers when the unit does not exist', async () => {
    const { events, reports } = setup();
    await reports.unitInfo(7, 1, 2);
    expect(ofType(events, 'unit-info')).toEqual([
      { type: 'unit-info', id: 7, layer: 1, unit: 2, step: 40, record: expect.objectContaining({ firstDeathStep: 10, dead: true }) },
    ]);
    await expect(reports.unitInfo(8, 2, 2)).rejects.toThrow('unit-info: unit 2 of layer 2 does not exist (layers 1..2)');
    await expect(reports.unitInfo(9, 3, 0)).rejects.toThrow('unit-info: unit 0 of layer 3 does not exist (layers 1..2)');
  });

  it('reads each layer once per trained step; reset() forgets what was read', async () => {
    const { reads, run, reports } = setup();
    await reports.refresh();
    await reports.unitInfo(1, 1, 0);
    expect(reads).toEqual([1, 2]);
    run.step = 50;
    await reports.unitInfo(2, 1, 0);
    expect(reads).toEqual([1, 2, 1]);
    reports.reset();
    await reports.unitInfo(3, 1, 0);
    expect(reads).toEqual([1, 2, 1, 1]);
  });

  it('posts a summary after a snapshot at most once a second, and at most 1/20 of the time reading them', async () => {
    const { time, events, reports } = setup(100); // each layer takes 100 ms to read: 200 ms per summary
    const summaries = () => ofType(events, 'summary').length;
    reports.onSnapshot();
    await settled();
    expect(summaries()).toBe(1);
    time.ms += MIN_SUMMARY_INTERVAL_MS;
    reports.onSnapshot();
    expect(summaries()).toBe(1);
    time.ms += 20 * 200 - MIN_SUMMARY_INTERVAL_MS;
    reports.onSnapshot();
    await settled();
    expect(summaries()).toBe(2);
    // reset() (a fresh run) allows one at once.
    reports.reset();
    reports.onSnapshot();
    await settled();
    expect(summaries()).toBe(3);
  });

  it('does not queue a second summary behind one waiting for the GPU, and posts none without a run', async () => {
    const { events, reports, held, gate, drop } = setup();
    gate.hold = true;
    const first = reports.refresh();
    const second = reports.refresh();
    await second;
    expect(held).toHaveLength(1);
    held[0]();
    await first;
    expect(ofType(events, 'summary')).toHaveLength(1);
    gate.hold = false;
    drop();
    await reports.refresh();
    await reports.unitInfo(1, 1, 0);
    expect(events).toHaveLength(1);
  });
});
