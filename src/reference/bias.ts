// CPU mirror of shaders/bias.wgsl on dense [rows, cols] row-major matrices.

/** y + bias broadcast over rows: out[r, c] = y[r, c] + bias[c], rounded to f32 once as on the GPU. */
export function biasAdd(y: ArrayLike<number>, bias: ArrayLike<number>, rows: number, cols: number): Float32Array {
  checkShape(y.length, rows, cols, 'y');
  if (bias.length !== cols) throw new RangeError(`bias has ${bias.length} elements, expected ${cols}`);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) out[r * cols + c] = y[r * cols + c] + bias[c];
  }
  return out;
}

/**
 * db[c] = sum_r dy[r, c], summed in float64 and rounded once. The GPU sums in f32 in another order, so
 * it differs by O(rows * 2^-24 * sum_r |dy[r, c]|) at most; on data whose partial sums are all exact in
 * f32 (small dyadic values) both are exact and equal.
 */
export function biasGrad(dy: ArrayLike<number>, rows: number, cols: number): Float32Array {
  checkShape(dy.length, rows, cols, 'dy');
  const sums = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) sums[c] += dy[r * cols + c];
  }
  return Float32Array.from(sums);
}

function checkShape(length: number, rows: number, cols: number, name: string): void {
  if (length !== rows * cols) throw new RangeError(`${name} has ${length} elements, expected ${rows} x ${cols}`);
}
