import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type Tensor } from '../../src/io/safetensors';

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** A file with a hand-written header (padded as the reference does) and `data` as the data area. */
function rawFile(header: unknown, data: Uint8Array | number = 0, headerLength?: bigint): Uint8Array {
  const json = new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const padded = Math.ceil(json.length / 8) * 8;
  const body = typeof data === 'number' ? new Uint8Array(data) : data;
  const out = new Uint8Array(8 + padded + body.length);
  new DataView(out.buffer).setBigUint64(0, headerLength ?? BigInt(padded), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + padded);
  out.set(body, 8 + padded);
  return out;
}

function sample(): Record<string, Tensor> {
  return {
    'layers.1.weight': { dtype: 'F32', shape: [2, 3], data: Float32Array.from([1, -2.5, 3e-38, Infinity, NaN, -0]) },
    step_state: { dtype: 'U32', shape: [4], data: Uint32Array.from([0, 1, 0xffffffff, 7]) },
    offsets: { dtype: 'I32', shape: [3], data: Int32Array.from([-1, 0, 2147483647]) },
    precise: { dtype: 'F64', shape: [2], data: Float64Array.from([Math.PI, -1e300]) },
    bits: { dtype: 'U8', shape: [5], data: Uint8Array.from([1, 2, 3, 4, 255]) },
    empty: { dtype: 'F32', shape: [0, 4], data: new Float32Array(0) },
    scalar: { dtype: 'U32', shape: [], data: Uint32Array.from([42]) },
  };
}

function expectSameTensors(actual: Record<string, Tensor>, expected: Record<string, Tensor>): void {
  expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
  for (const [name, t] of Object.entries(expected)) {
    const a = actual[name];
    expect(a.dtype, name).toBe(t.dtype);
    expect(a.shape, name).toEqual(t.shape);
    expect(a.data.constructor, name).toBe(t.data.constructor);
    // Compare bytes, so that NaN and -0 count as equal only when bit-identical.
    expect(
      Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength)),
      name,
    ).toBe(true);
  }
}

function expectCheckpointError(run: () => unknown, message: RegExp, field?: string, tensor?: string): void {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a CheckpointError matching ${message}`).toBeInstanceOf(CheckpointError);
  const error = caught as CheckpointError;
  expect(error.message).toMatch(message);
  if (field !== undefined) expect(error.field).toBe(field);
  if (tensor !== undefined) expect(error.tensor).toBe(tensor);
}

describe('safetensors writer and reader', () => {
  it('round-trips every dtype, empty and scalar tensors, and metadata, bit for bit', () => {
    const metadata = { format: 'test', config: JSON.stringify({ a: [1, 2], s: 'é ✓' }), empty: '' };
    const bytes = encodeSafetensors(sample(), metadata);
    const decoded = decodeSafetensors(bytes);
    expectSameTensors(decoded.tensors, sample());
    expect({ ...decoded.metadata }).toEqual(metadata);
  });

  it('writes what the reference implementation writes: u64 length, metadata first, space padding to 8, alignment order', () => {
    const bytes = encodeSafetensors(
      { b: { dtype: 'U8', shape: [1], data: Uint8Array.from([9]) }, a: { dtype: 'F32', shape: [2], data: Float32Array.from([1, 2]) } },
      { k: 'v' },
    );
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const header = text(bytes.subarray(8, 8 + n));
    expect(header.trimEnd()).toBe(
      '{"__metadata__":{"k":"v"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}}',
    );
    expect(header.slice(header.trimEnd().length)).toMatch(/^ *$/);
    expect([...bytes.subarray(8 + n)]).toEqual([0, 0, 0x80, 0x3f, 0, 0, 0, 0x40, 9]);
  });

  it('reads a file without metadata and with unpadded header, and tensors aliasing nothing of the input', () => {
    const header = '{"x":{"dtype":"I32","shape":[1],"data_offsets":[0,4]}}';
    const json = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + json.length + 4);
    new DataView(bytes.buffer).setUint32(0, json.length, true);
    bytes.set(json, 8);
    new DataView(bytes.buffer).setInt32(8 + json.length, -5, true);
    const { tensors, metadata } = decodeSafetensors(bytes);
    expect(Object.keys(metadata)).toEqual([]);
    expect([...tensors.x.data]).toEqual([-5]);
    bytes.fill(0);
    expect([...tensors.x.data]).toEqual([-5]);
  });

  it('keeps "__proto__" as a plain tensor name', () => {
    const bytes = rawFile({ ['__proto__']: { dtype: 'U8', shape: [1], data_offsets: [0, 1] } }, Uint8Array.from([7]));
    const { tensors } = decodeSafetensors(bytes);
    expect(Object.keys(tensors)).toEqual(['__proto__']);
    expect([...Object.getOwnPropertyDescriptor(tensors, '__proto__')!.value.data]).toEqual([7]);
  });

  const entry = (dtype: string, shape: unknown, data_offsets: unknown) => ({ dtype, shape, data_offsets });
  const malformed: [string, () => Uint8Array, RegExp, string, string?][] = [
    ['shorter than 8 bytes', () => new Uint8Array(5), /5 bytes is too short for the 8-byte header length/, 'header_length'],
    ['header length past the end', () => rawFile({}, 0, 4096n), /header length 4096 runs past the end of the 16-byte file/, 'header_length'],
    ['header length over the limit', () => rawFile({}, 0, 2n ** 40n), /header length 1099511627776 exceeds the limit of 100000000 bytes/, 'header_length'],
    ['header length with the high word set', () => rawFile({}, 0, 2n ** 63n + 8n), /exceeds the limit/, 'header_length'],
    ['header length zero', () => rawFile({}, 0, 0n), /header length 0 is too short/, 'header_length'],
    ['header not JSON', () => rawFile('{"a": '), /header is not valid JSON/, 'header'],
    ['header not starting with {', () => rawFile('[1, 2]  '), /does not start with "\{"/, 'header'],
    [
      'invalid UTF-8',
      () => {
        const f = rawFile({ a: entry('U8', [0], [0, 0]) });
        f[11] = 0xff;
        return f;
      },
      /not valid UTF-8/,
      'header',
    ],
    ['metadata value not a string', () => rawFile({ __metadata__: { step: 3 } }), /metadata "step": value 3 is not a string/, 'step', '__metadata__'],
    ['metadata not an object', () => rawFile({ __metadata__: ['a'] }), /"__metadata__" is not an object of strings/, '__metadata__'],
    ['tensor entry not an object', () => rawFile({ w: 5 }), /tensor "w": entry 5 is not an object/, 'entry', 'w'],
    ['unknown field', () => rawFile({ w: { ...entry('U8', [1], [0, 1]), extra: true } }, 1), /tensor "w": unknown field "extra"/, 'extra', 'w'],
    ['unknown dtype', () => rawFile({ w: entry('F16', [1], [0, 2]) }, 2), /tensor "w": dtype "F16" is not one of F64, F32, U32, I32, U8/, 'dtype', 'w'],
    ['missing dtype', () => rawFile({ w: { shape: [1], data_offsets: [0, 1] } }, 1), /tensor "w": dtype undefined is not one of/, 'dtype', 'w'],
    ['shape not an array', () => rawFile({ w: entry('U8', 3, [0, 3]) }, 3), /tensor "w": shape 3 is not an array/, 'shape', 'w'],
    ['negative dimension', () => rawFile({ w: entry('U8', [2, -1], [0, 0]) }), /tensor "w": shape\[1\] = -1 is not a non-negative integer/, 'shape', 'w'],
    ['fractional dimension', () => rawFile({ w: entry('U8', [1.5], [0, 1]) }, 1), /shape\[0\] = 1.5 is not a non-negative integer/, 'shape', 'w'],
    ['shape overflowing 2^53', () => rawFile({ w: entry('U8', [2 ** 30, 2 ** 30, 2 ** 30], [0, 1]) }, 1), /more elements than 2\^53/, 'shape', 'w'],
    ['offsets not a pair', () => rawFile({ w: entry('U8', [1], [0]) }, 1), /data_offsets \[0\] is not \[begin, end\]/, 'data_offsets', 'w'],
    ['offsets backwards', () => rawFile({ w: entry('U8', [0], [4, 2]) }, 4), /are not integers with 0 <= begin <= end/, 'data_offsets', 'w'],
    ['offsets not integers', () => rawFile({ w: entry('U8', [1], ['0', 1]) }, 1), /are not integers/, 'data_offsets', 'w'],
    ['offsets beyond 2^53', () => rawFile({ w: entry('U8', [1], [0, 2 ** 60]) }, 1), /are not integers/, 'data_offsets', 'w'],
    [
      'size disagreeing with dtype x shape',
      () => rawFile({ w: entry('F32', [3], [0, 8]) }, 8),
      /hold 8 bytes; dtype F32 x shape \[3\] needs 12/,
      'data_offsets',
      'w',
    ],
    ['offsets past the data area (truncated)', () => rawFile({ w: entry('F32', [4], [0, 16]) }, 12), /run past the 12-byte data area/, 'data_offsets', 'w'],
    [
      'overlapping tensors',
      () => rawFile({ a: entry('U8', [4], [0, 4]), b: entry('U8', [2], [2, 4]) }, 4),
      /tensor "b": data_offsets \[2, 4\] overlap the previous tensor \(ends at 4\)/,
      'data_offsets',
      'b',
    ],
    [
      'gap between tensors',
      () => rawFile({ a: entry('U8', [2], [0, 2]), b: entry('U8', [2], [3, 5]) }, 5),
      /tensor "b": data_offsets \[3, 5\] leave a gap after byte 2/,
      'data_offsets',
      'b',
    ],
    ['gap at the start', () => rawFile({ a: entry('U8', [2], [1, 3]) }, 3), /leave a gap after byte 0/, 'data_offsets', 'a'],
    ['trailing bytes', () => rawFile({ a: entry('U8', [2], [0, 2]) }, 6), /cover 2 bytes of the 6-byte data area; 4 trailing bytes/, 'data_offsets'],
  ];

  it.each(malformed)('rejects %s', (_, make, message, field, tensor) => {
    expectCheckpointError(() => decodeSafetensors(make()), message, field, tensor);
  });

  it('rejects files and headers over the caller limits', () => {
    const bytes = encodeSafetensors(sample(), { a: 'b' });
    expectCheckpointError(
      () => decodeSafetensors(bytes, { maxBytes: 100 }),
      new RegExp(`file of ${bytes.length} bytes exceeds the limit of 100 bytes`),
      'file',
    );
    expectCheckpointError(() => decodeSafetensors(bytes, { maxHeaderBytes: 64 }), /header length \d+ exceeds the limit of 64 bytes/, 'header_length');
    expect(() => decodeSafetensors(bytes, { maxBytes: bytes.length })).not.toThrow();
  });

  it('refuses to write what it could not read back', () => {
    const f = (data: Tensor['data']) => ({ dtype: 'F32' as const, shape: [2], data });
    expectCheckpointError(() => encodeSafetensors({ w: f(new Float32Array(3)) }), /shape \[2\] holds 2 values, data holds 3/, 'data', 'w');
    expectCheckpointError(() => encodeSafetensors({ w: f(new Uint32Array(2)) }), /dtype F32 needs a Float32Array, got Uint32Array/, 'data', 'w');
    expectCheckpointError(
      () => encodeSafetensors({ w: { dtype: 'BF16' as 'F32', shape: [1], data: new Float32Array(1) } }),
      /dtype "BF16" is not one of/,
      'dtype',
      'w',
    );
    expectCheckpointError(() => encodeSafetensors({ w: { dtype: 'F32', shape: [-1], data: new Float32Array(0) } }), /shape\[0\] = -1/, 'shape', 'w');
    expectCheckpointError(() => encodeSafetensors({ __metadata__: f(new Float32Array(2)) }), /reserved for metadata/, 'name');
    expectCheckpointError(() => encodeSafetensors({}, { n: 5 as unknown as string }), /metadata "n": value 5 is not a string/, 'n');
  });

  it('writes a typed array view at its own offset, not its buffer start', () => {
    const backing = Float32Array.from([9, 1, 2, 9]);
    const { tensors } = decodeSafetensors(encodeSafetensors({ w: { dtype: 'F32', shape: [2], data: backing.subarray(1, 3) } }));
    expect([...tensors.w.data]).toEqual([1, 2]);
  });

  it('fuzz: 3,000 mutations and truncations of a valid file either decode or throw CheckpointError', () => {
    const valid = encodeSafetensors(sample(), { format: 'test', step: '12' });
    const headerLength = Number(new DataView(valid.buffer).getBigUint64(0, true));
    const header = JSON.parse(text(valid.subarray(8, 8 + headerLength))) as Record<string, Record<string, unknown>>;
    const names = Object.keys(header);
    const fields = ['dtype', 'shape', 'data_offsets'];
    const values = fc.oneof(
      fc.integer({ min: -3, max: 2 ** 32 + 3 }),
      fc.constantFrom(0, 1, 4, 8, 2 ** 53, -0.5, 1e300, 'F32', 'U8', 'X', null, true),
      fc.array(fc.integer({ min: -2, max: 300 }), { maxLength: 3 }),
    );

    const mutation = fc.oneof(
      // Byte-level: truncate, flip bits, overwrite, insert, delete, rewrite the length word.
      fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
      fc.record({ kind: fc.constant('delete' as const), at: fc.nat() }),
      fc.record({ kind: fc.constant('length' as const), value: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) }),
      // Structural: change one field of one entry (or delete it) and write a consistent header length.
      fc.record({ kind: fc.constant('field' as const), entry: fc.nat(), field: fc.nat(), value: values, remove: fc.boolean() }),
    );
    type Mutation = typeof mutation extends fc.Arbitrary<infer M> ? M : never;

    const apply = (bytes: Uint8Array, m: Mutation): Uint8Array => {
      switch (m.kind) {
        case 'truncate':
          return bytes.slice(0, m.at % (bytes.length + 1));
        case 'flip': {
          const out = bytes.slice();
          if (out.length) out[m.at % out.length] ^= 1 << m.bit;
          return out;
        }
        case 'set': {
          const out = bytes.slice();
          if (out.length) out[m.at % out.length] = m.value;
          return out;
        }
        case 'insert': {
          const at = m.at % (bytes.length + 1);
          return Uint8Array.from([...bytes.subarray(0, at), m.value, ...bytes.subarray(at)]);
        }
        case 'delete': {
          const at = m.at % Math.max(1, bytes.length);
          return Uint8Array.from([...bytes.subarray(0, at), ...bytes.subarray(at + 1)]);
        }
        case 'length': {
          const out = bytes.slice();
          if (out.length >= 8) new DataView(out.buffer).setBigUint64(0, m.value, true);
          return out;
        }
        case 'field': {
          const h = structuredClone(header);
          const target = h[names[m.entry % names.length]];
          const key =
            names[m.entry % names.length] === '__metadata__' ? Object.keys(target)[m.field % Object.keys(target).length] : fields[m.field % fields.length];
          if (m.remove) delete target[key];
          else target[key] = m.value;
          return rawFile(h, valid.subarray(8 + headerLength));
        }
      }
    };

    let decoded = 0;
    let rejected = 0;
    fc.assert(
      fc.property(fc.array(mutation, { minLength: 1, maxLength: 3 }), (mutations) => {
        let bytes = valid;
        for (const m of mutations) bytes = apply(bytes, m);
        try {
          const result = decodeSafetensors(bytes);
          // Whatever decodes must be self-consistent: re-encoding it decodes to the same tensors.
          expectSameTensors(decodeSafetensors(encodeSafetensors(result.tensors, result.metadata)).tensors, result.tensors);
          decoded++;
        } catch (error) {
          if (!(error instanceof CheckpointError)) throw error;
          rejected++;
        }
      }),
      { seed: 20240611, numRuns: 3000 },
    );
    expect(decoded + rejected).toBe(3000);
    // Both outcomes occur (e.g. a flipped data byte still decodes), so the loop exercised both paths.
    expect(decoded).toBeGreaterThan(50);
    expect(rejected).toBeGreaterThan(1000);
  });
});
