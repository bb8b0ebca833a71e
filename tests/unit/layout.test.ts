import { describe, expect, it } from 'vitest';
import { CapacityError, estimateMemory, planLayout } from '../../src/engine/layout';
import { probeChunkRows, probeSliceRows } from '../../src/engine/model-spec';
import { smallSpec } from '../engine-fixtures';

const LAVAPIPE = { maxStorageBufferBindingSize: 128 * 1024 ** 2, maxBufferSize: 4 * 1024 ** 3 };

describe('model layout', () => {
  it('keeps small layers whole and shards a 1,048,576-unit layer under the binding limit', () => {
    expect(planLayout(smallSpec(), LAVAPIPE).activations.map((a) => a.blocks.length)).toEqual([1, 1, 1, 1, 1]);
    const wide = smallSpec({
      inputSize: 64,
      batch: 32,
      outputSize: 10,
      inputDropout: 0,
      optimizer: { kind: 'sgd' },
      hidden: [{ ...smallSpec().hidden[0], width: 1_048_576 }],
    });
    const layout = planLayout(wide, LAVAPIPE);
    const blocks = layout.activations[1].blocks;
    expect(blocks.reduce((n, b) => n + b.width, 0)).toBe(1_048_576);
    // W1 is [64, 1M] = 256 MiB: at least two blocks, each within 128 MiB, vec4-aligned.
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    for (const b of blocks) {
      expect(b.width * 64 * 4).toBeLessThanOrEqual(LAVAPIPE.maxStorageBufferBindingSize);
      expect(b.offset % 32).toBe(0);
    }
  });

  it('honours shardColumns in blocks of multiples of 32', () => {
    const layout = planLayout(smallSpec({ shardColumns: 64 }), LAVAPIPE);
    expect(layout.activations[1].blocks).toEqual([{ offset: 0, width: 33 }]);
    const wide = smallSpec({ hidden: [{ ...smallSpec().hidden[0], width: 150 }], shardColumns: 70 });
    expect(planLayout(wide, LAVAPIPE).activations[1].blocks).toEqual([
      { offset: 0, width: 64 },
      { offset: 64, width: 64 },
      { offset: 128, width: 22 },
    ]);
    expect(() => planLayout({ ...wide, shardColumns: 16 }, LAVAPIPE)).toThrow(/at least 32 columns/);
  });

  it('counts bytes by category', () => {
    const spec = smallSpec({ optimizer: { kind: 'sgd' }, inputDropout: 0 });
    const m = estimateMemory(spec, 1000);
    const params = (5 + 1) * 33 + (33 + 1) * 18 + (18 + 1) * 9 + (9 + 1) * 3;
    expect(m.parameters).toBe(params * 4);
    expect(m.gradients).toBe(params * 4);
    expect(m.optimizerState).toBe(0);
    expect(m.data).toBe(1000);
    expect(m.total).toBe(m.parameters + m.gradients + m.optimizerState + m.activations + m.data);
    expect(estimateMemory({ ...spec, optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8 } }).optimizerState).toBe(params * 8);
    // With the observatory on: probe inputs, Z of every hidden layer, A of all but the last (16 probe rows).
    const probed = estimateMemory({ ...spec, probeRows: 16 }, 1000);
    expect(probed.activations - m.activations).toBe(16 * (5 + 2 * 33 + 2 * 18 + 9) * 4);
    // In chunks of 4 rows the inputs stay whole, the per-layer buffers shrink to the chunk.
    const chunked = estimateMemory({ ...spec, probeRows: 16, probeChunkRows: 4 }, 1000);
    expect(chunked.activations - m.activations).toBe((16 * 5 + 4 * (2 * 33 + 2 * 18 + 9)) * 4);
  });

  it('walks a probe set of a million-unit layer in chunks of 64 MiB and plans shards for the chunk, not the whole set', () => {
    const wide = smallSpec({ hidden: [{ ...smallSpec().hidden[0], width: 1_048_576 }], batch: 32, probeRows: 256 });
    expect(probeChunkRows(wide)).toBe(16);
    expect(probeChunkRows({ ...wide, probeRows: 8 })).toBe(8);
    expect(probeChunkRows({ ...wide, probeChunkRows: 3 })).toBe(3);
    expect(probeChunkRows({ ...wide, probeRows: 0 })).toBe(0);
    // The slices the probe pass walks: a short first one (1/16 of a chunk), then whole chunks; one slice when all fit.
    expect(probeSliceRows(wide, 256)).toEqual([1, ...new Array<number>(15).fill(16), 15]);
    expect(probeSliceRows({ ...wide, probeChunkRows: 64 }, 200)).toEqual([4, 64, 64, 64, 4]);
    expect(probeSliceRows({ ...wide, probeRows: 8 }, 8)).toEqual([8]);
    expect(probeSliceRows(smallSpec({ probeRows: 37 }), 37)).toEqual([37]);
    // 32 batch rows x 1M columns = 128 MiB: exactly one binding on lavapipe, so one shard for the layer.
    expect(planLayout(wide, LAVAPIPE).activations[1].blocks).toHaveLength(1);
  });

  it('refuses a model over the memory budget, naming the number, the limit and the layer', () => {
    const spec = smallSpec({
      hidden: [
        { ...smallSpec().hidden[0], width: 1_000_000 },
        { ...smallSpec().hidden[1], width: 4096 },
      ],
    });
    expect(() => planLayout(spec, LAVAPIPE, { memoryBudgetBytes: 1024 ** 3 })).toThrow(CapacityError);
    expect(() => planLayout(spec, LAVAPIPE, { memoryBudgetBytes: 1024 ** 3 })).toThrow(
      /needs [\d.]+ GiB .*the budget is 1\.0 GiB .*largest is hidden layer 2 \(1000000x4096/,
    );
  });

  it('refuses an unshardable tensor over the binding limit', () => {
    const spec = smallSpec({ inputSize: 65536, batch: 1024 });
    expect(() => planLayout(spec, LAVAPIPE)).toThrow(/input of width 65536 needs 256\.0 MiB .* allows 128\.0 MiB .*\(maxStorageBufferBindingSize\)/);
    expect(() => planLayout(smallSpec({ outputSize: 40000, batch: 1024 }), LAVAPIPE)).toThrow(/output layer of width 40000/);
  });
});
