// Checkpoint files on disk (issue 16, items 2, 4 and 6): written and read tensor by tensor (the same bytes as the
// in-memory encoder), every tensor and the metadata checked against their CRC-32, a step in the file name that is
// not the step inside refused, shapes checked against the saved configuration, and only regular files read.
import { execFileSync } from 'node:child_process';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config';
import type { ObservatoryState } from '../../src/engine/observatory';
import type { TrainerState } from '../../src/engine/trainer';
import { checkFileNameStep } from '../../src/io/atomic-file';
import {
  CheckpointError,
  checkpointFromSafetensors,
  checkpointToSafetensors,
  checkShapesMatchConfig,
  planCheckpoint,
  sealCheckpoint,
} from '../../src/io/checkpoint';
import { readCheckpointFile, writeCheckpointFile } from '../../src/io/checkpoint-file';
import { crc32 } from '../../src/io/crc32';
import { decodeSafetensors, encodeSafetensors, layoutSafetensors } from '../../src/io/safetensors';
import { openSafetensorsFile, writeSafetensorsFile } from '../../src/io/safetensors-file';

const config = parseRunConfig({
  inputSize: 3,
  hidden: [{ width: 5 }],
  dataset: { kind: 'gaussian_mixture', samples: 64, classes: 2 },
  steps: 100,
  snapshot: { every: 10, probeSize: 16 },
});

/** A state of the shape a trainer of `config` (3 -> 5 -> 2, Adam) produces, with an observatory. */
function state(): { trainer: TrainerState; observatory: ObservatoryState } {
  let seed = 7;
  const random = (n: number) => Float32Array.from({ length: n }, () => ((seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32) * 2 - 1);
  const layers = [
    [3, 5],
    [5, 2],
  ].map(([fanIn, fanOut]) => ({
    weights: random(fanIn * fanOut),
    bias: random(fanOut),
    weightState: [random(fanIn * fanOut), random(fanIn * fanOut)],
    biasState: [random(fanOut), random(fanOut)],
  }));
  const stepState = new Uint32Array(8);
  stepState[0] = 40;
  return {
    trainer: { step: 40, optimizer: 'adam', stepState, layers, lossHistory: random(16) },
    observatory: { unitHistory: [Uint32Array.from({ length: 5 * 8 }, (_, i) => i)], lastSnapshotStep: 40, skipped: 0 },
  };
}

function caught(f: () => unknown): CheckpointError {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}

async function caughtAsync(p: Promise<unknown>): Promise<CheckpointError> {
  try {
    await p;
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}

describe('checkpoint files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-ckptfiles-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('CRC-32 is the standard one (zlib, PNG, Python zlib.crc32), also when continued', () => {
    expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    const bytes = Uint8Array.from({ length: 1001 }, (_, i) => (i * 2654435761) >>> 24);
    expect(crc32(bytes)).toBe(zlibCrc32(bytes));
    expect(crc32(bytes.subarray(300), crc32(bytes.subarray(0, 300)))).toBe(crc32(bytes));
  });

  it('streams the same bytes as the in-memory encoder, in chunks of any size, and reads them back', async () => {
    const s = state();
    const expected = checkpointToSafetensors(s, config);
    const path = join(dir, 'checkpoint-0000000040.safetensors');
    await writeCheckpointFile(path, s, config, { chunkBytes: 7 });
    expect(Buffer.from(await readFile(path)).equals(Buffer.from(expected))).toBe(true);
    for (const chunkBytes of [3, 64, 1 << 20]) {
      const back = await readCheckpointFile(path, { chunkBytes });
      expect(back.trainer).toEqual(s.trainer);
      expect(back.observatory).toEqual(s.observatory);
      expect(back.config).toEqual(JSON.parse(JSON.stringify(config)));
    }
  });

  it('stores a CRC-32 per tensor and of the metadata, and keeps the tensor bytes as they were', () => {
    const s = state();
    const { tensors, metadata } = decodeSafetensors(checkpointToSafetensors(s, config));
    expect(metadata['crc32.layers.1.weight']).toBe(zlibCrc32(new Uint8Array(s.trainer.layers[0].weights.buffer)).toString(16).padStart(8, '0'));
    expect(Object.keys(metadata).filter((k) => k.startsWith('crc32.')).length).toBe(Object.keys(tensors).length + 1);
    // Without the checksums the file is byte for byte what an encoder of the same tensors writes.
    expect(
      Buffer.from(new Uint8Array(tensors['layers.2.bias.adam_v'].data.buffer)).equals(Buffer.from(new Uint8Array(s.trainer.layers[1].biasState[1].buffer))),
    ).toBe(true);
  });

  it('refuses a flipped bit in any tensor, naming the tensor; and a flipped digit in the metadata', async () => {
    const good = checkpointToSafetensors(state(), config);
    const { header, order } = layoutSafetensors(decodeSafetensors(good).tensors, decodeSafetensors(good).metadata);
    // The last byte of the data area belongs to the last tensor in file order.
    const bad = good.slice();
    bad[bad.length - 1] ^= 0x10;
    const e = caught(() => checkpointFromSafetensors(bad));
    expect(e.message).toMatch(
      new RegExp(`tensor "${order[order.length - 1].replace(/\./g, '\\.')}": checksum [0-9a-f]{8} does not match the stored [0-9a-f]{8}`),
    );
    expect(e.field).toBe('checksum');
    // The same through the file reader, with the file named.
    const path = join(dir, 'flipped.safetensors');
    await writeFile(path, bad);
    expect((await caughtAsync(readCheckpointFile(path))).message).toMatch(new RegExp(`^${path.replace(/\./g, '\\.')}: tensor ".+": checksum`));
    // A byte in the middle of the first tensor too (a float's low bits: the value stays finite and plausible).
    const middle = good.slice();
    middle[header.length + 1] ^= 0x01;
    expect(caught(() => checkpointFromSafetensors(middle)).message).toMatch(new RegExp(`tensor "${order[0].replace(/\./g, '\\.')}": checksum`));
    // A digit of the metadata: "observatory.skipped": "0" -> "8" (same length, still valid JSON).
    const text = Buffer.from(good).toString('latin1');
    const at = text.indexOf('"observatory.skipped":"0"') + '"observatory.skipped":"'.length;
    const digit = good.slice();
    digit[at] = '8'.charCodeAt(0);
    expect(caught(() => checkpointFromSafetensors(digit)).message).toMatch(
      /the metadata's checksum \(crc32.__metadata__ = [0-9a-f]{8}\) does not match its contents/,
    );
  });

  it('reads a file written before checksums, unverified; a file with some checksums missing is refused', () => {
    const { tensors, metadata } = decodeSafetensors(checkpointToSafetensors(state(), config));
    const legacy = Object.fromEntries(Object.entries(metadata).filter(([k]) => !k.startsWith('crc32.')));
    expect(checkpointFromSafetensors(encodeSafetensors(tensors, legacy)).step).toBe(40);
    expect(planCheckpoint(tensors, legacy).checksums).toBeNull();
    const partial = { ...sealCheckpoint(tensors, legacy) };
    delete partial['crc32.loss_history'];
    partial['crc32.__metadata__'] = sealCheckpoint({}, partial)['crc32.__metadata__'];
    expect(caught(() => checkpointFromSafetensors(encodeSafetensors(tensors, partial))).message).toMatch(/metadata "crc32.loss_history" is missing/);
  });

  it('refuses a checkpoint whose file name names another step than its content', async () => {
    expect(() => checkFileNameStep('/x/checkpoint-0000000040.safetensors', 40)).not.toThrow();
    expect(() => checkFileNameStep('/x/any-name.safetensors', 40)).not.toThrow();
    expect(caught(() => checkFileNameStep('/x/checkpoint-0000000050.safetensors', 40)).message).toBe(
      '/x/checkpoint-0000000050.safetensors: the file name says step 50 but the checkpoint inside is of step 40 (a file renamed or copied over another?)',
    );
  });

  it("refuses tensors whose shapes are not those of the checkpoint's configuration, naming the tensor and the field", () => {
    const plan = planCheckpoint(
      decodeSafetensors(checkpointToSafetensors(state(), config)).tensors,
      decodeSafetensors(checkpointToSafetensors(state(), config)).metadata,
    );
    expect(() => checkShapesMatchConfig(plan, config)).not.toThrow();
    const wider = parseRunConfig({ ...JSON.parse(JSON.stringify(config)), hidden: [{ width: 6 }] });
    const e = caught(() => checkShapesMatchConfig(plan, wider));
    expect(e.message).toBe('tensor "layers.1.weight": shape [3, 5]; its configuration (hidden[0].width = 6) needs [3, 6]');
    expect(e.tensor).toBe('layers.1.weight');
    const deeper = parseRunConfig({ ...JSON.parse(JSON.stringify(config)), hidden: [{ width: 5 }, { width: 5 }] });
    expect(caught(() => checkShapesMatchConfig(plan, deeper)).message).toMatch(
      /holds 2 weight layers; its configuration has 2 hidden layers and an output layer \(3\)/,
    );
    const otherInput = parseRunConfig({ ...JSON.parse(JSON.stringify(config)), inputSize: 4 });
    expect(caught(() => checkShapesMatchConfig(plan, otherInput)).message).toMatch(/\(inputSize = 4\) needs \[4, 5\]/);
  });

  it('reads tensors past 2 GiB and 4 GiB of a sparse file without reading the rest (fs.readFile cannot read it at all)', async () => {
    // 4 GiB + 16 bytes of zeros (a hole: no disk, no memory), then a small tensor.
    const holeBytes = 2 ** 32 + 16;
    const tail = Float32Array.from([1.5, -2, 3.25, 1e-30]);
    const header = layoutSafetensors({ tail: { dtype: 'F32', shape: [4], data: tail } }, { note: 'sparse' });
    // Rewrite the header by hand: a U8 tensor "hole" first, then "tail".
    const json = JSON.stringify({
      __metadata__: { note: 'sparse' },
      hole: { dtype: 'U8', shape: [holeBytes], data_offsets: [0, holeBytes] },
      tail: { dtype: 'F32', shape: [4], data_offsets: [holeBytes, holeBytes + 16] },
    });
    expect(header.order).toEqual(['tail']);
    const headerBytes = new Uint8Array(8 + json.length);
    new DataView(headerBytes.buffer).setUint32(0, json.length, true);
    headerBytes.set(new TextEncoder().encode(json), 8);
    const path = join(dir, 'sparse.safetensors');
    const handle = await open(path, 'w');
    await handle.write(headerBytes, 0, headerBytes.length, 0);
    await handle.write(new Uint8Array(tail.buffer), 0, 16, headerBytes.length + holeBytes);
    await handle.close();

    await expect(readFile(path)).rejects.toThrow(/ERR_FS_FILE_TOO_LARGE|File size .* is greater than/);
    const file = await openSafetensorsFile(path);
    try {
      expect(file.size).toBe(headerBytes.length + holeBytes + 16);
      expect(file.entries.map((e) => [e.name, e.begin])).toEqual([
        ['hole', 0],
        ['tail', holeBytes],
      ]);
      const { tensor, crc } = await file.readTensor('tail');
      expect(Array.from(tensor.data)).toEqual(Array.from(tail));
      expect(crc).toBe(crc32(new Uint8Array(tail.buffer)));
    } finally {
      await file.close();
    }
  });

  it('refuses to read anything but a regular file: a device, a FIFO, a folder', async () => {
    for (const [path, kind] of [
      ['/dev/zero', 'a device'],
      [dir, 'a folder'],
    ] as const) {
      const e = await caughtAsync(openSafetensorsFile(path));
      expect(e.message).toBe(`${path}: is ${kind}, not a regular file`);
    }
    const fifo = join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    // Opening a FIFO for reading blocks until a writer comes, unless it is refused first: this must return.
    expect((await caughtAsync(openSafetensorsFile(fifo))).message).toBe(`${fifo}: is a FIFO (named pipe), not a regular file`);
  });
});
