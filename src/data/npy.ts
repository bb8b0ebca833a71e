// A small reader and writer for NumPy .npy files (format versions 1.0, 2.0 and 3.0), C order only.
// Reading converts every supported dtype to float32 (what the GPU trains on); float64 values that do not fit
// float32 are rejected rather than silently turned into infinity. Format reference:
// https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html

import { DATASET_MAX_VALUES } from '../config/schema';
import { DataError, fmtShape } from './dataset';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

export type NpyDtype = 'float32' | 'float64' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'bool';

export interface NpyArray {
  shape: number[];
  /** The dtype stored in the file; `data` is always float32. */
  dtype: NpyDtype;
  data: Float32Array;
}

const DTYPES: Record<string, { dtype: NpyDtype; size: number }> = {
  f4: { dtype: 'float32', size: 4 },
  f8: { dtype: 'float64', size: 8 },
  i1: { dtype: 'int8', size: 1 },
  i2: { dtype: 'int16', size: 2 },
  i4: { dtype: 'int32', size: 4 },
  i8: { dtype: 'int64', size: 8 },
  u1: { dtype: 'uint8', size: 1 },
  u2: { dtype: 'uint16', size: 2 },
  u4: { dtype: 'uint32', size: 4 },
  u8: { dtype: 'uint64', size: 8 },
  b1: { dtype: 'bool', size: 1 },
};

export interface NpyOptions {
  /** Shown in error messages (default 'array.npy'). */
  name?: string;
  /** Largest number of elements accepted (default DATASET_MAX_VALUES = 2^25, 128 MiB as float32). */
  maxValues?: number;
}

function parseHeader(header: string, name: string): { descr: string; fortran: boolean; shape: number[] } {
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(header);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(header);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr) throw new DataError(`${name}: unsupported dtype in header ${JSON.stringify(header.trim())} (structured arrays are not supported)`);
  if (!fortran || !shape) throw new DataError(`${name}: malformed header ${JSON.stringify(header.trim())}`);
  const dims = shape[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const parsed = dims.map((s) => {
    const m = /^(\d+)L?$/.exec(s);
    if (!m) throw new DataError(`${name}: bad shape (${shape[1]}) in header`);
    return Number(m[1]);
  });
  return { descr: descr[1], fortran: fortran[1] === 'True', shape: parsed };
}

/** Parse a .npy file. Throws DataError for bad magic, unsupported versions or dtypes, Fortran order, bad shape or size, and non-finite values. */
export function parseNpy(bytes: ArrayBuffer | Uint8Array, options: NpyOptions = {}): NpyArray {
  const name = options.name ?? 'array.npy';
  const maxValues = options.maxValues ?? DATASET_MAX_VALUES;
  const u8 = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const view = new DataView(u8.buffer, u8.byteOffset, u8.byteLength);
  if (u8.length < 10 || MAGIC.some((b, i) => u8[i] !== b)) throw new DataError(`${name}: not a .npy file (bad magic: it must start with \\x93NUMPY)`);
  const major = u8[6];
  const minor = u8[7];
  let headerStart: number;
  let headerLen: number;
  if (major === 1) {
    headerLen = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (u8.length < 12) throw new DataError(`${name}: truncated header`);
    headerLen = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new DataError(`${name}: unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  const dataStart = headerStart + headerLen;
  if (dataStart > u8.length) throw new DataError(`${name}: truncated header (${headerLen} bytes announced, ${u8.length - headerStart} present)`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(u8.subarray(headerStart, dataStart));
  const { descr, fortran, shape } = parseHeader(header, name);
  if (fortran) throw new DataError(`${name}: Fortran (column-major) order is not supported; save with np.ascontiguousarray(a) first`);
  const m = /^([<>|=])([a-z]\d+)$/.exec(descr);
  const type = m ? DTYPES[m[2]] : undefined;
  if (!m || !type) throw new DataError(`${name}: unsupported dtype '${descr}' (supported: float32, float64, int8-64, uint8-64, bool)`);
  const little = m[1] !== '>';
  const count = shape.reduce((p, s) => p * s, 1);
  if (count > maxValues) throw new DataError(`${name}: shape ${fmtShape(shape)} has ${count} values, over the limit of ${maxValues}`);
  const need = count * type.size;
  const have = u8.length - dataStart;
  if (have < need) throw new DataError(`${name}: shape ${fmtShape(shape)} of ${type.dtype} needs ${need} bytes of data, the file has ${have} (truncated?)`);
  if (have > need)
    throw new DataError(`${name}: shape ${fmtShape(shape)} of ${type.dtype} needs ${need} bytes of data, the file has ${have} (${have - need} extra)`);

  const data = new Float32Array(count);
  const at = (i: number) => dataStart + i * type.size;
  switch (type.dtype) {
    case 'float32':
      for (let i = 0; i < count; i++) data[i] = view.getFloat32(at(i), little);
      break;
    case 'float64':
      for (let i = 0; i < count; i++) {
        const v = view.getFloat64(at(i), little);
        data[i] = v;
        if (Number.isFinite(v) && !Number.isFinite(data[i])) throw new DataError(`${name}: value ${v} at ${where(i, shape)} does not fit in float32`);
      }
      break;
    case 'int8':
      for (let i = 0; i < count; i++) data[i] = view.getInt8(at(i));
      break;
    case 'uint8':
    case 'bool':
      for (let i = 0; i < count; i++) data[i] = u8[at(i)];
      break;
    case 'int16':
      for (let i = 0; i < count; i++) data[i] = view.getInt16(at(i), little);
      break;
    case 'uint16':
      for (let i = 0; i < count; i++) data[i] = view.getUint16(at(i), little);
      break;
    case 'int32':
      for (let i = 0; i < count; i++) data[i] = view.getInt32(at(i), little);
      break;
    case 'uint32':
      for (let i = 0; i < count; i++) data[i] = view.getUint32(at(i), little);
      break;
    case 'int64':
      for (let i = 0; i < count; i++) data[i] = Number(view.getBigInt64(at(i), little));
      break;
    case 'uint64':
      for (let i = 0; i < count; i++) data[i] = Number(view.getBigUint64(at(i), little));
      break;
  }
  for (let i = 0; i < count; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(`${name}: ${Number.isNaN(data[i]) ? 'NaN' : data[i]} at ${where(i, shape)}; data must be finite`);
  }
  return { shape, dtype: type.dtype, data };
}

/** "row 3, column 7" for 2-D arrays, "index [i, j, k]" otherwise (0-based, as NumPy indexes). */
function where(flat: number, shape: readonly number[]): string {
  if (shape.length === 2) return `row ${Math.floor(flat / shape[1])}, column ${flat % shape[1]} (0-based)`;
  const idx: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    idx.unshift(flat % shape[d]);
    flat = Math.floor(flat / shape[d]);
  }
  return `index [${idx.join(', ')}]`;
}

/** Write a little-endian C-order .npy (version 1.0 unless the header needs 2.0), header padded to 64 bytes. */
export function encodeNpy(data: Float32Array | Float64Array | Int32Array | Uint8Array, shape: readonly number[]): Uint8Array {
  const count = shape.reduce((p, s) => p * s, 1);
  if (count !== data.length) throw new RangeError(`shape ${fmtShape(shape)} needs ${count} values, got ${data.length}`);
  const descr = data instanceof Float32Array ? '<f4' : data instanceof Float64Array ? '<f8' : data instanceof Int32Array ? '<i4' : '|u1';
  const dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${fmtShape(shape)}, }`;
  let version = 1;
  let prefix = 10;
  let padded = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  if (padded > 0xffff) {
    version = 2;
    prefix = 12;
    padded = Math.ceil((prefix + dict.length + 1) / 64) * 64 - prefix;
  }
  const header = dict.padEnd(padded - 1, ' ') + '\n';
  const out = new Uint8Array(prefix + padded + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, padded, true);
  else view.setUint32(8, padded, true);
  for (let i = 0; i < header.length; i++) out[prefix + i] = header.charCodeAt(i);
  // NOTE: typed arrays use the platform byte order, which is little-endian on every platform this runs on.
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), prefix + padded);
  return out;
}
