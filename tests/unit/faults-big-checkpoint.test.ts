// A checkpoint over 2 GiB (issue 16, item 2): Node cannot read such a file into one buffer (ERR_FS_FILE_TOO_LARGE,
// what `inspect` and `resume` failed with), so checkpoints are read tensor by tensor. The file here is a valid
// checkpoint of a 4096 -> 4096 x 12 -> 10 Adam net (2.3 GB), generated sparse: its zero tensors are holes, so it
// takes no disk, and reading it holds one 64 MiB tensor at a time, not 2.3 GB.
import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inspectCheckpoint } from '../../src/cli/commands/inspect';
import { readTorchModel } from '../../src/cli/init-from';
import { parseRunConfig } from '../../src/config';
import { sealCheckpoint, unsealedContents } from '../../src/io/checkpoint';
import { scanCheckpointFile } from '../../src/io/checkpoint-file';
import { fileBytesOf, layoutSafetensors, type Tensor } from '../../src/io/safetensors';

const WIDTH = 4096;
const HIDDEN = 12;
const config = parseRunConfig({
  inputSize: WIDTH,
  hidden: Array.from({ length: HIDDEN }, () => ({ width: WIDTH })),
  dataset: { kind: 'gaussian_mixture', samples: 1024, classes: 10 },
  optimizer: { kind: 'adam' },
  steps: 1000,
  snapshot: { every: 100, probeSize: 16 },
});

/** Writes the checkpoint: header and the non-zero tensors; the zero tensors stay holes. Returns its size. */
async function writeSparseCheckpoint(path: string): Promise<number> {
  // Every weight-sized tensor shares one zero array (one 64 MiB allocation), every bias-sized one another.
  const zeroWeights = new Float32Array(WIDTH * WIDTH);
  const zeroBias = new Float32Array(WIDTH);
  const widths = [WIDTH, ...Array.from({ length: HIDDEN }, () => WIDTH), 10];
  const layers = widths.slice(1).map((fanOut, i) => {
    const weights = fanOut === WIDTH ? zeroWeights : new Float32Array(widths[i] * fanOut);
    const bias = fanOut === WIDTH ? zeroBias : new Float32Array(fanOut);
    return { weights, bias, weightState: [weights, weights], biasState: [bias, bias] };
  });
  const stepState = new Uint32Array(8);
  stepState[0] = 1000;
  const { tensors, metadata: plain } = unsealedContents(
    {
      trainer: { step: 1000, optimizer: 'adam', stepState, layers, lossHistory: Float32Array.from({ length: 4096 }, (_, i) => 1 / (i + 1)) },
      observatory: { unitHistory: Array.from({ length: HIDDEN }, () => new Uint32Array(WIDTH * 8)), lastSnapshotStep: 1000, skipped: 0 },
    },
    config,
  );
  // Sealed with a memoized native CRC: the shared zero arrays are hashed once, not 36 times.
  const memo = new Map<unknown, number>();
  const metadata = sealCheckpoint(tensors, plain, (t: Tensor) => {
    if (!memo.has(t.data)) memo.set(t.data, zlibCrc32(fileBytesOf(t)));
    return memo.get(t.data)!;
  });
  const layout = layoutSafetensors(tensors, metadata);
  const handle = await open(path, 'w');
  try {
    await handle.write(layout.header, 0, layout.header.length, 0);
    let at = layout.header.length;
    for (const name of layout.order) {
      const data = tensors[name].data;
      if (data !== zeroWeights && data !== zeroBias && data.some((v) => v !== 0)) await handle.write(fileBytesOf(tensors[name]), 0, data.byteLength, at);
      at += data.byteLength;
    }
    await handle.truncate(at);
    return at;
  } finally {
    await handle.close();
  }
}

describe('a checkpoint over 2 GiB', () => {
  let dir: string;
  let path: string;
  let size: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-bigckpt-'));
    path = join(dir, 'checkpoint-0000001000.safetensors');
    size = await writeSparseCheckpoint(path);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is what a whole-file read cannot load', async () => {
    expect(size).toBeGreaterThan(2 ** 31);
    await expect(readFile(path)).rejects.toThrow(/ERR_FS_FILE_TOO_LARGE|File size .* is greater than/);
  });

  it('is read, checksum-verified and summarized by inspect, one tensor at a time', { timeout: 120_000 }, async () => {
    const peakBefore = process.resourceUsage().maxRSS * 1024;
    const s = await inspectCheckpoint(path);
    const peakGrowth = process.resourceUsage().maxRSS * 1024 - peakBefore;
    expect(s.fileBytes).toBe(size);
    expect(s.step).toBe(1000);
    expect(s.checksums).toBe('verified');
    expect(s.configValid).toBe(true);
    expect(s.tensors).toHaveLength(3 * 2 * (HIDDEN + 1) + 2 + HIDDEN);
    expect(s.tensors.find((t) => t.name === 'layers.7.weight.adam_v')).toMatchObject({ shape: [WIDTH, WIDTH], bytes: 4 * WIDTH * WIDTH, min: 0, max: 0 });
    expect(s.tensors.find((t) => t.name === 'loss_history')!.max).toBe(1);
    expect(s.observatory!.layers).toHaveLength(HIDDEN);
    // Reading the whole file into memory would need its 2.3 GB; a tensor at a time needs about one 64 MiB tensor
    // (plus what the garbage collector has not yet freed).
    expect(peakGrowth).toBeLessThan(1024 * 2 ** 20);
  });

  it('is scanned by the same reader resume uses, which finds a damaged tensor past the 2 GiB mark', { timeout: 120_000 }, async () => {
    // Flip one byte of the last weight-sized tensor before the output layer's (its data lies past 2 GiB).
    const file = await open(path, 'r+');
    const offset = size - 4 * 10 * 4096 * 3 - 4 * 10 * 3 - 1000;
    try {
      await file.write(Uint8Array.of(1), 0, 1, offset);
      let seen = 0;
      await expect(scanCheckpointFile(path, () => void seen++)).rejects.toThrow(/checksum [0-9a-f]{8} does not match the stored/);
      expect(seen).toBeGreaterThan(0);
    } finally {
      await file.write(Uint8Array.of(0), 0, 1, offset);
      await file.close();
    }
  });
});

// The same limit for a model given to --init-from or inspect --probe (a PyTorch state dict): it used to be read
// whole, and failed past 2 GiB with Node's ERR_FS_FILE_TOO_LARGE as "an unexpected error". Here 1 -> 90,000,000 -> 1
// in float64 (2.16 GB, sparse: its zero weights are holes), hashed as a stream and read tensor by tensor.
describe('a PyTorch state dict over 2 GiB', () => {
  const W = 90_000_000;
  let dir: string;
  let path: string;
  let size: number;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-bigmodel-'));
    path = join(dir, 'model.safetensors');
    // The header written by hand (safetensors: 8-byte length, JSON padded to 8): the data, zeros but for the
    // last bias, stays a hole in the file.
    const entries: [string, number[]][] = [
      ['0.weight', [W, 1]],
      ['0.bias', [W]],
      ['2.weight', [1, W]],
      ['2.bias', [1]],
    ];
    let offset = 0;
    const json: Record<string, unknown> = {};
    for (const [name, shape] of entries) {
      const bytes = 8 * shape.reduce((x, y) => x * y, 1);
      json[name] = { dtype: 'F64', shape, data_offsets: [offset, offset + bytes] };
      offset += bytes;
    }
    const text = JSON.stringify(json);
    const padded = new TextEncoder().encode(text + ' '.repeat((8 - (text.length % 8)) % 8));
    const header = new Uint8Array(8 + padded.length);
    new DataView(header.buffer).setBigUint64(0, BigInt(padded.length), true);
    header.set(padded, 8);
    const handle = await open(path, 'w');
    try {
      await handle.write(header, 0, header.length, 0);
      size = header.length + offset;
      await handle.write(new Uint8Array(Float64Array.of(0.5).buffer), 0, 8, size - 8);
    } finally {
      await handle.close();
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is read for --init-from, its size and SHA-256 recorded, and a changed one refused', { timeout: 300_000 }, async () => {
    expect(size).toBeGreaterThan(2 ** 31);
    const { file, model } = await readTorchModel({ path });
    expect(file).toMatchObject({ path, size });
    expect(file.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(model).toMatchObject({ inputSize: 1, widths: [W], outputSize: 1, names: ['0.weight', '2.weight'] });
    expect(model.layers[1].bias).toEqual(Float32Array.of(0.5));
    await expect(readTorchModel({ path, bytes: size, sha256: '0'.repeat(64) })).rejects.toThrow(`initFrom: ${path} has changed since the run recorded it`);
  });
});
