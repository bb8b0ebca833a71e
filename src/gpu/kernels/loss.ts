// Loss value and gradient (softmax cross-entropy, MSE), then the batch mean into a loss-history ring:
// see shaders/loss.wgsl for the definitions.
import source from '../../../shaders/loss.wgsl?raw';
import type { GpuContext } from '../device';
import { composeDispatches, prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { checkStepStateBuffer } from './schedule';
import type { LossKind } from '../../spec/loss-kinds';

const KIND_CODES: Readonly<Record<LossKind, number>> = { softmax_ce: 0, mse: 1 };
/** Widest output handled one row per invocation; wider rows get a workgroup each. */
const SMALL_MAX_COLS = 64;
/** The shader's workgroup overrides: row_loss_wide and mean_loss run WG invocations (a power of two), row_loss_small SMALL_WG. */
const WORKGROUP = { WG: 256, SMALL_WG: 64 } as const;

export const LOSS_PARAMS = wgslStruct('loss.wgsl', 'Params', { rows: 'u32', cols: 'u32', capacity: 'u32', gradScale: 'f32' });

export interface LossArgs {
  label: string;
  kind: LossKind;
  /** [rows, cols] network outputs. */
  logits: GPUBuffer;
  /** softmax_ce: u32 class per row [rows]; mse: f32 [rows, cols]. A class >= cols makes that row's loss NaN. */
  targets: GPUBuffer;
  rows: number;
  cols: number;
  /** [rows, cols] out: dLoss/dlogits (may not alias logits). */
  grad: GPUBuffer;
  /** [rows] out, scratch: per-row loss. */
  rowLoss: GPUBuffer;
  /** The StepState buffer (STEP_STATE_BYTES): history slot = step % capacity. */
  stepState: GPUBuffer;
  /** [capacity] f32 ring: the batch mean loss of step t lands in history[t % capacity]. */
  history: { buffer: GPUBuffer; capacity: number };
}

interface Pipelines {
  small: GPUComputePipeline;
  wide: GPUComputePipeline;
  mean: GPUComputePipeline;
}

export class LossKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Readonly<Record<LossKind, Pipelines>>,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<LossKernel> {
    const compile = async (kind: LossKind): Promise<Pipelines> => {
      const spec = { family: 'Loss', source, constants: { ...WORKGROUP, KIND: KIND_CODES[kind] } };
      const [small, wide, mean] = await Promise.all(
        ['row_loss_small', 'row_loss_wide', 'mean_loss'].map((entryPoint) => computePipeline(gpu.device, { ...spec, entryPoint })),
      );
      return { small, wide, mean };
    };
    const [softmaxCe, mse] = await Promise.all([compile('softmax_ce'), compile('mse')]);
    return new LossKernel(gpu.device, { softmax_ce: softmaxCe, mse }, options.maxWorkgroupsPerDimension);
  }

  /** Row losses and gradient, then history[step % capacity] = mean row loss: one composite Dispatch. */
  prepare(a: LossArgs): Dispatch {
    if (!(Number.isInteger(a.rows) && Number.isInteger(a.cols) && a.rows >= 1 && a.cols >= 1)) {
      throw new RangeError(`${a.label}: bad shape ${a.rows} x ${a.cols}`);
    }
    if (a.rows * a.cols > 0xffffffff) throw new RangeError(`${a.label}: ${a.rows} x ${a.cols} overflows 32-bit indexing`);
    if (!(Number.isInteger(a.history.capacity) && a.history.capacity >= 1)) {
      throw new RangeError(`${a.label}: history capacity ${a.history.capacity} must be a positive integer`);
    }
    checkStepStateBuffer(a.label, a.stepState);
    const pipelines = this.pipelines[a.kind];
    const gradScale = a.kind === 'mse' ? 2 / (a.rows * a.cols) : 1 / a.rows;
    const params = createUniform(this.device, `${a.label}.params`, LOSS_PARAMS, { rows: a.rows, cols: a.cols, capacity: a.history.capacity, gradScale });
    const small = a.cols <= SMALL_MAX_COLS;
    const rowPass = prepareDispatch(this.device, {
      label: `${a.label}.${small ? 'row_loss_small' : 'row_loss_wide'}`,
      pipeline: small ? pipelines.small : pipelines.wide,
      buffers: [params, a.logits, a.targets, a.grad, a.rowLoss],
      workgroups: small ? Math.ceil(a.rows / WORKGROUP.SMALL_WG) : a.rows,
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
    const meanPass = prepareDispatch(this.device, {
      label: `${a.label}.mean_loss`,
      pipeline: pipelines.mean,
      buffers: [params, null, null, null, a.rowLoss, a.stepState, a.history.buffer],
      workgroups: 1,
    });
    return composeDispatches(a.label, [rowPass, meanPass], [params]);
  }
}
