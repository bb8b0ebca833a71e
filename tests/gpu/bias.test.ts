import { describe, expect, it } from 'vitest';
import { BiasKernel, biasGradColumnsPerWorkgroup } from '../../src/gpu/kernels/bias';
import { biasAdd, biasGrad } from '../../src/reference/bias';
import { expectBitExact, expectClose, randomArray, useGpu, runDispatches } from './harness';

/** Embeds a dense [rows, cols] matrix as a column block at `offset` of a [rows, ld] buffer; the rest is `fill`. */
function embed(dense: Float32Array, rows: number, cols: number, ld: number, offset: number, fill: number): Float32Array {
  const out = new Float32Array(offset + rows * ld + 3).fill(fill);
  for (let r = 0; r < rows; r++) out.set(dense.subarray(r * cols, (r + 1) * cols), offset + r * ld);
  return out;
}

function extract(buffer: Float32Array, rows: number, cols: number, ld: number, offset: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) out.set(buffer.subarray(offset + r * ld, offset + r * ld + cols), r * cols);
  return out;
}

/** Multiples of 2^-8 in [-1, 1]: any partial sum of up to 2^15 of them is exact in f32, whatever the order. */
function dyadic(length: number, seed: number): Float32Array {
  return randomArray(length, seed).map((v) => Math.round(v * 256) / 256);
}

describe('BiasKernel', () => {
  const t = useGpu();

  async function checkAdd(kernel: BiasKernel, rows: number, cols: number, ld: number, offset: number, seed: number) {
    const yDense = randomArray(rows * cols, seed, 3);
    const bHost = randomArray(cols, seed + 1, 2);
    const yHost = embed(yDense, rows, cols, ld, offset, 42);
    const y = t.f32('y', yHost);
    // The bias sits at an offset too, as it does when a layer's biases share one buffer.
    const bias = t.f32('bias', [7, 7, ...bHost]);
    const d = kernel.prepareAdd({ label: 'Bias.add', y: { buffer: y, offset, ld }, bias: { buffer: bias, offset: 2 }, rows, cols });
    runDispatches(t.device, 'Bias.add', [d]);
    const got = await t.readF32(y, yHost.length);
    d.destroy();
    // One f32 addition per element on both sides: bit exact.
    const where = `add ${rows}x${cols} ld ${ld} offset ${offset}`;
    expectBitExact(extract(got, rows, cols, ld, offset), biasAdd(yDense, bHost, rows, cols), where);
    // Elements outside the block are untouched.
    const outside = got.filter((_, i) => i < offset || i >= offset + rows * ld || (i - offset) % ld >= cols);
    expect(
      [...outside].every((v) => v === 42),
      `${where}: wrote outside the block`,
    ).toBe(true);
  }

  async function checkGrad(kernel: BiasKernel, rows: number, cols: number, ld: number, offset: number, data: Float32Array, accumulate: boolean) {
    const dyHost = embed(data, rows, cols, ld, offset, 1e6);
    const dy = t.f32('dy', dyHost);
    const prior = dyadic(cols, rows + cols);
    const db = t.f32('db', [5, ...prior, 9]);
    const d = kernel.prepareGrad({ label: 'Bias.grad', dy: { buffer: dy, offset, ld }, rows, cols, db: { buffer: db, offset: 1 }, accumulate });
    runDispatches(t.device, 'Bias.grad', [d]);
    const got = await t.readF32(db, cols + 2);
    d.destroy();
    const sums = biasGrad(data, rows, cols);
    const expected = accumulate ? sums.map((s, c) => s + prior[c]) : sums;
    expect([got[0], got[cols + 1]], 'db neighbours untouched').toEqual([5, 9]);
    return { got: got.subarray(1, cols + 1), expected };
  }

  it('adds the bias on shapes 1, 7, 33, 130 (dense and as a column block)', async () => {
    const kernel = await BiasKernel.create(t.gpu);
    let seed = 1;
    for (const rows of [1, 7, 33, 130]) {
      for (const cols of [1, 7, 33, 130]) {
        await checkAdd(kernel, rows, cols, cols, 0, seed++);
        await checkAdd(kernel, rows, cols, cols + 5, 3, seed++);
      }
    }
  });

  it('sums columns exactly on dyadic data: rows 1, 7, 33, 130, 1000 x cols 1, 7, 33, 130, 1025', async () => {
    const kernel = await BiasKernel.create(t.gpu);
    let seed = 50;
    for (const rows of [1, 7, 33, 130, 1000]) {
      for (const cols of [1, 7, 33, 130, 1025]) {
        for (const accumulate of [false, true]) {
          const ld = cols + (seed % 3) * 4;
          const { got, expected } = await checkGrad(kernel, rows, cols, ld, seed % 5, dyadic(rows * cols, seed++), accumulate);
          expectBitExact(got, expected, `grad ${rows}x${cols} ld ${ld} accumulate ${accumulate}`);
        }
      }
    }
  });

  it('sums general f32 data within the f32 summation bound', async () => {
    const kernel = await BiasKernel.create(t.gpu);
    for (const [rows, cols] of [
      [1000, 7],
      [1000, 33],
      [130, 1025],
    ]) {
      const data = randomArray(rows * cols, rows + cols, 10);
      const { got, expected } = await checkGrad(kernel, rows, cols, cols, 0, data, false);
      // The GPU's lanes each sum ceil(rows / lanes) terms, then a log2(lanes)-level tree adds them: at most
      // k = ceil(rows / lanes) + log2(lanes) roundings touch any term, so |error| <= k 2^-24 sum_r |dy[r, c]|
      // (+ 2^-24 |sum| for the reference's own rounding: rtol).
      const lanes = 256 / biasGradColumnsPerWorkgroup(cols);
      const k = Math.ceil(rows / lanes) + Math.log2(lanes);
      const absSums = biasGrad(data.map(Math.abs), rows, cols);
      expectClose(got, expected, { atol: k * 2 ** -24 * Math.max(...absSums), rtol: 2 ** -24, label: `grad ${rows}x${cols} random` });
    }
  });

  it('picks every column-block width, and each one is exact', async () => {
    const kernel = await BiasKernel.create(t.gpu);
    const widths = new Set<number>();
    // Widths 1, 2, 3..4, 5..8, 16 (mid layers), 64 (>= 16384 columns).
    for (const cols of [1, 2, 3, 5, 9, 300, 16384 + 5]) {
      widths.add(biasGradColumnsPerWorkgroup(cols));
      const rows = cols > 1000 ? 2 : 40;
      const { got, expected } = await checkGrad(kernel, rows, cols, cols, 0, dyadic(rows * cols, cols), false);
      expectBitExact(got, expected, `grad ${rows}x${cols}`);
    }
    expect([...widths].sort((a, b) => a - b)).toEqual([1, 2, 4, 8, 16, 64]);
  });

  it('covers every element and column when the dispatch is folded over x and y', async () => {
    // add: 33 x 130 = 4290 elements = 5 workgroups of 1024 -> 3 x 2 grid; grad: 1025 columns / 16 = 65 blocks -> 9 x 8.
    const small = await BiasKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
    await checkAdd(small, 33, 130, 131, 1, 5);
    const folded = await BiasKernel.create(t.gpu, { maxWorkgroupsPerDimension: 9 });
    const { got, expected } = await checkGrad(folded, 20, 1025, 1025, 0, dyadic(20 * 1025, 3), false);
    expectBitExact(got, expected, 'grad folded');
  });
});
