import { describe, expect, it } from 'vitest';
import { DropoutKernel, type DropoutArgs } from '../../src/gpu/kernels/dropout';
import { dropoutBackward, dropoutForward, dropoutMaskBits } from '../../src/reference/dropout';
import { dropoutScale } from '../../src/spec/dropout-rate';
import { rngKey } from '../../src/spec/rng-streams';
import { expectBitExact, randomArray, useGpu, writeStepState, runDispatches } from './harness';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';

/** Bit patterns, so -0/+0 and NaN payloads count as differences too. */
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

const KEY = rngKey(1234, 'dropout', 2);

describe('dropout on the GPU', () => {
  const t = useGpu();
  let kernel: DropoutKernel;
  let folded: DropoutKernel;

  async function run(
    which: 'forward' | 'backward',
    opts: { p: number; step: number; rows: number; cols: number; unitOffset?: number; x: Float32Array; k?: DropoutKernel; pad?: number },
  ): Promise<Float32Array> {
    const { p, step, rows, cols, unitOffset, x } = opts;
    const pad = opts.pad ?? 0;
    // Blocks inside bigger buffers: offset and ld != cols exercise the sub-block addressing.
    const ld = cols + pad;
    const inData = new Float32Array(pad + rows * ld).fill(NaN);
    for (let r = 0; r < rows; r++) inData.set(x.subarray(r * cols, (r + 1) * cols), pad + r * ld);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    writeStepState(t.device, stepState, { step });
    const input = t.f32('input', inData);
    // Sentinels everywhere, plus a spare row: the kernel must write exactly its block.
    const outSize = 2 * pad + (rows + 1) * ld;
    const output = t.f32('output', new Float32Array(outSize).fill(777));
    const args: DropoutArgs = {
      label: `Dropout.${which}`,
      p,
      key: KEY,
      stepState,
      rows,
      cols,
      unitOffset,
      input: { buffer: input, offset: pad, ld },
      output: { buffer: output, offset: 2 * pad, ld },
    };
    const k = opts.k ?? kernel;
    const d = which === 'forward' ? k.prepareForward(args) : k.prepareBackward(args);
    runDispatches(t.device, 'dropout test', [d]);
    d.destroy();
    const raw = await t.readF32(output, outSize);
    const inBlock = (i: number) => i >= 2 * pad && i < 2 * pad + rows * ld && (i - 2 * pad) % ld < cols;
    expect(
      raw.findIndex((v, i) => !inBlock(i) && v !== 777),
      'first write outside the block',
    ).toBe(-1);
    const y = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) y.set(raw.subarray(2 * pad + r * ld, 2 * pad + r * ld + cols), r * cols);
    return y;
  }

  async function maskBits(opts: { p: number; step: number; sample: number; cols: number; unitOffset?: number; k?: DropoutKernel }) {
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    writeStepState(t.device, stepState, { step: opts.step });
    const words = Math.ceil(opts.cols / 32);
    const bits = t.u32('bits', new Array(words + 1).fill(0xdeadbeef)); // + 1 sentinel word
    const d = (opts.k ?? kernel).prepareMaskBits({ label: 'Dropout.mask_bits', key: KEY, stepState, bits, ...opts });
    runDispatches(t.device, 'dropout mask bits test', [d]);
    d.destroy();
    const got = await t.readU32(bits, words + 1);
    expect(got[words], 'sentinel word past the bitmap').toBe(0xdeadbeef);
    return got.subarray(0, words);
  }

  it('creates its pipelines', async () => {
    kernel = await DropoutKernel.create(t.gpu);
    // 3 workgroups per dimension forces 2-D folding on small shapes.
    folded = await DropoutKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
  });

  const shapes: Array<[number, number, number]> = [
    [1, 1, 0],
    [7, 7, 0],
    [3, 33, 0],
    [5, 130, 0],
    [4, 33, 5], // block starting mid-group of 4
    [2, 7, 130],
  ];

  it.each(shapes)('forward matches the reference bit for bit: %i x %i at unit offset %i', async (rows, cols, unitOffset) => {
    const x = randomArray(rows * cols, 11 + cols);
    for (const step of [0, 5]) {
      const got = await run('forward', { p: 0.3, step, rows, cols, unitOffset, x, pad: 3 });
      const want = dropoutForward({ p: 0.3, key: KEY, step, rows, cols, unitOffset, input: x });
      expectBitExact(bitsOf(got), bitsOf(want), `forward ${rows}x${cols}+${unitOffset} step ${step}`);
    }
  });

  it.each(shapes)('backward matches the reference bit for bit: %i x %i at unit offset %i', async (rows, cols, unitOffset) => {
    const dY = randomArray(rows * cols, 23 + cols);
    const got = await run('backward', { p: 0.5, step: 9, rows, cols, unitOffset, x: dY, pad: 1 });
    const want = dropoutBackward({ p: 0.5, key: KEY, step: 9, rows, cols, unitOffset, dY });
    expectBitExact(bitsOf(got), bitsOf(want), `backward ${rows}x${cols}+${unitOffset}`);
  });

  it.each([1, 7, 33, 130])('mask bits match the reference for %i units', async (cols) => {
    for (const [sample, unitOffset] of [
      [0, 0],
      [3, 6],
    ]) {
      const got = await maskBits({ p: 0.4, step: 2, sample, cols, unitOffset });
      expectBitExact(got, dropoutMaskBits({ p: 0.4, key: KEY, step: 2, sample, cols, unitOffset }), `mask bits ${cols}`);
    }
  });

  it('mask bits agree with the zeros of forward for every sample', async () => {
    const rows = 6;
    const cols = 70;
    const x = new Float32Array(rows * cols).fill(1);
    const y = await run('forward', { p: 0.5, step: 4, rows, cols, unitOffset: 3, x });
    for (let sample = 0; sample < rows; sample++) {
      const bits = await maskBits({ p: 0.5, step: 4, sample, cols, unitOffset: 3 });
      for (let c = 0; c < cols; c++) {
        expect((bits[c >>> 5] >>> (c & 31)) & 1, `sample ${sample} unit ${c}`).toBe(y[sample * cols + c] === 0 ? 1 : 0);
      }
    }
  });

  it('draws a new mask each step and the same mask in forward and backward of one step', async () => {
    const rows = 4;
    const cols = 64;
    const ones = new Float32Array(rows * cols).fill(1);
    const f3 = await run('forward', { p: 0.5, step: 3, rows, cols, x: ones });
    const b3 = await run('backward', { p: 0.5, step: 3, rows, cols, x: ones });
    const f4 = await run('forward', { p: 0.5, step: 4, rows, cols, x: ones });
    expectBitExact(bitsOf(b3), bitsOf(f3), 'backward vs forward, same step');
    const differing = f3.filter((v, i) => (v === 0) !== (f4[i] === 0)).length;
    // Independent masks at p = 0.5 differ on half the 256 units; 0 differences would mean the step is ignored.
    expect(differing).toBeGreaterThan(64);
  });

  it('a layer sharded into column blocks gets the same mask as the whole layer', async () => {
    const rows = 5;
    const cols = 130;
    const split = 37; // not a multiple of 4: the second block starts inside a Philox group
    const x = randomArray(rows * cols, 5);
    const whole = await run('forward', { p: 0.5, step: 7, rows, cols, x });
    const left = new Float32Array(rows * split);
    const right = new Float32Array(rows * (cols - split));
    for (let r = 0; r < rows; r++) {
      left.set(x.subarray(r * cols, r * cols + split), r * split);
      right.set(x.subarray(r * cols + split, (r + 1) * cols), r * (cols - split));
    }
    const yl = await run('forward', { p: 0.5, step: 7, rows, cols: split, unitOffset: 0, x: left });
    const yr = await run('forward', { p: 0.5, step: 7, rows, cols: cols - split, unitOffset: split, x: right });
    const joined = new Float32Array(rows * cols);
    for (let r = 0; r < rows; r++) {
      joined.set(yl.subarray(r * split, (r + 1) * split), r * cols);
      joined.set(yr.subarray(r * (cols - split), (r + 1) * (cols - split)), r * cols + split);
    }
    expectBitExact(bitsOf(joined), bitsOf(whole), 'sharded vs whole');
  });

  it('p = 0 is the identity', async () => {
    const x = randomArray(7 * 33, 3);
    const y = await run('forward', { p: 0, step: 1, rows: 7, cols: 33, x });
    expectBitExact(bitsOf(y), bitsOf(x), 'p = 0');
    const bits = await maskBits({ p: 0, step: 1, sample: 0, cols: 33 });
    expectBitExact(bits, [0, 0], 'p = 0 mask');
  });

  it('p = 0.999 matches the reference and keeps about 1 unit in 1000', async () => {
    const rows = 8;
    const cols = 1024;
    const x = new Float32Array(rows * cols).fill(1);
    const got = await run('forward', { p: 0.999, step: 2, rows, cols, x });
    expectBitExact(bitsOf(got), bitsOf(dropoutForward({ p: 0.999, key: KEY, step: 2, rows, cols, input: x })), 'p = 0.999');
    const kept = got.filter((v) => v !== 0);
    expect(kept.every((v) => v === dropoutScale(0.999))).toBe(true);
    // Binomial(8192, 0.001): mean 8.2, sd 2.9; 5 sigma is [0, 22.5].
    expect(kept.length).toBeLessThanOrEqual(22);
  });

  it.each([0.5, 0.1])('keeps a fraction 1 - p = 1 - %s of units, within 5 binomial sigma', async (p) => {
    const rows = 64;
    const cols = 4096;
    const x = new Float32Array(rows * cols).fill(1);
    const y = await run('forward', { p, step: 11, rows, cols, x });
    const n = rows * cols;
    const kept = y.filter((v) => v !== 0).length;
    // Kept count ~ Binomial(n, 1 - p) if the mask bits are independent: sd = sqrt(n p (1 - p)).
    // 5 sigma: a false failure has probability ~6e-7; a biased threshold (e.g. off by 1%) is 13+ sigma away at n = 262144.
    const sigma = Math.sqrt(n * p * (1 - p));
    expect(Math.abs(kept - n * (1 - p))).toBeLessThan(5 * sigma);
    // Kept values are exactly 1 * scale, so E[y] = 1 up to the 2^-24 quantisation of p.
    expect(y.every((v) => v === 0 || v === dropoutScale(p))).toBe(true);
  });

  it('folds large dispatches over two dimensions', async () => {
    // 33 rows x 33 groups of 4 = 1089 invocations = 5 workgroups, folded to 3 x 2: the 6th must do nothing.
    const rows = 33;
    const cols = 130;
    const x = randomArray(rows * cols, 9);
    const got = await run('forward', { p: 0.25, step: 6, rows, cols, x, k: folded });
    expectBitExact(bitsOf(got), bitsOf(dropoutForward({ p: 0.25, key: KEY, step: 6, rows, cols, input: x })), 'folded forward');
    // 40000 units = 1250 words = 5 workgroups, folded to 3 x 2.
    const bits = await maskBits({ p: 0.25, step: 6, sample: 2, cols: 40000, unitOffset: 1, k: folded });
    expectBitExact(bits, dropoutMaskBits({ p: 0.25, key: KEY, step: 6, sample: 2, cols: 40000, unitOffset: 1 }), 'folded mask bits');
  });

  it('rejects p outside [0, 1) with a RangeError naming p', () => {
    const buffer = t.zeros('x', 4);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const m = { buffer, ld: 1 };
    const args = { label: 'Dropout.forward', key: KEY, stepState, rows: 1, cols: 1, input: m, output: { buffer: t.zeros('y', 4), ld: 1 } };
    expect(() => kernel.prepareForward({ ...args, p: 1 })).toThrow(RangeError);
    expect(() => kernel.prepareForward({ ...args, p: 1 })).toThrow(/p = 1/);
    expect(() => kernel.prepareBackward({ ...args, p: -0.1 })).toThrow(/p = -0.1/);
    expect(() => kernel.prepareMaskBits({ label: 'bits', p: 1.5, key: KEY, stepState, sample: 0, cols: 1, bits: buffer })).toThrow(/p = 1.5/);
  });
});
