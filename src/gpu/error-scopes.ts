// WebGPU reports out-of-memory and validation errors asynchronously: a call that fails returns an invalid object
// (a buffer that reads as zeros, a command buffer that never runs) and the error arrives later, through an error
// scope or the device's `uncapturederror` event. Everything that computes numbers the user sees runs inside the
// scopes made here, and nothing it produced is used before they resolved clean.

/** The filters the engine captures, innermost first when popped. */
const FILTERS: readonly GPUErrorFilter[] = ['validation', 'out-of-memory', 'internal'];

/** What an error scope caught. */
export interface GpuErrorReport {
  filter: GPUErrorFilter;
  /** The implementation's message (Dawn and Chromium name the labels of the objects involved). */
  message: string;
}

/** An error scope caught an error in work whose result was needed (a readback, a state upload). */
export class GpuScopeError extends Error {
  override name = 'GpuScopeError';
  constructor(
    readonly report: GpuErrorReport,
    /** What was being done, e.g. 'reading back Trainer.W1.0.0'. */
    readonly what: string,
  ) {
    super(`GPU ${report.filter} error while ${what}: ${firstLine(report.message)}`);
  }
}

/**
 * Runs `work` inside validation, out-of-memory and internal error scopes. `errors` resolves to the first error
 * caught (out-of-memory before validation before internal when several scopes caught one), or null. If `work`
 * throws, the scopes are popped and the exception passes through.
 */
export function captureGpuErrors<T>(
  device: GPUDevice,
  work: () => T,
  filters: readonly GPUErrorFilter[] = FILTERS,
): { result: T; errors: Promise<GpuErrorReport | null> } {
  for (const filter of filters) device.pushErrorScope(filter);
  let result: T;
  try {
    result = work();
  } catch (error) {
    for (let i = 0; i < filters.length; i++) void device.popErrorScope().catch(() => null);
    throw error;
  }
  // Popped innermost first: the reverse of the push order.
  const popped = filters.map(() => device.popErrorScope());
  const errors = Promise.all(popped).then((caught) => {
    const byFilter = new Map<GPUErrorFilter, GPUError>();
    caught.forEach((error, i) => error && byFilter.set(filters[filters.length - 1 - i], error));
    for (const filter of ['out-of-memory', 'validation', 'internal'] as const) {
      const error = byFilter.get(filter);
      if (error) return { filter, message: error.message };
    }
    return null;
  });
  return { result, errors };
}

/** Runs `work` inside error scopes and resolves once they are clean; rejects with a GpuScopeError otherwise. */
export async function checkedGpuWork<T>(device: GPUDevice, what: string, work: () => T): Promise<T> {
  const { result, errors } = captureGpuErrors(device, work);
  const error = await errors;
  if (error) throw new GpuScopeError(error, what);
  return result;
}

/** The first line of an implementation's message (Dawn appends ' - While calling ...' lines). */
export function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}

/**
 * Labels of the objects an implementation's message names in quotes ("Trainer.W2.0.0"), first mention first; the
 * device's own label (`[Device "deadunits"]`) is not one of them.
 */
export function labelsIn(message: string): string[] {
  const labels: string[] = [];
  for (const match of message.matchAll(/(\w*)\s*"+([^"]+)"+/g)) if (match[1] !== 'Device' && !labels.includes(match[2])) labels.push(match[2]);
  return labels;
}

/** The scope filter that would have caught `error` (by class name: the GPU*Error globals exist only where WebGPU does). */
export function filterOf(error: GPUError): GPUErrorFilter | undefined {
  const name = error.constructor?.name;
  return name === 'GPUOutOfMemoryError' ? 'out-of-memory' : name === 'GPUValidationError' ? 'validation' : name === 'GPUInternalError' ? 'internal' : undefined;
}
