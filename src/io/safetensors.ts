// A small, strict reader and writer for the safetensors format (Hugging Face), browser-safe.
// Why not a library: the npm `safetensors` package is a single 0.0.1 release with no repository; the
// format is small enough to implement and test here. Layout (https://github.com/huggingface/safetensors):
//   u64 little-endian N | N bytes of UTF-8 JSON header | data area (raw little-endian tensors)
// Header: { "__metadata__"?: {string: string}, name: { dtype, shape, data_offsets: [begin, end] }, ... },
// offsets relative to the data area. As in the reference implementation, the writer pads the header with
// spaces to a multiple of 8 bytes and orders tensors by alignment then name; the reader requires the
// tensors to cover the data area exactly (no gaps, no overlaps, nothing left over).
// Every rejection is a CheckpointError naming the tensor and the field.

export type SafetensorsDtype = 'F32' | 'U32' | 'I32' | 'F64' | 'U8';

export type TensorData = Float32Array | Uint32Array | Int32Array | Float64Array | Uint8Array;

export interface Tensor {
  dtype: SafetensorsDtype;
  shape: number[];
  data: TensorData;
}

export interface SafetensorsLimits {
  /** Largest file accepted, in bytes (default 2^34 = 16 GiB). */
  maxBytes?: number;
  /** Largest JSON header accepted, in bytes (default 100,000,000, as the reference implementation). */
  maxHeaderBytes?: number;
}

export interface DecodedSafetensors {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

/** One tensor as the header describes it; `begin` and `end` are byte offsets into the data area. */
export interface SafetensorsEntry {
  name: string;
  dtype: SafetensorsDtype;
  shape: number[];
  begin: number;
  end: number;
}

/** A validated header: its tensors in file order (they cover the data area exactly) and its metadata. */
export interface SafetensorsHeader {
  entries: SafetensorsEntry[];
  metadata: Record<string, string>;
  /** Byte offset of the data area in the file (8 + header length). */
  dataStart: number;
}

/** A checkpoint (or safetensors file) that cannot be read or written; `tensor` and `field` say where. */
export class CheckpointError extends Error {
  constructor(
    message: string,
    readonly tensor?: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'CheckpointError';
  }
}

export const DTYPES: Record<SafetensorsDtype, { size: number; array: new (buffer: ArrayBuffer) => TensorData }> = {
  F64: { size: 8, array: Float64Array },
  F32: { size: 4, array: Float32Array },
  U32: { size: 4, array: Uint32Array },
  I32: { size: 4, array: Int32Array },
  U8: { size: 1, array: Uint8Array },
};

const METADATA_KEY = '__metadata__';
export const DEFAULT_MAX_BYTES = 2 ** 34;
export const DEFAULT_MAX_HEADER_BYTES = 100_000_000;
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

function isDtype(value: unknown): value is SafetensorsDtype {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(DTYPES, value);
}

function describe(value: unknown): string {
  try {
    const s = JSON.stringify(value);
    if (s === undefined) return String(value);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    // A value nested too deep to print (a hostile header): say what it is without recursing into it.
    return Array.isArray(value) ? 'an array' : typeof value;
  }
}

/** Elements of a shape, or an error when a dimension is not a non-negative safe integer or the product overflows. */
function elementCount(name: string, shape: unknown): number {
  if (!Array.isArray(shape)) throw new CheckpointError(`tensor "${name}": shape ${describe(shape)} is not an array`, name, 'shape');
  let count = 1;
  for (const [i, d] of shape.entries()) {
    if (typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0) {
      throw new CheckpointError(`tensor "${name}": shape[${i}] = ${describe(d)} is not a non-negative integer`, name, 'shape');
    }
    count *= d;
    if (!Number.isSafeInteger(count)) throw new CheckpointError(`tensor "${name}": shape ${describe(shape)} has more elements than 2^53`, name, 'shape');
  }
  return count;
}

/** Names come from the file: "__proto__" must become a key, not a prototype (hence null-prototype records). */
function setOwn<T>(record: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Reverses the bytes of each item in place (only on big-endian hosts: the file is always little-endian). */
export function swapBytes(bytes: Uint8Array, itemSize: number): void {
  if (itemSize === 1) return;
  for (let i = 0; i < bytes.length; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
}

/** The header of a safetensors file (8-byte length + padded JSON) and the order in which the tensors follow it. */
export interface SafetensorsLayout {
  header: Uint8Array;
  /** Tensor names in file order. */
  order: string[];
  /** Bytes of the data area. */
  dataLength: number;
}

/**
 * Plans a safetensors file: validates tensors and metadata and encodes the header. Tensors are stored in
 * (alignment, name) order, so every tensor starts at a multiple of its item size once the file is loaded at an
 * aligned address. encodeSafetensors and the streaming file writer (src/io/safetensors-file.ts) share it, so both
 * write the same bytes.
 */
export function layoutSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): SafetensorsLayout {
  const header: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(metadata)) {
    if (typeof value !== 'string') throw new CheckpointError(`metadata "${key}": value ${describe(value)} is not a string`, METADATA_KEY, key);
  }
  if (Object.keys(metadata).length > 0) header[METADATA_KEY] = metadata;

  for (const [name, tensor] of Object.entries(tensors)) {
    if (tensor === null || typeof tensor !== 'object') throw new CheckpointError(`tensor "${name}": ${describe(tensor)} is not a tensor`, name, 'entry');
  }
  const names = Object.keys(tensors).sort((a, b) => {
    const byAlignment = DTYPES[tensors[b].dtype]?.size - DTYPES[tensors[a].dtype]?.size;
    return byAlignment || (a < b ? -1 : a > b ? 1 : 0);
  });
  let offset = 0;
  for (const name of names) {
    if (name === METADATA_KEY) throw new CheckpointError(`tensor name "${METADATA_KEY}" is reserved for metadata`, name, 'name');
    const { dtype, shape, data } = tensors[name];
    if (!isDtype(dtype)) throw new CheckpointError(`tensor "${name}": dtype ${describe(dtype)} is not one of ${Object.keys(DTYPES).join(', ')}`, name, 'dtype');
    const count = elementCount(name, shape);
    const Expected = DTYPES[dtype].array;
    if (!(data instanceof Expected))
      throw new CheckpointError(`tensor "${name}": dtype ${dtype} needs a ${Expected.name}, got ${data?.constructor?.name}`, name, 'data');
    if (data.length !== count)
      throw new CheckpointError(`tensor "${name}": shape [${shape.join(', ')}] holds ${count} values, data holds ${data.length}`, name, 'data');
    header[name] = { dtype, shape: [...shape], data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }

  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + headerBytes);
  const view = new DataView(out.buffer);
  view.setUint32(0, headerBytes, true);
  view.setUint32(4, Math.floor(headerBytes / 2 ** 32), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerBytes);
  return { header: out, order: names, dataLength: offset };
}

/** A tensor's bytes as the file stores them (little-endian): a view of its data, or a swapped copy on big-endian hosts. */
export function fileBytesOf(tensor: Tensor): Uint8Array {
  const raw = new Uint8Array(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
  if (LITTLE_ENDIAN_HOST) return raw;
  const copy = raw.slice();
  swapBytes(copy, DTYPES[tensor.dtype].size);
  return copy;
}

/** Writes tensors and string metadata as a safetensors file, in memory (see layoutSafetensors for the order). */
export function encodeSafetensors(tensors: Record<string, Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const layout = layoutSafetensors(tensors, metadata);
  const out = new Uint8Array(layout.header.length + layout.dataLength);
  out.set(layout.header, 0);
  let at = layout.header.length;
  for (const name of layout.order) {
    const raw = fileBytesOf(tensors[name]);
    out.set(raw, at);
    at += raw.length;
  }
  return out;
}

/**
 * The header length stored in a file's first 8 bytes, checked against the limits and the file's size.
 * `fileLength` is the whole file's size in bytes.
 */
export function readHeaderLength(first8: Uint8Array, fileLength: number, limits: SafetensorsLimits = {}): number {
  const maxBytes = limits.maxBytes ?? DEFAULT_MAX_BYTES;
  const maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (fileLength > maxBytes) throw new CheckpointError(`file of ${fileLength} bytes exceeds the limit of ${maxBytes} bytes`, undefined, 'file');
  if (fileLength < 8) throw new CheckpointError(`file of ${fileLength} bytes is too short for the 8-byte header length`, undefined, 'header_length');
  const view = new DataView(first8.buffer, first8.byteOffset, 8);
  const headerLength = view.getUint32(0, true) + view.getUint32(4, true) * 2 ** 32;
  if (headerLength > maxHeaderBytes) {
    throw new CheckpointError(`header length ${headerLength} exceeds the limit of ${maxHeaderBytes} bytes`, undefined, 'header_length');
  }
  if (headerLength < 2) throw new CheckpointError(`header length ${headerLength} is too short for a JSON object`, undefined, 'header_length');
  if (8 + headerLength > fileLength) {
    throw new CheckpointError(`header length ${headerLength} runs past the end of the ${fileLength}-byte file (truncated?)`, undefined, 'header_length');
  }
  return headerLength;
}

/**
 * Parses and validates the JSON header (the `headerLength` bytes after the length field) of a file of
 * `fileLength` bytes: invalid UTF-8 or JSON, a header that is not an object, non-string metadata, an unknown
 * dtype, a bad shape, offsets that are not integers, run backwards, exceed the data area, disagree with
 * dtype × shape, overlap, leave a gap or leave bytes unclaimed at the end.
 */
export function parseSafetensorsHeader(headerJson: Uint8Array, fileLength: number): SafetensorsHeader {
  const headerLength = headerJson.length;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(headerJson);
  } catch {
    throw new CheckpointError('header is not valid UTF-8', undefined, 'header');
  }
  if (text[0] !== '{') throw new CheckpointError(`header does not start with "{" (got ${describe(text.slice(0, 16))})`, undefined, 'header');
  let header: unknown;
  try {
    header = JSON.parse(text);
  } catch (error) {
    throw new CheckpointError(`header is not valid JSON: ${(error as Error).message}`, undefined, 'header');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw new CheckpointError('header is not a JSON object', undefined, 'header');

  const metadata: Record<string, string> = Object.create(null);
  const entries: SafetensorsEntry[] = [];
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === METADATA_KEY) {
      if (info === null || typeof info !== 'object' || Array.isArray(info))
        throw new CheckpointError(`"${METADATA_KEY}" is not an object of strings`, METADATA_KEY, METADATA_KEY);
      for (const [key, value] of Object.entries(info as Record<string, unknown>)) {
        if (typeof value !== 'string') throw new CheckpointError(`metadata "${key}": value ${describe(value)} is not a string`, METADATA_KEY, key);
        setOwn(metadata, key, value);
      }
      continue;
    }
    if (info === null || typeof info !== 'object' || Array.isArray(info))
      throw new CheckpointError(`tensor "${name}": entry ${describe(info)} is not an object`, name, 'entry');
    const entry = info as Record<string, unknown>;
    for (const key of Object.keys(entry)) {
      if (key !== 'dtype' && key !== 'shape' && key !== 'data_offsets') throw new CheckpointError(`tensor "${name}": unknown field "${key}"`, name, key);
    }
    if (!isDtype(entry.dtype))
      throw new CheckpointError(`tensor "${name}": dtype ${describe(entry.dtype)} is not one of ${Object.keys(DTYPES).join(', ')}`, name, 'dtype');
    const count = elementCount(name, entry.shape);
    const offsets = entry.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2)
      throw new CheckpointError(`tensor "${name}": data_offsets ${describe(offsets)} is not [begin, end]`, name, 'data_offsets');
    const [begin, end] = offsets as unknown[];
    if (typeof begin !== 'number' || typeof end !== 'number' || !Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin) {
      throw new CheckpointError(`tensor "${name}": data_offsets ${describe(offsets)} are not integers with 0 <= begin <= end`, name, 'data_offsets');
    }
    const expected = count * DTYPES[entry.dtype].size;
    if (end - begin !== expected) {
      throw new CheckpointError(
        `tensor "${name}": data_offsets [${begin}, ${end}] hold ${end - begin} bytes; dtype ${entry.dtype} x shape [${(entry.shape as number[]).join(', ')}] needs ${expected}`,
        name,
        'data_offsets',
      );
    }
    entries.push({ name, dtype: entry.dtype, shape: [...(entry.shape as number[])], begin, end });
  }

  const dataStart = 8 + headerLength;
  const dataLength = fileLength - dataStart;
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  for (const e of entries) {
    if (e.end > dataLength) {
      throw new CheckpointError(
        `tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] run past the ${dataLength}-byte data area (truncated?)`,
        e.name,
        'data_offsets',
      );
    }
    if (e.begin < covered)
      throw new CheckpointError(
        `tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] overlap the previous tensor (ends at ${covered})`,
        e.name,
        'data_offsets',
      );
    if (e.begin > covered)
      throw new CheckpointError(
        `tensor "${e.name}": data_offsets [${e.begin}, ${e.end}] leave a gap after byte ${covered} of the data area`,
        e.name,
        'data_offsets',
      );
    covered = e.end;
  }
  if (covered !== dataLength) {
    throw new CheckpointError(
      `the tensors cover ${covered} bytes of the ${dataLength}-byte data area; ${dataLength - covered} trailing bytes belong to no tensor`,
      undefined,
      'data_offsets',
    );
  }
  return { entries, metadata, dataStart };
}

/** A tensor of `entry` whose file bytes are `bytes` (taken over: swapped in place on big-endian hosts). */
export function tensorFromFileBytes(entry: SafetensorsEntry, bytes: Uint8Array<ArrayBuffer>): Tensor {
  if (!LITTLE_ENDIAN_HOST) swapBytes(bytes, DTYPES[entry.dtype].size);
  return { dtype: entry.dtype, shape: [...entry.shape], data: new DTYPES[entry.dtype].array(bytes.buffer) };
}

/** A record keyed by names from a file, safe for "__proto__" and friends. */
export function ownRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}
export { setOwn };

/**
 * Reads a safetensors file held in memory. Tensor data is copied out of `bytes` (aligned, and not aliasing the
 * input). Throws CheckpointError on anything malformed (see readHeaderLength and parseSafetensorsHeader).
 * Files bigger than memory allows are read tensor by tensor with src/io/safetensors-file.ts instead.
 */
export function decodeSafetensors(bytes: Uint8Array, limits: SafetensorsLimits = {}): DecodedSafetensors {
  if (!(bytes instanceof Uint8Array)) throw new CheckpointError('safetensors input is not a Uint8Array', undefined, 'file');
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length, limits);
  const { entries, metadata, dataStart } = parseSafetensorsHeader(bytes.subarray(8, 8 + headerLength), bytes.length);
  const tensors = ownRecord<Tensor>();
  for (const e of entries) setOwn(tensors, e.name, tensorFromFileBytes(e, bytes.slice(dataStart + e.begin, dataStart + e.end)));
  return { tensors, metadata };
}
