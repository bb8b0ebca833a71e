// Your own data, without a GPU: CSV header detection that never drops a data row, the task and sizes inferred
// from the files (or the field to set), size limits before reading, and the CLI's flags turned into a configuration.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromFlags } from '../../src/cli/commands/run-options';
import { runDataOf, withRecordedFiles } from '../../src/cli/data-files';
import { ConfigError, parseRunConfig } from '../../src/config';
import { checkFileSize, DataError, encodeNpy, parseCsv, userDataset, type DataFile } from '../../src/data';

const csv = (name: string, text: string): DataFile => ({ name, bytes: new TextEncoder().encode(text) });

describe('CSV header detection', () => {
  it.each([
    ['nan,1,0\n2,3,1\n', 'd.csv: line 1, column 1: nan (NaN or infinity); data must be finite'],
    ['1,NaN,0\n2,3,1\n', 'd.csv: line 1, column 2: NaN (NaN or infinity)'],
    ['1,-inf,0\n2,3,1\n', 'd.csv: line 1, column 2: -inf (NaN or infinity)'],
    ['1,2,abc\n2,3,1\n', 'd.csv: line 1, column 3: "abc" is not a number (if line 1 is a header, say so: header true, or --header yes)'],
    ['x1,2,label\n2,3,1\n', 'd.csv: line 1, column 1: "x1" is not a number (if line 1 is a header'],
    // A header with a column named "inf" is not taken for one (no data row is ever dropped): the message says how.
    [
      'inf,b,label\n2,3,1\n',
      'd.csv: line 1, column 1: inf (NaN or infinity); data must be finite (if line 1 is a header, say so: header true, or --header yes)',
    ],
  ])('a first row with a value in it is data, and a bad cell in it an error: %j', (text, message) => {
    expect(() => parseCsv(text, { name: 'd.csv' })).toThrow(DataError);
    expect(() => parseCsv(text, { name: 'd.csv' })).toThrow(message);
  });

  it('a row of names is a header (also with the empty corner pandas writes); header false reads it as data', () => {
    expect(parseCsv('a,b,label\n1,2,0\n')).toMatchObject({ samples: 1, header: ['a', 'b'], labelName: 'label' });
    expect(parseCsv(',a,label\n0,1.5,1\n1,2.5,0\n')).toMatchObject({ samples: 2, header: ['', 'a'] });
    expect(() => parseCsv('a,b,label\n1,2,0\n', { name: 'd.csv', header: false })).toThrow('d.csv: line 1, column 1: "a" is not a number');
    expect(parseCsv('1,2,0\n3,4,1\n')).toMatchObject({ samples: 2, header: null });
  });

  it('says when it took the first line as a header', () => {
    const t = userDataset(csv('t.csv', 'a,b,label\n1,2,0\n3,4,1\n'), undefined, {}, { loss: 'softmax_ce' });
    expect(t.notes).toEqual(['t.csv: line 1 read as a header (a, b, label); set header false (--header no) if it is data']);
    expect(userDataset(csv('t.csv', 'a,b,label\n1,2,0\n3,4,1\n'), undefined, { header: true }, { loss: 'softmax_ce' }).notes).toEqual([]);
  });
});

describe('what the files say about the run', () => {
  const x = csv('x.csv', '1,2\n3,4\n5,6\n');
  it('labels from a named CSV column; sizes and loss from the values', () => {
    const d = userDataset(csv('t.csv', 'a,kind,b\n1,0,2\n3,1,4\n5,1,6\n'), undefined, { labelColumn: 'kind' }, { loss: 'softmax_ce' });
    expect(d).toMatchObject({ inputSize: 2, outputSize: 2, loss: 'softmax_ce' });
    expect(Array.from(d.dataset.inputs)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(userDataset(x, csv('y.csv', '0.5,1\n1.5,2\n2.5,3\n'))).toMatchObject({ outputSize: 2, loss: 'mse' });
    expect(userDataset(x, csv('y.csv', '0.5\n1\n2\n'))).toMatchObject({ outputSize: 1, loss: 'mse' });
  });

  it('names the field to set when the files cannot decide, or disagree with the configuration', () => {
    expect(() => userDataset(x, csv('y.csv', '0\n1\n2\n'))).toThrow(/loss: the targets \(y\.csv\) are whole numbers from 0 to 2 stored in a CSV/);
    expect(() => userDataset(x, csv('y.csv', '0\n1\n5\n'), {}, { loss: 'softmax_ce', outputSize: 3 })).toThrow(
      /outputSize: 3 classes, but y\.csv has label 5 at row 2/,
    );
    expect(() => userDataset(x, csv('y.csv', '0.5\n1\n2\n'), {}, { outputSize: 2 })).toThrow(/outputSize: 2 does not match the 1 target columns of y\.csv/);
    expect(() => userDataset({ name: 'x.npy', bytes: encodeNpy(new Float32Array(4), [2, 2]) }, undefined)).toThrow(
      /dataset\.targets: is required with \.npy inputs/,
    );
    expect(() => userDataset(x, csv('y.csv', '0\n1\n2\n'), { labelColumn: 1 })).toThrow(/dataset\.labelColumn: applies to a CSV without a targets file/);
    expect(() => userDataset({ name: 'x.bin', bytes: new Uint8Array(8) }, x)).toThrow(/x\.bin: not a \.npy or \.csv file/);
  });

  it('refuses a file too big for a data set before reading it, with the numbers', () => {
    expect(() => checkFileSize('big.npy', 'npy', 300 * 2 ** 20)).toThrow(
      'big.npy: 300.0 MiB is too big: a data set holds at most 33554432 values (128.0 MiB of float32), which a .npy file of at most 256.1 MiB can hold',
    );
    expect(() => checkFileSize('ok.npy', 'npy', 256 * 2 ** 20)).not.toThrow();
  });
});

describe('the CLI flags for your own data', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'deadunits-userdata-'));
    const x = new Float32Array(40 * 3).map((_, i) => Math.sin(i));
    await writeFile(join(dir, 'x.npy'), encodeNpy(x, [40, 3]));
    await writeFile(
      join(dir, 'y.npy'),
      encodeNpy(
        new Int32Array(40).map((_, i) => i % 4),
        [40],
      ),
    );
    await writeFile(join(dir, 'y.csv'), Array.from({ length: 40 }, (_, i) => String(i % 4)).join('\n'));
    await writeFile(
      join(dir, 'cfg.json'),
      JSON.stringify({ dataset: { kind: 'file', inputs: 'x.npy', targets: 'y.npy' }, batchSize: 8, steps: 10, snapshot: { every: 5 } }),
    );
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('--data / --targets: sizes and loss from the files, their size and SHA-256 recorded, the preset for the rest', async () => {
    const { config, name } = await configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.npy'), set: ['batchSize=16'] });
    expect(name).toBe('dropout_only-x');
    expect(config).toMatchObject({ inputSize: 3, outputSize: 4, loss: 'softmax_ce', batchSize: 16 });
    expect(config.dataset).toEqual({
      kind: 'file',
      name: 'x.npy',
      inputs: { path: join(dir, 'x.npy'), bytes: 128 + 40 * 3 * 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
      targets: { path: join(dir, 'y.npy'), bytes: 128 + 40 * 4, sha256: expect.stringMatching(/^[0-9a-f]{64}$/) },
    });
    const data = await runDataOf(config);
    expect(data.dataset).toMatchObject({ samples: 40, inputSize: 3, outputSize: 4, kind: 'classification' });
    expect(data.probe.samples).toBe(40); // the preset's probe size (256) capped at the samples
  });

  it('the probe follows snapshot.probe as for generated data: auto probes all rows up to 4,096, sample keeps probeSize', async () => {
    const x = new Float32Array(300 * 3).map((_, i) => Math.cos(i));
    await writeFile(join(dir, 'x300.npy'), encodeNpy(x, [300, 3]));
    await writeFile(
      join(dir, 'y300.npy'),
      encodeNpy(
        new Int32Array(300).map((_, i) => i % 4),
        [300],
      ),
    );
    const files = { data: join(dir, 'x300.npy'), targets: join(dir, 'y300.npy') };
    const auto = await configFromFlags({ ...files, set: ['batchSize=16'] });
    expect((await runDataOf(auto.config)).probe.samples).toBe(300);
    const sample = await configFromFlags({ ...files, set: ['batchSize=16', 'snapshot.probe="sample"'] });
    expect((await runDataOf(sample.config)).probe.samples).toBe(256);
  });

  it('a config file names its files relative to itself; --set loss decides whole-number targets', async () => {
    const { config } = await configFromFlags({ config: join(dir, 'cfg.json') });
    expect(config).toMatchObject({ inputSize: 3, outputSize: 4, loss: 'softmax_ce', steps: 10 });
    await expect(configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.csv'), set: ['batchSize=8'] })).rejects.toThrow(/loss: the targets/);
    const mse = await configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.csv'), set: ['batchSize=8', 'loss=mse'] });
    expect(mse.config).toMatchObject({ outputSize: 1, loss: 'mse' });
  });

  it('errors name the flag or the field', async () => {
    await expect(configFromFlags({ targets: 'y.npy' })).rejects.toThrow(/--targets: applies to your own data: give --data too/);
    await expect(configFromFlags({ data: join(dir, 'nope.npy'), targets: join(dir, 'y.npy') })).rejects.toThrow(
      /dataset\.inputs: cannot read .*nope\.npy: no such file/,
    );
    await expect(configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.npy') })).rejects.toThrow(
      /batchSize: 64 is larger than the data set's 40 samples/,
    );
    await expect(configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.npy'), set: ['batchSize=8', 'inputSize=5'] })).rejects.toThrow(ConfigError);
  });

  it('a changed file is refused by name; an unchanged one is read again', async () => {
    const { config } = await configFromFlags({ data: join(dir, 'x.npy'), targets: join(dir, 'y.npy'), set: ['batchSize=8'] });
    expect(await withRecordedFiles(config)).toBe(config);
    await writeFile(
      join(dir, 'y.npy'),
      encodeNpy(
        new Int32Array(40).map((_, i) => (i + 1) % 4),
        [40],
      ),
    );
    await expect(runDataOf(config)).rejects.toThrow(
      new RegExp(`dataset\\.targets: ${join(dir, 'y.npy').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} has changed since the run recorded it`),
    );
    const unrecorded = parseRunConfig({ ...config, dataset: { kind: 'file', inputs: join(dir, 'x.npy'), targets: join(dir, 'y.npy') } });
    expect((await withRecordedFiles(unrecorded)).dataset).toMatchObject({ targets: { sha256: expect.stringMatching(/^[0-9a-f]{64}$/) } });
  });
});
