// The finiteness kernel against its CPU reference on the real adapter: lengths that are not multiples of the
// workgroup, offsets, several slots in one result buffer, folded dispatches, and the values at the edges of
// "finite" (largest float, subnormals, -0, NaN payloads).
import { describe, expect, it } from 'vitest';
import { FiniteKernel, finiteResultInit, finiteSlot } from '../../src/gpu/kernels/finite';
import { NO_INDEX } from '../../src/spec/finite-count';
import { countNonFinite } from '../../src/reference/finite';
import { randomArray, useGpu, runDispatches } from './harness';

/** Random values with non-finite ones planted at `bad` indices (cycling NaN, +Inf, -Inf, NaN with a payload). */
function withBad(length: number, seed: number, bad: number[]): Float32Array {
  const data = randomArray(length, seed, 1e30);
  const bits = new Uint32Array(data.buffer);
  const kinds = [0x7fc00000, 0x7f800000, 0xff800000, 0x7f800001];
  bad.forEach((i, k) => (bits[i] = kinds[k % kinds.length]));
  return data;
}

describe('FiniteKernel', () => {
  const t = useGpu();

  async function check(kernel: FiniteKernel, data: Float32Array, offset: number, count: number, label: string) {
    const buffer = t.f32('data', data);
    const result = t.u32('result', finiteResultInit(3));
    // Slot 1 of 3: the neighbours must stay untouched.
    const d = kernel.prepare({ label: 'Finite.check', data: buffer, offset, count, result, slot: 1 });
    runDispatches(t.device, 'Finite.check', [d]);
    const words = await t.readU32(result, 6);
    d.destroy();
    expect(finiteSlot(words, 1), label).toEqual(countNonFinite(data, offset, count));
    expect(finiteSlot(words, 0), `${label}: slot 0`).toEqual({ bad: 0, first: NO_INDEX });
    expect(finiteSlot(words, 2), `${label}: slot 2`).toEqual({ bad: 0, first: NO_INDEX });
  }

  it('counts NaN and ±Infinity and finds the first, at lengths around the workgroup size', async () => {
    const kernel = await FiniteKernel.create(t.gpu);
    for (const length of [1, 3, 255, 256, 1000, 1023, 1024, 1025, 4099]) {
      const bad = [length - 1, Math.floor(length / 2), Math.floor(length / 3)].filter((v, i, a) => a.indexOf(v) === i);
      await check(kernel, withBad(length, length, bad), 0, length, `length ${length}`);
      await check(kernel, randomArray(length, length + 1, 1e30), 0, length, `length ${length}, all finite`);
    }
  });

  it('checks only the requested range of a larger buffer', async () => {
    const kernel = await FiniteKernel.create(t.gpu);
    // Bad values just outside [offset, offset + count) must not be counted; the index is relative to offset.
    const data = withBad(3000, 7, [9, 10, 20, 2010, 2011]);
    await check(kernel, data, 10, 2001, 'offset 10, count 2001');
    const result = countNonFinite(data, 10, 2001);
    expect(result).toEqual({ bad: 3, first: 0 });
  });

  it('treats the edges of the finite range as finite', async () => {
    const kernel = await FiniteKernel.create(t.gpu);
    const bits = new Uint32Array([0x7f7fffff, 0xff7fffff, 0x00000001, 0x80000001, 0x80000000, 0x00000000, 0x3f800000, 0xff800001]);
    const data = new Float32Array(bits.buffer);
    expect(countNonFinite(data)).toEqual({ bad: 1, first: 7 });
    await check(kernel, data, 0, data.length, 'edge values');
  });

  it('gives the same answer with the dispatch folded over two dimensions', async () => {
    const kernel = await FiniteKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
    await check(kernel, withBad(5000, 3, [4999, 4096, 123]), 0, 5000, 'folded, 5 workgroups over 3x2 (one spare)');
  });

  it('accumulates several tensors into their own slots in one pass', async () => {
    const kernel = await FiniteKernel.create(t.gpu);
    const a = withBad(700, 11, [5]);
    const b = withBad(300, 12, []);
    const c = withBad(2100, 13, [2099, 1500]);
    const result = t.u32('result', finiteResultInit(3));
    const ds = [a, b, c].map((data, slot) => kernel.prepare({ label: `Finite.slot${slot}`, data: t.f32(`d${slot}`, data), count: data.length, result, slot }));
    runDispatches(t.device, 'Finite.slots', ds);
    const words = await t.readU32(result, 6);
    ds.forEach((d) => d.destroy());
    [a, b, c].forEach((data, slot) => expect(finiteSlot(words, slot), `slot ${slot}`).toEqual(countNonFinite(data)));
  });

  it('refuses a bad slot or range', async () => {
    const kernel = await FiniteKernel.create(t.gpu);
    const result = t.u32('result', finiteResultInit(1));
    const data = t.f32('data', [1]);
    expect(() => kernel.prepare({ label: 'Finite.bad', data, count: 1, result, slot: -1 })).toThrow(/slot must be a non-negative integer, got -1/);
    expect(() => kernel.prepare({ label: 'Finite.bad', data, count: 1.5, result, slot: 0 })).toThrow(/1.5 elements at offset 0/);
    expect(() => countNonFinite(new Float32Array(4), 2, 3)).toThrow(/\[2, 5\) are outside an array of 4/);
  });
});
