// The verdicts of a run's chunks, in submission order. Every chunk is recorded and submitted inside GPU error scopes
// (Trainer.submitChunk); its check resolves once those scopes did, to null when it and every chunk before it ran clean,
// or to the run's first fault. A chunk that follows a failed one is failed too: it computed from a bad state.
// Faults found outside the scopes (an error the device reported uncaptured, a snapshot's canary) fail every chunk
// not yet resolved.
import { captureGpuErrors, labelsIn, type GpuErrorReport } from '../gpu/error-scopes';
import type { Dispatch } from '../gpu/dispatch';
import { GpuRunError } from './gpu-faults';
import type { ChunkCheck, ChunkEncoder } from './training-hooks';

/** Dispatches re-encoded one by one (never submitted) to find the one an error points at, at most. */
const MAX_DISPATCHES_TRIED = 512;

export class ChunkChecks {
  private last: ChunkCheck = Promise.resolve(null);
  private firstFault: GpuRunError | null = null;
  private verified = 0;

  constructor(
    private readonly device: GPUDevice,
    /** Steps completed when the checks start (a resumed run's step). */
    verifiedStep = 0,
  ) {
    this.verified = verifiedStep;
  }

  /** The run's fault, once one is known. */
  get fault(): GpuRunError | null {
    return this.firstFault;
  }

  /** Steps known to have run clean: every chunk up to here resolved without error. */
  get verifiedStep(): number {
    return this.verified;
  }

  /** A fault found outside the chunks' scopes: the run stops, and every chunk not yet resolved counts as failed. */
  fail(fault: GpuRunError): GpuRunError {
    this.firstFault ??= fault;
    return this.firstFault;
  }

  /** The steps of a run were rewritten (a saved state was loaded): they count as verified. */
  restart(step: number): void {
    this.verified = step;
  }

  /**
   * The check of a chunk that was just submitted, covering steps (stepsBefore, stepsAfter]; `errors` is what its
   * scopes caught.
   */
  add(errors: Promise<GpuErrorReport | null>, chunk: ChunkEncoder, stepsBefore: number, stepsAfter: number): ChunkCheck {
    const check = this.last.then(async (earlier) => {
      if (earlier) return earlier;
      const report = await errors;
      if (this.firstFault) return this.firstFault;
      if (report) return this.fail(GpuRunError.fromScope(report, chunk.label, await kernelOf(this.device, report, chunk.dispatches), stepsBefore));
      this.verified = Math.max(this.verified, stepsAfter);
      return null;
    });
    this.last = check;
    return check;
  }

  /** Resolves once every chunk submitted so far was checked: null, or the run's fault. */
  settled(): ChunkCheck {
    return this.last.then((fault) => fault ?? this.firstFault);
  }
}

/**
 * The label of the kernel a GPU error points at: a dispatch the message names, or one that binds a buffer the message
 * names (a destroyed or never-allocated buffer), or the first that fails validation when encoded alone (encoded into a
 * command buffer that is finished, never submitted: nothing runs). Null when none can be told.
 */
export async function kernelOf(device: GPUDevice, report: GpuErrorReport, dispatches: Iterable<Dispatch>): Promise<string | null> {
  const labels = labelsIn(report.message);
  const list = [...dispatches];
  const named = list.find((d) => labels.includes(d.label));
  if (named) return named.label;
  for (const label of labels) {
    const binding = list.find((d) => d.buffers.some((b) => b.label === label));
    if (binding) return binding.label;
  }
  return firstInvalid(device, list.slice(0, MAX_DISPATCHES_TRIED));
}

async function firstInvalid(device: GPUDevice, dispatches: Dispatch[]): Promise<string | null> {
  const tries = dispatches.map((d) => {
    const { errors } = captureGpuErrors(device, () => {
      const encoder = device.createCommandEncoder({ label: `diagnose ${d.label}` });
      const pass = encoder.beginComputePass({ label: `diagnose ${d.label}` });
      d.encode(pass);
      pass.end();
      encoder.finish();
    }, ['validation']);
    return { label: d.label, errors };
  });
  const results = await Promise.all(tries.map((t) => t.errors));
  const i = results.findIndex((r) => r !== null);
  return i < 0 ? null : tries[i].label;
}
