// What every host does with the observatory's snapshots: hands them to sinks. The CLI's outputs (metrics rows,
// unit maps, the divergence watch) and the page's frame outbox are all sinks of the same stream.
import type { Snapshot } from './snapshot';

export interface SnapshotSink {
  /** One snapshot, in step order; the next one is handed over once this settles. */
  onSnapshot(snapshot: Snapshot): void | Promise<void>;
  /** No more snapshots will come: flush and release what the sink holds. */
  close?(): void | Promise<void>;
}

/** Several sinks fed in order, one snapshot at a time: each sink sees it after the ones before it. */
export class SnapshotSinks implements SnapshotSink {
  private readonly sinks: SnapshotSink[];

  constructor(...sinks: SnapshotSink[]) {
    this.sinks = sinks;
  }

  async onSnapshot(snapshot: Snapshot): Promise<void> {
    for (const sink of this.sinks) await sink.onSnapshot(snapshot);
  }

  async close(): Promise<void> {
    for (const sink of this.sinks) await sink.close?.();
  }
}
