// What the page learns from the per-unit histories: the seed answer (one summary per hidden layer), the death order
// of the layers whose map is sorted that way, and one unit's record for the hover tooltip. Summaries follow the
// snapshots, paced so that reading the histories (slow for a million units) stays a small share of the time.
import type { SnapshotSink } from '../../engine/snapshot-sink';
import { summarizeUnitHistory } from '../../report/seed-answer';
import type { WorkerEvent } from '../protocol';
import { deathOrder } from '../unit-map/order';
import { unitRecord } from './history';
import { HistoryCache, type HistorySource } from './history-cache';

/** Least time between two history reads for the seed answer and death orders. */
export const MIN_SUMMARY_INTERVAL_MS = 1000;
/** Reading the histories may take at most 1/SUMMARY_TIME_SHARE of the time. */
const SUMMARY_TIME_SHARE = 20;

export interface HistoryRun extends HistorySource {
  /** Hidden layer widths, first to last. */
  readonly widths: readonly number[];
  /** The training records behind "frozen", and their window W; absent: the summaries leave frozen out. */
  readTrainRecord?(layer: number): Promise<Uint32Array>;
  readonly frozenWindow?: number;
}

export interface HistoryReportsHost {
  now(): number;
  post(event: WorkerEvent): void;
  /** Runs `task` on the current run between training chunks; does nothing when there is none. */
  withRun(task: (run: HistoryRun) => Promise<void>): Promise<unknown>;
}

export class HistoryReports implements SnapshotSink {
  private readonly cache = new HistoryCache();
  private readonly orderLayers = new Set<number>();
  private lastSummaryAt = -Infinity;
  private summaryIntervalMs = MIN_SUMMARY_INTERVAL_MS;
  private summaryPending = false;

  constructor(private readonly host: HistoryReportsHost) {}

  /** After a snapshot: a new summary, unless the last one is too recent. */
  onSnapshot(): void {
    if (this.host.now() - this.lastSummaryAt >= this.summaryIntervalMs) void this.refresh();
  }

  /** Posts the summary of every layer and the death orders asked for; a call while one is waiting does nothing. */
  async refresh(): Promise<void> {
    if (this.summaryPending) return;
    this.summaryPending = true;
    try {
      await this.host.withRun((run) => this.report(run));
    } finally {
      this.summaryPending = false;
    }
  }

  /** Starts (with an order at once) or stops sending the death order of a layer. */
  async setOrder(layer: number, enabled: boolean): Promise<void> {
    if (!enabled) {
      this.orderLayers.delete(layer);
      return;
    }
    this.orderLayers.add(layer);
    await this.refresh();
  }

  /** Answers a hover: the record of one unit at the current step. */
  async unitInfo(id: number, layer: number, unit: number): Promise<void> {
    await this.host.withRun(async (run) => {
      const width = run.widths[layer - 1];
      if (width === undefined || unit >= width)
        throw new RangeError(`unit-info: unit ${unit} of layer ${layer} does not exist (layers 1..${run.widths.length})`);
      const words = await this.cache.read(run, layer);
      this.host.post({ type: 'unit-info', id, layer, unit, step: run.step, record: unitRecord(words, unit) });
    });
  }

  /** A fresh run: nothing read from it yet. */
  reset(): void {
    this.cache.clear();
    this.lastSummaryAt = -Infinity;
  }

  private async report(run: HistoryRun): Promise<void> {
    const started = this.host.now();
    const layers = [];
    for (const [i, width] of run.widths.entries()) {
      const words = await this.cache.read(run, i + 1);
      const training =
        run.readTrainRecord && run.frozenWindow !== undefined
          ? { record: await run.readTrainRecord(i + 1), step: run.step, window: run.frozenWindow }
          : undefined;
      layers.push(summarizeUnitHistory(words, width, training));
      if (this.orderLayers.has(i + 1)) this.host.post({ type: 'order', layer: i + 1, step: run.step, permutation: deathOrder(words, width) });
    }
    this.host.post({ type: 'summary', step: run.step, layers });
    const ms = this.host.now() - started;
    this.lastSummaryAt = this.host.now();
    this.summaryIntervalMs = Math.max(MIN_SUMMARY_INTERVAL_MS, SUMMARY_TIME_SHARE * ms);
  }
}
