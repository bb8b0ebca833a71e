// The two ways a run fails on the GPU, as errors every host reports the same way:
// - GpuAllocationError: a buffer of the run could not be created (out of memory, or refused). Raised while the run
//   is opened, before any step: nothing was trained. The message names the tensor, its size, what the whole run
//   needs, the adapter, and what to change.
// - GpuRunError: a chunk of work failed on the GPU (an error scope caught an error), an error nobody captured was
//   reported, or a snapshot's canary disagreed with the host. The run stops; nothing computed after `lastGoodStep`
//   is used (the snapshots, checkpoints and answers of later chunks are discarded).
import type { AdapterSummary } from '../gpu/device';
import { firstLine, type GpuErrorReport } from '../gpu/error-scopes';
import type { FailedAllocation } from '../gpu/allocation-check';
import { formatBytes, type MemoryEstimate } from './layout';
import { activationWidths, type ModelSpec } from './model-spec';

export class GpuAllocationError extends Error {
  override name = 'GpuAllocationError';
  constructor(
    readonly failed: FailedAllocation,
    /** What the whole run needs (src/engine/layout.ts estimateMemory). */
    readonly memory: MemoryEstimate,
    readonly adapter: AdapterSummary,
    spec: ModelSpec,
  ) {
    super(allocationMessage(failed, memory, adapter, spec));
  }
}

/** Why a run stopped mid-way on the GPU. */
export interface GpuFault {
  /** 'gpu-error': an error scope caught it; 'uncaptured': the device reported it outside any scope; 'canary': a snapshot disagreed with the host. */
  kind: 'gpu-error' | 'uncaptured' | 'canary';
  /** The error scope's filter ('validation', 'out-of-memory', 'internal'), for GPU errors. */
  filter?: GPUErrorFilter;
  /** The implementation's message, or what the canary saw. */
  detail: string;
  /** Label of the command buffer (chunk) that failed, e.g. 'Trainer.steps'; null when unknown. */
  chunk: string | null;
  /** Label of the kernel (dispatch) the error points at, when it can be told. */
  kernel: string | null;
  /** Every step up to this one ran clean; the steps after it are discarded. */
  lastGoodStep: number;
}

export class GpuRunError extends Error {
  override name = 'GpuRunError';
  constructor(readonly fault: GpuFault) {
    super(faultMessage(fault));
  }

  /** A GPU error caught by a chunk's error scopes. */
  static fromScope(report: GpuErrorReport, chunk: string, kernel: string | null, lastGoodStep: number): GpuRunError {
    return new GpuRunError({ kind: 'gpu-error', filter: report.filter, detail: report.message, chunk, kernel, lastGoodStep });
  }
}

function faultMessage(f: GpuFault): string {
  const where = [f.kernel ? `kernel ${f.kernel}` : null, f.chunk ? `command buffer ${f.chunk}` : null].filter(Boolean).join(', ');
  const what =
    f.kind === 'canary'
      ? `the GPU's results failed their check (${f.detail})`
      : `${f.kind === 'uncaptured' ? 'the GPU reported an error outside any check' : `GPU ${f.filter ?? ''} error`.replace('  ', ' ')}: ${firstLine(f.detail)}`;
  return `${what}${where ? ` [${where}]` : ''}. Training stopped; nothing computed after step ${f.lastGoodStep} is used.`;
}

function allocationMessage(failed: FailedAllocation, memory: MemoryEstimate, adapter: AdapterSummary, spec: ModelSpec): string {
  const tensor = describeTensor(failed.label, spec);
  const why = failed.error.filter === 'out-of-memory' ? 'out of memory' : `refused: ${firstLine(failed.error.message)}`;
  const parts = [
    `parameters ${formatBytes(memory.parameters, false)}`,
    `gradients ${formatBytes(memory.gradients, false)}`,
    memory.optimizerState > 0 ? `optimizer state ${formatBytes(memory.optimizerState, false)}` : null,
    `activations and probe ${formatBytes(memory.activations, false)}`,
    `data ${formatBytes(memory.data, false)}`,
  ].filter(Boolean);
  const fixes =
    tensor.kind === 'probe'
      ? ['a smaller probe set (snapshot.probeSize)', 'narrower hidden layers (hidden[i].width)', 'a smaller batch (batchSize)']
      : tensor.kind === 'activations'
        ? ['a smaller batch (batchSize)', 'narrower hidden layers (hidden[i].width)', 'a smaller probe set (snapshot.probeSize)']
        : [
            'narrower hidden layers (hidden[i].width; weights grow with the square of the width)',
            'a smaller batch (batchSize)',
            'a smaller probe set (snapshot.probeSize)',
          ];
  return (
    `The GPU could not allocate ${tensor.text} (${failed.label}, ${formatBytes(failed.bytes, false)}): ${why}. ` +
    `This run needs about ${formatBytes(memory.total, false)} of GPU memory in all (${parts.join(', ')}) on ${adapterName(adapter)}. ` +
    `Nothing was trained. To fit, try ${fixes.join(', or ')}; or a GPU with more memory.`
  );
}

/** The adapter in a few words, e.g. 'google / swiftshader / SwiftShader driver 5.0.0 (software)'. */
export function adapterName(a: AdapterSummary): string {
  return [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') + (a.isSoftware ? ' (software)' : '');
}

interface TensorDescription {
  kind: 'weights' | 'activations' | 'probe' | 'other';
  text: string;
}

/** What a buffer label of the Trainer or the Observatory holds, in words a user of the configuration knows. */
export function describeTensor(label: string, spec: ModelSpec): TensorDescription {
  const widths = activationWidths(spec);
  const hiddenCount = spec.hidden.length;
  const layerName = (l: number) => (l > hiddenCount ? 'the output layer' : `hidden layer ${l}`);
  const param = /^Trainer\.([Wb])(\d+)\.[\d.]+?(?:\.(grad|state\d+))?$/.exec(label);
  if (param) {
    const l = Number(param[2]);
    const what = param[1] === 'W' ? `weights (${widths[l - 1]} x ${widths[l]})` : `biases (${widths[l]})`;
    const role = param[3] === 'grad' ? 'the gradients of the ' : param[3] ? `optimizer state ${param[3].slice(5)} of the ` : 'the ';
    return { kind: 'weights', text: `${role}${what} of ${layerName(l)}` };
  }
  const act = /^Trainer\.a(\d+)\.\d+\./.exec(label);
  if (act) {
    const l = Number(act[1]);
    const name = l === 0 ? 'the input batch' : `the activations of ${layerName(l)}`;
    return { kind: 'activations', text: `${name} (batch ${spec.batch} x ${widths[l]})` };
  }
  if (/^Trainer\.data\./.test(label)) return { kind: 'other', text: 'the data set' };
  if (/^Observatory\.probe/.test(label)) return { kind: 'probe', text: "the probe set's activations" };
  if (/^Observatory\./.test(label)) return { kind: 'other', text: "the observatory's per-unit statistics" };
  return { kind: 'other', text: 'a buffer of the trainer' };
}
