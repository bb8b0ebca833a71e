// Device-loss saving in the Worker (src/ui/worker/device-loss-saver.ts): how often the run's state is read back (every
// snapshot for small nets, proportionally rarer for large ones), and what a resume rebuilds.
import { describe, expect, it } from 'vitest';
import { parseRunConfig, presetConfig, type RunConfig } from '../../src/config';
import type { CheckpointState } from '../../src/io/checkpoint';
import { UNIT_HISTORY_WORDS } from '../../src/spec/unit-history';
import { DeviceLossSaver, MAX_SAVED_STATE_BYTES, STATE_BYTES_PER_SNAPSHOT, stateBytes, type SavableRun } from '../../src/ui/worker/device-loss-saver';

const config = (steps = 100): RunConfig => {
  const base = presetConfig('dropout_only');
  return parseRunConfig({
    ...base,
    inputSize: 2,
    hidden: [{ ...base.hidden[0], width: 3 }],
    dataset: { kind: 'gaussian_mixture', samples: 128, classes: 2, spread: 1 },
    outputSize: 2,
    steps,
  });
};

/** A run whose readState counts its calls; the state only carries the step. */
function fakeRun(step: number): SavableRun & { reads: number } {
  return {
    step,
    reads: 0,
    async readState() {
      this.reads++;
      return { trainer: { step } } as CheckpointState;
    },
  };
}

describe('stateBytes', () => {
  it('counts parameters once per optimizer copy, the unit histories and the loss history, 4 bytes each', () => {
    // 2 -> 3 -> 2: weights and biases 2·3 + 3 + 3·2 + 2 = 17.
    expect(stateBytes(config(), { kind: 'sgd' }, 10)).toBe(4 * (17 + 3 * UNIT_HISTORY_WORDS + 10));
    expect(stateBytes(config(), { kind: 'momentum', momentum: 0.9 }, 10)).toBe(4 * (2 * 17 + 3 * UNIT_HISTORY_WORDS + 10));
    expect(stateBytes(config(), { kind: 'adamw', beta1: 0.9, beta2: 0.999, eps: 1e-8 }, 10)).toBe(4 * (3 * 17 + 3 * UNIT_HISTORY_WORDS + 10));
  });
});

describe('DeviceLossSaver', () => {
  it('saves after every snapshot while the state is small, and at every stop', async () => {
    const saver = new DeviceLossSaver();
    saver.opened(STATE_BYTES_PER_SNAPSHOT, true);
    expect(saver.due).toBe(false);
    expect(saver.dueAtStop).toBe(true);
    saver.onSnapshot();
    expect(saver.due).toBe(true);
    await saver.save(fakeRun(10));
    expect(saver.due).toBe(false);
    expect(saver.resumeStep).toBe(10);
  });

  it('saves a 600 MiB state every 150 snapshots, also when the run stops', () => {
    const saver = new DeviceLossSaver();
    saver.opened(600 * 2 ** 20, true);
    for (let i = 0; i < 149; i++) saver.onSnapshot();
    expect(saver.due).toBe(false);
    expect(saver.dueAtStop).toBe(false);
    saver.onSnapshot();
    expect(saver.due).toBe(true);
    expect(saver.dueAtStop).toBe(true);
  });

  it('keeps no state larger than MAX_SAVED_STATE_BYTES, and says so; a smaller run saves again', async () => {
    const saver = new DeviceLossSaver();
    expect(saver.note).toBeNull();
    saver.opened(MAX_SAVED_STATE_BYTES, true);
    expect(saver.note).toBeNull();
    saver.opened(MAX_SAVED_STATE_BYTES + 4, true);
    for (let i = 0; i < 10_000; i++) saver.onSnapshot();
    expect(saver.due).toBe(false);
    expect(saver.dueAtStop).toBe(false);
    expect(saver.note).toBe(
      'Device-loss recovery is off for this network: its state is 1.0 GiB, more than the 1.0 GiB the page keeps for it. If the GPU device is lost, the run starts over from step 0.',
    );
    saver.opened(3 * 2 ** 30, true);
    expect(saver.note).toMatch(/its state is 3\.0 GiB, more than the 1\.0 GiB/);
    saver.opened(1, true);
    expect(saver.note).toBeNull();
    expect(saver.dueAtStop).toBe(true);
  });

  it('does not read the same step twice when the run stops right after a save', async () => {
    const saver = new DeviceLossSaver();
    saver.opened(1, true);
    const run = fakeRun(20);
    await saver.saveIfNew(run);
    await saver.saveIfNew(run);
    expect(run.reads).toBe(1);
    await saver.saveIfNew(fakeRun(30));
    expect(saver.resumeStep).toBe(30);
  });

  it('resumes the tracked config from the last saved state; a fresh run forgets the state, a resumed one keeps it', async () => {
    const saver = new DeviceLossSaver();
    expect(() => saver.resumePoint()).toThrow('resume: there is no run to resume');
    saver.track(config(100));
    saver.opened(1, true);
    expect(saver.resumePoint()).toEqual({ config: config(100), saved: null });
    expect(saver.resumeStep).toBeNull();
    await saver.save(fakeRun(40));
    saver.track(config(200)); // `steps` raised while the run goes on
    expect(saver.resumePoint()).toEqual({ config: config(200), saved: { trainer: { step: 40 } } });
    saver.opened(1, false);
    expect(saver.resumeStep).toBe(40);
    saver.opened(1, true);
    expect(saver.resumeStep).toBeNull();
  });
});
