// Uniform buffers from a kernel's named struct declaration (src/spec/wgsl-struct.ts): values are packed by
// field name, never by position, and tests/unit/wgsl-contract.test.ts holds the declaration to the WGSL struct.
import type { StructFields, StructValues, WgslStruct } from '../spec/wgsl-struct';

/** A uniform buffer holding `values` laid out as `struct`. */
export function createUniform<F extends StructFields>(device: GPUDevice, label: string, struct: WgslStruct<F>, values: StructValues<F>): GPUBuffer {
  let data: ArrayBuffer;
  try {
    data = struct.pack(values);
  } catch (error) {
    throw new RangeError(`${label}: ${(error as Error).message}`);
  }
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}
