// End-to-end tests of the dead-unit observatory (src/engine/observatory.ts) on the real adapter: the
// snapshots a Trainer streams back are checked bit for bit against the CPU reference of the same
// definitions (src/reference/unitstats.ts), evaluated on the GPU's own parameters at each snapshot.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/engine/model-spec';
import { Observatory, type Snapshot } from '../../src/engine/observatory';
import { Trainer, type LayerParameters, type TrainingData } from '../../src/engine/trainer';
import { activationForward } from '../../src/reference/activation';
import { dropoutMaskBits } from '../../src/reference/dropout';
import { matmulReference } from '../../src/reference/matmul';
import { rngKey } from '../../src/spec/rng-streams';
import { LayerCount } from '../../src/spec/layer-counts';
import { NEVER, UNIT_HISTORY_WORDS, UnitHistoryField as F, initialUnitHistory } from '../../src/spec/unit-history';
import { bitmapWords } from '../../src/spec/bitmaps';
import { deadScan, dropRunUpdate, droppedFraction, historyUpdate } from '../../src/reference/unitstats';
import { frozenPack } from '../../src/reference/frozen';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, useGpu } from './harness';

/**
 * NOTE: the CPU probe pass sums in a different fp32 order than the GPU's tiled matmul (and GELU differs by
 * ulps), so pre-activations agree to ~1e-6 here, not bit for bit. "Dead" is a sign test on the max over
 * probe rows; the comparison is exact only if no unit's max lies within this margin of 0. The tests assert
 * that (with the unit named) instead of letting a near-tie flake.
 */
const SIGN_MARGIN = 1e-5;

function popcount(words: Uint32Array, units: number): number {
  let n = 0;
  for (let u = 0; u < units; u++) n += (words[u >>> 5] >>> (u & 31)) & 1;
  return n;
}

function bitSet(words: Uint32Array, u: number): boolean {
  return ((words[u >>> 5] >>> (u & 31)) & 1) === 1;
}

function countsArray(c: Snapshot['layers'][number]['counts']): number[] {
  const out: number[] = [];
  out[LayerCount.dead] = c.dead;
  out[LayerCount.revived] = c.revived;
  out[LayerCount.everDead] = c.everDead;
  out[LayerCount.dropped] = c.dropped;
  out[LayerCount.frozen] = c.frozen;
  out[LayerCount.nonFinite] = c.nonFinite;
  return out;
}

interface ReferenceLayer {
  dead: Uint32Array;
  /** The probe's non-finite units (the training ones come from the GPU's own record, see frozenPack). */
  nonFinite: Uint32Array;
  dropped: Uint32Array;
  revived: Uint32Array;
  counts: Uint32Array;
  /** Probe rows with z > SIGN_MARGIN, and rows with |z| <= SIGN_MARGIN (either sign on the GPU). */
  surelyActive: Uint32Array;
  ambiguous: Uint32Array;
}

/** The observatory on the CPU: probe pass, dead scan, history and drop runs, from given parameters. */
class ReferenceObservatory {
  readonly history: Uint32Array[];
  private stepsSeen = 0;

  constructor(
    private readonly spec: ModelSpec,
    private readonly probe: Float32Array,
    private readonly rows: number,
  ) {
    this.history = spec.hidden.map((h) => initialUnitHistory(h.width));
  }

  /** Drop runs of every step up to (not including) `step`. */
  private advanceTo(step: number): void {
    for (; this.stepsSeen < step; this.stepsSeen++) {
      this.spec.hidden.forEach((h, i) => {
        if (h.dropout > 0) {
          dropRunUpdate({ p: h.dropout, key: rngKey(this.spec.seed, 'dropout', i + 1), step: this.stepsSeen, cols: h.width, history: this.history[i] });
        }
      });
    }
  }

  /** The snapshot taken after `step` completed steps, with the parameters the GPU held then. */
  snapshot(step: number, params: LayerParameters[]): ReferenceLayer[] {
    const { spec, rows } = this;
    this.advanceTo(step);
    let input = this.probe;
    let inputWidth = spec.inputSize;
    return spec.hidden.map((h, i) => {
      const l = i + 1;
      const z = new Float32Array(rows * h.width);
      matmulReference({
        variant: 'nn',
        m: rows,
        n: h.width,
        k: inputWidth,
        a: input,
        lda: inputWidth,
        b: params[i].weights,
        ldb: h.width,
        c: z,
        ldc: h.width,
        bias: params[i].bias,
      });
      const surelyActive = new Uint32Array(h.width);
      const ambiguous = new Uint32Array(h.width);
      for (let u = 0; u < h.width; u++) {
        let max = -Infinity;
        for (let r = 0; r < rows; r++) {
          const v = z[r * h.width + u];
          max = Math.max(max, v);
          if (v > SIGN_MARGIN) surelyActive[u]++;
          else if (Math.abs(v) <= SIGN_MARGIN) ambiguous[u]++;
        }
        if (Math.abs(max) <= SIGN_MARGIN) {
          throw new Error(
            `test set-up: at step ${step}, layer ${l} unit ${u} has max probe pre-activation ${max}, within ${SIGN_MARGIN} of 0: ` +
              'CPU and GPU rounding could disagree on dead/alive; change the seed, data or init',
          );
        }
      }
      const { deadBits, nonFiniteBits } = deadScan(z, rows, h.width);
      const dropped =
        h.dropout > 0 && step > 0
          ? dropoutMaskBits({ p: h.dropout, key: rngKey(spec.seed, 'dropout', l), step: step - 1, sample: 0, cols: h.width })
          : new Uint32Array(bitmapWords(h.width));
      const { revivedBits, counts } = historyUpdate({ step, cols: h.width, deadBits, droppedBits: dropped, history: this.history[i] });
      input = activationForward(h.activation, z);
      inputWidth = h.width;
      return { dead: deadBits, nonFinite: nonFiniteBits, dropped, revived: revivedBits, counts, surelyActive, ambiguous };
    });
  }
}

function expectSnapshotsEqual(a: Snapshot, b: Snapshot, label: string): void {
  expect(a.step, `${label}: step`).toBe(b.step);
  a.layers.forEach((layer, i) => {
    const other = b.layers[i];
    expectBitExact(layer.dead, other.dead, `${label} layer ${i + 1} dead`);
    expectBitExact(layer.dropped, other.dropped, `${label} layer ${i + 1} dropped`);
    expectBitExact(layer.revived, other.revived, `${label} layer ${i + 1} revived`);
    expectBitExact(layer.frozen, other.frozen, `${label} layer ${i + 1} frozen`);
    expectBitExact(layer.nonFinite, other.nonFinite, `${label} layer ${i + 1} non-finite`);
    expect(layer.counts, `${label} layer ${i + 1} counts`).toEqual(other.counts);
  });
  expectBitExact(
    new Uint32Array(a.losses.buffer, a.losses.byteOffset, a.losses.length),
    new Uint32Array(b.losses.buffer, b.losses.byteOffset, b.losses.length),
    `${label} losses`,
  );
}

async function nextSnapshot(observatory: Observatory): Promise<Snapshot> {
  const snapshot = await observatory.next();
  if (!snapshot) throw new Error('observatory ended before the expected snapshot');
  return snapshot;
}

/** Every snapshot still coming, after close(). */
async function drain(observatory: Observatory): Promise<Snapshot[]> {
  observatory.close();
  const out: Snapshot[] = [];
  for await (const s of observatory.snapshots()) out.push(s);
  return out;
}

const SGD_LR0: Pick<ModelSpec, 'optimizer' | 'schedule'> = {
  optimizer: { kind: 'sgd', weightDecay: 0 },
  // baseLr exactly 0 and no warmup: every step's lr is 0, so p - lr * g = p bit for bit.
  schedule: { kind: 'constant', baseLr: 0, warmupSteps: 0, totalSteps: 1, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 },
};

function sgdSchedule(lr: number): ModelSpec['schedule'] {
  return { kind: 'constant', baseLr: lr, warmupSteps: 0, totalSteps: 1, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 };
}

describe('Observatory on the GPU', () => {
  const t = useGpu();
  const data = smallClassification(200, 5, 3);

  it('matches the CPU reference bit for bit at every snapshot (sharded layer, dropout, 3 activations)', async () => {
    const PROBE = 24;
    const EVERY = 5;
    const STEPS = 40;
    const base = smallSpec();
    // Layer 1: 70 units in shards of 32, 32, 6 with a negative bias so that some units are born dead;
    // Adam at a high rate moves units across the boundary, so deaths (and, in layer 2, revivals) occur.
    const spec = smallSpec({
      shardColumns: 32,
      probeRows: PROBE,
      hidden: [
        { ...base.hidden[0], width: 70, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: -0.8 } } },
        { ...base.hidden[1], width: 40 },
        base.hidden[2],
      ],
      schedule: { ...base.schedule, baseLr: 0.1, warmupSteps: 0, minLr: 0.05 },
    });
    const probe = data.inputs.slice(0, PROBE * spec.inputSize);

    const trainer = await Trainer.create(t.gpu, spec, data);
    expect(trainer.layout.activations[1].blocks.map((b) => b.width)).toEqual([32, 32, 6]);
    expect(trainer.layout.activations[2].blocks.map((b) => b.width)).toEqual([32, 8]);
    // W = 3 steps: short enough that units freeze within the run.
    const FROZEN_WINDOW = 3;
    const observatory = await Observatory.create(trainer, { every: EVERY, probeInputs: probe, probeRows: PROBE, frozenWindow: FROZEN_WINDOW });
    const reference = new ReferenceObservatory(spec, probe, PROBE);

    const chunked: Snapshot[] = [];
    const transitions = { dead: 0, revived: 0, frozen: 0 };
    for (let step = 0; step <= STEPS; step += EVERY) {
      if (step > 0) await trainer.train(EVERY);
      const params = await trainer.readParameters();
      const snapshot = await nextSnapshot(observatory);
      chunked.push(snapshot);
      expect(snapshot.step).toBe(step);
      expect(snapshot.skipped).toBe(0);
      // The interval's losses are the trainer's own loss history, bit for bit.
      const losses = step === 0 ? new Float32Array(0) : await trainer.readLosses(step - EVERY, EVERY);
      expectBitExact(new Uint32Array(snapshot.losses.slice().buffer), new Uint32Array(losses.buffer), `step ${step} losses`);

      const expected = reference.snapshot(step, params);
      for (const [i, layer] of snapshot.layers.entries()) {
        const ref = expected[i];
        const label = `step ${step} layer ${i + 1}`;
        expect(layer.width).toBe(spec.hidden[i].width);
        expectBitExact(layer.dead, ref.dead, `${label} dead`);
        expectBitExact(layer.dropped, ref.dropped, `${label} dropped`);
        expectBitExact(layer.revived, ref.revived, `${label} revived`);
        // Frozen and non-finite: the snapshot pack of the GPU's own training record (its per-step scans are
        // checked against the reference in tests/gpu/frozen.test.ts; the CPU has no training pre-activations here).
        const record = await observatory.readTrainRecord(i + 1);
        const packed = frozenPack({ step, cols: layer.width, window: FROZEN_WINDOW, record, probeNonFiniteBits: ref.nonFinite, deadBits: ref.dead.slice() });
        expectBitExact(layer.frozen, packed.frozenBits, `${label} frozen`);
        expectBitExact(layer.nonFinite, packed.nonFiniteBits, `${label} non-finite`);
        const refCounts = Array.from(ref.counts);
        refCounts[LayerCount.frozen] = packed.frozen;
        refCounts[LayerCount.nonFinite] = packed.nonFinite;
        expect(countsArray(layer.counts), `${label} counts`).toEqual(refCounts);
        expect(layer.counts.frozen).toBe(popcount(layer.frozen, layer.width));
        transitions.frozen += layer.counts.frozen;
        // Counts agree with the bitmaps they summarise.
        expect(layer.counts.dead).toBe(popcount(layer.dead, layer.width));
        expect(layer.counts.dropped).toBe(popcount(layer.dropped, layer.width));
        expect(layer.counts.revived).toBe(popcount(layer.revived, layer.width));
        expectBitExact(await observatory.readUnitHistory(i + 1), reference.history[i], `${label} history`);
        // Probe rows with z > 0 per unit: exact where no row is within the rounding margin of 0.
        const active = await observatory.readActiveCounts(i + 1);
        for (let u = 0; u < layer.width; u++) {
          if (active[u] < ref.surelyActive[u] || active[u] > ref.surelyActive[u] + ref.ambiguous[u]) {
            throw new Error(`${label} unit ${u}: ${active[u]} active probe rows, CPU says ${ref.surelyActive[u]} (+${ref.ambiguous[u]} within rounding of 0)`);
          }
        }
        // Per-unit fraction of the batch masked at the snapshot's last step, from the same Philox masks.
        const fraction = await observatory.readDroppedFraction(i + 1);
        const hidden = spec.hidden[i];
        const droppedRows =
          step === 0 || hidden.dropout === 0
            ? new Uint32Array(layer.width)
            : droppedFraction({ p: hidden.dropout, key: rngKey(spec.seed, 'dropout', i + 1), step: step - 1, rows: spec.batch, cols: layer.width });
        expectBitExact(
          fraction,
          Float32Array.from(droppedRows, (c) => c / spec.batch),
          `${label} dropped fraction`,
        );
        transitions.dead += layer.counts.dead;
        transitions.revived += layer.counts.revived;
      }
    }
    // Guard against a vacuous comparison: dead units and revivals did occur, and dropout masks were seen.
    expect(transitions.dead, 'some unit was dead at some snapshot').toBeGreaterThan(0);
    expect(transitions.revived, 'some unit revived').toBeGreaterThan(0);
    expect(transitions.frozen, 'some unit was frozen at some snapshot').toBeGreaterThan(0);
    expect(chunked[1].layers[0].counts.dropped).toBeGreaterThan(0);

    // The same run in one call, snapshots falling inside command buffers (stepsPerSubmit 16, every 5):
    // identical snapshots, and the same final history.
    const whole = await Trainer.create(t.gpu, { ...spec, stepsPerSubmit: 16 }, data);
    const wholeObservatory = await Observatory.create(whole, {
      every: EVERY,
      probeInputs: probe,
      probeRows: PROBE,
      ringSize: STEPS / EVERY + 1,
      frozenWindow: FROZEN_WINDOW,
    });
    await whole.train(STEPS);
    const snapshots = await drain(wholeObservatory);
    expect(snapshots.map((s) => s.step)).toEqual(chunked.map((s) => s.step));
    snapshots.forEach((s, i) => expectSnapshotsEqual(s, chunked[i], `one-call step ${s.step}`));
    for (let l = 1; l <= spec.hidden.length; l++) {
      expectBitExact(await wholeObservatory.readUnitHistory(l), await observatory.readUnitHistory(l), `one-call history ${l}`);
      expectBitExact(await wholeObservatory.readTrainRecord(l), await observatory.readTrainRecord(l), `one-call training record ${l}`);
    }
    wholeObservatory.destroy();
    whole.destroy();

    // The probe set walked in slices of 5 rows (24 = 5+5+5+5+4): the same snapshots and histories.
    const sliced = await Trainer.create(t.gpu, { ...spec, stepsPerSubmit: 16, probeChunkRows: 5 }, data);
    const slicedObservatory = await Observatory.create(sliced, {
      every: EVERY,
      probeInputs: probe,
      probeRows: PROBE,
      ringSize: STEPS / EVERY + 1,
      frozenWindow: FROZEN_WINDOW,
    });
    await sliced.train(STEPS);
    const slicedSnapshots = await drain(slicedObservatory);
    expect(slicedSnapshots.map((s) => s.step)).toEqual(chunked.map((s) => s.step));
    slicedSnapshots.forEach((s, i) => expectSnapshotsEqual(s, chunked[i], `probe in slices of 5 rows, step ${s.step}`));
    for (let l = 1; l <= spec.hidden.length; l++) {
      expectBitExact(await slicedObservatory.readUnitHistory(l), await observatory.readUnitHistory(l), `probe in slices, history ${l}`);
      expectBitExact(await slicedObservatory.readActiveCounts(l), await observatory.readActiveCounts(l), `probe in slices, active counts ${l}`);
    }
    slicedObservatory.destroy();
    sliced.destroy();
    observatory.destroy();
    trainer.destroy();
  });

  it('with lr 0 and dropout 0.5 over 1,000 steps: nothing dies, drops are Binomial(p), drop runs geometric', async () => {
    const WIDTH = 2048;
    const P = 0.5;
    const STEPS = 1000;
    const EVERY = 20;
    const SNAPSHOTS = STEPS / EVERY + 1;
    const PROBE = 4;
    const spec: ModelSpec = {
      inputSize: 2,
      outputSize: 2,
      loss: 'softmax_ce',
      batch: 2,
      inputDropout: 0,
      hidden: [
        { width: WIDTH, activation: { kind: 'relu' }, dropout: P, init: { weights: { kind: 'normal', std: 0.1 }, bias: { kind: 'constant', value: 0.5 } } },
      ],
      outputInit: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: 0 } },
      ...SGD_LR0,
      seed: 77,
      stepsPerSubmit: 50,
      probeRows: PROBE,
    };
    const lrData = smallClassification(64, 2, 2, 9);
    const trainer = await Trainer.create(t.gpu, spec, lrData);
    const initial = await trainer.readParameters();
    const observatory = await Observatory.create(trainer, {
      every: EVERY,
      probeInputs: lrData.inputs.slice(0, PROBE * 2),
      probeRows: PROBE,
      ringSize: SNAPSHOTS,
    });
    await trainer.train(STEPS);
    const snapshots = await drain(observatory);
    expect(observatory.skipped).toBe(0);
    expect(snapshots.map((s) => s.step)).toEqual(Array.from({ length: SNAPSHOTS }, (_, i) => i * EVERY));
    // lr is exactly 0: the parameters never moved, so the probe pass sees the same network throughout.
    const final = await trainer.readParameters();
    final.forEach((p, l) => {
      expectBitExact(new Uint32Array(p.weights.buffer), new Uint32Array(initial[l].weights.buffer), `W${l + 1} unchanged`);
      expectBitExact(new Uint32Array(p.bias.buffer), new Uint32Array(initial[l].bias.buffer), `b${l + 1} unchanged`);
    });

    // Never dead: not at step 0 (positive bias), not later (dropout must not leak into the probe pass).
    for (const s of snapshots) {
      const c = s.layers[0].counts;
      expect({ step: s.step, dead: c.dead, revived: c.revived, everDead: c.everDead }).toEqual({ step: s.step, dead: 0, revived: 0, everDead: 0 });
      expect(popcount(s.layers[0].dead, WIDTH) + popcount(s.layers[0].revived, WIDTH)).toBe(0);
    }
    expect(snapshots[0].layers[0].counts.dropped, 'step 0: no step, no mask').toBe(0);

    // Dropped count per snapshot (sample 0 at one step): Binomial(2048, 0.5), sd = sqrt(2048 / 4) = 22.6.
    // Bound: |count - 1024| <= 5.5 sd = 125. Two-sided normal tail at 5.5 sd is 3.8e-8 per snapshot, so
    // under 2e-6 for all 50 together: a failure means the masks are not Bernoulli(p).
    const sd = Math.sqrt(WIDTH * P * (1 - P));
    const drops = snapshots.slice(1).map((s) => s.layers[0].counts.dropped);
    snapshots.slice(1).forEach((s) => expect(popcount(s.layers[0].dropped, WIDTH)).toBe(s.layers[0].counts.dropped));
    for (const [i, d] of drops.entries()) {
      expect(Math.abs(d - WIDTH * P), `snapshot ${i + 1}: ${d} of ${WIDTH} dropped`).toBeLessThanOrEqual(5.5 * sd);
    }
    // Mean over 50 snapshots (different steps, independent masks): 102,400 draws, sd of the fraction
    // sqrt(0.25 / 102400) = 0.0016; bound 5 sd = 0.0078 (false failure 5.7e-7).
    const meanFraction = drops.reduce((a, b) => a + b, 0) / (drops.length * WIDTH);
    expect(Math.abs(meanFraction - P), `mean dropped fraction ${meanFraction}`).toBeLessThanOrEqual(5 * Math.sqrt((P * (1 - P)) / (drops.length * WIDTH)));
    // Not the same mask every time: two snapshots' bitmaps differ (identical 2048-bit masks: 2^-2048).
    expect(Array.from(snapshots[1].layers[0].dropped)).not.toEqual(Array.from(snapshots[2].layers[0].dropped));

    const history = await observatory.readUnitHistory(1);
    // History: the GPU's drop runs equal the CPU's over all 1,000 steps; no deaths or revivals.
    const reference = initialUnitHistory(WIDTH);
    for (let step = 0; step < STEPS; step++) dropRunUpdate({ p: P, key: rngKey(spec.seed, 'dropout', 1), step, cols: WIDTH, history: reference });
    expectBitExact(history, reference, 'history after 1,000 steps');
    const field = (u: number, f: number) => history[u * UNIT_HISTORY_WORDS + f];
    for (let u = 0; u < WIDTH; u++) {
      if (field(u, F.deaths) || field(u, F.revivals) || field(u, F.firstDeathStep) !== NEVER || field(u, F.wasDead)) {
        throw new Error(
          `unit ${u} has a death/revival record with lr 0: ${Array.from(history.subarray(u * UNIT_HISTORY_WORDS, (u + 1) * UNIT_HISTORY_WORDS))}`,
        );
      }
    }

    // Run length at the end: run >= k <=> the last k steps all dropped, so P(run >= k) = p^k exactly and the
    // number of units with run >= k is Binomial(2048, p^k) (units' masks are independent). For k = 1..5
    // (means 1024 .. 64) bound each by 5 sd + 1: normal tail 5.7e-7 each, under 3e-6 for the five.
    for (let k = 1; k <= 5; k++) {
      const q = P ** k;
      let n = 0;
      for (let u = 0; u < WIDTH; u++) if (field(u, F.dropRun) >= k) n++;
      const bound = 5 * Math.sqrt(WIDTH * q * (1 - q)) + 1;
      expect(Math.abs(n - WIDTH * q), `units with drop run >= ${k}: ${n}, expected ${WIDTH * q}`).toBeLessThanOrEqual(bound);
    }

    // Longest run over 1,000 steps: its exact law from a DP over the current run (Bernoulli(p) trials).
    // P(longest >= k) for every k; then the number of units with longest >= k is Binomial(2048, that).
    const tail = longestRunTail(STEPS, P); // tail[k] = P(longest >= k)
    let mean = 0;
    let meanSq = 0;
    for (let k = 1; k < tail.length; k++) {
      mean += tail[k];
      meanSq += (2 * k - 1) * tail[k];
    }
    const longest = Array.from({ length: WIDTH }, (_, u) => field(u, F.longestDropRun));
    for (let u = 0; u < WIDTH; u++) expect(longest[u]).toBeGreaterThanOrEqual(field(u, F.dropRun));
    // Mean of 2048 i.i.d. longest runs: sd = sqrt(var / 2048) ~ 0.04; bound 5 sd (false failure 5.7e-7).
    const sampleMean = longest.reduce((a, b) => a + b, 0) / WIDTH;
    const meanSd = Math.sqrt((meanSq - mean * mean) / WIDTH);
    expect(Math.abs(sampleMean - mean), `mean longest drop run ${sampleMean}, expected ${mean.toFixed(3)}`).toBeLessThanOrEqual(5 * meanSd);
    // And the distribution, at every k where the expected count is at least 20 and at most 2028: 5 sd + 1
    // each (about ten values of k: false failure < 1e-5 together).
    for (let k = 1; k < tail.length; k++) {
      const expected = WIDTH * tail[k];
      if (expected < 20 || expected > WIDTH - 20) continue;
      const n = longest.filter((x) => x >= k).length;
      expect(Math.abs(n - expected), `units with longest drop run >= ${k}: ${n}, expected ${expected.toFixed(1)}`).toBeLessThanOrEqual(
        5 * Math.sqrt(WIDTH * tail[k] * (1 - tail[k])) + 1,
      );
    }
    observatory.destroy();
    trainer.destroy();
  });

  it('reports born-dead units at step 0', async () => {
    const spec: ModelSpec = {
      ...smallSpec(),
      inputDropout: 0,
      probeRows: 16,
      hidden: [
        // |W x| <= 5 * 0.1 * 4 = 2 on inputs in [-1, 1] (uniform limit 0.1), so a bias of -5 kills every unit.
        { width: 37, activation: { kind: 'relu' }, dropout: 0.3, init: { weights: { kind: 'uniform', limit: 0.1 }, bias: { kind: 'constant', value: -5 } } },
        // Its input is all zeros: z = bias = 0.25 > 0 on every row, alive.
        { width: 11, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0.25 } } },
      ],
    };
    const trainer = await Trainer.create(t.gpu, spec, data);
    const observatory = await Observatory.create(trainer, { every: 10, probeInputs: data.inputs.slice(0, 16 * 5), probeRows: 16 });
    const s = await nextSnapshot(observatory);
    expect(s.step).toBe(0);
    // Dead on the probe set, but not frozen: no training step has been watched yet (frozen needs W of them).
    expect(countsArray(s.layers[0].counts)).toEqual([37, 0, 37, 0, 0, 0]);
    expect(countsArray(s.layers[1].counts)).toEqual([0, 0, 0, 0, 0, 0]);
    expectBitExact(s.layers[0].dead, [0xffffffff, 0b11111]);
    const history = await observatory.readUnitHistory(1);
    for (let u = 0; u < 37; u++) {
      expect(Array.from(history.subarray(u * UNIT_HISTORY_WORDS, u * UNIT_HISTORY_WORDS + 5)), `unit ${u}`).toEqual([0, 1, 0, 0, 1]);
    }
    observatory.destroy();
    trainer.destroy();
  });

  it('a too-high learning rate kills units; a low one does not', async () => {
    const PROBE = 32;
    const base: ModelSpec = {
      ...smallSpec(),
      inputDropout: 0,
      probeRows: PROBE,
      batch: 16,
      hidden: [
        { width: 64, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
        { width: 64, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
      ],
      optimizer: { kind: 'sgd', weightDecay: 0 },
    };
    const probe = data.inputs.slice(0, PROBE * 5);
    const deadCounts = async (lr: number) => {
      const trainer = await Trainer.create(t.gpu, { ...base, schedule: sgdSchedule(lr) }, data);
      const observatory = await Observatory.create(trainer, { every: 20, probeInputs: probe, probeRows: PROBE, ringSize: 6 });
      await trainer.train(100);
      const snapshots = await drain(observatory);
      expect(snapshots.map((s) => s.step)).toEqual([0, 20, 40, 60, 80, 100]);
      // everDead never decreases and bounds dead; revived = everDead - dead (each unit is one or the other).
      for (const [i, s] of snapshots.entries()) {
        for (const [l, layer] of s.layers.entries()) {
          const c = layer.counts;
          expect(c.everDead).toBeGreaterThanOrEqual(c.dead);
          expect(c.revived, `step ${s.step} layer ${l + 1}`).toBe(c.everDead - c.dead);
          if (i > 0) expect(c.everDead).toBeGreaterThanOrEqual(snapshots[i - 1].layers[l].counts.everDead);
        }
      }
      // Units die of large updates, not of a diverged (NaN) network, which would also read as dead.
      const losses = snapshots.flatMap((s) => Array.from(s.losses));
      expect(losses.length).toBe(100);
      expect(losses.every(Number.isFinite), `lr ${lr}: losses stay finite`).toBe(true);
      observatory.destroy();
      trainer.destroy();
      return snapshots.map((s) => s.layers.reduce((n, layer) => n + layer.counts.dead, 0));
    };
    // SGD at lr 2 on ReLU: large steps push biases and weights past the point where any probe row is
    // positive, and a dead ReLU gets no gradient to come back. Deterministic on a given adapter (fixed
    // seed, fixed order of sums). On lavapipe, dead units (of 128) per snapshot: 1, 58, 66, 62, 64, 57 at
    // lr 2 and 1 throughout at lr 0.01; the bounds (growth >= 30, resp. <= 3) leave a wide margin.
    const high = await deadCounts(2);
    const low = await deadCounts(0.01);
    expect(high[high.length - 1] - high[0], `dead units per snapshot at lr 2: ${high}`).toBeGreaterThanOrEqual(30);
    expect(low[low.length - 1] - low[0], `dead units per snapshot at lr 0.01: ${low}`).toBeLessThanOrEqual(3);
  });

  it('a hand-built revival: changing layer 1 revives exactly one unit of layer 2', async () => {
    const EVERY = 3;
    const spec: ModelSpec = {
      inputSize: 2,
      outputSize: 2,
      loss: 'softmax_ce',
      batch: 2,
      inputDropout: 0,
      hidden: [
        { width: 5, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
        { width: 40, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
      ],
      outputInit: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: 0 } },
      ...SGD_LR0,
      seed: 3,
      stepsPerSubmit: 4,
      probeRows: 4,
    };
    // Probe inputs are non-negative, so with non-negative layer-1 weights every layer-1 unit is alive.
    const probe = new Float32Array([1, 0, 0, 1, 1, 1, 0.5, 0.25]);
    const TARGET = 33; // in the second bitmap word
    // Layer 1: unit j = 0.5 * (x0 + x1) + bias1[j]; unit 0's bias decides the fate of layer-2 unit TARGET.
    const layer1 = (bias0: number): LayerParameters => ({
      weights: new Float32Array(2 * 5).fill(0.5),
      bias: Float32Array.from({ length: 5 }, (_, j) => (j === 0 ? bias0 : 0.1)),
    });
    // Layer 2: every unit alive (weights 0.2, bias 0.1) except TARGET = a1[0] - 1, alive only when a1[0] > 1 on some row.
    const w2 = new Float32Array(5 * 40).fill(0.2);
    const b2 = new Float32Array(40).fill(0.1);
    for (let j = 0; j < 5; j++) w2[j * 40 + TARGET] = j === 0 ? 1 : 0;
    b2[TARGET] = -1;
    const layer2: LayerParameters = { weights: w2, bias: b2 };
    const output: LayerParameters = { weights: new Float32Array(40 * 2).fill(0.01), bias: new Float32Array(2) };

    const trainer = await Trainer.create(t.gpu, spec, smallClassification(8, 2, 2));
    // x0 + x1 peaks at 2 on the probe, so a1[0] peaks at 1 + bias0: with bias0 = -0.4, at 0.6 (and is
    // 0.1 > 0 on row [1, 0]: alive), so TARGET's z = a1[0] - 1 <= -0.4 on every row: dead.
    trainer.writeParameters([layer1(-0.4), layer2, output]);
    const observatory = await Observatory.create(trainer, { every: EVERY, probeInputs: probe, probeRows: 4 });
    const born = await nextSnapshot(observatory);
    expect(born.step).toBe(0);
    expect(countsArray(born.layers[0].counts)).toEqual([0, 0, 0, 0, 0, 0]);
    expect(countsArray(born.layers[1].counts)).toEqual([1, 0, 1, 0, 0, 0]);
    expect(bitSet(born.layers[1].dead, TARGET)).toBe(true);

    // Still dead after a few lr-0 steps.
    await trainer.train(EVERY);
    const still = await nextSnapshot(observatory);
    expect(still.step).toBe(EVERY);
    expect(countsArray(still.layers[1].counts)).toEqual([1, 0, 1, 0, 0, 0]);

    // Only layer 1 changes: a1[0] now peaks at 1 + 0.5 = 1.5 on the probe, so TARGET's z peaks at 0.5 > 0.
    trainer.writeParameters([layer1(0.5), layer2, output]);
    await trainer.train(EVERY);
    const revived = await nextSnapshot(observatory);
    expect(revived.step).toBe(2 * EVERY);
    expect(countsArray(revived.layers[0].counts), 'layer 1: alive throughout').toEqual([0, 0, 0, 0, 0, 0]);
    expect(countsArray(revived.layers[1].counts)).toEqual([0, 1, 1, 0, 0, 0]);
    const expectedRevived = new Uint32Array(2);
    expectedRevived[1] = 1 << (TARGET - 32);
    expectBitExact(revived.layers[1].revived, expectedRevived, 'revived bitmap');
    expectBitExact(revived.layers[1].dead, [0, 0], 'dead bitmap');
    const history = await observatory.readUnitHistory(2);
    const unit = (u: number) => Array.from(history.subarray(u * UNIT_HISTORY_WORDS, u * UNIT_HISTORY_WORDS + 5));
    // first death at 0, one death, one revival, last change at the revival's snapshot, alive now.
    expect(unit(TARGET)).toEqual([0, 1, 1, 2 * EVERY, 0]);
    for (let u = 0; u < 40; u++) if (u !== TARGET) expect(unit(u), `unit ${u}`).toEqual([NEVER, 0, 0, NEVER, 0]);

    // Revived stays set while the unit lives; one revival, not two.
    await trainer.train(EVERY);
    const later = await nextSnapshot(observatory);
    expect(countsArray(later.layers[1].counts)).toEqual([0, 1, 1, 0, 0, 0]);
    const laterHistory = await observatory.readUnitHistory(2);
    expect(Array.from(laterHistory.subarray(TARGET * UNIT_HISTORY_WORDS, TARGET * UNIT_HISTORY_WORDS + 5))).toEqual([0, 1, 1, 2 * EVERY, 0]);
    observatory.destroy();
    trainer.destroy();
  });

  it('counts skipped snapshots when nobody reads, and training still completes', async () => {
    const EVERY = 5;
    const trainer = await Trainer.create(t.gpu, smallSpec({ probeRows: 8, stepsPerSubmit: 8 }), data);
    const observatory = await Observatory.create(trainer, { every: EVERY, probeInputs: data.inputs.slice(0, 40), probeRows: 8, ringSize: 2 });
    // No reader: the step-0 snapshot and the step-5 one take both staging buffers; 10, 15, ..., 40 are skipped.
    await trainer.train(40);
    expect(trainer.step).toBe(40);
    const total = 40 / EVERY + 1;
    expect(observatory.skipped).toBe(total - 2);
    const [first, second] = [await nextSnapshot(observatory), await nextSnapshot(observatory)];
    expect([first.step, first.skipped, second.step, second.skipped]).toEqual([0, 0, EVERY, 0]);
    expect(second.losses.length).toBe(EVERY);

    // Now with the ring free again: the next snapshot carries the number skipped before it, and its losses
    // cover only the steps since the last (skipped) snapshot.
    await trainer.train(EVERY);
    const third = await nextSnapshot(observatory);
    expect([third.step, third.skipped, observatory.skipped]).toEqual([45, total - 2, total - 2]);
    expectBitExact(new Uint32Array(third.losses.slice().buffer), new Uint32Array((await trainer.readLosses(40, EVERY)).buffer), 'losses after the skips');
    expect(await drain(observatory)).toEqual([]);
    observatory.destroy();
    trainer.destroy();
  });

  it('delivers a snapshot as one transferable ArrayBuffer', async () => {
    const trainer = await Trainer.create(t.gpu, smallSpec({ probeRows: 8 }), data);
    const observatory = await Observatory.create(trainer, { every: 4, probeInputs: data.inputs.slice(0, 40), probeRows: 8 });
    await nextSnapshot(observatory);
    await trainer.train(4);
    const s = await nextSnapshot(observatory);
    const views = [...s.layers.flatMap((l) => [l.dead, l.dropped, l.revived]), s.losses];
    for (const v of views) expect(v.buffer).toBe(s.buffer);
    const copies = views.map((v) => ({
      offset: v.byteOffset,
      length: v.length,
      words: new Uint32Array(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength)),
    }));
    expect(s.layers[0].dropped.some((w) => w !== 0)).toBe(true);
    const moved = structuredClone(s.buffer, { transfer: [s.buffer] });
    expect(s.buffer.byteLength, 'the original is detached').toBe(0);
    for (const c of copies) expectBitExact(new Uint32Array(moved, c.offset, c.length), c.words, 'view after transfer');
    observatory.destroy();
    trainer.destroy();
  });

  it('frees every buffer: observatory.destroy() and trainer.destroy() leave none alive', async () => {
    const before = t.liveBuffers();
    for (let i = 0; i < 3; i++) {
      const trainer = await Trainer.create(t.gpu, smallSpec({ probeRows: 8, shardColumns: 32, hidden: [{ ...smallSpec().hidden[0], width: 70 }] }), data);
      const observatory = await Observatory.create(trainer, { every: 2, probeInputs: data.inputs.slice(0, 40), probeRows: 8 });
      await trainer.train(6);
      if (i === 1) await observatory.next(); // one released, the rest left mapped
      observatory.destroy();
      expect(await observatory.next(), 'no snapshot after destroy').toBeNull();
      trainer.destroy();
    }
    expect(t.liveBuffers()).toBe(before);
  });
});

/** P(longest run of successes >= k) in n Bernoulli(p) trials, for k = 0..n (k beyond where it is < 1e-300 dropped). */
function longestRunTail(n: number, p: number): number[] {
  const tail = [1];
  for (let k = 1; k <= n; k++) {
    // P(longest < k): DP over the current run length 0..k-1.
    let state = new Float64Array(k);
    state[0] = 1;
    for (let i = 0; i < n; i++) {
      const next = new Float64Array(k);
      let total = 0;
      for (let r = 0; r < k; r++) total += state[r];
      next[0] = total * (1 - p);
      for (let r = 0; r + 1 < k; r++) next[r + 1] = state[r] * p;
      state = next;
    }
    const below = state.reduce((a, b) => a + b, 0);
    tail.push(1 - below);
    if (1 - below < 1e-12) break;
  }
  return tail;
}
