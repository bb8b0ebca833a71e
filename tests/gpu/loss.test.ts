import { describe, expect, it } from 'vitest';
import { LossKernel } from '../../src/gpu/kernels/loss';
import { lossForward } from '../../src/reference/loss';
import type { LossKind } from '../../src/spec/loss-kinds';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import { expectClose, randomArray, useGpu, runDispatches } from './harness';

const U = 2 ** -24; // f32 unit roundoff

/**
 * Tolerances against the float64 reference, from WGSL's accuracy bounds (exp: 3 + 2|x| ULP; log: 2^-21
 * absolute on [0.5, 2], 3 ULP elsewhere; division 2.5 ULP) and the f32 sums of the kernel:
 * softmax_ce, with x = l - m <= 0 and s = sum exp(x) >= 1:
 *   each exp term errs by <= e^x (3 + 2|x|) u <= 3u absolutely (the bound peaks at x = 0) and the sum adds
 *   cols roundings, so s is off by <= 4 cols u relative; p = e / s by <= (4 cols + 6) u absolutely;
 *   grad = (p - onehot) / rows by that over rows, plus 2 roundings relative.
 *   row loss = log(s) - (l_t - m): log adds 2^-21 + 3 ulp, l_t - m and the final subtraction round once each.
 * mse: d = y - t and d^2 round once each and the row sum adds cols roundings (all terms >= 0): relative
 *   (cols + 3) u; grad = d * f32(2 / (rows cols)): 3 roundings. Plus one for the reference's own f32 rounding.
 * The mean over rows then adds about rows / 256 + 8 roundings of sum |rowLoss| (shaders/loss.wgsl mean_loss).
 */
function tolerances(kind: LossKind, rows: number, cols: number) {
  if (kind === 'mse') {
    return { rowLoss: { atol: 0, rtol: (cols + 4) * U }, grad: { atol: 0, rtol: 4 * U }, meanSteps: rows / 256 + 8 + cols + 4 };
  }
  const p = (4 * cols + 6) * U;
  return {
    rowLoss: { atol: 2 ** -21 + 4 * cols * U, rtol: 4 * U },
    grad: { atol: p / rows, rtol: 2 * U },
    meanSteps: rows / 256 + 8 + 4 * cols + 8,
  };
}

/** Logits, in [-scale, scale], and targets: classes 0..cols-1 (the last row always targets the last class). */
function problem(kind: LossKind, rows: number, cols: number, seed: number, scale = 4) {
  const logits = randomArray(rows * cols, seed, scale);
  if (kind === 'mse') return { logits, targets: randomArray(rows * cols, seed + 1, 2) };
  const targets = new Uint32Array(rows);
  for (let r = 0; r < rows; r++) targets[r] = r === rows - 1 ? cols - 1 : (r * 7 + seed) % cols;
  return { logits, targets };
}

describe('LossKernel', () => {
  const t = useGpu();

  /** Runs the loss at `step` and returns what the GPU wrote; history slots other than step % capacity stay -1. */
  async function run(kernel: LossKernel, kind: LossKind, rows: number, cols: number, logits: Float32Array, targets: Float32Array | Uint32Array, step = 5) {
    const capacity = 4;
    const logitsBuf = t.f32('logits', logits);
    const targetsBuf = kind === 'mse' ? t.f32('targets', targets) : t.u32('targets', targets);
    const grad = t.zeros('grad', rows * cols);
    const rowLoss = t.zeros('rowLoss', rows);
    const stepState = t.u32('stepState', [step, ...new Array(STEP_STATE_WORDS - 1).fill(0)]);
    const history = t.f32('history', new Array(capacity).fill(-1));
    const d = kernel.prepare({
      label: 'Loss',
      kind,
      logits: logitsBuf,
      targets: targetsBuf,
      rows,
      cols,
      grad,
      rowLoss,
      stepState,
      history: { buffer: history, capacity },
    });
    runDispatches(t.device, 'Loss', [d]);
    const result = {
      grad: await t.readF32(grad, rows * cols),
      rowLoss: await t.readF32(rowLoss, rows),
      history: await t.readF32(history, capacity),
    };
    d.destroy();
    return result;
  }

  async function check(kernel: LossKernel, kind: LossKind, rows: number, cols: number, logits: Float32Array, targets: Float32Array | Uint32Array) {
    const got = await run(kernel, kind, rows, cols, logits, targets);
    const want = lossForward(kind, logits, targets, rows, cols);
    const tol = tolerances(kind, rows, cols);
    const where = `${kind} ${rows}x${cols}`;
    for (const [name, values] of Object.entries(got)) {
      expect(values.every(Number.isFinite), `${where}: ${name} has a non-finite value`).toBe(true);
    }
    expectClose(got.rowLoss, want.rowLoss, { ...tol.rowLoss, label: `${where} rowLoss` });
    expectClose(got.grad, want.grad, { ...tol.grad, cols, label: `${where} grad` });
    const meanAbs = want.rowLoss.reduce((acc, v) => acc + Math.abs(v), 0) / rows;
    const meanAtol = tol.rowLoss.atol + tol.meanSteps * U * meanAbs;
    expectClose(got.history, [-1, want.loss, -1, -1], { atol: meanAtol, label: `${where} history (step 5 -> slot 1)` });
  }

  for (const kind of ['softmax_ce', 'mse'] as const) {
    it(`${kind} matches the reference on rows and cols 1, 7, 33, 130 (and 1025 cols)`, async () => {
      const kernel = await LossKernel.create(t.gpu);
      let seed = 1;
      for (const rows of [1, 7, 33, 130]) {
        for (const cols of [1, 7, 33, 130, 1025]) {
          if (rows * cols > 40_000) continue;
          const { logits, targets } = problem(kind, rows, cols, seed++);
          await check(kernel, kind, rows, cols, logits, targets);
        }
      }
    });
  }

  it('softmax_ce stays finite and exact with logits of +-80 (narrow and wide rows)', async () => {
    const kernel = await LossKernel.create(t.gpu);
    for (const cols of [10, 130]) {
      const rows = 6;
      const logits = new Float32Array(rows * cols).fill(-80);
      const targets = new Uint32Array(rows);
      // Row 0: the target is the lone +80 (loss ~ (cols - 1) e^-160 = 0). Row 1: the target is -80, another
      // logit is +80 (loss ~ 160). Row 2: all +80 (loss log(cols)). Row 3: alternating +-80, last class.
      // Rows 4-5: random in [-80, 80].
      logits[0 * cols + 3] = 80;
      targets[0] = 3;
      logits[1 * cols + 0] = 80;
      targets[1] = cols - 1;
      logits.fill(80, 2 * cols, 3 * cols);
      targets[2] = 1;
      for (let c = 0; c < cols; c++) logits[3 * cols + c] = c % 2 ? 80 : -80;
      targets[3] = cols - 1;
      logits.set(randomArray(2 * cols, 77, 80), 4 * cols);
      targets[4] = 0;
      targets[5] = cols - 1;
      await check(kernel, 'softmax_ce', rows, cols, logits, targets);
      const { rowLoss } = await run(kernel, 'softmax_ce', rows, cols, logits, targets);
      expect(rowLoss[0]).toBe(0);
      expect(rowLoss[1]).toBeCloseTo(160, 4);
    }
  });

  it('a class >= cols gives NaN for that row and the mean, and never reads past the row', async () => {
    const kernel = await LossKernel.create(t.gpu);
    for (const cols of [7, 130]) {
      const rows = 3;
      const { logits } = problem('softmax_ce', rows, cols, 9);
      const targets = new Uint32Array([1, cols, 0]);
      const got = await run(kernel, 'softmax_ce', rows, cols, logits, targets);
      const want = lossForward('softmax_ce', logits, targets, rows, cols);
      expect(Number.isNaN(got.rowLoss[1]), `${cols} cols: rowLoss[1] = ${got.rowLoss[1]}`).toBe(true);
      expect(Number.isNaN(got.history[1]), `${cols} cols: history[1] = ${got.history[1]}`).toBe(true);
      expect(Number.isNaN(want.loss)).toBe(true);
      const tol = tolerances('softmax_ce', rows, cols);
      expectClose(got.rowLoss, want.rowLoss, { ...tol.rowLoss, label: 'rowLoss' });
      expectClose(got.grad, want.grad, { ...tol.grad, cols, label: 'grad (no one-hot on the bad row)' });
    }
  });

  it('writes the mean to history[step % capacity] for steps 0, 3, 4, 9', async () => {
    const kernel = await LossKernel.create(t.gpu);
    const { logits, targets } = problem('mse', 7, 5, 3);
    const want = lossForward('mse', logits, targets, 7, 5).loss;
    for (const [step, slot] of [
      [0, 0],
      [3, 3],
      [4, 0],
      [9, 1],
    ]) {
      const { history } = await run(kernel, 'mse', 7, 5, logits, targets, step);
      const expected = [-1, -1, -1, -1];
      expected[slot] = want;
      // mse 7x5: (cols + 4) u relative per row, ~9 more roundings in the mean.
      expectClose(history, expected, { atol: 0, rtol: 20 * U, label: `step ${step}` });
    }
  });

  it('covers every row when the row pass is folded over x and y', async () => {
    // small: 130 rows / 64 = 3 workgroups on a 2 x 2 grid; wide: 7 rows on a 3 x 3 grid.
    const kernel = await LossKernel.create(t.gpu, { maxWorkgroupsPerDimension: 2 });
    const wide = await LossKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
    for (const kind of ['softmax_ce', 'mse'] as const) {
      const a = problem(kind, 130, 10, 21);
      await check(kernel, kind, 130, 10, a.logits, a.targets);
      const b = problem(kind, 7, 300, 22);
      await check(wide, kind, 7, 300, b.logits, b.targets);
    }
  });

  it('reduces many rows in the mean pass (4000 rows)', async () => {
    const kernel = await LossKernel.create(t.gpu);
    const { logits, targets } = problem('softmax_ce', 4000, 3, 31);
    await check(kernel, 'softmax_ce', 4000, 3, logits, targets);
  });
});
