// What a born-dead trial is (src/engine/borndead.ts runs them; CPU oracle: src/reference/borndead.ts).
// Trial seed s builds the network a run with seed s starts from: hidden layer l (1-based) draws its weights
// from rngKey(s, 'initWeights', l) exactly as the trainer does; its bias is the constant of the init.
// The probe inputs are standard normal, x[r, i] = initNormalAt(rngKey(s, 'probeSet', 1), r * inputSize + i, 1)
// (stream 'probeSet', layer word 1: layer word 0 is the data set's probe-row selection).
// The trial is dead when every unit of the last hidden layer has pre-activation <= 0 on every probe input.
import type { ActivationSpec } from './activations';
import type { InitScheme } from './init-schemes';
import type { Key } from './philox';
import { rngKey } from './rng-streams';

export interface BornDeadLayer {
  width: number;
  activation: ActivationSpec;
  weights: InitScheme;
  /** The constant bias every unit starts with. */
  bias: number;
}

export interface BornDeadSpec {
  inputSize: number;
  /** Probe inputs per trial. */
  probeRows: number;
  hidden: BornDeadLayer[];
}

/** The seed of trial t of a run of trials starting at `seed`: consecutive, wrapping at 2^32. */
export function trialSeed(seed: number, t: number): number {
  return (seed + t) >>> 0;
}

export function probeInputKey(seed: number): Key {
  return rngKey(seed, 'probeSet', 1);
}

export const PROBE_INPUT_SCHEME: InitScheme = { kind: 'normal', std: 1 };
