// Where every tensor of a model lives on the GPU, decided before a byte is allocated:
// - the column blocks ("shards") each activation is split into, so that no binding exceeds
//   maxStorageBufferBindingSize (a 1,048,576-unit layer at batch 32 is 128 MiB, lavapipe's limit);
// - the weight blocks that follow (rows from the previous activation's blocks, columns from this one's);
// - the bytes each category needs, and whether the device can hold them. A config that cannot fit is
//   refused here with the number, the limit and the layer that causes it.
import { OptimizerKernel } from '../gpu/kernels/optimizer';
import { activationWidths, probeChunkRows, type ModelSpec } from './model-spec';

export interface ColumnBlock {
  /** First column (unit) of the block in the full activation. */
  offset: number;
  width: number;
}

export interface ActivationLayout {
  width: number;
  blocks: ColumnBlock[];
}

export interface DeviceLimits {
  maxStorageBufferBindingSize: number;
  maxBufferSize: number;
}

export interface MemoryEstimate {
  parameters: number;
  gradients: number;
  optimizerState: number;
  activations: number;
  data: number;
  total: number;
}

export interface ModelLayout {
  /** Index 0 is the network input, 1..L the hidden layers, L+1 the logits. */
  activations: ActivationLayout[];
  memory: MemoryEstimate;
}

export class CapacityError extends Error {
  constructor(
    message: string,
    /** What the user can change, for a host to print after the message. */
    readonly remedy = 'make the model smaller (narrower or fewer layers, a smaller batch) or use an adapter with more memory',
  ) {
    super(message);
    this.name = 'CapacityError';
  }
}

const F32 = 4;

function layerName(index: number, hiddenCount: number): string {
  if (index === 0) return 'input';
  if (index === hiddenCount + 1) return 'output layer';
  return `hidden layer ${index}`;
}

/** e.g. '1.0 GiB (1073741824 bytes)'; without `exact`, '1.0 GiB'. */
export function formatBytes(bytes: number, exact = true): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const short = `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
  return exact ? `${short} (${bytes} bytes)` : short;
}

function splitColumns(width: number, maxColumns: number): ColumnBlock[] {
  const blocks: ColumnBlock[] = [];
  for (let offset = 0; offset < width; offset += maxColumns) blocks.push({ offset, width: Math.min(maxColumns, width - offset) });
  return blocks;
}

/**
 * Block widths are multiples of 32 (but the last): blocks then keep vec4 alignment and own whole
 * u32 words of the observatory's 1-bit-per-unit bitmaps.
 */
export const SHARD_ALIGNMENT = 32;

function alignedColumns(limit: number): number {
  if (limit < SHARD_ALIGNMENT) throw new CapacityError(`a shard must hold at least ${SHARD_ALIGNMENT} columns; the limit allows ${limit}`);
  return Math.floor(limit / SHARD_ALIGNMENT) * SHARD_ALIGNMENT;
}

export interface LayoutOptions {
  /** Refuse models whose buffers add up to more than this (default 8 GiB). */
  memoryBudgetBytes?: number;
  /** Bytes of the data set, which lives on the GPU too. */
  dataBytes?: number;
}

export function planLayout(spec: ModelSpec, limits: DeviceLimits, options: LayoutOptions = {}): ModelLayout {
  const widths = activationWidths(spec);
  const hiddenCount = spec.hidden.length;
  const rows = Math.max(spec.batch, probeChunkRows(spec));
  const maxBinding = Math.min(limits.maxStorageBufferBindingSize, limits.maxBufferSize);
  const maxElements = Math.floor(maxBinding / F32);

  const activations: ActivationLayout[] = [];
  for (let l = 0; l < widths.length; l++) {
    const width = widths[l];
    if (rows > maxElements) {
      throw new CapacityError(`batch of ${rows} rows does not fit one binding of ${formatBytes(maxBinding)} even one unit wide`);
    }
    let maxColumns = Math.floor(maxElements / rows);
    // A weight block is [previous block width, this block width]: keep it within one binding too.
    if (l > 0) {
      const previousBlock = Math.max(...activations[l - 1].blocks.map((b) => b.width));
      maxColumns = Math.min(maxColumns, Math.floor(maxElements / previousBlock));
    }
    // The input and the logits are never sharded: the gather, loss and input dropout kernels see one buffer.
    const shardable = l > 0 && l <= hiddenCount;
    if (shardable && spec.shardColumns !== undefined) maxColumns = Math.min(maxColumns, spec.shardColumns);
    if (!shardable && width > maxColumns) {
      const bytes = width * Math.max(rows, l > 0 ? activations[l - 1].blocks[0].width : 0) * F32;
      throw new CapacityError(
        `${layerName(l, hiddenCount)} of width ${width} needs ${formatBytes(bytes)} in one binding; ` +
          `the device allows ${formatBytes(maxBinding)} (maxStorageBufferBindingSize) and this tensor cannot be sharded`,
      );
    }
    if (maxColumns < 1) {
      throw new CapacityError(`${layerName(l, hiddenCount)}: not even one column fits a binding of ${formatBytes(maxBinding)}`);
    }
    activations.push({ width, blocks: splitColumns(width, shardable && width > maxColumns ? alignedColumns(maxColumns) : width) });
  }

  const memory = estimateMemory(spec, options.dataBytes ?? 0);
  const budget = options.memoryBudgetBytes ?? 8 * 1024 ** 3;
  if (memory.total > budget) {
    const worst = worstLayer(spec, widths);
    throw new CapacityError(
      `the model needs ${formatBytes(memory.total)} of GPU memory (parameters ${formatBytes(memory.parameters)}, ` +
        `optimizer state ${formatBytes(memory.optimizerState)}, activations ${formatBytes(memory.activations)}, data ${formatBytes(memory.data)}); ` +
        `the budget is ${formatBytes(budget)}. The largest is ${worst}.`,
    );
  }
  return { activations, memory };
}

function worstLayer(spec: ModelSpec, widths: number[]): string {
  let worst = { bytes: 0, name: '' };
  for (let l = 1; l < widths.length; l++) {
    const bytes = perLayerBytes(spec, widths, l);
    if (bytes > worst.bytes) worst = { bytes, name: `${layerName(l, spec.hidden.length)} (${widths[l - 1]}x${widths[l]}, ${formatBytes(bytes)})` };
  }
  return worst.name;
}

function perLayerBytes(spec: ModelSpec, widths: number[], l: number): number {
  const params = (widths[l - 1] + 1) * widths[l];
  const states = OptimizerKernel.stateBuffersNeeded(spec.optimizer);
  return (params * (2 + states) + activationBuffersPerLayer(spec, l) * spec.batch * widths[l]) * F32;
}

/** Z, Y and dY always; H (pre-dropout activation) only where the layer has dropout. */
function activationBuffersPerLayer(spec: ModelSpec, l: number): number {
  if (l > spec.hidden.length) return 2; // logits and their gradient
  return spec.hidden[l - 1].dropout > 0 ? 4 : 3;
}

export function estimateMemory(spec: ModelSpec, dataBytes = 0): MemoryEstimate {
  const widths = activationWidths(spec);
  let parameters = 0;
  let activations = spec.batch * spec.inputSize * (spec.inputDropout > 0 ? 2 : 1);
  for (let l = 1; l < widths.length; l++) {
    parameters += (widths[l - 1] + 1) * widths[l];
    activations += activationBuffersPerLayer(spec, l) * spec.batch * widths[l];
  }
  const states = OptimizerKernel.stateBuffersNeeded(spec.optimizer);
  // The observatory keeps the probe inputs, and per chunk of probe rows the pre-activations of every hidden
  // layer and the activations of all but the last.
  const chunk = probeChunkRows(spec);
  const probe = (spec.probeRows ?? 0) * spec.inputSize + chunk * spec.hidden.reduce((sum, h, i) => sum + h.width * (i < spec.hidden.length - 1 ? 2 : 1), 0);
  const bytes = {
    parameters: parameters * F32,
    gradients: parameters * F32,
    optimizerState: parameters * states * F32,
    activations: (activations + probe) * F32,
    data: dataBytes,
  };
  return { ...bytes, total: bytes.parameters + bytes.gradients + bytes.optimizerState + bytes.activations + bytes.data };
}
