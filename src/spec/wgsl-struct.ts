// The host side of a WGSL struct that crosses the CPU/GPU boundary (a kernel's uniform `Params`, the
// StepState buffer, a unit's history): its fields declared once, by name, in the WGSL order, with their types.
// Every such struct is a flat list of 4-byte scalars, so field i sits at byte 4 * i.
// tests/unit/wgsl-contract.test.ts reads the WGSL declaration named by `shader` and `name` and fails when a
// field's name, position or type differs, so a drifted struct fails a test instead of feeding garbage to a GPU.
// TS names are the camelCase of the WGSL ones (WGSL `bias_correction1` is `biasCorrection1`).

export type ScalarType = 'u32' | 'i32' | 'f32';
export type StructFields = Readonly<Record<string, ScalarType>>;
/** One number per field, every field present. */
export type StructValues<F extends StructFields> = { readonly [K in keyof F]: number };

const U32_MAX = 0xffffffff;

/** The WGSL spelling of a TS field name: `biasCorrection1` -> `bias_correction1`, `tilesN` -> `tiles_n`. */
export function wgslFieldName(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

export class WgslStruct<F extends StructFields = StructFields> {
  /** Field names in declaration order (= WGSL order). */
  readonly fieldNames: ReadonlyArray<keyof F & string>;
  /** Word (4-byte) index of each field. */
  readonly index: { readonly [K in keyof F]: number };
  /** WGSL's SizeOf: 4 bytes per field; also the stride of an array of this struct. */
  readonly byteSize: number;
  /** Bytes of a buffer holding one: byteSize rounded up to 16, as uniform buffers require. */
  readonly bufferSize: number;

  constructor(
    /** The file under shaders/ that declares the struct. */
    readonly shader: string,
    /** The struct's WGSL name. */
    readonly name: string,
    readonly fields: F,
  ) {
    this.fieldNames = Object.keys(fields);
    this.index = Object.fromEntries(this.fieldNames.map((f, i) => [f, i])) as { [K in keyof F]: number };
    this.byteSize = this.fieldNames.length * 4;
    this.bufferSize = Math.max(16, Math.ceil(this.byteSize / 16) * 16);
  }

  /** A buffer's bytes (bufferSize). Throws, naming the field, on a missing or unknown field or a value its type cannot hold. */
  pack(values: StructValues<F>): ArrayBuffer {
    const given = values as Readonly<Record<string, number>>;
    for (const key of Object.keys(given)) {
      if (!(key in this.fields)) throw new RangeError(`${this.name}: unknown field "${key}" (fields: ${this.fieldNames.join(', ')})`);
    }
    const bytes = new ArrayBuffer(this.bufferSize);
    const view = new DataView(bytes);
    this.fieldNames.forEach((field, i) => {
      const value = given[field];
      if (value === undefined) throw new RangeError(`${this.name}: field "${field}" is missing`);
      const type = this.fields[field];
      if (type === 'f32') view.setFloat32(i * 4, value, true);
      else if (type === 'i32') {
        if (!Number.isInteger(value) || value < -0x80000000 || value > 0x7fffffff) throw new RangeError(`${this.name}.${field}: ${value} is not an i32`);
        view.setInt32(i * 4, value, true);
      } else {
        if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${this.name}.${field}: ${value} is not a u32`);
        view.setUint32(i * 4, value, true);
      }
    });
    return bytes;
  }
}

/** Declares the host side of `struct <name>` in shaders/<shader>; fields in WGSL order. */
export function wgslStruct<const F extends StructFields>(shader: string, name: string, fields: F): WgslStruct<F> {
  return new WgslStruct(shader, name, fields);
}
