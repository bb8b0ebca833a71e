// The observatory's per-unit history (struct UnitHistory in shaders/unitstats.wgsl): eight u32 words per unit.

/** "No such step": first_death_step and last_change_step of a unit that never changed. */
export const NEVER = 0xffffffff;

/** u32 words per unit in the history buffer. */
export const UNIT_HISTORY_WORDS = 8;

/** Word index of each UnitHistory field inside a unit's 8 words. */
export const UnitHistoryField = {
  firstDeathStep: 0,
  deaths: 1,
  revivals: 2,
  lastChangeStep: 3,
  wasDead: 4,
  dropRun: 5,
  longestDropRun: 6,
} as const;

/** The history before any snapshot or step: never dead, never dropped. */
export function initialUnitHistory(units: number): Uint32Array {
  const history = new Uint32Array(units * UNIT_HISTORY_WORDS);
  for (let u = 0; u < units; u++) {
    history[u * UNIT_HISTORY_WORDS + UnitHistoryField.firstDeathStep] = NEVER;
    history[u * UNIT_HISTORY_WORDS + UnitHistoryField.lastChangeStep] = NEVER;
  }
  return history;
}
