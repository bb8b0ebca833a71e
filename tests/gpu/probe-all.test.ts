// snapshot.probe: "all" walks every training row (in slices), "sample" a fixed sample of probeSize rows, "auto" all
// rows up to AUTO_PROBE_ALL_ROWS. A unit positive on one training row outside the sample is dead on the sample and
// alive on the whole training set: the probe set is not the training set, and the report says which was used.
import { describe, expect, it } from 'vitest';
import { AUTO_PROBE_ALL_ROWS, parseRunConfig, probeRowsFor, type RunConfig } from '../../src/config';
import { runData } from '../../src/data';
import { modelSpecFromConfig } from '../../src/engine/from-config';
import { Observatory, type Snapshot } from '../../src/engine/observatory';
import { Trainer } from '../../src/engine/trainer';
import { useGpu } from './harness';

const SAMPLES = 300;

function config(probe: 'all' | 'sample' | 'auto', samples = SAMPLES): RunConfig {
  return parseRunConfig({
    inputSize: 3,
    dataset: { kind: 'gaussian_mixture', samples, classes: 2, spread: 1 },
    hidden: [{ width: 40, activation: { kind: 'relu' }, dropout: 0 }],
    batchSize: 8,
    steps: 10,
    seed: 4,
    snapshot: { every: 5, probeSize: 16, probe },
  });
}

const isSet = (words: Uint32Array, u: number) => ((words[u >>> 5] >>> (u & 31)) & 1) === 1;

describe('the probe set', () => {
  const t = useGpu();

  it('resolves "all", "sample" and "auto" against the data set size', () => {
    expect(probeRowsFor({ probe: 'all', probeSize: 16 }, 10_000)).toEqual({ all: true, rows: 10_000 });
    expect(probeRowsFor({ probe: 'sample', probeSize: 16 }, 10_000)).toEqual({ all: false, rows: 16 });
    expect(probeRowsFor({ probe: 'sample', probeSize: 256 }, 100)).toEqual({ all: true, rows: 100 });
    expect(probeRowsFor({ probe: 'auto', probeSize: 256 }, AUTO_PROBE_ALL_ROWS)).toEqual({ all: true, rows: AUTO_PROBE_ALL_ROWS });
    expect(probeRowsFor({ probe: 'auto', probeSize: 256 }, AUTO_PROBE_ALL_ROWS + 1)).toEqual({ all: false, rows: 256 });
    expect(runData(config('all')).probe.samples).toBe(SAMPLES);
    expect(runData(config('auto')).probe.samples).toBe(SAMPLES);
    expect(runData(config('sample')).probe.samples).toBe(16);
  });

  it('"all" sees a unit that only one training row outside the sample activates; the sample calls it dead', async () => {
    const sampled = runData(config('sample'));
    const inSample = new Set(sampled.probe.indices);
    const { dataset } = sampled;
    // Unit 7 of the layer: z = x · w + b with w along one input direction, b just below the largest projection; the
    // direction is chosen so that the row reaching it lies outside the sample. Every other unit: z = -1 everywhere.
    let chosen: { w: number[]; b: number; row: number } | null = null;
    for (const w of [
      [1, 0, 0],
      [-1, 0, 0],
      [0, 1, 0],
      [0, -1, 0],
      [0, 0, 1],
      [0, 0, -1],
    ]) {
      const z = Array.from({ length: dataset.samples }, (_, r) => w.reduce((s, wi, i) => s + wi * dataset.inputs[r * 3 + i], 0));
      const order = z.map((v, r) => [v, r] as const).sort((a, b) => b[0] - a[0]);
      if (!inSample.has(order[0][1]) && order[0][0] - order[1][0] > 1e-3) {
        chosen = { w, b: -(order[0][0] + order[1][0]) / 2, row: order[0][1] };
        break;
      }
    }
    expect(chosen, 'a direction whose extreme row is outside the sample').not.toBeNull();
    const weights = new Float32Array(3 * 40);
    const bias = new Float32Array(40).fill(-1);
    for (let i = 0; i < 3; i++) weights[i * 40 + 7] = chosen!.w[i];
    bias[7] = chosen!.b;

    const snapshotAt0 = async (c: RunConfig): Promise<Snapshot> => {
      const { dataset: d, probe } = runData(c);
      const trainer = await Trainer.create(t.gpu, { ...modelSpecFromConfig(c), probeRows: probe.samples, probeChunkRows: 64 }, d);
      const params = await trainer.readParameters();
      trainer.writeParameters([{ weights, bias }, params[1]]);
      const observatory = await Observatory.create(trainer, { every: 5, probeInputs: probe.inputs, probeRows: probe.samples });
      const snapshot = (await observatory.next())!;
      observatory.destroy();
      trainer.destroy();
      return snapshot;
    };
    const sample = await snapshotAt0(config('sample'));
    const all = await snapshotAt0(config('all'));
    expect(isSet(sample.layers[0].dead, 7), 'dead on the 16-row sample').toBe(true);
    // The whole training set, walked in slices of 64 rows (300 = 4 x 64 + 44): one row is positive.
    expect(isSet(all.layers[0].dead, 7), `alive on all ${SAMPLES} rows (row ${chosen!.row})`).toBe(false);
    expect(all.layers[0].counts.dead).toBe(39);
    expect(sample.layers[0].counts.dead).toBe(40);
  });
});
