// A prepared dispatch: pipeline + bind group + workgroup counts, built once and encoded many times
// (the engine records thousands of steps from the same objects). Owns the uniform buffers it created.

export interface Dispatch {
  readonly label: string;
  /** The buffers it binds: a GPU error naming one of them points at this dispatch. */
  readonly buffers: readonly GPUBuffer[];
  encode(pass: GPUComputePassEncoder): void;
  destroy(): void;
}

/**
 * Splits `total` workgroups over x and y so that neither exceeds the device limit. Kernels then use
 * `linear_workgroup(wid, nwg)` (shaders/common.wgsl) and return early past `total`.
 */
export function foldWorkgroups(total: number, maxPerDimension: number): [number, number] {
  if (total <= maxPerDimension) return [Math.max(1, total), 1];
  const y = Math.ceil(total / maxPerDimension);
  if (y > maxPerDimension) throw new RangeError(`dispatch of ${total} workgroups exceeds ${maxPerDimension}^2`);
  return [Math.ceil(total / y), y];
}

export interface DispatchSpec {
  label: string;
  pipeline: GPUComputePipeline;
  /**
   * Buffers bound at @binding(i) of @group(0). `null` leaves binding i out: an entry point's automatic
   * layout holds only the bindings that entry point uses.
   */
  buffers: ReadonlyArray<GPUBuffer | null>;
  /** Linear workgroup count; folded into x/y automatically. */
  workgroups: number;
  /** Buffers this dispatch owns (its uniforms) and frees on destroy(). */
  owned?: GPUBuffer[];
  /** Overrides the device's maxComputeWorkgroupsPerDimension, so tests can force folding on small shapes. */
  maxWorkgroupsPerDimension?: number;
}

export function prepareDispatch(device: GPUDevice, spec: DispatchSpec): Dispatch {
  const bindGroup = device.createBindGroup({
    label: spec.label,
    layout: spec.pipeline.getBindGroupLayout(0),
    entries: spec.buffers.flatMap((buffer, binding) => (buffer ? [{ binding, resource: { buffer } }] : [])),
  });
  const [x, y] = foldWorkgroups(spec.workgroups, spec.maxWorkgroupsPerDimension ?? device.limits.maxComputeWorkgroupsPerDimension);
  return {
    label: spec.label,
    buffers: spec.buffers.filter((b) => b !== null),
    encode(pass) {
      pass.setPipeline(spec.pipeline);
      pass.setBindGroup(0, bindGroup);
      pass.dispatchWorkgroups(x, y);
    },
    destroy() {
      spec.owned?.forEach((b) => b.destroy());
    },
  };
}

/** Several dispatches encoded in order as one; destroys the parts and `owned` buffers together. */
export function composeDispatches(label: string, parts: Dispatch[], owned: GPUBuffer[] = []): Dispatch {
  return {
    label,
    buffers: [...new Set(parts.flatMap((part) => part.buffers))],
    encode(pass) {
      for (const part of parts) part.encode(pass);
    },
    destroy() {
      for (const part of parts) part.destroy();
      for (const buffer of owned) buffer.destroy();
    },
  };
}
