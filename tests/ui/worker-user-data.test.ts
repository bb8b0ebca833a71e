// The Worker's side of the page's own data sets, without a GPU: the files are hashed and parsed as the CLI does, the
// page gets what to put in the configuration, runs find their data set by hash, and files too big for a data set or
// for the adapter are refused with the numbers before anything is allocated on the GPU.
import { describe, expect, it } from 'vitest';
import { parseRunConfig } from '../../src/config';
import { encodeNpy } from '../../src/data';
import { parseWorkerCommand } from '../../src/ui/protocol';
import { sha256Hex, UserDataStore } from '../../src/ui/worker/user-data-store';

const buffer = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer as ArrayBuffer;
const x = buffer(
  encodeNpy(
    new Float32Array(60).map((_, i) => Math.cos(i)),
    [20, 3],
  ),
);
const y = buffer(
  encodeNpy(
    new Int32Array(20).map((_, i) => i % 3),
    [20],
  ),
);

describe('UserDataStore', () => {
  it('hashes and parses the files, and a run naming them by hash gets the data set and its probe rows', async () => {
    const store = new UserDataStore(() => 128 * 2 ** 20);
    const summary = await store.load({ inputs: { name: 'x.npy', bytes: x }, targets: { name: 'y.npy', bytes: y } });
    expect(summary).toEqual({
      dataset: {
        kind: 'file',
        name: 'x.npy',
        inputs: { path: 'x.npy', bytes: x.byteLength, sha256: await sha256Hex(x) },
        targets: { path: 'y.npy', bytes: y.byteLength, sha256: await sha256Hex(y) },
      },
      inputSize: 3,
      outputSize: 3,
      loss: 'softmax_ce',
      samples: 20,
      notes: [],
    });
    const config = parseRunConfig({ dataset: summary.dataset, inputSize: 3, outputSize: 3, loss: 'softmax_ce', batchSize: 8, hidden: [{ width: 8 }] });
    expect(store.has(config)).toBe(true);
    const data = store.runData(config);
    expect(data.dataset.samples).toBe(20);
    expect(data.probe.samples).toBe(20);
    // More classes than the labels use is the configuration's choice.
    expect(store.runData({ ...config, outputSize: 5 }).dataset.outputSize).toBe(5);
  });

  it('a run on files this Worker never saw names the file to choose again', () => {
    const store = new UserDataStore(() => null);
    const config = parseRunConfig({
      dataset: { kind: 'file', inputs: { path: 'x.npy', sha256: 'a'.repeat(64) } },
      inputSize: 3,
      outputSize: 3,
      loss: 'softmax_ce',
    });
    expect(store.has(config)).toBe(false);
    expect(() => store.runData(config)).toThrow('x.npy (SHA-256 aaaaaaaaaaaa…) is not loaded: choose or drop the file again');
  });

  it('refuses data too big for a data set from the file size, and too big for the adapter with its limit', async () => {
    const store = new UserDataStore(() => 100);
    await expect(store.load({ inputs: { name: 'huge.npy', bytes: new ArrayBuffer(300 * 2 ** 20) }, targets: { name: 'y.npy', bytes: y } })).rejects.toThrow(
      /huge\.npy: 300\.0 MiB is too big: a data set holds at most 33554432 values/,
    );
    await expect(store.load({ inputs: { name: 'x.npy', bytes: x }, targets: { name: 'y.npy', bytes: y } })).rejects.toThrow(
      "x.npy: 20 rows × 3 features = 240 B of float32, more than this adapter's largest storage buffer (100 B): use fewer rows or features",
    );
  });

  it('the data command carries the files as ArrayBuffers and is checked on arrival', () => {
    expect(parseWorkerCommand({ type: 'data', id: 1, inputs: { name: 'x.npy', bytes: x }, loss: 'mse' })).toMatchObject({ type: 'data', loss: 'mse' });
    expect(() => parseWorkerCommand({ type: 'data', id: 1, inputs: { name: 'x.npy', bytes: 'no' } })).toThrow(/worker command "data": field inputs\.bytes/);
  });
});
