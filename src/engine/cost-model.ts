// What a training step and a snapshot cost, kernel by kernel, from the model alone (napkin math, as in llm.c's dev/cuda
// benchmarks): the floating-point operations of the matrix products (2·m·n·k each), the bytes every kernel reads and
// writes, and the dispatches. With an adapter's measured throughput (./calibration.ts) it becomes seconds: each kernel
// takes as long as the slower of its arithmetic and its memory traffic (a roofline), plus a fixed cost per dispatch.
// The step follows ./step-graph.ts (with ./continual-graph.ts), the snapshot ./observatory-graph.ts, block for block;
// the figures are estimates (caches, tiling re-reads and RNG arithmetic are approximated), right within a small factor.
import { optimizerStateCount } from '../spec/optimizers';
import { UNIT_HISTORY_WORDS } from '../spec/unit-history';
import type { ColumnBlock } from './layout';
import { activationWidths, probeSliceRows, type ModelSpec } from './model-spec';

const F32 = 4;
/** Arithmetic per element of a Philox-drawn dropout mask (one Philox4x32-10 call covers 4 elements). */
const RNG_FLOPS_PER_ELEMENT = 30;

/** One kernel's work. */
export interface KernelWork {
  flops: number;
  bytes: number;
}

/** Work of a step or a snapshot: one entry per dispatch. */
export type Work = readonly KernelWork[];

/** What an adapter does per second, measured (./calibration.ts) or from an autotuner. */
export interface Throughput {
  /** Of a large matrix product. */
  flopsPerSecond: number;
  /** Read plus written by a memory-bound kernel. */
  bytesPerSecond: number;
  /** Fixed cost of one dispatch inside a command buffer. */
  secondsPerDispatch: number;
}

/** Totals of a piece of work. */
export function workTotals(work: Work): KernelWork & { dispatches: number } {
  let flops = 0;
  let bytes = 0;
  for (const k of work) {
    flops += k.flops;
    bytes += k.bytes;
  }
  return { flops, bytes, dispatches: work.length };
}

/** Seconds `work` takes at `throughput`. */
export function secondsFor(work: Work, throughput: Throughput): number {
  let seconds = 0;
  for (const k of work) seconds += Math.max(k.flops / throughput.flopsPerSecond, k.bytes / throughput.bytesPerSecond) + throughput.secondsPerDispatch;
  return seconds;
}

/** Column blocks of each activation (input, hidden layers, logits); from the layout when there is one, else one block each. */
export type ActivationBlocks = readonly (readonly ColumnBlock[])[];

function blocksOf(spec: ModelSpec, blocks?: ActivationBlocks): ActivationBlocks {
  return blocks ?? activationWidths(spec).map((width) => [{ offset: 0, width }]);
}

/** C [m, n] = A [m, k] · B [k, n] (any transposition), accumulating into C or not. */
function matmul(m: number, n: number, k: number, accumulate = false): KernelWork {
  return { flops: 2 * m * n * k, bytes: F32 * (m * k + k * n + m * n * (accumulate ? 2 : 1)) };
}

/** A kernel that reads `reads` and writes `writes` f32 values (plus `flops` of arithmetic). */
function elementwise(reads: number, writes: number, flops = 0): KernelWork {
  return { flops, bytes: F32 * (reads + writes) };
}

function plus(a: KernelWork, b: KernelWork): KernelWork {
  return { flops: a.flops + b.flops, bytes: a.bytes + b.bytes };
}

/** What a fused epilogue adds to its product over `elements` of hidden layer l: `extra` more f32 tensors moved, the mask. */
function epilogueWork(spec: ModelSpec, l: number, elements: number, extra: number): KernelWork {
  const dropout = spec.hidden[l - 1].dropout > 0;
  return { flops: dropout ? RNG_FLOPS_PER_ELEMENT * elements : 0, bytes: F32 * elements * extra };
}

/**
 * One training step (./step-graph.ts) with the observatory's per-step work; `blocks` from the model's layout.
 * `fused` (the Trainer's default fuseEpilogues): activation and dropout ride on the matmul epilogues.
 */
export function stepWork(spec: ModelSpec, blocks?: ActivationBlocks, fused = true): Work {
  const b = blocksOf(spec, blocks);
  const n = spec.batch;
  const hiddenCount = spec.hidden.length;
  const work: KernelWork[] = [];
  work.push(elementwise(0, 0)); // schedule
  work.push(elementwise(n * (spec.inputSize + spec.outputSize), n * spec.inputSize)); // gather
  if (spec.inputDropout > 0) work.push(elementwise(n * spec.inputSize, n * spec.inputSize, RNG_FLOPS_PER_ELEMENT * n * spec.inputSize));
  // Forward.
  for (let l = 1; l <= hiddenCount + 1; l++) {
    for (const out of b[l]) {
      const last = b[l - 1].length - 1;
      b[l - 1].forEach((inp, i) => {
        const product = matmul(n, out.width, inp.width, i > 0);
        // Fused: the last pass also writes Y (and act(Z) where continual backprop reads it) and draws the mask.
        const writesH = spec.continualBackprop !== undefined && spec.hidden[l - 1]?.dropout > 0;
        work.push(fused && l <= hiddenCount && i === last ? plus(product, epilogueWork(spec, l, n * out.width, writesH ? 2 : 1)) : product);
      });
      if (l > hiddenCount || fused) continue;
      work.push(elementwise(n * out.width, n * out.width)); // activation
      if (spec.hidden[l - 1].dropout > 0) work.push(elementwise(n * out.width, n * out.width, RNG_FLOPS_PER_ELEMENT * n * out.width));
    }
  }
  work.push(elementwise(2 * n * spec.outputSize, n * spec.outputSize)); // loss and its gradient
  // Backward.
  for (let l = hiddenCount + 1; l >= 1; l--) {
    for (const out of b[l]) {
      if (l <= hiddenCount && !fused) {
        if (spec.hidden[l - 1].dropout > 0) work.push(elementwise(n * out.width, n * out.width, RNG_FLOPS_PER_ELEMENT * n * out.width));
        work.push(elementwise(2 * n * out.width, n * out.width)); // activation derivative
      }
      for (const inp of b[l - 1]) work.push(matmul(inp.width, out.width, n)); // dW = Xᵀ·dZ
      work.push(elementwise(n * out.width, out.width)); // db
    }
    if (l === 1) continue;
    // dX = dZ·Wᵀ; fused, its last pass also reads Z of the layer below and draws the mask (dZ replaces dX's store).
    const last = b[l].length - 1;
    for (const inp of b[l - 1]) {
      b[l].forEach((out, j) => {
        const product = matmul(n, inp.width, out.width, j > 0);
        work.push(fused && j === last ? plus(product, epilogueWork(spec, l - 1, n * inp.width, 1)) : product);
      });
    }
  }
  // Optimizer: reads parameter, gradient and state, writes parameter and state.
  const states = optimizerStateCount(spec.optimizer);
  for (let l = 1; l <= hiddenCount + 1; l++) {
    for (const out of b[l]) {
      for (const inp of b[l - 1]) work.push(elementwise((2 + states) * inp.width * out.width, (1 + states) * inp.width * out.width, 4 * inp.width * out.width));
      work.push(elementwise((2 + states) * out.width, (1 + states) * out.width));
    }
  }
  // Continual backprop: mean |activation| of each hidden unit over the batch, its utility from the outgoing weights.
  if (spec.continualBackprop) {
    const widths = activationWidths(spec);
    for (let l = 1; l <= hiddenCount; l++) {
      for (const out of b[l]) work.push(elementwise(n * out.width, out.width));
      // Utility from the outgoing weights; selection and re-initialisation of the lowest-utility units.
      work.push(elementwise(widths[l] * widths[l + 1] + 4 * widths[l], 2 * widths[l]));
    }
  }
  // Shrink & Perturb: every parameter redrawn towards noise, every `every` steps (the dispatch runs every step).
  if (spec.shrinkPerturb) {
    const share = 1 / spec.shrinkPerturb.every;
    for (let l = 1; l <= hiddenCount + 1; l++) {
      for (const out of b[l]) {
        for (const inp of b[l - 1]) {
          const count = inp.width * out.width;
          work.push({ flops: share * RNG_FLOPS_PER_ELEMENT * count, bytes: share * F32 * 2 * count });
        }
        work.push({ flops: share * RNG_FLOPS_PER_ELEMENT * out.width, bytes: share * F32 * 2 * out.width });
      }
    }
  }
  // The observatory's drop runs (sample 0's mask, per unit of a layer with dropout).
  for (const hidden of spec.hidden) {
    if (hidden.dropout > 0) work.push(elementwise(2 * hidden.width, 2 * hidden.width, RNG_FLOPS_PER_ELEMENT * hidden.width));
  }
  return work;
}

/** One snapshot (./observatory-graph.ts) over `probeRows` probe rows: masks, probe pass, dead scan, history, the copy back. */
export function snapshotWork(spec: ModelSpec, probeRows: number, blocks?: ActivationBlocks): Work {
  const b = blocksOf(spec, blocks);
  const hiddenCount = spec.hidden.length;
  const work: KernelWork[] = [];
  for (const hidden of spec.hidden) {
    if (hidden.dropout === 0) continue;
    work.push(elementwise(0, hidden.width / 32, RNG_FLOPS_PER_ELEMENT * hidden.width)); // sample 0's mask bits
    work.push(elementwise(0, hidden.width, RNG_FLOPS_PER_ELEMENT * spec.batch * hidden.width)); // dropped counts over the batch
  }
  work.push(elementwise(0, hiddenCount)); // clear counts
  for (const rows of probeSliceRows({ ...spec, probeRows }, probeRows)) {
    for (let l = 1; l <= hiddenCount; l++) {
      for (const out of b[l]) {
        b[l - 1].forEach((inp, i) => work.push(matmul(rows, out.width, inp.width, i > 0)));
        work.push(elementwise(rows * out.width, 2 * out.width)); // dead scan: bitmap and active counts
        if (l < hiddenCount) work.push(elementwise(rows * out.width, rows * out.width)); // activation
      }
    }
  }
  for (const hidden of spec.hidden) {
    const w = hidden.width;
    work.push(elementwise(w * UNIT_HISTORY_WORDS + (3 * w) / 32, w * UNIT_HISTORY_WORDS + w / 32)); // history and revived bits
  }
  // The staging copy: counts, three bitmaps per layer (the losses are small).
  const copied = spec.hidden.reduce((words, h) => words + (3 * h.width) / 32, 0);
  work.push(elementwise(copied, copied));
  return work;
}
