// Born-dead trials on the CPU: the oracle for src/engine/borndead.ts (shaders/borndead.wgsl plus the init and
// activation kernels). What a trial is: src/spec/borndead-trials.ts.
import { PROBE_INPUT_SCHEME, probeInputKey, type BornDeadSpec } from '../spec/borndead-trials';
import { rngKey } from '../spec/rng-streams';
import { activationScalar } from './activation';
import { initReference } from './init';

export interface TrialVerdict {
  /** (probe row, unit) pairs of the last hidden layer with pre-activation > 0; 0 = dead. */
  alive: number;
  /** Largest pre-activation of the last hidden layer (f32). */
  maxPre: number;
}

/** [probeRows, inputSize] standard normal probe inputs of the trial with this seed. */
export function probeInputsReference(spec: BornDeadSpec, seed: number): Float32Array {
  const cols = spec.inputSize;
  return initReference({ scheme: PROBE_INPUT_SCHEME, key: probeInputKey(seed), fanIn: cols, fanOut: cols, rows: spec.probeRows, cols, globalCols: cols });
}

/** [rows, fanOut] = x @ w + bias, accumulated in f32 in order k = 0, 1, ... as the shader does. */
export function bornDeadForwardReference(x: Float32Array, w: Float32Array, rows: number, fanIn: number, fanOut: number, bias: number): Float32Array {
  const out = new Float32Array(rows * fanOut);
  const b = Math.fround(bias);
  for (let r = 0; r < rows; r++) {
    for (let u = 0; u < fanOut; u++) {
      let acc = 0;
      for (let k = 0; k < fanIn; k++) acc = Math.fround(acc + Math.fround(x[r * fanIn + k] * w[k * fanOut + u]));
      out[r * fanOut + u] = Math.fround(acc + b);
    }
  }
  return out;
}

export function verdictReference(pre: Float32Array): TrialVerdict {
  let alive = 0;
  let maxPre = -3.4028234663852886e38;
  for (const v of pre) {
    if (v > 0) alive++;
    if (v > maxPre) maxPre = v;
  }
  return { alive, maxPre };
}

/** One trial, end to end: init, forward through every hidden layer, verdict on the last. */
export function bornDeadTrialReference(spec: BornDeadSpec, seed: number): TrialVerdict {
  let x: Float32Array = probeInputsReference(spec, seed);
  let fanIn = spec.inputSize;
  let pre: Float32Array = new Float32Array(0);
  spec.hidden.forEach((layer, index) => {
    const l = index + 1;
    const w = initReference({
      scheme: layer.weights,
      key: rngKey(seed, 'initWeights', l),
      fanIn,
      fanOut: layer.width,
      rows: fanIn,
      cols: layer.width,
      globalCols: layer.width,
    });
    pre = bornDeadForwardReference(x, w, spec.probeRows, fanIn, layer.width, layer.bias);
    x = pre.map((z) => Math.fround(activationScalar(layer.activation, z)));
    fanIn = layer.width;
  });
  return verdictReference(pre);
}
