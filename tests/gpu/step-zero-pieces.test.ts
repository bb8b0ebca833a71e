// The step-0 snapshot taken in pieces (Observatory.initialPiece) on the real adapter: whatever the pieces, the snapshot
// is the one taken in one submit, bit for bit; the units proven alive after each piece only grow, stay within the
// final snapshot's not-dead units, and each has a positive probe pre-activation on a measured row by the CPU reference.
import { describe, expect, it } from 'vitest';
import type { ModelSpec } from '../../src/engine/model-spec';
import { Observatory, type PartialSnapshot, type Snapshot } from '../../src/engine/observatory';
import { Trainer, type LayerParameters } from '../../src/engine/trainer';
import { activationForward } from '../../src/reference/activation';
import { matmulReference } from '../../src/reference/matmul';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, useGpu } from './harness';

const PROBE = 37;
/** Slices of 4 rows after a short first one of 1 row (1, 4, ..., 4): 10 slices. */
const SLICE_ROWS = 4;
const SLICES = 1 + Math.ceil((PROBE - 1) / SLICE_ROWS);
/** Pre-activations within this of 0 may take either sign on the GPU (another fp32 summation order): never asserted on. */
const SIGN_MARGIN = 1e-5;

const bitSet = (words: Uint32Array, u: number) => ((words[u >>> 5] >>> (u & 31)) & 1) === 1;

describe('the step-0 snapshot in pieces', () => {
  const t = useGpu();
  const data = smallClassification(200, 5, 3);
  const base = smallSpec();
  // A negative bias on a layer that is not a multiple of 32 wide: some units born dead, some proven only by late rows.
  const spec: ModelSpec = smallSpec({
    shardColumns: 32,
    probeRows: PROBE,
    probeChunkRows: SLICE_ROWS,
    hidden: [
      { ...base.hidden[0], width: 70, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: -0.8 } } },
      { ...base.hidden[1], width: 45, init: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: -0.3 } } },
      base.hidden[2],
    ],
  });
  const probe = data.inputs.slice(0, PROBE * spec.inputSize);

  async function open(initialSnapshot: 'now' | 'pieces'): Promise<{ trainer: Trainer; observatory: Observatory }> {
    const trainer = await Trainer.create(t.gpu, spec, data);
    const observatory = await Observatory.create(trainer, { every: 5, probeInputs: probe, probeRows: PROBE, initialSnapshot });
    return { trainer, observatory };
  }

  async function first(observatory: Observatory): Promise<Snapshot> {
    const snapshot = await observatory.next();
    if (!snapshot) throw new Error('no step-0 snapshot');
    return snapshot;
  }

  /** Per hidden layer, probe pre-activations [PROBE, width] of the parameters, without dropout (CPU reference). */
  function referenceZ(params: LayerParameters[]): Float32Array[] {
    let input: Float32Array = probe;
    let inputWidth = spec.inputSize;
    return spec.hidden.map((h, i) => {
      const z = new Float32Array(PROBE * h.width);
      matmulReference({
        variant: 'nn',
        m: PROBE,
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
      input = activationForward(h.activation, z);
      inputWidth = h.width;
      return z;
    });
  }

  it('gives the one-submit snapshot bit for bit whatever the pieces; proven units grow, are not dead, and are positive on a measured row', async () => {
    const oneShot = await open('now');
    const expected = await first(oneShot.observatory);
    const expectedBytes = new Uint8Array(expected.buffer.slice(0));
    const params = await oneShot.trainer.readParameters();
    oneShot.observatory.destroy();
    oneShot.trainer.destroy();
    const z = referenceZ(params);

    let sawUndecided = false;
    for (const sizes of [[1], [2], [3, 1, 4], [SLICES - 1], [SLICES]]) {
      const label = `pieces of ${sizes.join(', ')} slices`;
      const { trainer, observatory } = await open('pieces');
      expect(observatory.probeSlices).toBe(SLICES);
      const partials: PartialSnapshot[] = [];
      for (let k = 0; observatory.initialSlicesLeft > 0; k++) {
        const partial = await observatory.initialPiece(sizes[Math.min(k, sizes.length - 1)]);
        if (partial) partials.push(partial);
      }
      let pieces = 0;
      for (let left = SLICES; left > 0; pieces++) left -= sizes[Math.min(pieces, sizes.length - 1)];
      expect(partials.length, `${label}: a partial snapshot after every piece but the last`).toBe(pieces - 1);
      const snapshot = await first(observatory);
      expect(snapshot.step).toBe(0);
      expectBitExact(new Uint8Array(snapshot.buffer), expectedBytes, `${label}: snapshot bytes`);
      expect(snapshot.layers.map((l) => l.counts)).toEqual(expected.layers.map((l) => l.counts));

      let rowsBefore = 0;
      if (sizes[0] === 1) expect(partials[0].rowsMeasured, `${label}: the first slice is a short one`).toBe(1);
      partials.forEach((partial, p) => {
        expect(partial.probeRows).toBe(PROBE);
        expect(partial.rowsMeasured, `${label}: rows grow`).toBeGreaterThan(rowsBefore);
        expect(partial.rowsMeasured).toBeLessThan(PROBE);
        rowsBefore = partial.rowsMeasured;
        partial.layers.forEach((layer, i) => {
          const width = spec.hidden[i].width;
          expect(layer.width).toBe(width);
          const final = expected.layers[i];
          const next = partials[p + 1]?.layers[i].proven;
          for (let u = 0; u < width; u++) {
            const proven = bitSet(layer.proven, u);
            if (!proven) sawUndecided = true;
            if (proven && next) expect(bitSet(next, u), `${label}: layer ${i + 1} unit ${u} proven at piece ${p} stays proven`).toBe(true);
            if (proven) expect(bitSet(final.dead, u), `${label}: layer ${i + 1} unit ${u} proven but dead at the end`).toBe(false);
            // The reference's largest pre-activation over the rows measured so far.
            let max = -Infinity;
            for (let r = 0; r < partial.rowsMeasured; r++) max = Math.max(max, z[i][r * width + u]);
            if (proven) expect(max, `${label}: layer ${i + 1} unit ${u} proven after ${partial.rowsMeasured} rows`).toBeGreaterThan(-SIGN_MARGIN);
            else expect(max, `${label}: layer ${i + 1} unit ${u} undecided after ${partial.rowsMeasured} rows`).toBeLessThan(SIGN_MARGIN);
          }
          // Bits past the width are 0.
          if (width % 32) expect(layer.proven[layer.proven.length - 1] >>> width % 32).toBe(0);
        });
      });
      observatory.destroy();
      trainer.destroy();
    }
    // The set-up is only a test if some unit was still undecided after some piece.
    expect(sawUndecided).toBe(true);
  });

  it('refuses a piece when none is due, of no slices, or once a step was trained', async () => {
    const oneShot = await open('now');
    await expect(oneShot.observatory.initialPiece(1)).rejects.toThrow(/not being taken in pieces/);
    oneShot.observatory.destroy();
    oneShot.trainer.destroy();
    const { trainer, observatory } = await open('pieces');
    await expect(observatory.initialPiece(0)).rejects.toThrow(/integer >= 1 of probe slices, got 0/);
    await observatory.initialPiece(SLICES);
    expect(observatory.initialSlicesLeft).toBe(0);
    await expect(observatory.initialPiece(1)).rejects.toThrow(/not being taken in pieces, or was finished/);
    observatory.destroy();
    trainer.destroy();
    const trained = await open('pieces');
    await trained.observatory.initialPiece(1);
    await trained.trainer.train(1);
    await expect(trained.observatory.initialPiece(1)).rejects.toThrow(/cannot go on at step 1/);
    trained.observatory.destroy();
    trained.trainer.destroy();
  });
});
