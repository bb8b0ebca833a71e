import { describe, expect, it } from 'vitest';
import type { Dispatch } from '../../src/gpu/dispatch';
import { FrozenKernel } from '../../src/gpu/kernels/frozen';
import { frozenPack, trainScan } from '../../src/reference/frozen';
import { bitmapWords } from '../../src/spec/bitmaps';
import { LAYER_COUNTS, LayerCount } from '../../src/spec/layer-counts';
import { TRAIN_RECORD_WORDS, TrainRecordField as F, initialTrainRecord } from '../../src/spec/train-record';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import { NEVER } from '../../src/spec/unit-history';
import { expectBitExact, randomArray, runDispatches, useGpu, writeStepState } from './harness';

const SENTINEL = 0xdeadbeef;
const WIDTHS = [1, 7, 33, 130, 1000];
const BATCH_ROWS = [1, 7, 64];

/**
 * Training pre-activations of step `step` [rows, cols], one behaviour per column (c % 7):
 * 0 always <= 0 (with +0 and -0), so frozen from step W on; 1 one positive row every step; 2 active only every
 * 5th step (quiet stretches of 4: thaws at W = 3); 3 a NaN row at step 4 only, otherwise <= 0; 4 active with
 * probability about 0.3 per step; 5 active until step 6, then never; 6 an ±Inf row on odd steps, else positive.
 */
function trainingZ(rows: number, cols: number, step: number, seed: number): Float32Array {
  const z = randomArray(rows * cols, seed + 7919 * step);
  const coin = randomArray(cols, seed * 31 + step);
  for (let c = 0; c < cols; c++) {
    const kind = c % 7;
    const hot = (c + step) % rows;
    const active = kind === 1 || (kind === 2 && step % 5 === 0) || (kind === 4 && coin[c] > 0.4) || (kind === 5 && step < 6) || kind === 6;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + c;
      z[i] = r % 3 === 0 ? (r % 2 ? -0 : 0) : -Math.abs(z[i]);
      if (active && r === hot) z[i] = 1e-30 + Math.abs(z[i]);
      if (kind === 3 && step === 4 && r === hot) z[i] = NaN;
      if (kind === 6 && step % 2 === 1 && r === (hot + 1) % rows) z[i] = r % 2 ? Infinity : -Infinity;
    }
  }
  return z;
}

describe('frozen units on the GPU', () => {
  const t = useGpu();
  let kernel: FrozenKernel;
  let folded: FrozenKernel;

  function run(...dispatches: Dispatch[]): void {
    runDispatches(t.device, 'frozen test', dispatches);
    for (const d of dispatches) d.destroy();
  }

  it('creates its pipelines', async () => {
    kernel = await FrozenKernel.create(t.gpu);
    // 6 workgroups per dimension forces 2-D folding on small shapes.
    folded = await FrozenKernel.create(t.gpu, { maxWorkgroupsPerDimension: 6 });
  });

  interface Layer {
    cols: number;
    record: GPUBuffer;
    stepState: GPUBuffer;
  }

  function layer(cols: number): Layer {
    // One record past the layer: a write outside the units would show as a changed sentinel.
    const record = t.u32('record', new Array((cols + 1) * TRAIN_RECORD_WORDS).fill(SENTINEL));
    run(kernel.prepareResetRecord({ label: 'Frozen.resetRecord', cols, record }));
    return { cols, record, stepState: t.zeros('stepState', STEP_STATE_WORDS) };
  }

  /** One training step over blocks of the given widths, each in its own padded buffer (as the engine shards a layer). */
  function step(l: Layer, z: Float32Array, rows: number, s: number, opts: { blocks?: number[]; gated?: boolean; window: number; k?: FrozenKernel }) {
    writeStepState(t.device, l.stepState, { step: s });
    const blocks = opts.blocks ?? [l.cols];
    const pad = 5;
    const dispatches: Dispatch[] = [];
    let offset = 0;
    for (const width of blocks) {
      const ld = width + pad;
      const data = new Float32Array(pad + Math.max(1, rows) * ld).fill(1e9); // outside the block: would count as active
      for (let r = 0; r < rows; r++) data.set(z.subarray(r * l.cols + offset, r * l.cols + offset + width), pad + r * ld);
      dispatches.push(
        (opts.k ?? kernel).prepareTrainScan({
          label: 'Frozen.trainScan',
          z: { buffer: t.f32('z', data), offset: pad, ld },
          rows,
          cols: width,
          unitOffset: offset,
          stepState: l.stepState,
          gated: opts.gated ?? true,
          window: opts.window,
          record: l.record,
        }),
      );
      offset += width;
    }
    expect(offset).toBe(l.cols);
    run(...dispatches);
  }

  async function readRecord(l: Layer): Promise<Uint32Array> {
    const words = await t.readU32(l.record, (l.cols + 1) * TRAIN_RECORD_WORDS);
    expect(
      words.subarray(l.cols * TRAIN_RECORD_WORDS).every((w) => w === SENTINEL),
      'record past the layer untouched',
    ).toBe(true);
    return words.subarray(0, l.cols * TRAIN_RECORD_WORDS);
  }

  it('reset writes the initial record', async () => {
    const l = layer(130);
    expectBitExact(await readRecord(l), initialTrainRecord(130), 'initial record');
  });

  it.each(WIDTHS)('the training scan matches the reference bit for bit over 12 steps: %i units, batch 1 / 7 / 64', async (cols) => {
    for (const rows of BATCH_ROWS) {
      for (const gated of [true, false]) {
        const window = 3;
        const l = layer(cols);
        const want = initialTrainRecord(cols);
        for (let s = 0; s < 12; s++) {
          const z = trainingZ(rows, cols, s, cols + rows);
          // Odd steps use the folded kernel (1000 units = 32 workgroups, folded to 6 x 6 with 4 spares).
          step(l, z, rows, s, { window, gated, k: s % 2 ? folded : kernel });
          trainScan({ z, rows, cols, step: s, gated, window, record: want });
        }
        expectBitExact(await readRecord(l), want, `record ${rows}x${cols} gated ${gated}`);
      }
    }
  });

  it('a layer scanned as column blocks (the engine shards) equals the whole-layer scan', async () => {
    for (const [cols, blocks] of [
      [130, [32, 98]],
      [200, [64, 96, 40]],
      [33, [32, 1]],
    ] as const) {
      const rows = 9;
      const l = layer(cols);
      const want = initialTrainRecord(cols);
      for (let s = 0; s < 10; s++) {
        const z = trainingZ(rows, cols, s, 5 * cols);
        step(l, z, rows, s, { window: 2, blocks: [...blocks] });
        trainScan({ z, rows, cols, step: s, gated: true, window: 2, record: want });
      }
      expectBitExact(await readRecord(l), want, `record ${cols} in blocks ${blocks.join('+')}`);
    }
  });

  it('follows each constructed column exactly (window 3, 12 steps)', async () => {
    const rows = 7;
    const cols = 7;
    const l = layer(cols);
    for (let s = 0; s < 12; s++) step(l, trainingZ(rows, cols, s, 1), rows, s, { window: 3 });
    const r = await readRecord(l);
    const field = (u: number, f: number) => r[u * TRAIN_RECORD_WORDS + f];
    // [last active, first non-finite, last non-finite, thaws]
    const summary = (u: number) => [F.lastActiveStep, F.firstNonFiniteStep, F.lastNonFiniteStep, F.thaws].map((f) => field(u, f));
    expect(summary(0)).toEqual([NEVER, NEVER, NEVER, 0]);
    expect(summary(1)).toEqual([11, NEVER, NEVER, 0]);
    // Active at 0, 5, 10: quiet 4 steps before 5 and before 10 (>= W = 3): two thaws.
    expect(summary(2)).toEqual([10, NEVER, NEVER, 2]);
    expect(summary(3)).toEqual([NEVER, 4, 4, 0]);
    expect(summary(5)).toEqual([5, NEVER, NEVER, 0]);
    // Odd steps have an infinite row and a positive one: both flags.
    expect(summary(6)).toEqual([11, 1, 11, 0]);
  });

  describe('snapshot pack', () => {
    async function pack(l: Layer, snapshotStep: number, window: number, probeNonFinite: Uint32Array, dead: Uint32Array, k = kernel) {
      const words = bitmapWords(l.cols);
      const nonFiniteBits = t.u32('nonFiniteBits', [...probeNonFinite, SENTINEL]);
      const deadBits = t.u32('deadBits', [...dead, SENTINEL]);
      const frozenBits = t.u32('frozenBits', new Array(words + 1).fill(SENTINEL));
      // Counters of three layers; this one's frozen and non-finite counters sit at LAYER_COUNTS + LayerCount.frozen.
      const counts = t.u32('counts', new Array(3 * LAYER_COUNTS).fill(0));
      writeStepState(t.device, l.stepState, { step: snapshotStep });
      run(
        k.prepareFrozenPack({
          label: 'Frozen.pack',
          stepState: l.stepState,
          cols: l.cols,
          window,
          record: l.record,
          nonFiniteBits,
          frozenBits,
          deadBits,
          counts,
          countsOffset: LAYER_COUNTS + LayerCount.frozen,
        }),
      );
      const read = async (b: GPUBuffer) => {
        const w = await t.readU32(b, words + 1);
        expect(w[words], 'sentinel past the bitmap').toBe(SENTINEL);
        return w.subarray(0, words);
      };
      const c = await t.readU32(counts, 3 * LAYER_COUNTS);
      const others = [...c.subarray(0, LAYER_COUNTS + LayerCount.frozen), ...c.subarray(LAYER_COUNTS + LayerCount.nonFinite + 1)];
      expect(
        others.every((v) => v === 0),
        'other counters untouched',
      ).toBe(true);
      return {
        frozenBits: await read(frozenBits),
        nonFiniteBits: await read(nonFiniteBits),
        deadBits: await read(deadBits),
        frozen: c[LAYER_COUNTS + LayerCount.frozen],
        nonFinite: c[LAYER_COUNTS + LayerCount.nonFinite],
      };
    }

    function randomBits(cols: number, seed: number, density: number): Uint32Array {
      const r = randomArray(cols, seed);
      const bits = new Uint32Array(bitmapWords(cols));
      for (let c = 0; c < cols; c++) if ((r[c] + 1) / 2 < density) bits[c >>> 5] |= 1 << (c & 31);
      return bits;
    }

    it.each(WIDTHS)('matches the reference bit for bit at snapshots after 3, 4, 5, 8, 12 steps: %i units', async (cols) => {
      const rows = 7;
      const window = 3;
      const l = layer(cols);
      const record = initialTrainRecord(cols);
      const snapshots = new Set([3, 4, 5, 8, 12]);
      for (let s = 0; s < 12; s++) {
        const z = trainingZ(rows, cols, s, 2 * cols);
        step(l, z, rows, s, { window });
        trainScan({ z, rows, cols, step: s, gated: true, window, record });
        const t1 = s + 1;
        if (!snapshots.has(t1)) continue;
        const probeNonFinite = randomBits(cols, 40 * cols + s, 0.05);
        const dead = randomBits(cols, 50 * cols + s, 0.4);
        const got = await pack(l, t1, window, probeNonFinite, dead, t1 % 2 ? folded : kernel);
        const wantDead = dead.slice();
        const want = frozenPack({ step: t1, cols, window, record, probeNonFiniteBits: probeNonFinite, deadBits: wantDead });
        expectBitExact(got.frozenBits, want.frozenBits, `frozen bits ${cols} at ${t1}`);
        expectBitExact(got.nonFiniteBits, want.nonFiniteBits, `non-finite bits ${cols} at ${t1}`);
        expectBitExact(got.deadBits, wantDead, `dead bits ${cols} at ${t1}`);
        expect([got.frozen, got.nonFinite], `counts ${cols} at ${t1}`).toEqual([want.frozen, want.nonFinite]);
      }
    });

    it('frozen: quiet for W steps; never before W steps were watched; non-finite wins over frozen and dead', async () => {
      const rows = 7;
      const cols = 7;
      const window = 3;
      const l = layer(cols);
      const none = new Uint32Array(1);
      const bit = (bits: Uint32Array, u: number) => (bits[0] >>> u) & 1;
      for (let s = 0; s < 2; s++) step(l, trainingZ(rows, cols, s, 1), rows, s, { window });
      // After 2 steps nothing can be frozen over 3.
      expect((await pack(l, 2, window, none, none)).frozen).toBe(0);
      for (let s = 2; s < 10; s++) step(l, trainingZ(rows, cols, s, 1), rows, s, { window });
      const got = await pack(l, 10, window, new Uint32Array([0b10]), new Uint32Array([0b1111111]));
      expect(bit(got.frozenBits, 0), 'always <= 0: frozen').toBe(1);
      expect(bit(got.frozenBits, 1), 'active every step but non-finite on the probe: not frozen').toBe(0);
      expect(bit(got.nonFiniteBits, 1), 'probe non-finite').toBe(1);
      expect(bit(got.frozenBits, 2), 'active at step 5, quiet since (6 .. 9): frozen').toBe(1);
      expect(bit(got.frozenBits, 3), 'NaN at step 4, quiet since: frozen').toBe(1);
      expect(bit(got.frozenBits, 5), 'active until step 5: frozen').toBe(1);
      expect(bit(got.nonFiniteBits, 6), 'an infinite row at step 9 (the last): non-finite').toBe(1);
      expect(bit(got.frozenBits, 6)).toBe(0);
      expect(got.deadBits[0], 'dead bits lose the non-finite units 1 and 6').toBe(0b0111101);
    });
  });

  it('rejects a zero window, aliased buffers and short buffers, naming the field', () => {
    const record = t.zeros('record', 8 * TRAIN_RECORD_WORDS);
    const stepState = t.zeros('stepState', STEP_STATE_WORDS);
    const z = { buffer: t.zeros('z', 64), ld: 8 };
    const args = { label: 'Frozen.trainScan', z, rows: 2, cols: 8, stepState, gated: true, window: 3, record };
    expect(() => kernel.prepareTrainScan({ ...args, window: 0 })).toThrow(/window must be an integer/);
    expect(() => kernel.prepareTrainScan({ ...args, record: z.buffer })).toThrow(/different buffers/);
    expect(() => kernel.prepareTrainScan({ ...args, rows: 9 })).toThrow(/z needs/);
    expect(() => kernel.prepareTrainScan({ ...args, unitOffset: 1 })).toThrow(/record needs/);
  });
});
