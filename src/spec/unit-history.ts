// The observatory's per-unit history (struct UnitHistory in shaders/unitstats.wgsl): eight u32 words per unit.
import { wgslStruct } from './wgsl-struct';

/** "No such step": first_death_step and last_change_step of a unit that never changed. */
export const NEVER = 0xffffffff;

export const UNIT_HISTORY = wgslStruct('unitstats.wgsl', 'UnitHistory', {
  firstDeathStep: 'u32',
  deaths: 'u32',
  revivals: 'u32',
  lastChangeStep: 'u32',
  wasDead: 'u32',
  dropRun: 'u32',
  longestDropRun: 'u32',
  _pad: 'u32',
});

/** u32 words per unit in the history buffer. */
export const UNIT_HISTORY_WORDS = UNIT_HISTORY.byteSize / 4;

/** Word index of each UnitHistory field inside a unit's words. */
export const UnitHistoryField = UNIT_HISTORY.index;

/** The history before any snapshot or step: never dead, never dropped. */
export function initialUnitHistory(units: number): Uint32Array {
  const history = new Uint32Array(units * UNIT_HISTORY_WORDS);
  for (let u = 0; u < units; u++) {
    history[u * UNIT_HISTORY_WORDS + UnitHistoryField.firstDeathStep] = NEVER;
    history[u * UNIT_HISTORY_WORDS + UnitHistoryField.lastChangeStep] = NEVER;
  }
  return history;
}
