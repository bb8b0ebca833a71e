// Timeline columns: one per snapshot and hidden layer, the layer's units folded into at most TIMELINE_ROWS buckets of
// consecutive units, each bucket holding the fraction of its units in each state of PRECEDENCE (a unit counts in its
// first state only, as on the unit map). Built in the worker from the snapshot's bitmaps, so the page gets every
// snapshot's column (a few hundred bytes) even when it skips the bitmaps themselves.
import { countRanked, PRECEDENCE, type UnitBitmaps } from '../../report/unit-states';

/** Most buckets (raster rows) per layer. */
export const TIMELINE_ROWS = 256;
/** Bytes per bucket: one per state of PRECEDENCE (dead, revived, dropped), each a fraction scaled to 0..255. */
export const CELL_BYTES = PRECEDENCE.length;

/** Buckets of a layer of `width` units, and the units per bucket (a multiple of 32 once the layer is wide). */
export function bucketShape(width: number, maxRows = TIMELINE_ROWS): { rows: number; unitsPerRow: number } {
  if (!Number.isInteger(width) || width < 1) throw new RangeError(`a timeline needs at least 1 unit, got ${width}`);
  let unitsPerRow = Math.ceil(width / maxRows);
  // Whole bitmap words per bucket when buckets are that wide: counting is then popcounts only.
  if (unitsPerRow > 32) unitsPerRow = Math.ceil(unitsPerRow / 32) * 32;
  return { rows: Math.ceil(width / unitsPerRow), unitsPerRow };
}

/** One layer's column: per bucket, the fraction of its units in each state of PRECEDENCE, × 255 rounded. */
export function timelineColumn(map: UnitBitmaps, maxRows = TIMELINE_ROWS): Uint8Array {
  const { rows, unitsPerRow } = bucketShape(map.width, maxRows);
  const out = new Uint8Array(rows * CELL_BYTES);
  for (let row = 0; row < rows; row++) {
    const start = row * unitsPerRow;
    const end = Math.min(map.width, start + unitsPerRow);
    const counts = countRanked(map, start, end);
    for (let j = 0; j < CELL_BYTES; j++) out[row * CELL_BYTES + j] = Math.round((255 * counts[j]) / (end - start));
  }
  return out;
}
