// Node-only: the snapshot sink that writes unit maps (./unit-maps.ts) of every hidden layer, at most about 64 per
// layer and run (see unitMapInterval), the step-0 and the last snapshot included.
import type { Snapshot } from '../../engine/snapshot';
import type { SnapshotSink } from '../../engine/snapshot-sink';
import type { RunPaths, UnitMapKind } from '../run-dir';
import { unitMapInterval, writeUnitMaps } from './unit-maps';

export class UnitMapSink implements SnapshotSink {
  private readonly mapEvery: number;
  private readonly lastSnapshotStep: number;

  constructor(
    private readonly paths: RunPaths,
    private readonly kind: UnitMapKind,
    steps: number,
    snapshotEvery: number,
  ) {
    this.mapEvery = unitMapInterval(steps, snapshotEvery);
    this.lastSnapshotStep = Math.floor(steps / snapshotEvery) * snapshotEvery;
  }

  async onSnapshot(snapshot: Snapshot): Promise<void> {
    if (this.kind === 'none' || (snapshot.step % this.mapEvery !== 0 && snapshot.step !== this.lastSnapshotStep)) return;
    await writeUnitMaps(this.paths, snapshot, this.kind);
  }
}
