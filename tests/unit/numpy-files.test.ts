// Real files written by NumPy (np.save, np.savetxt), read by src/data: every dtype the .npy loader claims (and
// float16, which it refuses) in both byte orders, the shapes a data set takes, and the errors (non-finite values,
// Fortran order) naming where.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config';
import { DataError, parseNpy, userDataset, type DataFile } from '../../src/data';
import { runPython } from '../python';

/** Every dtype src/data/npy.ts reads, as NumPy spells it. */
const DTYPES = ['float32', 'float64', 'int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

const WRITE = `
import json, sys
import numpy as np
out = sys.argv[1]
dtypes = json.loads(sys.argv[2])
expected = {}
def save(name, a):
    np.save(f"{out}/{name}.npy", a)
    expected[name] = {"shape": list(a.shape), "values": a.astype(np.float32).ravel().tolist()}
for d in dtypes:
    if d == "bool":
        a = (np.arange(12).reshape(3, 4) % 3 == 0)
    elif d.startswith("float"):
        a = (np.arange(12).reshape(3, 4) - 5.5).astype(d) / 4
    elif d.startswith("uint"):
        a = (np.arange(12).reshape(3, 4) * 11).astype(d)
    else:
        a = (np.arange(12).reshape(3, 4) * 9 - 50).astype(d)
    save(d, a)
    if a.dtype.itemsize > 1:
        save(d + "_be", a.astype(a.dtype.newbyteorder(">")))
save("labels_int64", np.array([0, 2, 1, 2, 0, 1], dtype=np.int64))
save("labels_uint8_col", np.array([[1], [0], [1], [1], [0], [0]], dtype=np.uint8))
save("values_f8", np.array([0.5, -1.25, 3.0, 2.0, 0.0, 1.5]))
save("whole_f4", np.array([0, 1, 2, 1, 0, 2], dtype=np.float32))
save("x6", np.arange(18, dtype=np.float32).reshape(6, 3) / 7)
save("x3d", np.zeros((2, 3, 4), dtype=np.float32))
nan = np.ones((3, 4), dtype=np.float64); nan[1, 2] = np.nan; np.save(f"{out}/nan.npy", nan)
inf = np.ones((3, 4), dtype=np.float32); inf[2, 0] = -np.inf; np.save(f"{out}/inf.npy", inf)
big = np.ones((2, 2)); big[0, 1] = 1e39; np.save(f"{out}/big.npy", big)
np.save(f"{out}/half.npy", np.ones(3, dtype=np.float16))
np.save(f"{out}/fortran.npy", np.asfortranarray(np.ones((3, 4), dtype=np.float32)))
np.savetxt(f"{out}/table.csv", np.c_[np.arange(12).reshape(6, 2) / 4, [0, 1, 2, 0, 1, 2]], delimiter=",", header="a,b,label", comments="")
np.savetxt(f"{out}/nan-first.csv", np.array([[1.0, np.nan, 0], [2.0, 3.0, 1]]), delimiter=",")
print(json.dumps(expected))
`;

let dir: string;
let expected: Record<string, { shape: number[]; values: number[] }>;
const file = (name: string): DataFile => ({ name, bytes: new Uint8Array(readFileSync(join(dir, name))) });

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'deadunits-numpy-'));
  expected = JSON.parse(runPython(['numpy'], WRITE, [dir, JSON.stringify(DTYPES)]));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('.npy files written by NumPy', () => {
  it.each(DTYPES.flatMap((d) => (d === 'int8' || d === 'uint8' || d === 'bool' ? [d] : [d, `${d}_be`])))('%s: values and shape as NumPy has them', (name) => {
    const a = parseNpy(file(`${name}.npy`).bytes, { name });
    expect(a.dtype).toBe(name.replace(/_be$/, ''));
    expect(a.shape).toEqual(expected[name].shape);
    expect(Array.from(a.data)).toEqual(expected[name].values);
  });

  it('non-finite values are errors naming row and column', () => {
    expect(() => parseNpy(file('nan.npy').bytes, { name: 'nan.npy' })).toThrow('nan.npy: NaN at row 1, column 2 (0-based); data must be finite');
    expect(() => parseNpy(file('inf.npy').bytes, { name: 'inf.npy' })).toThrow('inf.npy: -Infinity at row 2, column 0 (0-based)');
    expect(() => parseNpy(file('big.npy').bytes, { name: 'big.npy' })).toThrow('big.npy: value 1e+39 at row 0, column 1 (0-based) does not fit in float32');
    expect(() => parseNpy(file('half.npy').bytes, { name: 'half.npy' })).toThrow("half.npy: unsupported dtype '<f2'");
    expect(() => parseNpy(file('fortran.npy').bytes, { name: 'fortran.npy' })).toThrow(/Fortran \(column-major\) order is not supported/);
  });

  it('integer and bool labels are classes; fractional values are regression; whole floats ask for the loss', () => {
    const x = file('x6.npy');
    const c = userDataset(x, file('labels_int64.npy'));
    expect(c).toMatchObject({ inputSize: 3, outputSize: 3, loss: 'softmax_ce' });
    expect(Array.from(c.dataset.targets)).toEqual([0, 2, 1, 2, 0, 1]);
    expect(Array.from(c.dataset.inputs)).toEqual(expected.x6.values);
    expect(userDataset(x, file('labels_uint8_col.npy'))).toMatchObject({ outputSize: 2, loss: 'softmax_ce' });
    const r = userDataset(x, file('values_f8.npy'));
    expect(r).toMatchObject({ inputSize: 3, outputSize: 1, loss: 'mse' });
    expect(Array.from(r.dataset.targets)).toEqual([0.5, -1.25, 3, 2, 0, 1.5]);
    expect(() => userDataset(x, file('whole_f4.npy'))).toThrow(ConfigError);
    expect(() => userDataset(x, file('whole_f4.npy'))).toThrow(/loss: the targets \(whole_f4\.npy\) are whole numbers from 0 to 2 stored as float32/);
    expect(userDataset(x, file('whole_f4.npy'), {}, { loss: 'softmax_ce' })).toMatchObject({ outputSize: 3 });
    expect(userDataset(x, file('whole_f4.npy'), {}, { loss: 'mse' })).toMatchObject({ outputSize: 1 });
    expect(() => userDataset(file('x3d.npy'), file('labels_int64.npy'))).toThrow(/inputs must be 2-D \[samples, features\], got shape \(2, 3, 4\)/);
  });

  it('CSV from np.savetxt: its header is read (and said), a NaN in the first row is an error, never a header', () => {
    const t = userDataset(file('table.csv'), undefined, {}, { loss: 'softmax_ce' });
    expect(t).toMatchObject({ inputSize: 2, outputSize: 3, notes: [expect.stringMatching(/table\.csv: line 1 read as a header \(a, b, label\)/)] });
    expect(t.dataset.samples).toBe(6);
    expect(() => userDataset(file('nan-first.csv'), undefined, {}, { loss: 'softmax_ce' })).toThrow(DataError);
    expect(() => userDataset(file('nan-first.csv'), undefined, {}, { loss: 'softmax_ce' })).toThrow(
      /nan-first\.csv: line 1, column 2: nan \(NaN or infinity\); data must be finite/,
    );
  });
});
