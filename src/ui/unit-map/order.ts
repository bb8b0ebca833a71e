// "Order by death step": a permutation of a layer's units that puts the units that died first at the top-left of the
// map, then later deaths, then the units that never died, each group in index order. Computed in the worker from the
// per-unit history (Observatory.readUnitHistory), sent to the page as a Uint32Array.
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField } from '../../spec/unit-history';

/** Unit indices need 20 bits (1,048,576 units); the death step (a u32) goes above them in a float64 key. */
const INDEX_SPACE = 2 ** 21;

/** Cell i shows unit result[i]: ascending first-death step, never-dead units last, ties by unit index. */
export function deathOrder(history: Uint32Array, width: number): Uint32Array {
  if (history.length < width * UNIT_HISTORY_WORDS)
    throw new RangeError(`unit history holds ${history.length} words, fewer than ${width} units × ${UNIT_HISTORY_WORDS}`);
  if (width > INDEX_SPACE) throw new RangeError(`${width} units exceed the ${INDEX_SPACE} an order can hold`);
  // One numeric sort of exact float64 keys (step · 2^21 + index < 2^53) instead of a comparator over objects.
  const keys = new Float64Array(width);
  for (let u = 0; u < width; u++) {
    const first = history[u * UNIT_HISTORY_WORDS + UnitHistoryField.firstDeathStep];
    // NEVER is the largest u32, so never-dead units sort last by themselves.
    keys[u] = first * INDEX_SPACE + u;
  }
  keys.sort();
  const order = new Uint32Array(width);
  for (let i = 0; i < width; i++) order[i] = keys[i] % INDEX_SPACE;
  return order;
}

/** NEVER as the protocol's null. */
export const stepOrNull = (v: number): number | null => (v === NEVER ? null : v);
