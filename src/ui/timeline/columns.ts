// Timeline columns: one per snapshot and hidden layer, the layer's units folded into at most TIMELINE_ROWS buckets of
// consecutive units, each bucket holding the fraction of its units that are dead, revived and dropped (the unit map's
// priority: a dead unit counts only as dead, a revived one not as dropped). Built in the worker from the snapshot's
// bitmaps, so the page gets every snapshot's column (a few hundred bytes) even when it skips the bitmaps themselves.
import type { UnitMapBitmaps } from '../unit-map/colors';
import { popcount } from '../unit-map/colors';

/** Most buckets (raster rows) per layer. */
export const TIMELINE_ROWS = 256;
/** Bytes per bucket: dead, revived, dropped, each a fraction scaled to 0..255. */
export const CELL_BYTES = 3;

/** Buckets of a layer of `width` units, and the units per bucket (a multiple of 32 once the layer is wide). */
export function bucketShape(width: number, maxRows = TIMELINE_ROWS): { rows: number; unitsPerRow: number } {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`a timeline needs at least 1 unit, got ${width}`);
  let unitsPerRow = Math.ceil(width / maxRows);
  // Whole bitmap words per bucket when buckets are that wide: counting is then popcounts only.
  if (unitsPerRow > 32) unitsPerRow = Math.ceil(unitsPerRow / 32) * 32;
  return { rows: Math.ceil(width / unitsPerRow), unitsPerRow };
}

/** Bits [start, end) of word w set in `mask`, as a mask of that word. */
function rangeMask(w: number, start: number, end: number): number {
  const lo = Math.max(start - w * 32, 0);
  const hi = Math.min(end - w * 32, 32);
  if (hi <= lo) return 0;
  const upper = hi === 32 ? 0xffffffff : (1 << hi) - 1;
  const lower = lo === 0 ? 0 : (1 << lo) - 1;
  return (upper & ~lower) >>> 0;
}

/** One layer's column: [dead, revived, dropped] per bucket, fractions × 255 rounded. */
export function timelineColumn(map: UnitMapBitmaps, maxRows = TIMELINE_ROWS): Uint8Array {
  const { rows, unitsPerRow } = bucketShape(map.width, maxRows);
  const out = new Uint8Array(rows * CELL_BYTES);
  for (let row = 0; row < rows; row++) {
    const start = row * unitsPerRow;
    const end = Math.min(map.width, start + unitsPerRow);
    let dead = 0;
    let revived = 0;
    let dropped = 0;
    for (let w = start >>> 5; w <= (end - 1) >>> 5; w++) {
      const m = rangeMask(w, start, end);
      const d = map.dead[w] & m;
      const r = map.revived[w] & ~d & m;
      const x = map.dropped[w] & ~d & ~r & m;
      dead += popcount(d);
      revived += popcount(r);
      dropped += popcount(x);
    }
    const n = end - start;
    out[row * CELL_BYTES] = Math.round((255 * dead) / n);
    out[row * CELL_BYTES + 1] = Math.round((255 * revived) / n);
    out[row * CELL_BYTES + 2] = Math.round((255 * dropped) / n);
  }
  return out;
}
