// Allocation that is checked before anything is computed. WebGPU never says how much memory an adapter has, and a
// buffer it cannot allocate comes back as an invalid object with the error reported later; kernels bound to it
// then read zeros and write nothing. So each buffer of a run is created inside its own out-of-memory and validation
// scopes, remembering its label and size, and the owner awaits `firstFailure()` before it submits any work: the
// allocation itself is the probe of what fits.
import { paddedSize, storageUsage } from './buffers';
import { captureGpuErrors, type GpuErrorReport } from './error-scopes';

const ALLOCATION_FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory'];

/** A buffer the GPU could not create. */
export interface FailedAllocation {
  label: string;
  bytes: number;
  error: GpuErrorReport;
}

export class AllocationCheck {
  private pending: { label: string; bytes: number; errors: Promise<GpuErrorReport | null> }[] = [];

  constructor(private readonly device: GPUDevice) {}

  /** A storage buffer (src/gpu/buffers.ts usages) of at least `byteLength` bytes, created inside error scopes. */
  storage(label: string, byteLength: number): GPUBuffer {
    return this.buffer({ label, size: paddedSize(byteLength), usage: storageUsage() });
  }

  /** Any buffer, created inside error scopes. */
  buffer(descriptor: GPUBufferDescriptor & { label: string }): GPUBuffer {
    const { result, errors } = captureGpuErrors(this.device, () => this.device.createBuffer(descriptor), ALLOCATION_FILTERS);
    this.pending.push({ label: descriptor.label, bytes: descriptor.size, errors });
    return result;
  }

  /** Bytes of the buffers created so far (and not yet checked). */
  get bytes(): number {
    return this.pending.reduce((sum, p) => sum + p.bytes, 0);
  }

  /** The first buffer (in creation order) that could not be created, or null once every one is known good. */
  async firstFailure(): Promise<FailedAllocation | null> {
    const pending = this.pending;
    this.pending = [];
    const errors = await Promise.all(pending.map((p) => p.errors));
    const i = errors.findIndex((e) => e !== null);
    return i < 0 ? null : { label: pending[i].label, bytes: pending[i].bytes, error: errors[i]! };
  }
}
