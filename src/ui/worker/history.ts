// One unit's history, read out of a layer's UnitHistory words (src/spec/unit-history.ts) for the hover tooltip.
import { UNIT_HISTORY_WORDS, UnitHistoryField } from '../../spec/unit-history';
import type { UnitRecord } from '../protocol';
import { stepOrNull } from '../unit-map/order';

export function unitRecord(history: Uint32Array, unit: number): UnitRecord {
  const h = unit * UNIT_HISTORY_WORDS;
  if (!Number.isInteger(unit) || unit < 0 || h + UNIT_HISTORY_WORDS > history.length)
    throw new RangeError(`unit ${unit} is not in a layer of ${history.length / UNIT_HISTORY_WORDS} units`);
  return {
    firstDeathStep: stepOrNull(history[h + UnitHistoryField.firstDeathStep]),
    deaths: history[h + UnitHistoryField.deaths],
    revivals: history[h + UnitHistoryField.revivals],
    lastChangeStep: stepOrNull(history[h + UnitHistoryField.lastChangeStep]),
    dead: history[h + UnitHistoryField.wasDead] !== 0,
    dropRun: history[h + UnitHistoryField.dropRun],
    longestDropRun: history[h + UnitHistoryField.longestDropRun],
  };
}
