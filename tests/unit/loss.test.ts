import { describe, expect, it } from 'vitest';
import { lossForward } from '../../src/reference/loss';
import type { LossKind } from '../../src/spec/loss-kinds';
import { randomArray } from '../gpu/harness';

function targetsFor(kind: LossKind, rows: number, cols: number, seed: number): number[] {
  if (kind === 'mse') return Array.from(randomArray(rows * cols, seed, 2));
  return Array.from({ length: rows }, (_, r) => (r === rows - 1 ? cols - 1 : (r * 5 + seed) % cols));
}

describe('loss reference', () => {
  for (const kind of ['softmax_ce', 'mse'] as const) {
    for (const [rows, cols] of [
      [1, 1],
      [1, 7],
      [7, 1],
      [7, 33],
      [33, 7],
    ]) {
      it(`${kind} ${rows}x${cols}: gradient matches a float64 central difference of the loss`, () => {
        // Logits as float64 (lossForward takes any ArrayLike), so x +- h is exact. h = 1e-5: the loss is
        // smooth (softmax_ce: third derivatives <= 1/rows; mse: quadratic, no truncation error at all),
        // truncation <= h^2 / 6 ~ 2e-11, cancellation ~ 1e-16 * |loss| / h ~ 1e-10 for |loss| <= 10.
        // The analytic gradient is rounded to f32: 2^-24 relative. Hence atol 1e-9 + rtol 1e-7.
        const logits = Array.from(randomArray(rows * cols, rows * 31 + cols, 3));
        const targets = targetsFor(kind, rows, cols, rows + cols);
        const { grad, loss } = lossForward(kind, logits, targets, rows, cols);
        expect(Number.isFinite(loss)).toBe(true);
        const h = 1e-5;
        for (let i = 0; i < rows * cols; i++) {
          const plus = logits.slice();
          const minus = logits.slice();
          plus[i] += h;
          minus[i] -= h;
          const numeric = (lossForward(kind, plus, targets, rows, cols).loss - lossForward(kind, minus, targets, rows, cols).loss) / (2 * h);
          expect(Math.abs(grad[i] - numeric), `d loss / d logit[${i}]: analytic ${grad[i]}, numeric ${numeric}`).toBeLessThanOrEqual(
            1e-9 + 1e-7 * Math.abs(numeric),
          );
        }
      });
    }
  }

  it('softmax_ce matches -log softmax on small logits, and its gradient rows sum to 0', () => {
    const logits = [1, 2, 3, -1, 0, 1];
    const targets = [2, 0];
    const { loss, rowLoss, grad } = lossForward('softmax_ce', logits, targets, 2, 3);
    const ce = (row: number[], t: number) => -Math.log(Math.exp(row[t]) / row.reduce((s, v) => s + Math.exp(v), 0));
    const expected = [ce([1, 2, 3], 2), ce([-1, 0, 1], 0)];
    expect(rowLoss[0]).toBe(Math.fround(expected[0]));
    expect(rowLoss[1]).toBe(Math.fround(expected[1]));
    expect(loss).toBeCloseTo((expected[0] + expected[1]) / 2, 14);
    for (const r of [0, 1]) expect(Math.abs(grad[r * 3] + grad[r * 3 + 1] + grad[r * 3 + 2])).toBeLessThan(1e-7);
  });

  it('softmax_ce is finite at logits of +-1000 (row max subtracted)', () => {
    const { loss, rowLoss, grad } = lossForward('softmax_ce', [1000, -1000, 0, -1000, 1000, 1000], [1, 0], 2, 3);
    expect(rowLoss[0]).toBe(2000);
    expect(rowLoss[1]).toBe(Math.fround(2000 + Math.log(2)));
    expect(Number.isFinite(loss)).toBe(true);
    expect(grad.every(Number.isFinite)).toBe(true);
    expect(grad[0]).toBeCloseTo(0.5, 12); // p = 1, onehot 0, / 2 rows
    expect(grad[1]).toBeCloseTo(-0.5, 12);
  });

  it('mse is the mean of squares over all elements', () => {
    const { loss, rowLoss, grad } = lossForward('mse', [1, 2, 3, 4], [0, 0, 3, 6], 2, 2);
    expect(loss).toBe((1 + 4 + 0 + 4) / 4);
    expect([...rowLoss]).toEqual([2.5, 2]);
    expect([...grad]).toEqual([0.5, 1, 0, -1]);
  });

  it('a class outside [0, cols) gives NaN loss and a gradient without one-hot', () => {
    for (const bad of [3, 7, -1, 1.5]) {
      const { loss, rowLoss, grad } = lossForward('softmax_ce', [0, 0, 0, 0, 0, 0], [0, bad], 2, 3);
      expect(Number.isNaN(rowLoss[1]) && Number.isNaN(loss)).toBe(true);
      expect(rowLoss[0]).toBeCloseTo(Math.log(3), 6);
      expect([...grad.subarray(3)]).toEqual(new Array(3).fill(Math.fround(1 / 3 / 2)));
    }
  });
});
