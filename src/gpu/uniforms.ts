// Uniform blocks of 4-byte scalars. Every kernel's `Params` struct is a flat list of u32/i32/f32 fields,
// so the WGSL layout is simply "field i at byte 4*i", padded to 16 bytes as uniform buffers require.

export type ScalarType = 'u32' | 'i32' | 'f32';
export type UniformFields = ReadonlyArray<readonly [ScalarType, number]>;

export function packUniform(fields: UniformFields): ArrayBuffer {
  const bytes = new ArrayBuffer(Math.max(16, Math.ceil((fields.length * 4) / 16) * 16));
  const view = new DataView(bytes);
  fields.forEach(([type, value], i) => {
    if (type === 'f32') view.setFloat32(i * 4, value, true);
    else if (type === 'i32') view.setInt32(i * 4, value, true);
    else {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) throw new RangeError(`uniform field ${i}: ${value} is not a u32`);
      view.setUint32(i * 4, value, true);
    }
  });
  return bytes;
}

export function createUniform(device: GPUDevice, label: string, fields: UniformFields): GPUBuffer {
  const data = packUniform(fields);
  const buffer = device.createBuffer({ label, size: data.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}
