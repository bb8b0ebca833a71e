// Unit maps in the run folder: per snapshot and hidden layer, maps/L<l>/step-<step>.png and/or .npy.
//
// .npy: uint8 array of shape (width,), unit u at index u, each unit's state code (src/report/unit-states.ts:
// 0 alive, 1 dead, 2 dropped, 3 revived; precedence dead > revived > dropped > alive). NumPy: np.load(path).
// .png: the page's unit map PNG, byte for byte (src/report/unit-map-png.ts).
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeNpy } from '../../data/npy';
import { writeFileAtomic } from '../../io/atomic-file';
import { unitMapPng } from '../../report/unit-map-png';
import { unitCodes, type UnitBitmaps } from '../../report/unit-states';
import { unitMapFile, type RunPaths, type UnitMapKind } from '../run-dir';

export function unitMapNpy(codes: Uint8Array): Uint8Array {
  return encodeNpy(codes, [codes.length]);
}

/** Writes the unit maps of every hidden layer of a snapshot (`kind`: which files). */
export async function writeUnitMaps(paths: RunPaths, snapshot: { step: number; layers: readonly UnitBitmaps[] }, kind: UnitMapKind): Promise<void> {
  if (kind === 'none') return;
  for (const [i, layer] of snapshot.layers.entries()) {
    const codes = unitCodes(layer);
    await mkdir(join(paths.maps, `L${i + 1}`), { recursive: true });
    if (kind === 'png' || kind === 'both') await writeFileAtomic(join(paths.dir, unitMapFile(i + 1, snapshot.step, 'png')), unitMapPng(codes));
    if (kind === 'npy' || kind === 'both') await writeFileAtomic(join(paths.dir, unitMapFile(i + 1, snapshot.step, 'npy')), unitMapNpy(codes));
  }
}

/**
 * Snapshot steps that get unit maps: every `mapEvery` steps, a multiple of the snapshot interval chosen so that
 * a run writes at most about `maxMaps` maps per layer (a 10^7-step run with a snapshot every 100 steps would
 * otherwise write 10^5 files per layer). Step 0 is always included; so is the run's last snapshot.
 */
export function unitMapInterval(steps: number, snapshotEvery: number, maxMaps = 64): number {
  return snapshotEvery * Math.max(1, Math.ceil(steps / (snapshotEvery * maxMaps)));
}
