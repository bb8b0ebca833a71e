// Creating, filling and reading GPU buffers: done once here, so kernels and tests agree on usages.
import { checkedGpuWork } from './error-scopes';

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

/**
 * Most bytes one readback maps at a time. A larger read goes in pieces through one staging buffer of this size, so no
 * read of a wide layer asks the GPU for a 1 GiB mappable buffer or hands the host a 1 GiB mapping at once.
 */
export const READBACK_PIECE_BYTES = 32 * 2 ** 20;

/**
 * Copies `byteLength` bytes of `source` (from byte `offset`) to the host, in pieces of at most READBACK_PIECE_BYTES.
 * Each copy runs inside GPU error scopes: a copy that failed (a destroyed or never-allocated source) rejects with a
 * GpuScopeError instead of returning the zeros of a staging buffer nothing was copied into.
 */
export async function readBack(
  device: GPUDevice,
  source: GPUBuffer,
  byteLength: number,
  offset = 0,
  maxPieceBytes = READBACK_PIECE_BYTES,
): Promise<ArrayBuffer> {
  const size = Math.ceil(byteLength / 4) * 4;
  const pieceBytes = Math.min(size, Math.max(4, Math.floor(maxPieceBytes / 4) * 4));
  const staging = device.createBuffer({
    label: `${source.label}.readback`,
    size: Math.max(4, pieceBytes),
    usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST,
  });
  const out = new Uint8Array(byteLength);
  try {
    for (let done = 0; done < size; done += pieceBytes) {
      const piece = Math.min(pieceBytes, size - done);
      const what = `reading back ${source.label}` + (size > pieceBytes ? ` (bytes ${done}..${done + piece})` : '');
      await checkedGpuWork(device, what, () => {
        const encoder = device.createCommandEncoder({ label: `${source.label}.readback` });
        encoder.copyBufferToBuffer(source, offset + done, staging, 0, piece);
        device.queue.submit([encoder.finish()]);
      });
      await staging.mapAsync(GPUMapMode.READ, 0, piece);
      out.set(new Uint8Array(staging.getMappedRange(0, piece), 0, Math.min(piece, byteLength - done)), done);
      staging.unmap();
    }
    return out.buffer;
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
