// The page's snapshot sink: every snapshot becomes one metrics row and one timeline column, and its bitmaps the
// newest to show. They leave in `frame` events under the page's flow control (src/ui/protocol.ts): one frame in
// flight until the page acks it. Meanwhile rows and columns queue up (never dropped) and only the newest bitmaps are
// kept; the ones replaced are counted in the next frame's `coalesced`.
import type { Snapshot } from '../../engine/snapshot';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import { metricsFromSnapshot, type MetricsRow } from '../../report/metrics';
import { bitmapsOf } from '../../report/unit-states';
import type { TimelineColumn, WorkerEvent } from '../protocol';
import { timelineColumn } from '../timeline/columns';
import type { SnapshotTiming } from './run-clock';

export type FrameEvent = Extract<WorkerEvent, { type: 'frame' }>;

export class FrameOutbox implements SnapshotSink {
  private credit = true;
  private rows: MetricsRow[] = [];
  private columns: TimelineColumn[] = [];
  private latest: Snapshot | null = null;
  private coalesced = 0;
  /** Step of the last row queued: a resumed run trains again through steps already reported; they are not sent twice. */
  private lastRowStep = -1;

  constructor(
    private readonly send: (frame: FrameEvent) => void,
    /** The metrics row's timing of a snapshot (asked once per row, in step order). */
    private readonly timing: (step: number) => SnapshotTiming,
  ) {}

  onSnapshot(snapshot: Snapshot): void {
    if (snapshot.step > this.lastRowStep) {
      this.rows.push(metricsFromSnapshot(snapshot, this.timing(snapshot.step)));
      this.columns.push({ step: snapshot.step, layers: snapshot.layers.map((l) => timelineColumn(l)) });
      this.lastRowStep = snapshot.step;
    }
    if (this.latest) this.coalesced++;
    this.latest = snapshot;
    this.flush();
  }

  /** The page drew the last frame: the next may leave. */
  ack(): void {
    this.credit = true;
    this.flush();
  }

  /** A fresh run: what was queued for the old one is dropped, and every step is new again. */
  clear(): void {
    this.rows = [];
    this.columns = [];
    this.latest = null;
    this.coalesced = 0;
    this.lastRowStep = -1;
  }

  /** Sends what accumulated since the last frame, if the page gave the credit back. */
  private flush(): void {
    if (!this.credit || (this.rows.length === 0 && this.latest === null)) return;
    const s = this.latest;
    const frame: FrameEvent = {
      type: 'frame',
      rows: this.rows,
      columns: this.columns,
      snapshot: s && { step: s.step, layers: s.layers.map(bitmapsOf), buffer: s.buffer },
      coalesced: this.coalesced,
    };
    this.rows = [];
    this.columns = [];
    this.latest = null;
    this.coalesced = 0;
    this.credit = false;
    this.send(frame);
  }
}
