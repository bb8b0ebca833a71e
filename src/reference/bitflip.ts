// CPU mirror of shaders/bitflip.wgsl, bit for bit: the task switch, the batch and probe inputs, the teacher's targets.
import { teacherLayout } from '../spec/bitflip';
import { mulHiU32, philox4x32, type Key } from '../spec/philox';

function randomBit(key: Key, row: number, c1: number, c3: number, k: number): number {
  const words = philox4x32([row >>> 0, c1 >>> 0, k >>> 7, c3], key);
  return (words[(k >>> 5) & 3] >>> (k & 31)) & 1;
}

/** switch_task: when step t begins task k >= 1, bit mulhi(word, flipping) of `bits` flips (in place). */
export function bitflipSwitch(bits: Uint32Array, key: Key, step: number, taskEvery: number): void {
  const flipping = bits.length;
  if (taskEvery === 0 || flipping === 0 || step === 0 || step % taskEvery !== 0) return;
  const task = Math.floor(step / taskEvery);
  const j = mulHiU32(philox4x32([task, 0, 0, 2], key)[0], flipping);
  bits[j] = 1 - bits[j];
}

/** The flipping bits of the task step t belongs to, from task 0's: every switch up to t replayed. */
export function bitflipBitsAt(initial: Uint32Array, key: Key, step: number, taskEvery: number): Uint32Array {
  const bits = initial.slice();
  if (taskEvery === 0) return bits;
  for (let t = taskEvery; t <= step; t += taskEvery) bitflipSwitch(bits, key, t, taskEvery);
  return bits;
}

export interface BitflipInputArgs {
  key: Key;
  /** m + 1. */
  inputSize: number;
  /** The current task's flipping bits (length = flipping). */
  bits: Uint32Array;
  rows: number;
}

/** batch_inputs at step t: [rows, inputSize]. */
export function bitflipBatchInputs(a: BitflipInputArgs & { step: number }): Float32Array {
  return inputs(a, (row, k) => randomBit(a.key, row, a.step, 0, k));
}

/** probe_inputs: [rows, inputSize], random bits the digits of the row (exhaustive) or fixed draws. */
export function bitflipProbeInputs(a: BitflipInputArgs & { exhaustive: boolean }): Float32Array {
  return inputs(a, (row, k) => (a.exhaustive ? Math.floor(row / 2 ** k) & 1 : randomBit(a.key, row, 0, 1, k)));
}

function inputs(a: BitflipInputArgs, bit: (row: number, k: number) => number): Float32Array {
  const n = a.inputSize;
  const f = a.bits.length;
  const out = new Float32Array(a.rows * n);
  for (let row = 0; row < a.rows; row++) {
    for (let col = 0; col < n; col++) out[row * n + col] = col === n - 1 ? 1 : col < f ? a.bits[col] : bit(row, col - f);
  }
  return out;
}

/** teacher_targets: [rows] = Σ_h v[h]·[x·W[:, h] > tau[h]] + c. Every partial sum is an integer, exact in f32. */
export function bitflipTargets(teacher: Float32Array, teacherWidth: number, inputs: Float32Array, inputSize: number): Float32Array {
  const t = teacherLayout(inputSize, teacherWidth);
  const rows = inputs.length / inputSize;
  const out = new Float32Array(rows);
  for (let row = 0; row < rows; row++) {
    let sum = 0;
    for (let h = 0; h < teacherWidth; h++) {
      let z = 0;
      for (let j = 0; j < inputSize; j++) z += inputs[row * inputSize + j] * teacher[j * teacherWidth + h];
      if (z > teacher[t.tauOffset + h]) sum += teacher[t.outWeightsOffset + h];
    }
    out[row] = sum + teacher[t.outBiasOffset];
  }
  return out;
}
