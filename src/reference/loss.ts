// CPU mirror of shaders/loss.wgsl, in float64 (rowLoss and grad rounded to f32 once at the end), so it
// doubles as the exact function for finite-difference gradient checks.
//
// softmax_ce: loss = mean_r -log softmax(logits[r])[t_r];  grad[r, c] = (softmax(logits[r])[c] - [c == t_r]) / rows.
//   Evaluated as log(sum_c exp(l_c - m)) - (l_t - m) with m the row max (no overflow for any finite logits).
//   A target that is not an integer in [0, cols) gives rowLoss NaN (hence loss NaN) and a gradient row
//   of softmax / rows without the one-hot: the label is never used as an index.
// mse: loss = mean over all rows * cols elements of (y - t)^2;  grad = 2 (y - t) / (rows * cols);
//   rowLoss[r] = mean_c (y[r, c] - t[r, c])^2, so loss = mean_r rowLoss[r] for both kinds.

import type { LossKind } from '../spec/loss-kinds';

export interface LossResult {
  /** Mean loss of the batch, from the unrounded float64 row losses. */
  loss: number;
  /** [rows] per-row loss (mean over rows = loss). */
  rowLoss: Float32Array;
  /** [rows, cols] dLoss/dlogits. */
  grad: Float32Array;
}

/**
 * @param logits [rows, cols] row-major
 * @param targets softmax_ce: [rows] class indices; mse: [rows, cols] values
 */
export function lossForward(kind: LossKind, logits: ArrayLike<number>, targets: ArrayLike<number>, rows: number, cols: number): LossResult {
  if (logits.length !== rows * cols) throw new RangeError(`logits have ${logits.length} elements, expected ${rows} x ${cols}`);
  const expectedTargets = kind === 'mse' ? rows * cols : rows;
  if (targets.length !== expectedTargets) throw new RangeError(`targets have ${targets.length} elements, expected ${expectedTargets}`);
  const rowLoss64 = new Float64Array(rows);
  const grad = new Float32Array(rows * cols);
  if (kind === 'mse') {
    const scale = 2 / (rows * cols);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let c = 0; c < cols; c++) {
        const d = logits[r * cols + c] - targets[r * cols + c];
        sum += d * d;
        grad[r * cols + c] = d * scale;
      }
      rowLoss64[r] = sum / cols;
    }
  } else {
    const exps = new Float64Array(cols);
    for (let r = 0; r < rows; r++) {
      const base = r * cols;
      let m = -Infinity;
      for (let c = 0; c < cols; c++) m = Math.max(m, logits[base + c]);
      let s = 0;
      for (let c = 0; c < cols; c++) s += exps[c] = Math.exp(logits[base + c] - m);
      const t = targets[r];
      const valid = Number.isInteger(t) && t >= 0 && t < cols;
      for (let c = 0; c < cols; c++) grad[base + c] = (exps[c] / s - (valid && c === t ? 1 : 0)) / rows;
      rowLoss64[r] = valid ? Math.log(s) - (logits[base + t] - m) : NaN;
    }
  }
  let total = 0;
  for (let r = 0; r < rows; r++) total += rowLoss64[r];
  return { loss: total / rows, rowLoss: Float32Array.from(rowLoss64), grad };
}
