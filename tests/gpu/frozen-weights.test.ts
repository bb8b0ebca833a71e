// The promise behind "frozen": a unit the observatory reports frozen over the last W steps received exactly zero
// gradient in each of them, so with an optimizer whose update is zero for a zero gradient (plain SGD without
// weight decay) its incoming weights and bias are bit-identical across those steps. Checked on the real adapter
// against the parameters read after every step, with a sharded layer and dropout in the layer below. And the
// optimizers that break "zero gradient => zero update" (momentum carry-over, Adam's moments, weight decay) are shown
// to move frozen units' weights: frozen is about gradient, not about the parameters standing still.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/engine/model-spec';
import { Observatory, type Snapshot } from '../../src/engine/observatory';
import { Trainer, type LayerParameters } from '../../src/engine/trainer';
import type { OptimizerSpec } from '../../src/spec/optimizers';
import { smallClassification } from '../engine-fixtures';
import { useGpu } from './harness';

const WINDOW = 4;
const EVERY = 4;
const STEPS = 48;

/** Biases of the two hidden layers and the learning rate: how hard the run pushes units below zero. */
interface Push {
  bias1: number;
  bias2: number;
  lr: number;
}

function spec(optimizer: OptimizerSpec, push: Push): ModelSpec {
  return {
    inputSize: 5,
    outputSize: 3,
    loss: 'softmax_ce',
    batch: 8,
    inputDropout: 0,
    hidden: [
      // A negative bias and a high rate: units die and freeze as training goes; shards of 32 (70 = 32 + 32 + 6).
      { width: 70, activation: { kind: 'relu' }, dropout: 0.5, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: push.bias1 } } },
      // Its input has dropout (layer 1's): the layer the issue is about.
      { width: 40, activation: { kind: 'relu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: push.bias2 } } },
    ],
    outputInit: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: 0 } },
    optimizer,
    schedule: { kind: 'constant', baseLr: push.lr, warmupSteps: 0, totalSteps: 1, decayEvery: 1, gamma: 1, minLr: 0, beta1: 0.9, beta2: 0.999 },
    seed: 17,
    stepsPerSubmit: 1,
    shardColumns: 32,
    probeRows: 16,
  };
}

const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const isSet = (words: Uint32Array, u: number) => ((words[u >>> 5] >>> (u & 31)) & 1) === 1;

/** Incoming weights (column u of [fanIn, fanOut]) and bias of unit u, as bits. */
function unitParams(p: LayerParameters, u: number): number[] {
  const fanOut = p.bias.length;
  const fanIn = p.weights.length / fanOut;
  const out: number[] = [];
  for (let i = 0; i < fanIn; i++) out.push(bits(p.weights)[i * fanOut + u]);
  out.push(bits(p.bias)[u]);
  return out;
}

interface FrozenCheck {
  /** (snapshot, layer, unit) triples reported frozen at a snapshot step >= WINDOW. */
  frozen: number;
  /** Of those, units whose incoming weights or bias changed within the window. */
  moved: { step: number; layer: number; unit: number }[];
  /** Frozen units that were active at some earlier step (not born frozen): the ones momentum can carry. */
  once: number;
}

describe('frozen units keep their incoming weights', () => {
  const t = useGpu();
  const data = smallClassification(64, 5, 3);

  /** Trains STEPS steps one at a time, keeping the parameters after every step, and checks every snapshot's frozen units. */
  async function run(optimizer: OptimizerSpec, push: Push): Promise<FrozenCheck> {
    const s = spec(optimizer, push);
    const trainer = await Trainer.create(t.gpu, s, data);
    const observatory = await Observatory.create(trainer, {
      every: EVERY,
      probeInputs: data.inputs.slice(0, 16 * 5),
      probeRows: 16,
      frozenWindow: WINDOW,
      ringSize: STEPS / EVERY + 1,
    });
    expect(trainer.layout.activations[1].blocks.map((b) => b.width)).toEqual([32, 32, 6]);
    const params: LayerParameters[][] = [await trainer.readParameters()];
    const snapshots: Snapshot[] = [];
    for (let step = 1; step <= STEPS; step++) {
      await trainer.train(1);
      params.push(await trainer.readParameters());
    }
    observatory.close();
    for await (const snapshot of observatory.snapshots()) snapshots.push(snapshot);
    const records = [await observatory.readTrainRecord(1), await observatory.readTrainRecord(2)];
    observatory.destroy();
    trainer.destroy();

    const check: FrozenCheck = { frozen: 0, moved: [], once: 0 };
    for (const snapshot of snapshots) {
      if (snapshot.step < WINDOW) continue;
      snapshot.layers.forEach((layer, l) => {
        for (let u = 0; u < layer.width; u++) {
          if (!isSet(layer.frozen, u)) continue;
          check.frozen++;
          const now = unitParams(params[snapshot.step][l], u);
          // Frozen over steps [step - W, step - 1]: the parameters after step - W .. step completed steps.
          for (let k = snapshot.step - WINDOW; k < snapshot.step; k++) {
            if (unitParams(params[k][l], u).some((v, i) => v !== now[i])) {
              check.moved.push({ step: snapshot.step, layer: l + 1, unit: u });
              break;
            }
          }
        }
      });
    }
    // Units frozen at the end that were active at some step: their momentum / moments were not zero.
    const last = snapshots[snapshots.length - 1];
    last.layers.forEach((layer, l) => {
      for (let u = 0; u < layer.width; u++) if (isSet(layer.frozen, u) && records[l][u * 4] !== 0xffffffff) check.once++;
    });
    return check;
  }

  it('SGD without weight decay: every unit frozen over W steps has bit-identical incoming weights and bias across them', async () => {
    // On lavapipe: frozen units per snapshot (layer 1, layer 2) grow from (0, 13) at step 4 to (38, 15) at step 48.
    const check = await run({ kind: 'sgd', weightDecay: 0 }, { bias1: -0.5, bias2: -1, lr: 2 });
    // Not vacuous: units were frozen, including ones that had been active before.
    expect(check.frozen, 'frozen (snapshot, unit) pairs').toBeGreaterThan(20);
    expect(check.once, 'units frozen after having been active').toBeGreaterThan(0);
    expect(check.moved, 'frozen units whose weights changed').toEqual([]);
  });

  it('momentum, Adam and weight decay move frozen units: zero gradient is not zero update there', async () => {
    for (const optimizer of [
      { kind: 'momentum', momentum: 0.9, nesterov: false, weightDecay: 0 },
      { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 },
      { kind: 'sgd', weightDecay: 0.01 },
    ] as const satisfies readonly OptimizerSpec[]) {
      const check = await run(optimizer, { bias1: -0.3, bias2: -0.2, lr: 0.5 });
      expect(check.frozen, `${optimizer.kind}: frozen units`).toBeGreaterThan(0);
      expect(check.moved.length, `${JSON.stringify(optimizer)}: frozen units whose weights still changed`).toBeGreaterThan(0);
    }
  });
});
