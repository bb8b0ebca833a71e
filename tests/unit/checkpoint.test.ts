import { describe, expect, it } from 'vitest';
import type { ObservatoryState } from '../../src/engine/observatory';
import type { TrainerState } from '../../src/engine/trainer';
import { CheckpointError, checkpointFromSafetensors, checkpointToSafetensors, sealCheckpoint } from '../../src/io/checkpoint';
import { decodeSafetensors, encodeSafetensors } from '../../src/io/safetensors';
import { randomArray } from '../gpu/harness';

/** A state of the shape the trainer produces for widths [3, 5, 2] with Adam, and an observatory. */
function state(optimizer: TrainerState['optimizer'] = 'adam'): { trainer: TrainerState; observatory: ObservatoryState } {
  const widths = [3, 5, 2];
  const states = optimizer === 'sgd' ? 0 : optimizer === 'momentum' ? 1 : 2;
  let seed = 1;
  const layers = widths.slice(1).map((fanOut, i) => {
    const fanIn = widths[i];
    return {
      weights: randomArray(fanIn * fanOut, seed++),
      bias: randomArray(fanOut, seed++),
      weightState: Array.from({ length: states }, () => randomArray(fanIn * fanOut, seed++)),
      biasState: Array.from({ length: states }, () => randomArray(fanOut, seed++)),
    };
  });
  const stepState = new Uint32Array(new Float32Array([0, 0.01, 0.5, 0.25, 0.9, 0.99, 0, 0]).buffer);
  stepState[0] = 37;
  const history = Uint32Array.from({ length: 5 * 8 }, (_, i) => (i % 3 === 0 ? 0xffffffff : i));
  return {
    trainer: { step: 37, optimizer, stepState, layers, lossHistory: randomArray(16, 99) },
    observatory: { unitHistory: [history], lastSnapshotStep: 35, skipped: 2 },
  };
}

const config = { hidden: [{ width: 5, activation: { kind: 'relu' } }], lr: 0.01, note: 'ünïcode' };

/** Re-encodes a checkpoint after editing its tensors or metadata, with checksums that match the edit (as a tool would write it). */
function edit(bytes: Uint8Array, change: (d: ReturnType<typeof decodeSafetensors>) => void): Uint8Array {
  const decoded = decodeSafetensors(bytes);
  const tensors = { ...decoded.tensors };
  const metadata = { ...decoded.metadata };
  change({ tensors, metadata });
  return encodeSafetensors(tensors, sealCheckpoint(tensors, metadata));
}

function expectRejected(bytes: Uint8Array, message: RegExp, tensor?: string): void {
  let caught: unknown;
  try {
    checkpointFromSafetensors(bytes);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CheckpointError);
  expect((caught as CheckpointError).message).toMatch(message);
  if (tensor) expect((caught as CheckpointError).tensor).toBe(tensor);
}

describe('checkpoints as safetensors', () => {
  it('round-trips trainer and observatory state, step and config for every optimizer', () => {
    for (const optimizer of ['sgd', 'momentum', 'adam', 'adamw'] as const) {
      const s = state(optimizer);
      const back = checkpointFromSafetensors(checkpointToSafetensors(s, config));
      expect(back.step).toBe(37);
      expect(back.config).toEqual(config);
      expect(back.trainer).toEqual(s.trainer);
      expect(back.observatory).toEqual(s.observatory);
    }
    const { trainer } = state();
    expect(checkpointFromSafetensors(checkpointToSafetensors({ trainer }, config)).observatory).toBeUndefined();
  });

  it('carries the training records behind "frozen", and reads checkpoints written before them', () => {
    const s = state('sgd');
    const record = Uint32Array.from({ length: 5 * 4 }, (_, i) => (i % 4 === 1 ? 0xffffffff : 30 + i));
    const withRecord = { ...s, observatory: { ...s.observatory, trainRecord: [record] } };
    const bytes = checkpointToSafetensors(withRecord, config);
    expect(decodeSafetensors(bytes).tensors['train_record.1'].shape).toEqual([5, 4]);
    expect(checkpointFromSafetensors(bytes).observatory).toEqual(withRecord.observatory);
    // An older checkpoint has none: the observatory state says so (undefined), and the reader does not invent one.
    const old = checkpointFromSafetensors(edit(bytes, (d) => delete d.tensors['train_record.1']));
    expect(old.observatory?.trainRecord).toBeUndefined();
    expectRejected(
      edit(bytes, (d) => (d.tensors['train_record.1'] = { dtype: 'U32', shape: [4, 4], data: new Uint32Array(16) })),
      /train_record\.1.*expected \[5, 4\] \(width of hidden layer 1\)/,
      'train_record.1',
    );
  });

  it('round-trips the task bits and continual backprop state of a non-stationary run, and checks their shapes', () => {
    const s = state('sgd');
    s.trainer.continual = {
      taskBits: Uint32Array.of(1, 0, 1),
      cbp: [{ units: Uint32Array.from({ length: 5 * 6 }, (_, i) => i * 7), accumulator: Uint32Array.of(2, 0x80000000) }],
    };
    const bytes = checkpointToSafetensors(s, config);
    const back = checkpointFromSafetensors(bytes);
    expect(back.trainer.continual).toEqual(s.trainer.continual);
    const { tensors } = decodeSafetensors(bytes);
    expect(tensors['cbp.1.units']).toMatchObject({ dtype: 'U32', shape: [5, 6] });
    expect(tensors['cbp.1.accumulator']).toMatchObject({ dtype: 'U32', shape: [2] });
    expect(tensors.task_bits).toMatchObject({ dtype: 'U32', shape: [3] });
    const narrow = edit(bytes, (d) => (d.tensors['cbp.1.units'] = { dtype: 'U32', shape: [4, 6], data: new Uint32Array(24) }));
    expectRejected(narrow, /tensor "cbp.1.units": shape \[4, 6\]; expected \[5, 6\] \(width of hidden layer 1\)/, 'cbp.1.units');
    // A stationary run's checkpoint has none of them.
    expect(checkpointFromSafetensors(checkpointToSafetensors(state('sgd'), config)).trainer.continual).toBeUndefined();
  });

  it('names tensors for PyTorch and numpy users', () => {
    const { tensors, metadata } = decodeSafetensors(checkpointToSafetensors(state('adam'), config));
    expect(Object.keys(tensors).sort()).toEqual(
      [
        ...[1, 2].flatMap((l) => ['weight', 'bias'].flatMap((p) => [`layers.${l}.${p}`, `layers.${l}.${p}.adam_m`, `layers.${l}.${p}.adam_v`])),
        'loss_history',
        'step_state',
        'unit_history.1',
      ].sort(),
    );
    expect(tensors['layers.1.weight'].shape).toEqual([3, 5]);
    expect(tensors['layers.2.bias.adam_v'].shape).toEqual([2]);
    expect(tensors['unit_history.1']).toMatchObject({ dtype: 'U32', shape: [5, 8] });
    expect(tensors.step_state).toMatchObject({ dtype: 'U32', shape: [8] });
    expect({ ...metadata }).toMatchObject({
      format: 'deadunits-checkpoint',
      version: '1',
      step: '37',
      optimizer: 'adam',
      'observatory.last_snapshot_step': '35',
      'observatory.skipped': '2',
    });
    const momentum = decodeSafetensors(checkpointToSafetensors(state('momentum'), config)).tensors;
    expect(Object.keys(momentum)).toContain('layers.1.weight.momentum');
  });

  it('rejects checkpoints that do not fit together, naming the tensor', () => {
    const good = checkpointToSafetensors(state('adam'), config);
    expectRejected(
      edit(good, (d) => (d.metadata.format = 'other')),
      /metadata "format" is "other"; expected "deadunits-checkpoint"/,
    );
    expectRejected(
      edit(good, (d) => (d.metadata.version = '2')),
      /checkpoint version 2 is not supported/,
    );
    expectRejected(
      edit(good, (d) => (d.metadata.step = '3x')),
      /metadata "step" = "3x" is not an integer/,
    );
    expectRejected(
      edit(good, (d) => (d.metadata.step = '36')),
      /"step_state": names step 37, metadata "step" is 36/,
      'step_state',
    );
    expectRejected(
      edit(good, (d) => (d.metadata.optimizer = 'lion')),
      /metadata "optimizer" = "lion" is not one of/,
    );
    expectRejected(
      edit(good, (d) => (d.metadata.config = '{')),
      /metadata "config" is not valid JSON/,
    );
    expectRejected(
      edit(good, (d) => delete d.tensors['layers.2.weight.adam_v']),
      /tensor "layers.2.weight.adam_v" is missing/,
      'layers.2.weight.adam_v',
    );
    expectRejected(
      edit(good, (d) => (d.tensors['layers.2.weight'] = { dtype: 'F32', shape: [4, 2], data: new Float32Array(8) })),
      /"layers.2.weight": shape \[4, 2\]; expected \[5, fanOut\]/,
      'layers.2.weight',
    );
    expectRejected(
      edit(good, (d) => (d.tensors['layers.1.bias'] = { dtype: 'F64', shape: [5], data: new Float64Array(5) })),
      /"layers.1.bias": dtype F64; expected F32/,
      'layers.1.bias',
    );
    expectRejected(
      edit(good, (d) => (d.tensors['unit_history.1'] = { dtype: 'U32', shape: [4, 8], data: new Uint32Array(32) })),
      /"unit_history.1": shape \[4, 8\]; expected \[5, 8\]/,
      'unit_history.1',
    );
    expectRejected(
      edit(good, (d) => (d.tensors['layers.9.weight'] = { dtype: 'F32', shape: [1, 1], data: new Float32Array(1) })),
      /tensor "layers.9.weight" is not part of/,
      'layers.9.weight',
    );
    expectRejected(
      edit(good, (d) => (d.metadata['observatory.last_snapshot_step'] = '38')),
      /"observatory.last_snapshot_step" = "38" is not an integer in \[-1, 37\]/,
    );
    for (const bad of [NaN, Infinity, -Infinity]) {
      const weights = state().trainer.layers[1].weightState[0].slice();
      weights[3] = bad;
      expectRejected(
        edit(good, (d) => (d.tensors['layers.2.weight.adam_m'] = { dtype: 'F32', shape: [5, 2], data: weights })),
        new RegExp(`"layers.2.weight.adam_m": element 3 is ${bad}; parameters and optimizer state must be finite`),
        'layers.2.weight.adam_m',
      );
    }
    // The loss ring may hold anything a run produced (a diverged step's NaN included).
    const lossNaN = edit(good, (d) => (d.tensors.loss_history = { dtype: 'F32', shape: [2], data: Float32Array.from([NaN, 1]) }));
    expect(Number.isNaN(checkpointFromSafetensors(lossNaN).trainer.lossHistory[0])).toBe(true);
    // Truncated files fail in the safetensors layer, with the same error class.
    expectRejected(good.subarray(0, good.length - 3), /run past the \d+-byte data area \(truncated\?\)/);
  });
});
