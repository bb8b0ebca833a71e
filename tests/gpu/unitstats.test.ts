import { describe, expect, it } from 'vitest';
import type { Dispatch } from '../../src/gpu/dispatch';
import { DropoutKernel } from '../../src/gpu/kernels/dropout';
import { ScheduleKernel, STEP_STATE_BYTES } from '../../src/gpu/kernels/schedule';
import { UnitStatsKernel, deadScanRowsPerWorkgroup } from '../../src/gpu/kernels/unitstats';
import { rngKey } from '../../src/spec/rng-streams';
import { LAYER_COUNTS, LayerCount } from '../../src/spec/layer-counts';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField as F, initialUnitHistory } from '../../src/spec/unit-history';
import { bitmapWords } from '../../src/spec/bitmaps';
import { deadScan, dropRunUpdate, droppedFraction, historyUpdate } from '../../src/reference/unitstats';
import { expectBitExact, randomArray, useGpu, writeStepState, runDispatches } from './harness';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';

const KEY = rngKey(99, 'dropout', 1);
const SENTINEL = 0xdeadbeef;
const WIDTHS = [1, 7, 33, 130, 1000];
const PROBE_ROWS = [1, 7, 64];

/**
 * Probe pre-activations with every kind of column: all <= 0 (dead; with exact +0 and -0, which are
 * not > 0), exactly one positive row (barely alive), and random (alive almost surely at 64 rows).
 */
function probeZ(rows: number, cols: number, seed: number): Float32Array {
  const z = randomArray(rows * cols, seed);
  for (let c = 0; c < cols; c++) {
    const kind = c % 4;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + c;
      if (kind === 0) z[i] = r % 3 === 0 ? (r % 2 ? -0 : 0) : -Math.abs(z[i]);
      if (kind === 1) z[i] = r === (c * 7) % rows ? 1e-30 : -Math.abs(z[i]);
    }
  }
  return z;
}

/**
 * Probe pre-activations with non-finite columns, by c % 5: 0 all <= 0 (dead), 1 random with row 0 > 0 (alive), 2 one NaN row
 * among values <= 0 (a NaN is not "<= 0": non-finite, not dead), 3 one +Inf row among positives (non-finite;
 * +Inf is not counted active), 4 one -Inf row (non-finite, not dead).
 */
function nonFiniteZ(rows: number, cols: number, seed: number): Float32Array {
  const z = randomArray(rows * cols, seed);
  for (let c = 0; c < cols; c++) {
    const kind = c % 5;
    const bad = (c * 3) % rows;
    for (let r = 0; r < rows; r++) {
      const i = r * cols + c;
      if (kind === 0 || kind === 2 || kind === 4) z[i] = -Math.abs(z[i]);
      if (kind === 1 && r === 0) z[i] = Math.abs(z[i]) + 0.1;
      if (kind === 3) z[i] = Math.abs(z[i]) + 0.5;
      if (r === bad && kind >= 2) z[i] = [NaN, Infinity, -Infinity][kind - 2];
    }
  }
  return z;
}

/** A random bitmap of `cols` bits with bits past cols clear. */
function randomBits(cols: number, seed: number, density = 0.5): Uint32Array {
  const r = randomArray(cols, seed);
  const bits = new Uint32Array(bitmapWords(cols));
  for (let c = 0; c < cols; c++) if ((r[c] + 1) / 2 < density) bits[c >>> 5] |= 1 << (c & 31);
  return bits;
}

describe('unit statistics on the GPU', () => {
  const t = useGpu();
  let kernel: UnitStatsKernel;
  let folded: UnitStatsKernel;
  let dropout: DropoutKernel;

  function run(...dispatches: Dispatch[]): void {
    runDispatches(t.device, 'unitstats test', dispatches);
    for (const d of dispatches) d.destroy();
  }

  function stepStateAt(step: number): GPUBuffer {
    const buffer = t.zeros('stepState', STEP_STATE_WORDS);
    writeStepState(t.device, buffer, { step });
    return buffer;
  }

  /**
   * Scans z [rows, cols] as blocks of the given widths (each in its own padded buffer, as the engine shards
   * a layer), into whole-layer outputs prefilled with sentinels; returns the layer's bits and counts.
   */
  async function scan(
    z: Float32Array,
    rows: number,
    cols: number,
    opts: { blocks?: number[]; k?: UnitStatsKernel; rowsPerWorkgroup?: number; pad?: number; slices?: number[] } = {},
  ) {
    const blocks = opts.blocks ?? [cols];
    // Row slices, each scanned on its own (as the observatory walks a big probe set): the whole set by default.
    const slices = opts.slices ?? [rows];
    expect(slices.reduce((a, b) => a + b, 0)).toBe(rows);
    const pad = opts.pad ?? 3;
    const words = bitmapWords(cols);
    const deadBits = t.u32('deadBits', new Array(words + 1).fill(SENTINEL));
    const nonFiniteBits = t.u32('nonFiniteBits', new Array(words + 1).fill(SENTINEL));
    const activeCounts = t.u32('activeCounts', new Array(cols + 1).fill(SENTINEL));
    const dispatches: Dispatch[] = [];
    let offset = 0;
    for (const width of blocks) {
      const ld = width + pad;
      let firstRow = 0;
      for (const [i, sliceRows] of slices.entries()) {
        const data = new Float32Array(pad + Math.max(1, sliceRows) * ld).fill(1e9); // outside the block: would count as active
        for (let r = 0; r < sliceRows; r++) {
          const at = (firstRow + r) * cols + offset;
          data.set(z.subarray(at, at + width), pad + r * ld);
        }
        dispatches.push(
          (opts.k ?? kernel).prepareDeadScan({
            label: 'UnitStats.deadScan',
            z: { buffer: t.f32('z', data), offset: pad, ld },
            rows: sliceRows,
            cols: width,
            unitOffset: offset,
            deadBits,
            nonFiniteBits,
            activeCounts,
            rowsPerWorkgroup: opts.rowsPerWorkgroup,
            slice: opts.slices ? { first: i === 0, last: i === slices.length - 1 } : undefined,
          }),
        );
        firstRow += sliceRows;
      }
      offset += width;
    }
    expect(offset).toBe(cols);
    run(...dispatches);
    const bits = await t.readU32(deadBits, words + 1);
    const counts = await t.readU32(activeCounts, cols + 1);
    const nonFinite = await t.readU32(nonFiniteBits, words + 1);
    expect(bits[words], 'sentinel word past the bitmap').toBe(SENTINEL);
    expect(nonFinite[words], 'sentinel word past the non-finite bitmap').toBe(SENTINEL);
    expect(counts[cols], 'sentinel past the counts').toBe(SENTINEL);
    return { deadBits: bits.subarray(0, words), nonFiniteBits: nonFinite.subarray(0, words), activeCounts: counts.subarray(0, cols) };
  }

  it('creates its pipelines', async () => {
    kernel = await UnitStatsKernel.create(t.gpu);
    // 3 workgroups per dimension forces 2-D folding on small shapes.
    folded = await UnitStatsKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
    dropout = await DropoutKernel.create(t.gpu);
  });

  describe('dead scan', () => {
    it.each(WIDTHS)('matches the reference bit for bit: %i units, 1 / 7 / 64 probe rows, one pass and chunked', async (cols) => {
      for (const rows of PROBE_ROWS) {
        const z = probeZ(rows, cols, 31 * cols + rows);
        const want = deadScan(z, rows, cols);
        // The default is one pass at these sizes; 8 rows per workgroup forces the chunked path (atomics + pack).
        expect(deadScanRowsPerWorkgroup(rows, cols)).toBeGreaterThanOrEqual(rows);
        for (const rowsPerWorkgroup of [undefined, 8]) {
          const got = await scan(z, rows, cols, { rowsPerWorkgroup });
          const what = `${rows}x${cols} rowsPerWorkgroup ${rowsPerWorkgroup ?? 'default'}`;
          expectBitExact(got.activeCounts, want.activeCounts, `active counts ${what}`);
          expectBitExact(got.deadBits, want.deadBits, `dead bits ${what}`);
        }
      }
    });

    it('a probe set scanned in row slices (first zeroes, each adds, last packs) equals the whole scan', async () => {
      for (const [cols, slices] of [
        [130, [5, 1, 50, 8]],
        [33, [7]],
        [200, [32, 32]],
      ] as const) {
        const rows = slices.reduce((a, b) => a + b, 0);
        const z = probeZ(rows, cols, 11 + cols);
        const want = deadScan(z, rows, cols);
        for (const rowsPerWorkgroup of [undefined, 8]) {
          const got = await scan(z, rows, cols, { slices: [...slices], rowsPerWorkgroup, blocks: cols > 64 ? [64, cols - 64] : [cols] });
          const what = `${rows}x${cols} in slices ${slices.join('+')}, rowsPerWorkgroup ${rowsPerWorkgroup ?? 'default'}`;
          expectBitExact(got.activeCounts, want.activeCounts, `active counts ${what}`);
          expectBitExact(got.deadBits, want.deadBits, `dead bits ${what}`);
        }
      }
    });

    it('finds exactly the constructed dead columns', async () => {
      const rows = 64;
      const cols = 130;
      const got = await scan(probeZ(rows, cols, 5), rows, cols);
      for (let c = 0; c < cols; c++) {
        const dead = (got.deadBits[c >>> 5] >>> (c & 31)) & 1;
        expect(dead, `unit ${c}`).toBe(c % 4 === 0 ? 1 : 0);
        if (c % 4 === 1) expect(got.activeCounts[c], `unit ${c}: one positive row`).toBe(1);
      }
    });

    it('NaN and ±Inf are their own state, never dead: one pass, chunked, sharded and sliced all match the reference', async () => {
      for (const [rows, cols] of [
        [7, 130],
        [64, 33],
        [48, 200],
      ] as const) {
        const z = nonFiniteZ(rows, cols, 3 * cols + rows);
        const want = deadScan(z, rows, cols);
        for (let c = 0; c < cols; c++) {
          const nonFinite = (want.nonFiniteBits[c >>> 5] >>> (c & 31)) & 1;
          const dead = (want.deadBits[c >>> 5] >>> (c & 31)) & 1;
          expect(nonFinite, `reference: unit ${c} non-finite`).toBe(c % 5 >= 2 ? 1 : 0);
          expect(dead, `reference: unit ${c} dead`).toBe(c % 5 === 0 ? 1 : 0);
        }
        const variants = [
          { rowsPerWorkgroup: undefined },
          { rowsPerWorkgroup: 8 },
          { blocks: [32, cols - 32] },
          { blocks: [32, cols - 32], rowsPerWorkgroup: 8, slices: [3, rows - 3] },
        ];
        for (const v of variants) {
          const got = await scan(z, rows, cols, v);
          const what = `${rows}x${cols} ${JSON.stringify(v)}`;
          expectBitExact(got.nonFiniteBits, want.nonFiniteBits, `non-finite bits ${what}`);
          expectBitExact(got.deadBits, want.deadBits, `dead bits ${what}`);
          expectBitExact(got.activeCounts, want.activeCounts, `active counts ${what}`);
        }
      }
    });

    it('a layer scanned as two blocks (the second at unit 32) equals the unsharded scan', async () => {
      for (const [rows, cols] of [
        [7, 130],
        [64, 33],
      ]) {
        const z = probeZ(rows, cols, 77 + cols);
        const whole = await scan(z, rows, cols);
        for (const rowsPerWorkgroup of [undefined, 8]) {
          const sharded = await scan(z, rows, cols, { blocks: [32, cols - 32], rowsPerWorkgroup });
          expectBitExact(sharded.deadBits, whole.deadBits, `sharded dead bits ${rows}x${cols}`);
          expectBitExact(sharded.activeCounts, whole.activeCounts, `sharded counts ${rows}x${cols}`);
        }
      }
    });

    it('picks row chunks only for tall probe sets on narrow blocks', () => {
      expect(deadScanRowsPerWorkgroup(4096, 8192)).toBe(1024); // 256 words x 4 chunks = 1024 workgroups
      expect(deadScanRowsPerWorkgroup(4096, 1_048_576)).toBe(4096); // 32768 words: one pass
      expect(deadScanRowsPerWorkgroup(4096, 1000)).toBe(256); // 32 words x 16 chunks
      expect(deadScanRowsPerWorkgroup(100, 7)).toBe(104); // too short to split
    });

    it('rows = 0: every unit is vacuously dead', async () => {
      const got = await scan(new Float32Array(0), 0, 33);
      expectBitExact(got.deadBits, [0xffffffff, 1], 'dead bits');
      expectBitExact(got.activeCounts, new Uint32Array(33), 'counts');
    });

    it('folds large dispatches over two dimensions', async () => {
      // Blocks of 96 and 104 units: 3 and 4 words. One pass: 3 and 4 workgroups, folded to 3 x 1 and 2 x 2;
      // 48 rows per workgroup over 64 rows (a partial second chunk): 6 and 8 workgroups, folded to 3 x 2 and
      // 3 x 3 (one spare that must do nothing).
      const rows = 64;
      const cols = 200;
      const z = probeZ(rows, cols, 12);
      const want = deadScan(z, rows, cols);
      for (const rowsPerWorkgroup of [undefined, 48]) {
        const got = await scan(z, rows, cols, { k: folded, rowsPerWorkgroup, blocks: [96, 104] });
        expectBitExact(got.activeCounts, want.activeCounts, 'folded counts');
        expectBitExact(got.deadBits, want.deadBits, 'folded dead bits');
      }
    });

    it('rejects blocks that do not own whole words and aliased outputs', () => {
      const z = { buffer: t.zeros('z', 64), ld: 8 };
      const deadBits = t.zeros('deadBits', 64);
      const activeCounts = t.zeros('activeCounts', 64);
      const nonFiniteBits = t.zeros('nonFiniteBits', 64);
      const args = { label: 'UnitStats.deadScan', z, rows: 2, cols: 8, deadBits, nonFiniteBits, activeCounts };
      expect(() => kernel.prepareDeadScan({ ...args, unitOffset: 4 })).toThrow(/multiple of 32/);
      expect(() => kernel.prepareDeadScan({ ...args, activeCounts: deadBits })).toThrow(/different buffers/);
      expect(() => kernel.prepareDeadScan({ ...args, nonFiniteBits: deadBits })).toThrow(/different buffers/);
      expect(() => kernel.prepareDeadScan({ ...args, rows: 9 })).toThrow(/z needs/);
      expect(() => kernel.prepareDeadScan({ ...args, rowsPerWorkgroup: 12 })).toThrow(/multiple of 8/);
    });
  });

  describe('history at snapshots', () => {
    interface Layer {
      cols: number;
      history: GPUBuffer;
      deadBits: GPUBuffer;
      droppedBits: GPUBuffer;
      revivedBits: GPUBuffer;
      counts: GPUBuffer;
      stepState: GPUBuffer;
    }

    function layer(cols: number): Layer {
      const words = bitmapWords(cols);
      const history = t.zeros('history', cols * UNIT_HISTORY_WORDS);
      run(kernel.prepareResetHistory({ label: 'UnitStats.resetHistory', cols, history }));
      return {
        cols,
        history,
        deadBits: t.zeros('deadBits', words),
        droppedBits: t.zeros('droppedBits', words),
        revivedBits: t.u32('revivedBits', new Array(words + 1).fill(SENTINEL)),
        counts: t.u32('counts', new Array(3 * LAYER_COUNTS).fill(SENTINEL)),
        stepState: t.zeros('stepState', STEP_STATE_WORDS),
      };
    }

    /** One snapshot of slot 1 of the counters (slots 0 and 2 belong to other layers and must stay untouched). */
    async function snapshot(l: Layer, step: number, deadBits: Uint32Array, droppedBits: Uint32Array, k = kernel) {
      for (const [buffer, data] of [
        [l.deadBits, deadBits],
        [l.droppedBits, droppedBits],
      ] as const) {
        t.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
      }
      writeStepState(t.device, l.stepState, { step });
      run(
        k.prepareClearCounts({ label: 'UnitStats.clearCounts', counts: l.counts, countsOffset: LAYER_COUNTS }),
        k.prepareHistoryUpdate({ label: 'UnitStats.historyUpdate', countsOffset: LAYER_COUNTS, ...l }),
      );
      const words = bitmapWords(l.cols);
      const revived = await t.readU32(l.revivedBits, words + 1);
      expect(revived[words], 'sentinel past the revived bitmap').toBe(SENTINEL);
      const counts = await t.readU32(l.counts, 3 * LAYER_COUNTS);
      expect(
        [...counts.subarray(0, LAYER_COUNTS), ...counts.subarray(2 * LAYER_COUNTS)].every((c) => c === SENTINEL),
        'other layers counters',
      ).toBe(true);
      return {
        history: await t.readU32(l.history, l.cols * UNIT_HISTORY_WORDS),
        revivedBits: revived.subarray(0, words),
        counts: counts.subarray(LAYER_COUNTS, 2 * LAYER_COUNTS),
      };
    }

    it('reset writes the initial history', async () => {
      const l = layer(130);
      expectBitExact(await t.readU32(l.history, 130 * UNIT_HISTORY_WORDS), initialUnitHistory(130), 'initial history');
    });

    it.each(WIDTHS)('matches the reference bit for bit over 6 random snapshots: %i units', async (cols) => {
      const l = layer(cols);
      const history = initialUnitHistory(cols);
      for (let s = 0; s < 6; s++) {
        const step = 100 * (s + 1) + s;
        // Half-dense dead bitmaps flip about half the units each snapshot: deaths and revivals both occur.
        // Odd snapshots use the folded kernel (1000 units = 4 workgroups, folded to 2 x 2).
        const deadBits = randomBits(cols, 1000 * cols + s);
        const droppedBits = randomBits(cols, 2000 * cols + s, 0.3);
        const got = await snapshot(l, step, deadBits, droppedBits, s % 2 ? folded : kernel);
        const want = historyUpdate({ step, cols, deadBits, droppedBits, history });
        expectBitExact(got.history, history, `history ${cols} snapshot ${s}`);
        expectBitExact(got.revivedBits, want.revivedBits, `revived bits ${cols} snapshot ${s}`);
        expectBitExact(got.counts, want.counts, `counts ${cols} snapshot ${s}`);
      }
    });

    it('tracks dead -> alive -> dead -> alive through real scans, exactly', async () => {
      // Unit 0 dies and revives twice; unit 1 is always alive; unit 2 is dead from the start and stays dead;
      // unit 3 is alive, then dead for good. Scanned from probe pre-activations, 5 rows.
      const rows = 5;
      const cols = 4;
      const pattern = [
        [1, 0, 1, 0], // snapshot at step 10: dead?
        [0, 0, 1, 0], // 20
        [1, 0, 1, 1], // 30
        [0, 0, 1, 1], // 40
      ];
      const steps = [10, 20, 30, 40];
      const l = layer(cols);
      const activeCounts = t.zeros('activeCounts', cols);
      const nonFiniteBits = t.zeros('nonFiniteBits', 1);
      for (let s = 0; s < pattern.length; s++) {
        const z = new Float32Array(rows * cols);
        for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) z[r * cols + c] = pattern[s][c] ? -1 - r : r === 2 ? 0.5 : -0.25;
        writeStepState(t.device, l.stepState, { step: steps[s] });
        run(
          kernel.prepareDeadScan({
            label: 'UnitStats.deadScan',
            z: { buffer: t.f32('z', z), ld: cols },
            rows,
            cols,
            deadBits: l.deadBits,
            nonFiniteBits,
            activeCounts,
          }),
          kernel.prepareClearCounts({ label: 'UnitStats.clearCounts', counts: l.counts, countsOffset: LAYER_COUNTS }),
          kernel.prepareHistoryUpdate({ label: 'UnitStats.historyUpdate', countsOffset: LAYER_COUNTS, ...l }),
        );
      }
      const h = await t.readU32(l.history, cols * UNIT_HISTORY_WORDS);
      const field = (u: number, f: number) => h[u * UNIT_HISTORY_WORDS + f];
      // [first death, deaths, revivals, last change, was dead]
      const summary = (u: number) => [F.firstDeathStep, F.deaths, F.revivals, F.lastChangeStep, F.wasDead].map((f) => field(u, f));
      expect(summary(0)).toEqual([10, 2, 2, 40, 0]);
      expect(summary(1)).toEqual([NEVER, 0, 0, NEVER, 0]);
      expect(summary(2)).toEqual([10, 1, 0, 10, 1]);
      expect(summary(3)).toEqual([30, 1, 0, 30, 1]);
      expectBitExact(await t.readU32(l.revivedBits, 1), [0b0001], 'revived: unit 0 only');
      const counts = await t.readU32(l.counts, 3 * LAYER_COUNTS);
      const c = counts.subarray(LAYER_COUNTS, 2 * LAYER_COUNTS);
      expect(c[LayerCount.dead]).toBe(2); // units 2, 3
      expect(c[LayerCount.revived]).toBe(1); // unit 0
      expect(c[LayerCount.everDead]).toBe(3); // units 0, 2, 3
      expect(c[LayerCount.dropped]).toBe(0);
    });

    it('counts the units dropped for sample 0 from the dropout kernel bitmap', async () => {
      const cols = 1000;
      const l = layer(cols);
      const stepState = stepStateAt(17);
      run(dropout.prepareMaskBits({ label: 'Dropout.mask_bits', p: 0.3, key: KEY, stepState, sample: 0, cols, bits: l.droppedBits }));
      const dropped = await t.readU32(l.droppedBits, bitmapWords(cols));
      const got = await snapshot(l, 18, new Uint32Array(bitmapWords(cols)), dropped);
      let expected = 0;
      for (let c = 0; c < cols; c++) expected += (dropped[c >>> 5] >>> (c & 31)) & 1;
      expect(got.counts[LayerCount.dropped]).toBe(expected);
      // 1000 units at p = 0.3: a count of 0 or 1000 would mean the bitmap is ignored or misread.
      expect(expected).toBeGreaterThan(200);
      expect(expected).toBeLessThan(400);
    });

    it('rejects aliased buffers', () => {
      const l = layer(33);
      expect(() => kernel.prepareHistoryUpdate({ label: 'UnitStats.historyUpdate', countsOffset: 0, ...l, revivedBits: l.deadBits })).toThrow(
        /different buffers/,
      );
      // Counters of 3 layers: a fourth layer's overruns them.
      expect(() => kernel.prepareHistoryUpdate({ label: 'UnitStats.historyUpdate', countsOffset: 3 * LAYER_COUNTS, ...l })).toThrow(
        new RegExp(`counts needs ${4 * LAYER_COUNTS}`),
      );
    });
  });

  describe('consecutive drops (per step)', () => {
    let schedule: ScheduleKernel;

    /** Encodes `steps` steps of drop_run, each followed by end_step (the engine's order), in one pass. */
    async function dropRuns(cols: number, steps: number, p: number, blocks: Array<[number, number]> = [[0, cols]], k = kernel) {
      schedule ??= await ScheduleKernel.create(t.gpu);
      const history = t.zeros('history', cols * UNIT_HISTORY_WORDS);
      const stepState = t.zeros('stepState', STEP_STATE_BYTES / 4); // step 0
      const sched = schedule.prepare('Schedule', stepState, {
        kind: 'constant',
        baseLr: 0.1,
        warmupSteps: 0,
        totalSteps: steps,
        decayEvery: 1,
        gamma: 1,
        minLr: 0,
        beta1: 0.9,
        beta2: 0.999,
      });
      const reset = kernel.prepareResetHistory({ label: 'UnitStats.resetHistory', cols, history });
      const runs = blocks.map(([unitOffset, width]) =>
        k.prepareDropRun({ label: 'UnitStats.dropRun', p, key: KEY, stepState, cols: width, unitOffset, history }),
      );
      const encoder = t.device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      reset.encode(pass);
      for (let s = 0; s < steps; s++) {
        for (const d of runs) d.encode(pass);
        sched.end.encode(pass);
      }
      pass.end();
      t.device.queue.submit([encoder.finish()]);
      for (const d of [reset, ...runs, sched.begin, sched.end]) d.destroy();
      return t.readU32(history, cols * UNIT_HISTORY_WORDS);
    }

    function referenceRuns(cols: number, steps: number, p: number): Uint32Array {
      const history = initialUnitHistory(cols);
      for (let step = 0; step < steps; step++) dropRunUpdate({ p, key: KEY, step, cols, history });
      return history;
    }

    it.each(WIDTHS)('matches the reference over 200 steps bit for bit: %i units', async (cols) => {
      const got = await dropRuns(cols, 200, 0.5);
      expectBitExact(got, referenceRuns(cols, 200, 0.5), `drop runs ${cols}`);
    });

    it('blocks (one starting inside a Philox group) give the whole-layer runs; folded dispatches too', async () => {
      const cols = 1000;
      const want = referenceRuns(cols, 30, 0.6);
      expectBitExact(
        await dropRuns(cols, 30, 0.6, [
          [0, 37],
          [37, 963],
        ]),
        want,
        'blocks at 0 and 37',
      );
      // 8000 units = 2000 groups = 8 workgroups, folded to 3 x 3 (one spare that must do nothing).
      const wide = 8000;
      expectBitExact(await dropRuns(wide, 5, 0.6, [[0, wide]], folded), referenceRuns(wide, 5, 0.6), 'folded 8000 units');
    });

    it('a unit is dropped exactly when the dropout kernel drops it for sample 0', async () => {
      const cols = 130;
      const stepState = stepStateAt(41);
      const history = t.u32('history', initialUnitHistory(cols));
      const bits = t.zeros('bits', bitmapWords(cols));
      run(
        kernel.prepareDropRun({ label: 'UnitStats.dropRun', p: 0.5, key: KEY, stepState, cols, history }),
        dropout.prepareMaskBits({ label: 'Dropout.mask_bits', p: 0.5, key: KEY, stepState, sample: 0, cols, bits }),
      );
      const h = await t.readU32(history, cols * UNIT_HISTORY_WORDS);
      const mask = await t.readU32(bits, bitmapWords(cols));
      for (let c = 0; c < cols; c++) {
        expect(h[c * UNIT_HISTORY_WORDS + F.dropRun], `unit ${c}`).toBe((mask[c >>> 5] >>> (c & 31)) & 1);
      }
    });

    it('follows P(run >= k) = p^k at p = 0.5 (8192 units, within 5 binomial sigma)', async () => {
      // After T >= k steps, run >= k <=> dropped at each of the last k steps: probability p^k, independently
      // per unit (distinct Philox counters). So #{u : run_u >= k} ~ Binomial(8192, 0.5^k). 5 sigma: a false
      // failure has probability ~6e-7 per k; a run counter that resets one step late or never resets is
      // many sigma away (e.g. at k = 2 it would give P >= 0.5 instead of 0.25, ~50 sigma).
      const cols = 8192;
      const p = 0.5;
      const steps = 24;
      const h = await dropRuns(cols, steps, p);
      for (let k = 1; k <= 6; k++) {
        let n = 0;
        for (let u = 0; u < cols; u++) if (h[u * UNIT_HISTORY_WORDS + F.dropRun] >= k) n++;
        const q = p ** k;
        const sigma = Math.sqrt(cols * q * (1 - q));
        expect(Math.abs(n - cols * q), `k = ${k}: ${n} units, expected ${cols * q}`).toBeLessThan(5 * sigma);
      }
      // Longest runs are at least the current ones and reach beyond the mean run length somewhere.
      let longest = 0;
      for (let u = 0; u < cols; u++) {
        expect(h[u * UNIT_HISTORY_WORDS + F.longestDropRun]).toBeGreaterThanOrEqual(h[u * UNIT_HISTORY_WORDS + F.dropRun]);
        longest = Math.max(longest, h[u * UNIT_HISTORY_WORDS + F.longestDropRun]);
      }
      // P(some unit has a run of 10 in 24 steps) = 1 - (1 - ~8e-3)^8192 ~ 1.
      expect(longest).toBeGreaterThanOrEqual(10);
    });
  });

  describe('dropped fraction of the batch', () => {
    async function fraction(rows: number, cols: number, unitOffset: number, step: number, p: number, k = kernel) {
      const stepState = stepStateAt(step);
      const droppedCounts = t.u32('droppedCounts', new Array(unitOffset + cols + 1).fill(SENTINEL));
      run(k.prepareDroppedFraction({ label: 'UnitStats.droppedFraction', p, key: KEY, stepState, rows, cols, unitOffset, droppedCounts }));
      const got = await t.readU32(droppedCounts, unitOffset + cols + 1);
      const outside = [...got.subarray(0, unitOffset), got[unitOffset + cols]];
      expect(
        outside.every((v) => v === SENTINEL),
        'writes outside the block',
      ).toBe(true);
      return got.subarray(unitOffset, unitOffset + cols);
    }

    it.each(WIDTHS)('matches the reference bit for bit: %i units, batch 1 / 7 / 64, offsets 0 and 5', async (cols) => {
      for (const rows of PROBE_ROWS) {
        for (const unitOffset of [0, 5]) {
          const got = await fraction(rows, cols, unitOffset, 3, 0.4);
          expectBitExact(got, droppedFraction({ p: 0.4, key: KEY, step: 3, rows, cols, unitOffset }), `dropped counts ${rows}x${cols}+${unitOffset}`);
        }
      }
    });

    it('equals the sum of the dropout kernel bitmaps over the batch rows', async () => {
      const rows = 9;
      const cols = 70;
      const stepState = stepStateAt(8);
      const bits = Array.from({ length: rows }, () => t.zeros('bits', bitmapWords(cols)));
      run(...bits.map((b, sample) => dropout.prepareMaskBits({ label: 'Dropout.mask_bits', p: 0.5, key: KEY, stepState, sample, cols, bits: b })));
      const sum = new Uint32Array(cols);
      for (const b of bits) {
        const words = await t.readU32(b, bitmapWords(cols));
        for (let c = 0; c < cols; c++) sum[c] += (words[c >>> 5] >>> (c & 31)) & 1;
      }
      expectBitExact(await fraction(rows, cols, 0, 8, 0.5), sum, 'dropped counts vs dropout bitmaps');
    });

    it('folds large dispatches over two dimensions', async () => {
      // Units 2 .. 1001 = 251 groups = 8 workgroups of 32 groups, folded to 3 x 3 (one spare).
      const got = await fraction(7, 1000, 2, 5, 0.25, folded);
      expectBitExact(got, droppedFraction({ p: 0.25, key: KEY, step: 5, rows: 7, cols: 1000, unitOffset: 2 }), 'folded dropped counts');
    });

    it('rejects p outside [0, 1) with a RangeError naming p', () => {
      const stepState = t.zeros('stepState', STEP_STATE_WORDS);
      const buffer = t.zeros('x', 8);
      expect(() => kernel.prepareDroppedFraction({ label: 'f', p: 1, key: KEY, stepState, rows: 1, cols: 1, droppedCounts: buffer })).toThrow(/p = 1/);
      expect(() => kernel.prepareDropRun({ label: 'r', p: -0.5, key: KEY, stepState, cols: 1, history: buffer })).toThrow(/p = -0.5/);
    });
  });
});
