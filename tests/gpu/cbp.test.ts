import { describe, expect, it } from 'vitest';
import { CbpKernel } from '../../src/gpu/kernels/cbp';
import { CbpUnits, cbpActivity, cbpIncomingColumn, cbpOutgoing, cbpSelect, cbpUtility } from '../../src/reference/cbp';
import { CBP_CHOSEN, CBP_SELECTION_HEADER, CBP_UNIT_WORDS, cbpInitialUnits, cbpMaxReplace, cbpRateFixed } from '../../src/spec/cbp';
import { rngKey } from '../../src/spec/rng-streams';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import type { InitScheme } from '../../src/spec/init-schemes';
import { expectBitExact, expectClose, randomArray, runDispatches, useGpu, writeStepState } from './harness';

const f32Bits = (x: number) => new Uint32Array(new Float32Array([x]).buffer)[0];

/** Unit words with the given ages and scores (other words from a fixed pattern). */
function unitWords(ages: number[], scores: number[]): CbpUnits {
  const units = new CbpUnits(cbpInitialUnits(ages.length));
  ages.forEach((age, u) => {
    units.set(u, 'age', age);
    units.set(u, 'score', f32Bits(scores[u]));
    units.set(u, 'utility', scores[u] / 2);
    units.set(u, 'power', 0.5);
  });
  return units;
}

describe('continual backprop on the GPU', () => {
  const t = useGpu();

  it('activity: mean |a| per unit over the batch, column blocks of a sharded layer, bit for bit', async () => {
    const kernel = await CbpKernel.create(t.gpu, { maxWorkgroupsPerDimension: 2 });
    const units = 45;
    const rows = 3;
    // Two column blocks as the trainer shards a 45-unit layer into 32 + 13.
    const blocks = [
      { offset: 0, width: 32 },
      { offset: 32, width: 13 },
    ];
    const state = t.u32('units', cbpInitialUnits(units));
    const want = new CbpUnits(cbpInitialUnits(units));
    for (const [j, b] of blocks.entries()) {
      const acts = randomArray(rows * b.width, 10 + j, 3);
      const d = kernel.prepareActivity({
        label: 'activity',
        units,
        unitState: state,
        acts: { buffer: t.f32('acts', acts), ld: b.width },
        rows,
        cols: b.width,
        unitOffset: b.offset,
      });
      runDispatches(t.device, 'activity', [d]);
      cbpActivity(want, acts, rows, b.width, b.width, b.offset);
      d.destroy();
    }
    expectBitExact(await t.readU32(state, units * CBP_UNIT_WORDS), want.words, 'unit words');
  });

  it('outgoing: Σ |w| over a unit row of W_{l+1}, row and column blocks, bit for bit', async () => {
    const kernel = await CbpKernel.create(t.gpu);
    const units = 40;
    const state = t.u32('units', cbpInitialUnits(units));
    const want = new CbpUnits(cbpInitialUnits(units));
    // W_{l+1}: rows = this layer's blocks (32 + 8), columns = the next layer's blocks (32 + 5).
    for (const rowBlock of [
      { offset: 0, width: 32 },
      { offset: 32, width: 8 },
    ]) {
      for (const [k, colWidth] of [32, 5].entries()) {
        const w = randomArray(rowBlock.width * colWidth, 100 + rowBlock.offset + k);
        const d = kernel.prepareOutgoing({
          label: 'outgoing',
          units,
          unitState: state,
          weights: { buffer: t.f32('w', w), ld: colWidth },
          rows: rowBlock.width,
          cols: colWidth,
          unitOffset: rowBlock.offset,
          accumulate: k > 0,
        });
        runDispatches(t.device, 'outgoing', [d]);
        cbpOutgoing(want, w, rowBlock.width, colWidth, colWidth, rowBlock.offset, k > 0);
        d.destroy();
      }
    }
    expectBitExact(await t.readU32(state, units * CBP_UNIT_WORDS), want.words, 'unit words');
  });

  it('utility: ages and decay powers exact, utilities and scores within an ulp or two', async () => {
    const kernel = await CbpKernel.create(t.gpu);
    const units = 300;
    const start = new CbpUnits(cbpInitialUnits(units));
    const act = randomArray(units, 5, 2);
    const out = randomArray(units, 6, 4);
    for (let u = 0; u < units; u++) {
      start.set(u, 'activity', Math.abs(act[u]));
      start.set(u, 'outgoing', Math.abs(out[u]));
      start.set(u, 'age', u % 7);
      start.set(u, 'utility', Math.abs(act[(u * 13) % units]));
      start.set(u, 'power', Math.fround(0.99 ** (u % 7)));
    }
    const state = t.u32('units', start.words);
    const d = kernel.prepareUtility({ label: 'utility', units, unitState: state, decay: 0.99 });
    const want = new CbpUnits(start.words.slice());
    for (let step = 0; step < 3; step++) {
      runDispatches(t.device, 'utility', [d]);
      cbpUtility(want, 0.99);
    }
    const got = new CbpUnits(await t.readU32(state, units * CBP_UNIT_WORDS));
    const column = (u: CbpUnits, word: 'utility' | 'power' | 'age' | 'score') =>
      Array.from({ length: units }, (_, i) => (word === 'score' ? new Float32Array(new Uint32Array([u.at(i, word)]).buffer)[0] : u.at(i, word)));
    expectBitExact(column(got, 'age'), column(want, 'age'), 'ages');
    expectBitExact(column(got, 'power'), column(want, 'power'), 'powers (one multiply per step: exact)');
    // NOTE: decay·u + (1 - decay)·x may be contracted into an FMA on the GPU (1/2 ulp per step, 3 steps), and
    // the score's division is within 2.5 ulp in WGSL: 1e-6 relative bounds both with margin.
    expectClose(column(got, 'utility'), column(want, 'utility'), { atol: 0, rtol: 1e-6, label: 'utilities' });
    expectClose(column(got, 'score'), column(want, 'score'), { atol: 0, rtol: 1e-6, label: 'scores' });
    d.destroy();
  });

  it.each([
    { units: 37, rate: 0.013, maturity: 3, steps: 12 },
    { units: 300, rate: 0.01, maturity: 0, steps: 4 },
    { units: 5, rate: 0.1, maturity: 10, steps: 30 },
  ])(
    'select: the same units as the reference, step after step, ties by index ($units units, rate $rate, maturity $maturity)',
    async ({ units, rate, maturity, steps }) => {
      const kernel = await CbpKernel.create(t.gpu);
      const maxReplace = cbpMaxReplace(rate, units);
      // Scores with many exact ties (a third of the units at 0, as dead units are) and ages around maturity.
      const ages = Array.from({ length: units }, (_, u) => (u * 5) % (maturity + 4));
      const scores = Array.from({ length: units }, (_, u) => (u % 3 === 0 ? 0 : ((u * 7919) % 101) / 64));
      const ref = unitWords(ages, scores);
      const state = t.u32('units', ref.words);
      const selection = t.zeros('selection', CBP_SELECTION_HEADER + maxReplace);
      const d = kernel.prepareSelect({ label: 'select', units, unitState: state, maturity, rate, maxReplace, selection });
      const acc = { whole: 0, fraction: 0 };
      let total = 0;
      for (let step = 0; step < steps; step++) {
        runDispatches(t.device, 'select', [d]);
        const want = cbpSelect(ref, acc, maturity, cbpRateFixed(rate), maxReplace);
        const words = await t.readU32(selection, CBP_SELECTION_HEADER + maxReplace);
        expect(words[0], `count at step ${step}`).toBe(want.chosen.length);
        expectBitExact(Array.from(words.subarray(CBP_SELECTION_HEADER, CBP_SELECTION_HEADER + want.chosen.length)), want.chosen, `chosen at step ${step}`);
        expectBitExact([words[1], words[2], words[3]], [acc.whole, acc.fraction, want.eligible], `accumulator at step ${step}`);
        expectBitExact(await t.readU32(state, units * CBP_UNIT_WORDS), ref.words, `unit words at step ${step}`);
        total += want.chosen.length;
        // The next step sees the chosen units' fresh scores (as utility would compute them) and older units.
        for (const u of want.chosen) ref.set(u, 'score', 0);
        for (let u = 0; u < units; u++) ref.set(u, 'age', ref.at(u, 'age') + 1);
        t.device.queue.writeBuffer(state, 0, new Uint32Array(ref.words));
      }
      // Fractional accumulation: about rate × mature units per step in all, never more than the accumulator allows.
      expect(total).toBeGreaterThan(0);
      d.destroy();
    },
  );

  const schemes: InitScheme[] = [{ kind: 'he_uniform' }, { kind: 'he_normal' }];
  it.each(schemes)(
    'reset: exactly the chosen units get fresh incoming weights ($kind), their bias, zero outgoing weights and optimizer state',
    async (scheme) => {
      const kernel = await CbpKernel.create(t.gpu, { maxWorkgroupsPerDimension: 3 });
      const fanIn = 7;
      const units = 45; // column blocks 32 + 13
      const fanOut = 3;
      const blocks = [
        { offset: 0, width: 32 },
        { offset: 32, width: 13 },
      ];
      const chosen = [40, 3, 31];
      const maxReplace = 4;
      const selection = t.u32('selection', [chosen.length, 0, 0, 0, ...chosen, 0]);
      const stepState = t.zeros('stepState', STEP_STATE_WORDS);
      writeStepState(t.device, stepState, { step: 777 });
      const key = rngKey(11, 'cbpInit', 1);
      const unitState = t.u32('units', cbpInitialUnits(units));
      for (const [j, b] of blocks.entries()) {
        // Incoming: the [fanIn, width] block of W_l, as two row blocks (rows 0-4 and 5-6) to cover row offsets.
        for (const rows of [
          { offset: 0, count: 5 },
          { offset: 5, count: 2 },
        ]) {
          const w = randomArray(rows.count * b.width, j * 10 + rows.offset + 1);
          const s1 = randomArray(rows.count * b.width, 50 + j);
          const buffers = { w: t.f32('w', w), s1: t.f32('s1', s1) };
          const d = kernel.prepareReset({
            label: 'incoming',
            mode: 'incoming',
            units,
            unitState,
            stepState,
            selection,
            maxReplace,
            block: { buffer: buffers.w, ld: b.width },
            rows: rows.count,
            cols: b.width,
            states: [buffers.s1],
            unitOffset: b.offset,
            rowOffset: rows.offset,
            scheme,
            fanIn,
            fanOut: units,
            key,
          });
          runDispatches(t.device, 'incoming', [d]);
          const gotW = await t.readF32(buffers.w, rows.count * b.width);
          const gotS = await t.readF32(buffers.s1, rows.count * b.width);
          const wantW = w.slice();
          const wantS = s1.slice();
          for (const u of chosen.filter((u) => u >= b.offset && u < b.offset + b.width)) {
            const column = cbpIncomingColumn(scheme, key, fanIn, units, u, 777);
            for (let r = 0; r < rows.count; r++) {
              wantW[r * b.width + u - b.offset] = column[rows.offset + r];
              wantS[r * b.width + u - b.offset] = 0;
            }
          }
          // NOTE: uniform draws are exact; normal draws go through the GPU's log/cos (tests/gpu/init.test.ts): 1e-4·std.
          expectClose(gotW, wantW, { atol: scheme.kind === 'he_normal' ? 1e-4 * Math.sqrt(2 / fanIn) : 0, cols: b.width, label: `incoming block ${j}` });
          // Every other weight untouched, bit for bit.
          for (let i = 0; i < gotW.length; i++) if (!chosen.includes(b.offset + (i % b.width))) expect(gotW[i]).toBe(w[i]);
          expectBitExact(gotS, wantS, `incoming state block ${j}`);
          d.destroy();
        }
        // Bias block j: the chosen units get the init value 0.1; Adam-like two states.
        const bias = randomArray(b.width, 70 + j);
        const bs = [t.f32('bs1', randomArray(b.width, 80)), t.f32('bs2', randomArray(b.width, 81))];
        const biasBuffer = t.f32('bias', bias);
        const db = kernel.prepareReset({
          label: 'bias',
          mode: 'bias',
          units,
          unitState,
          stepState,
          selection,
          maxReplace,
          block: { buffer: biasBuffer, ld: b.width },
          rows: 1,
          cols: b.width,
          states: bs,
          unitOffset: b.offset,
          value: 0.1,
        });
        runDispatches(t.device, 'bias', [db]);
        const wantBias = bias.map((v, c) => (chosen.includes(b.offset + c) ? Math.fround(0.1) : v));
        expectBitExact(await t.readF32(biasBuffer, b.width), wantBias, `bias block ${j}`);
        for (const s of bs) for (const [c, v] of (await t.readF32(s, b.width)).entries()) if (chosen.includes(b.offset + c)) expect(v).toBe(0);
        db.destroy();
        // Outgoing: the [width, fanOut] row block j of W_{l+1}, no optimizer state (SGD).
        const wOut = randomArray(b.width * fanOut, 90 + j);
        const outBuffer = t.f32('wOut', wOut);
        const dOut = kernel.prepareReset({
          label: 'outgoing',
          mode: 'outgoing',
          units,
          unitState,
          stepState,
          selection,
          maxReplace,
          block: { buffer: outBuffer, ld: fanOut },
          rows: b.width,
          cols: fanOut,
          states: [],
          unitOffset: b.offset,
        });
        runDispatches(t.device, 'outgoing', [dOut]);
        const wantOut = wOut.map((v, i) => (chosen.includes(b.offset + Math.floor(i / fanOut)) ? 0 : v));
        expectBitExact(await t.readF32(outBuffer, b.width * fanOut), wantOut, `outgoing block ${j}`);
        dOut.destroy();
      }
    },
  );

  it('a whole CBP pass picks the units the reference picks from the same state', async () => {
    // activity -> outgoing -> utility -> select over several steps on one small layer; at each step the CPU
    // selection, run on the unit words the GPU computed before selecting, must choose the same units.
    const kernel = await CbpKernel.create(t.gpu);
    const units = 50;
    const rows = 4;
    const fanOut = 3;
    const rate = 0.02;
    const maturity = 2;
    const maxReplace = cbpMaxReplace(rate, units);
    const unitState = t.u32('units', cbpInitialUnits(units));
    const selection = t.zeros('selection', CBP_SELECTION_HEADER + maxReplace);
    const actsBuffer = t.zeros('acts', rows * units);
    const wBuffer = t.zeros('w', units * fanOut);
    const dispatches = [
      kernel.prepareActivity({ label: 'activity', units, unitState, acts: { buffer: actsBuffer, ld: units }, rows, cols: units, unitOffset: 0 }),
      kernel.prepareOutgoing({
        label: 'outgoing',
        units,
        unitState,
        weights: { buffer: wBuffer, ld: fanOut },
        rows: units,
        cols: fanOut,
        unitOffset: 0,
        accumulate: false,
      }),
      kernel.prepareUtility({ label: 'utility', units, unitState, decay: 0.9 }),
    ];
    const select = kernel.prepareSelect({ label: 'select', units, unitState, maturity, rate, maxReplace, selection });
    const acc = { whole: 0, fraction: 0 };
    let replaced = 0;
    for (let step = 0; step < 10; step++) {
      // Units 0-9 are dead (zero activation): the lowest utility, chosen first once mature.
      const acts = randomArray(rows * units, step + 1).map((v, i) => (i % units < 10 ? 0 : Math.max(0, v)));
      t.device.queue.writeBuffer(actsBuffer, 0, new Float32Array(acts));
      t.device.queue.writeBuffer(wBuffer, 0, new Float32Array(randomArray(units * fanOut, 100 + step)));
      runDispatches(t.device, 'cbp', dispatches);
      const before = new CbpUnits(await t.readU32(unitState, units * CBP_UNIT_WORDS));
      runDispatches(t.device, 'select', [select]);
      const want = cbpSelect(before, acc, maturity, cbpRateFixed(rate), maxReplace);
      const words = await t.readU32(selection, CBP_SELECTION_HEADER + maxReplace);
      expectBitExact(Array.from(words.subarray(CBP_SELECTION_HEADER, CBP_SELECTION_HEADER + words[0])), want.chosen, `chosen at step ${step}`);
      for (const u of want.chosen) expect(u, 'a dead unit').toBeLessThan(10);
      replaced += want.chosen.length;
      // The chosen units' scores are marked CHOSEN until utility recomputes them next step.
      const after = new CbpUnits(await t.readU32(unitState, units * CBP_UNIT_WORDS));
      for (const u of want.chosen) expect(after.at(u, 'score')).toBe(CBP_CHOSEN);
    }
    expect(replaced).toBeGreaterThan(0);
    for (const d of [...dispatches, select]) d.destroy();
  });
});
