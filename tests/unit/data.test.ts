import { describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig, type RunConfigInput } from '../../src/config';
import {
  checkDatasetForConfig,
  csvArrays,
  DataError,
  type Dataset,
  datasetFromArrays,
  encodeNpy,
  generateDataset,
  parseCsv,
  parseNpy,
  probeSet,
} from '../../src/data';

const sameBits = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Buffer.compare(Buffer.from(new Float64Array(Array.from(a)).buffer), Buffer.from(new Float64Array(Array.from(b)).buffer)) === 0;

function stats(a: ArrayLike<number>): { mean: number; variance: number } {
  let s = 0;
  let s2 = 0;
  for (let i = 0; i < a.length; i++) {
    s += a[i];
    s2 += a[i] * a[i];
  }
  const mean = s / a.length;
  return { mean, variance: s2 / a.length - mean * mean };
}

const KINDS: [string, RunConfigInput][] = [
  ['teacher', { inputSize: 12, dataset: { kind: 'teacher', samples: 500, teacherWidth: 16, noise: 0.1 }, outputSize: 3 }],
  ['gaussian_mixture', { inputSize: 12, dataset: { kind: 'gaussian_mixture', samples: 500, classes: 4, spread: 0.5 } }],
  ['spirals', { inputSize: 12, dataset: { kind: 'spirals', samples: 500, turns: 1.5, noise: 0.05 } }],
  ['sparse', { inputSize: 200, dataset: { kind: 'sparse', samples: 500, density: 0.1, classes: 5 } }],
];

describe('synthetic data sets', () => {
  it.each(KINDS)('%s: same seed gives identical arrays, another seed different ones', (_, input) => {
    const a = generateDataset(parseRunConfig({ ...input, seed: 7 }));
    const b = generateDataset(parseRunConfig({ ...input, seed: 7 }));
    const c = generateDataset(parseRunConfig({ ...input, seed: 8 }));
    expect(sameBits(a.inputs, b.inputs)).toBe(true);
    expect(sameBits(a.targets, b.targets)).toBe(true);
    expect(sameBits(a.inputs, c.inputs)).toBe(false);
    // Unrelated fields (optimizer, layers) do not change the data.
    const d = generateDataset(parseRunConfig({ ...input, seed: 7, lr: 0.5, hidden: [{ width: 3 }] }));
    expect(sameBits(a.inputs, d.inputs)).toBe(true);
  });

  it.each(KINDS)('%s: shapes, target types and finite values', (_, input) => {
    const cfg = parseRunConfig(input);
    const d = generateDataset(cfg);
    expect([d.samples, d.inputSize, d.outputSize]).toEqual([500, cfg.inputSize, cfg.outputSize]);
    expect(d.inputs).toBeInstanceOf(Float32Array);
    expect(d.inputs.length).toBe(500 * cfg.inputSize);
    expect(d.inputs.every(Number.isFinite)).toBe(true);
    if (cfg.loss === 'mse') {
      expect(d.kind).toBe('regression');
      expect(d.targets).toBeInstanceOf(Float32Array);
      expect(d.targets.length).toBe(500 * cfg.outputSize);
      expect(d.targets.every(Number.isFinite)).toBe(true);
    } else {
      expect(d.kind).toBe('classification');
      expect(d.targets).toBeInstanceOf(Uint32Array);
      expect(d.targets.length).toBe(500);
      expect(Math.max(...d.targets)).toBe(cfg.outputSize - 1);
    }
  });

  it.each(KINDS)('%s: inputs have about unit variance per coordinate', (_, input) => {
    const { mean, variance } = stats(generateDataset(parseRunConfig(input)).inputs);
    // 500 × 12+ draws: the sample mean and variance are within a few standard errors of 0 and 1; the data sets'
    // own structure (class centres, projection) adds spread, hence the loose bounds.
    expect(Math.abs(mean)).toBeLessThan(0.3);
    expect(variance).toBeGreaterThan(0.6);
    expect(variance).toBeLessThan(1.5);
  });

  it('gaussian mixture labels are balanced and classes are separable by their centres', () => {
    const d = generateDataset(parseRunConfig({ inputSize: 16, dataset: { kind: 'gaussian_mixture', samples: 400, classes: 4, spread: 0.3 } }));
    const counts = [0, 0, 0, 0];
    for (const l of d.targets) counts[l]++;
    expect(counts).toEqual([100, 100, 100, 100]);
    // Nearest class mean classifies almost every point with a small spread.
    const means = Array.from({ length: 4 }, () => new Float64Array(16));
    for (let s = 0; s < 400; s++) for (let i = 0; i < 16; i++) means[d.targets[s]][i] += d.inputs[s * 16 + i] / 100;
    let correct = 0;
    for (let s = 0; s < 400; s++) {
      const dist = means.map((m) => m.reduce((acc, v, i) => acc + (v - d.inputs[s * 16 + i]) ** 2, 0));
      if (dist.indexOf(Math.min(...dist)) === d.targets[s]) correct++;
    }
    expect(correct).toBeGreaterThan(390);
  });

  it('spirals in more than 2 dimensions are the 2-D spirals under a scaled isometry', () => {
    const flat = generateDataset(parseRunConfig({ inputSize: 2, dataset: { kind: 'spirals', samples: 64 } }));
    const high = generateDataset(parseRunConfig({ inputSize: 9, dataset: { kind: 'spirals', samples: 64 } }));
    expect(sameBits(flat.targets, high.targets)).toBe(true);
    const scale = Math.sqrt(9 / 2);
    for (const [a, b] of [
      [0, 1],
      [5, 40],
      [17, 63],
    ]) {
      const d2 = Math.hypot(flat.inputs[2 * a] - flat.inputs[2 * b], flat.inputs[2 * a + 1] - flat.inputs[2 * b + 1]);
      let s = 0;
      for (let i = 0; i < 9; i++) s += (high.inputs[9 * a + i] - high.inputs[9 * b + i]) ** 2;
      // f32 storage of both: relative error ~1e-6.
      expect(Math.sqrt(s) / scale).toBeCloseTo(d2, 4);
    }
  });

  it('sparse inputs have the requested density and labels from several classes', () => {
    const d = generateDataset(parseRunConfig({ inputSize: 1000, dataset: { kind: 'sparse', samples: 200, density: 0.02, classes: 5 } }));
    const nnz = d.inputs.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
    // Binomial(200 000, 0.02): mean 4000, sd ≈ 63; ±400 is over 6 sd.
    expect(Math.abs(nnz - 4000)).toBeLessThan(400);
    expect(new Set(d.targets).size).toBe(5);
    const dense = generateDataset(parseRunConfig({ inputSize: 10, batchSize: 8, dataset: { kind: 'sparse', samples: 10, density: 1, classes: 2 } }));
    expect(dense.inputs.every((v) => v !== 0)).toBe(true);
  });

  it('teacher targets are a deterministic function of the inputs plus the noise', () => {
    const base: RunConfigInput = { inputSize: 6, batchSize: 8, dataset: { kind: 'teacher', samples: 50, teacherWidth: 8, noise: 0 } };
    const clean = generateDataset(parseRunConfig(base));
    const noisy = generateDataset(parseRunConfig({ ...base, dataset: { kind: 'teacher', samples: 50, teacherWidth: 8, noise: 0.5 } }));
    expect(sameBits(clean.inputs, noisy.inputs)).toBe(true);
    const diff = Array.from(clean.targets, (v, i) => noisy.targets[i] - v);
    const { variance } = stats(diff);
    // 50 draws of 0.5·N(0,1): variance 0.25 within a factor 2.
    expect(variance).toBeGreaterThan(0.12);
    expect(variance).toBeLessThan(0.5);
  });

  it('refuses to generate a file data set', () => {
    expect(() => generateDataset(parseRunConfig({ dataset: { kind: 'file', name: 'x.npy' }, outputSize: 2 }))).toThrow(/loaded file/);
  });
});

describe('probe set', () => {
  const d = generateDataset(parseRunConfig({ inputSize: 5, dataset: { kind: 'gaussian_mixture', samples: 300, classes: 3 } }));

  it('picks distinct rows, ascending, deterministically per seed', () => {
    const p = probeSet(d, 64, 11);
    expect(p.samples).toBe(64);
    expect(new Set(p.indices).size).toBe(64);
    expect([...p.indices]).toEqual([...p.indices].sort((a, b) => a - b));
    expect(p.indices).toEqual(probeSet(d, 64, 11).indices);
    expect(p.indices).not.toEqual(probeSet(d, 64, 12).indices);
    p.indices.forEach((row, i) => {
      expect(p.inputs.subarray(i * 5, i * 5 + 5)).toEqual(d.inputs.subarray(row * 5, row * 5 + 5));
      expect(p.targets[i]).toBe(d.targets[row]);
    });
    expect(p.inputs.length).toBe(64 * 5);
  });

  it('takes every row when asked for more rows than there are', () => {
    const p = probeSet(d, 1000, 1);
    expect(p.samples).toBe(300);
    expect([...p.indices]).toEqual(Array.from({ length: 300 }, (_, i) => i));
  });

  it('copies regression targets row by row', () => {
    const r = generateDataset(parseRunConfig({ inputSize: 3, outputSize: 2, batchSize: 8, dataset: { kind: 'teacher', samples: 40 } }));
    const p = probeSet(r, 16, 3);
    p.indices.forEach((row, i) => expect(p.targets.subarray(i * 2, i * 2 + 2)).toEqual(r.targets.subarray(row * 2, row * 2 + 2)));
  });
});

/** A .npy file with a hand-written header (for the cases encodeNpy never writes). */
function rawNpy(header: string, payload: Uint8Array, version = 1, magic = '\x93NUMPY'): Uint8Array {
  const hlen = header.length;
  const prefix = version === 1 ? 10 : 12;
  const out = new Uint8Array(prefix + hlen + payload.length);
  for (let i = 0; i < 6; i++) out[i] = magic.charCodeAt(i);
  out[6] = version;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, hlen, true);
  else view.setUint32(8, hlen, true);
  for (let i = 0; i < hlen; i++) out[prefix + i] = header.charCodeAt(i);
  out.set(payload, prefix + hlen);
  return out;
}

const f32bytes = (...v: number[]) => new Uint8Array(new Float32Array(v).buffer);

describe('.npy', () => {
  it('round trips float32 and float64 (v1.0 header, 64-byte aligned)', () => {
    const x = new Float32Array([1, -2.5, 3e-8, 4, 5, 6]);
    const bytes = encodeNpy(x, [2, 3]);
    expect((bytes.length - x.byteLength) % 64).toBe(0);
    expect(parseNpy(bytes)).toEqual({ shape: [2, 3], dtype: 'float32', data: x });
    const y = new Float64Array([0.1, 1e30, -7]);
    const back = parseNpy(encodeNpy(y, [3]));
    expect(back.dtype).toBe('float64');
    expect(back.shape).toEqual([3]);
    expect(back.data).toEqual(Float32Array.from(y));
    // Works on a Uint8Array view at an odd offset and on an ArrayBuffer.
    const shifted = new Uint8Array(bytes.length + 1);
    shifted.set(bytes, 1);
    expect(parseNpy(shifted.subarray(1)).data).toEqual(x);
    expect(parseNpy(bytes.slice().buffer).data).toEqual(x);
  });

  it('reads version 2.0 headers, big-endian floats and integer labels', () => {
    const v2 = rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }\n", f32bytes(1.5, -2), 2);
    expect(parseNpy(v2)).toEqual({ shape: [2], dtype: 'float32', data: new Float32Array([1.5, -2]) });
    const be = new Uint8Array(8);
    new DataView(be.buffer).setFloat32(0, 3.25, false);
    new DataView(be.buffer).setFloat32(4, -1, false);
    expect(parseNpy(rawNpy("{'descr': '>f4', 'fortran_order': False, 'shape': (1, 2), }\n", be)).data).toEqual(new Float32Array([3.25, -1]));
    const i64 = new BigInt64Array([0n, 2n, 1n]);
    expect(parseNpy(rawNpy("{'descr': '<i8', 'fortran_order': False, 'shape': (3,), }\n", new Uint8Array(i64.buffer)))).toEqual({
      shape: [3],
      dtype: 'int64',
      data: new Float32Array([0, 2, 1]),
    });
    expect(parseNpy(encodeNpy(new Uint8Array([3, 0, 1]), [3])).data).toEqual(new Float32Array([3, 0, 1]));
    expect(parseNpy(encodeNpy(new Int32Array([-1, 5]), [2, 1])).shape).toEqual([2, 1]);
    // A 0-d array (shape ()) holds one value.
    expect(parseNpy(rawNpy("{'descr': '<f4', 'fortran_order': False, 'shape': (), }\n", f32bytes(9))).data).toEqual(new Float32Array([9]));
  });

  const hdr = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

  it.each([
    ['bad magic', rawNpy(hdr('<f4', '(1,)'), f32bytes(1), 1, 'PKZIP!'), 'x.npy: not a .npy file (bad magic: it must start with \\x93NUMPY)'],
    ['too short', new Uint8Array([0x93, 0x4e]), 'x.npy: not a .npy file (bad magic'],
    ['unknown version', rawNpy(hdr('<f4', '(1,)'), f32bytes(1), 4), 'x.npy: unsupported .npy format version 4.0 (supported: 1.0, 2.0, 3.0)'],
    ['fortran order', rawNpy(hdr('<f4', '(1, 1)', 'True'), f32bytes(1)), 'x.npy: Fortran (column-major) order is not supported'],
    ['complex dtype', rawNpy(hdr('<c8', '(1,)'), new Uint8Array(8)), "x.npy: unsupported dtype '<c8'"],
    ['float16', rawNpy(hdr('<f2', '(1,)'), new Uint8Array(2)), "x.npy: unsupported dtype '<f2'"],
    ['structured dtype', rawNpy("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }\n", f32bytes(1)), 'x.npy: unsupported dtype in header'],
    ['malformed header', rawNpy("{'descr': '<f4'}\n", f32bytes(1)), 'x.npy: malformed header'],
    ['bad shape', rawNpy(hdr('<f4', '(2, a)'), f32bytes(1, 2)), 'x.npy: bad shape (2, a) in header'],
    ['truncated data', rawNpy(hdr('<f4', '(2, 3)'), f32bytes(1, 2, 3)), 'x.npy: shape (2, 3) of float32 needs 24 bytes of data, the file has 12 (truncated?)'],
    ['extra data', rawNpy(hdr('<f4', '(2,)'), f32bytes(1, 2, 3)), 'x.npy: shape (2,) of float32 needs 8 bytes of data, the file has 12 (4 extra)'],
    ['truncated header', rawNpy(hdr('<f4', '(2,)'), new Uint8Array(0)).subarray(0, 20), 'x.npy: truncated header'],
    ['NaN', rawNpy(hdr('<f4', '(2, 3)'), f32bytes(1, 2, 3, 4, Number.NaN, 6)), 'x.npy: NaN at row 1, column 1 (0-based); data must be finite'],
    ['infinity', rawNpy(hdr('<f4', '(3,)'), f32bytes(1, Number.POSITIVE_INFINITY, 3)), 'x.npy: Infinity at index [1]'],
    ['float64 overflow', encodeNpy(new Float64Array([1, 1e300]), [1, 2]), 'x.npy: value 1e+300 at row 0, column 1 (0-based) does not fit in float32'],
    ['over the size limit', encodeNpy(new Float32Array(12), [3, 4]), 'x.npy: shape (3, 4) has 12 values, over the limit of 10'],
  ])('rejects %s', (_, bytes, message) => {
    expect(() => parseNpy(bytes, { name: 'x.npy', maxValues: 10 })).toThrow(DataError);
    expect(() => parseNpy(bytes, { name: 'x.npy', maxValues: 10 })).toThrow(message);
  });
});

describe('.csv', () => {
  it('reads a header, picks the last column as the label by default', () => {
    const t = parseCsv('x1,x2,label\n1,2,0\n3.5,-4e-1,1\n\n');
    expect(t).toEqual({
      inputs: new Float32Array([1, 2, 3.5, -0.4]),
      labels: new Float32Array([0, 1]),
      samples: 2,
      columns: 2,
      header: ['x1', 'x2'],
      labelName: 'label',
    });
  });

  it('handles no header, label by index, name or none, other delimiters, quotes and comments', () => {
    expect(parseCsv('1,2,3\n4,5,6', { labelColumn: 0 })).toMatchObject({
      inputs: new Float32Array([2, 3, 5, 6]),
      labels: new Float32Array([1, 4]),
      header: null,
    });
    expect(parseCsv('"a";"b"\n1;2\n', { labelColumn: 'a' })).toMatchObject({
      inputs: new Float32Array([2]),
      labels: new Float32Array([1]),
      header: ['b'],
      labelName: 'a',
    });
    expect(parseCsv('# made by hand\n1\t2\r\n3\t4\r\n', { labelColumn: null })).toMatchObject({
      inputs: new Float32Array([1, 2, 3, 4]),
      labels: null,
      columns: 2,
    });
    expect(parseCsv('1,2\n3,4', { labelColumn: -2 }).labels).toEqual(new Float32Array([1, 3]));
    // An all-numeric first line is data, unless the header is declared.
    expect(parseCsv('1,2\n3,4', { header: true }).header).toEqual(['1']);
  });

  it.each([
    ['', {}, 'd.csv: no data (the file is empty)'],
    ['a,b\n', {}, 'd.csv: no data rows after the header'],
    ['a,b,c\n1,2,3\n4,5\n', {}, 'd.csv: line 3 has 2 fields, expected 3'],
    ['a,b,c\n1,2,3\n4,x5,6\n', {}, 'd.csv: line 3, column 2 ("b"): "x5" is not a number'],
    ['1,2,3\n4,0x5,6\n', {}, 'd.csv: line 2, column 2: "0x5" is not a number'],
    ['a,b\n1,NaN\n', {}, 'd.csv: line 2, column 2 ("b"): NaN (NaN or infinity); data must be finite'],
    ['a,b\n1,-inf\n', {}, 'd.csv: line 2, column 2 ("b"): -inf (NaN or infinity)'],
    ['a,b\n1,1e39\n', {}, 'd.csv: line 2, column 2 ("b"): 1e39 does not fit in float32'],
    ['a,b\n1,\n', {}, 'd.csv: line 2, column 2 ("b"): empty field (missing value)'],
    ['a,b\n1,2\n', { labelColumn: 'y' }, 'd.csv: no column named "y" (columns: a, b)'],
    ['1,2\n', { labelColumn: 'y' }, 'd.csv: label column "y" given by name, but the file has no header'],
    ['1,2\n', { labelColumn: 2 }, 'd.csv: label column 2 is not in [-2, 1] (2 columns)'],
    ['1\n2\n', {}, 'd.csv: no input columns left besides the label column'],
    ['1,2,3\n4,5,6\n7,8,9\n10,11,12\n', { maxValues: 10 }, 'd.csv: 4 rows × 3 columns = 12 values, over the limit of 10'],
  ] as const)('rejects %j', (text, options, message) => {
    expect(() => parseCsv(text, { name: 'd.csv', ...options })).toThrow(DataError);
    expect(() => parseCsv(text, { name: 'd.csv', ...options })).toThrow(message);
  });

  it('feeds datasetFromArrays', () => {
    const t = parseCsv('x,y,c\n0,1,0\n1,0,1\n1,1,2\n');
    const { x, y } = csvArrays(t);
    const d = datasetFromArrays(x, y, { kind: 'classification' });
    expect(d).toMatchObject({ samples: 3, inputSize: 2, outputSize: 3, kind: 'classification' });
    expect(d.targets).toEqual(new Uint32Array([0, 1, 2]));
    expect(() => csvArrays(parseCsv('1,2', { labelColumn: null }))).toThrow(/no label column/);
  });
});

describe('datasetFromArrays', () => {
  const x = { data: new Float32Array([1, 2, 3, 4, 5, 6]), shape: [3, 2] };

  it('builds classification and regression data sets', () => {
    const c = datasetFromArrays(x, { data: [1, 0, 1], shape: [3] }, { kind: 'classification', classes: 4 });
    expect(c).toEqual({ inputs: x.data, targets: new Uint32Array([1, 0, 1]), samples: 3, inputSize: 2, outputSize: 4, kind: 'classification' });
    expect(datasetFromArrays(x, { data: [1, 0, 1], shape: [3, 1] }, { kind: 'classification' }).outputSize).toBe(2);
    const r = datasetFromArrays(x, { data: [1, 2, 3, 4, 5, 6], shape: [3, 2] }, { kind: 'regression' });
    expect(r).toMatchObject({ outputSize: 2, kind: 'regression' });
    expect(r.targets).toBeInstanceOf(Float32Array);
    expect(datasetFromArrays(x, { data: [1, 2, 3], shape: [3] }, { kind: 'regression' }).outputSize).toBe(1);
    // From .npy arrays directly.
    const npyX = parseNpy(encodeNpy(new Float32Array(x.data), [3, 2]));
    const npyY = parseNpy(encodeNpy(new Int32Array([0, 1, 0]), [3]));
    expect(datasetFromArrays(npyX, npyY, { kind: 'classification' }).targets).toEqual(new Uint32Array([0, 1, 0]));
  });

  it.each([
    ['1-D inputs', { data: [1, 2], shape: [2] }, { data: [0, 1], shape: [2] }, {}, 'f: inputs must be 2-D [samples, features], got shape (2,)'],
    ['shape/data mismatch', { data: [1, 2, 3], shape: [2, 2] }, { data: [0, 1], shape: [2] }, {}, 'f: inputs shape (2, 2) needs 4 values, got 3'],
    ['no rows', { data: [], shape: [0, 2] }, { data: [], shape: [0] }, {}, 'f: inputs have no rows'],
    ['row count mismatch', x, { data: [0, 1], shape: [2] }, {}, 'f: inputs have 3 rows but targets have 2'],
    ['NaN input', { data: [1, 2, 3, Number.NaN, 5, 6], shape: [3, 2] }, { data: [0, 1, 0], shape: [3] }, {}, 'f inputs: NaN at row 1, column 1 (0-based)'],
    ['fractional label', x, { data: [0, 1.5, 0], shape: [3] }, {}, 'f: label 1.5 at row 1 is not a non-negative integer'],
    ['negative label', x, { data: [0, -1, 0], shape: [3] }, {}, 'f: label -1 at row 1 is not a non-negative integer'],
    ['label past classes', x, { data: [0, 3, 0], shape: [3] }, { classes: 3 }, 'f: label 3 at row 1 is not in [0, 3) (classes = 3)'],
    ['one class', x, { data: [0, 0, 0], shape: [3] }, {}, 'f: 1 classes is not in [2, 4096]'],
    [
      'one-hot targets',
      x,
      { data: [1, 0, 0, 1, 1, 0], shape: [3, 2] },
      {},
      'f: classification targets must be integer labels of shape (3,), got (3, 2) (one-hot? take the argmax)',
    ],
    ['3-D targets', x, { data: [0, 1, 0], shape: [3, 1, 1] }, {}, 'f: targets must be 1-D or 2-D, got shape (3, 1, 1)'],
    ['too many values', x, { data: [0, 1, 0], shape: [3] }, { maxValues: 5 }, 'f: inputs (3, 2) = 6 values exceed the limit of 5'],
  ] as const)('rejects %s', (_, xs, ys, extra, message) => {
    expect(() => datasetFromArrays(xs, ys, { kind: 'classification', name: 'f', ...extra })).toThrow(DataError);
    expect(() => datasetFromArrays(xs, ys, { kind: 'classification', name: 'f', ...extra })).toThrow(message);
  });

  it('rejects non-finite regression targets naming row and column', () => {
    expect(() => datasetFromArrays(x, { data: [1, 2, 3, 4, Number.POSITIVE_INFINITY, 6], shape: [3, 2] }, { kind: 'regression', name: 'f' })).toThrow(
      'f targets: Infinity at row 2, column 0 (0-based)',
    );
  });
});

describe('checkDatasetForConfig', () => {
  const d: Dataset = datasetFromArrays({ data: new Float32Array(8), shape: [4, 2] }, { data: [0, 1, 2, 1], shape: [4] }, { kind: 'classification' });

  it('accepts a matching config and names every mismatched field', () => {
    expect(() => checkDatasetForConfig(d, parseRunConfig({ inputSize: 2, outputSize: 3, batchSize: 4, dataset: { kind: 'file', name: 'f' } }))).not.toThrow();
    const bad = parseRunConfig({ inputSize: 3, outputSize: 2, loss: 'mse', batchSize: 5, dataset: { kind: 'file', name: 'f' } });
    let error: unknown;
    try {
      checkDatasetForConfig(d, bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain("inputSize: 3 does not match the data set's 2 input features");
    expect((error as ConfigError).message).toContain("outputSize: 2 does not match the data set's 3 classes");
    expect((error as ConfigError).message).toContain('loss: "mse" does not fit a classification data set (it needs loss "softmax_ce")');
    expect((error as ConfigError).message).toContain("batchSize: 5 is larger than the data set's 4 samples");
  });
});
