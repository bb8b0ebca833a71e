// Node-only: the snapshot sink that turns each snapshot into a metrics row and appends it to the run folder's
// metrics.jsonl (and metrics.csv).
import type { Snapshot } from '../../engine/snapshot';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import { metricsFromSnapshot, type MetricsRow } from '../../report/metrics';
import type { RunPaths } from '../run-dir';
import type { SnapshotTiming } from '../snapshot-clock';
import { MetricsWriter, truncateMetrics } from './metrics-writer';

export class MetricsSink implements SnapshotSink {
  private writer: MetricsWriter | null = null;
  /** The latest row written (across sessions). */
  last: MetricsRow | null = null;

  constructor(
    private readonly paths: RunPaths,
    private readonly files: { csv: boolean; layerCount: number },
    /** Asked once per row, when its snapshot arrives. */
    private readonly timing: (snapshot: Snapshot) => SnapshotTiming,
  ) {}

  /**
   * Cuts the files back to the rows of steps up to `step` (-1: every row) and opens them for appending: a session
   * continues from a checkpoint at `step`, and what the checkpoint does not cover is produced again.
   */
  async reopen(step: number): Promise<void> {
    await this.close();
    await truncateMetrics(this.paths, step, this.files);
    this.writer = await MetricsWriter.open(this.paths, this.files);
  }

  async onSnapshot(snapshot: Snapshot): Promise<void> {
    if (!this.writer) throw new Error('metrics sink: a snapshot arrived before the metrics files were opened (reopen)');
    const row = metricsFromSnapshot(snapshot, this.timing(snapshot));
    this.last = row;
    await this.writer.append(row);
  }

  async close(): Promise<void> {
    const writer = this.writer;
    this.writer = null;
    await writer?.close();
  }
}
