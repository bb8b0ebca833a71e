// Creating, filling and reading GPU buffers: done once here, so kernels and tests agree on usages.

/** Usage of every storage buffer: kernels read/write it, tests and snapshots copy in and out. */
export function storageUsage(): GPUBufferUsageFlags {
  // Not a module-level constant: in Node the GPUBufferUsage global exists only once Dawn is loaded.
  return GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
}

/** WebGPU needs sizes in multiples of 4 and refuses zero-sized bindings; round up to 16 for vec4 access. */
export function paddedSize(byteLength: number): number {
  return Math.max(16, Math.ceil(byteLength / 16) * 16);
}

export function createStorage(device: GPUDevice, label: string, byteLength: number): GPUBuffer {
  return device.createBuffer({ label, size: paddedSize(byteLength), usage: storageUsage() });
}

/** A storage buffer holding `data` (f32, u32 or i32 words). */
export function uploadStorage(device: GPUDevice, label: string, data: Float32Array | Uint32Array | Int32Array): GPUBuffer {
  const buffer = createStorage(device, label, data.byteLength);
  device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
  return buffer;
}

/** Copies `byteLength` bytes of `source` into a fresh staging buffer and maps it. Caller must not keep the mapping. */
export async function readBack(device: GPUDevice, source: GPUBuffer, byteLength: number, offset = 0): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const staging = device.createBuffer({ label: `${source.label}.readback`, size: Math.max(4, size), usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  try {
    const encoder = device.createCommandEncoder({ label: `${source.label}.readback` });
    encoder.copyBufferToBuffer(source, offset, staging, 0, size);
    device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    return staging.getMappedRange(0, size).slice(0, byteLength);
  } finally {
    staging.destroy();
  }
}

export async function readF32(device: GPUDevice, source: GPUBuffer, count: number, offsetElements = 0): Promise<Float32Array> {
  return new Float32Array(await readBack(device, source, count * 4, offsetElements * 4));
}

export async function readU32(device: GPUDevice, source: GPUBuffer, count: number, offsetElements = 0): Promise<Uint32Array> {
  return new Uint32Array(await readBack(device, source, count * 4, offsetElements * 4));
}

/** A [rows, cols] row-major f32 matrix that may be a sub-block of a bigger buffer: element (r, c) at offset + r * ld + c. */
export interface MatrixRef {
  buffer: GPUBuffer;
  /** Elements; default 0. */
  offset?: number;
  /** Row stride in elements (>= cols). */
  ld: number;
}
