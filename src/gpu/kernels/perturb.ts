// Shrink & Perturb on the GPU (shaders/perturb.wgsl): p ← (1 − shrink)·p + noise·N(0, 1) every `every` steps,
// recorded at the end of each step; the kernel itself decides from StepState whether this step is one.
import source from '../../../shaders/perturb.wgsl?raw';
import type { MatrixRef } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

export const PERTURB_WORKGROUPS = { PERTURB_WG: 256 } as const;
const U32_MAX = 0xffffffff;

export const PERTURB_PARAMS = wgslStruct('perturb.wgsl', 'PerturbParams', {
  rows: 'u32',
  cols: 'u32',
  ld: 'u32',
  globalCols: 'u32',
  rowOffset: 'u32',
  colOffset: 'u32',
  every: 'u32',
  keep: 'f32',
  noise: 'f32',
  key0: 'u32',
  key1: 'u32',
});

export interface PerturbArgs {
  label: string;
  /** rngKey(seed, 'perturb', layer). */
  key: readonly [number, number];
  stepState: GPUBuffer;
  shrink: number;
  noise: number;
  every: number;
  /** The block: [rows, cols] with row stride ld, at (rowOffset, colOffset) of a [*, globalCols] matrix. A bias is row fanIn. */
  param: MatrixRef;
  rows: number;
  cols: number;
  globalCols: number;
  rowOffset?: number;
  colOffset?: number;
}

export class PerturbKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<PerturbKernel> {
    const pipeline = await computePipeline(gpu.device, {
      family: 'Perturb',
      source,
      entryPoint: 'shrink_perturb',
      usesInitDraw: true,
      constants: PERTURB_WORKGROUPS,
    });
    return new PerturbKernel(gpu.device, pipeline, options.maxWorkgroupsPerDimension);
  }

  prepare(a: PerturbArgs): Dispatch {
    const rowOffset = a.rowOffset ?? 0;
    const colOffset = a.colOffset ?? 0;
    if (!(a.shrink >= 0 && a.shrink < 1)) throw new RangeError(`${a.label}: shrink must be in [0, 1), got ${a.shrink}`);
    if (!(a.noise >= 0 && Number.isFinite(a.noise))) throw new RangeError(`${a.label}: noise must be finite and >= 0, got ${a.noise}`);
    if (!Number.isInteger(a.every) || a.every < 1 || a.every > U32_MAX) throw new RangeError(`${a.label}: every must be a u32 >= 1, got ${a.every}`);
    if ((a.param.offset ?? 0) !== 0) throw new RangeError(`${a.label}: param must start at offset 0`);
    if (a.param.ld < a.cols) throw new RangeError(`${a.label}: param.ld = ${a.param.ld} is less than cols = ${a.cols}`);
    if (colOffset + a.cols > a.globalCols) throw new RangeError(`${a.label}: colOffset + cols = ${colOffset + a.cols} exceeds globalCols = ${a.globalCols}`);
    // The RNG index is a u32: a matrix (bias row included) beyond 2^32 elements would repeat numbers.
    if ((rowOffset + a.rows) * a.globalCols > U32_MAX + 1) throw new RangeError(`${a.label}: ${rowOffset + a.rows} x ${a.globalCols} exceeds 2^32 elements`);
    const needed = a.rows === 0 || a.cols === 0 ? 0 : (a.rows - 1) * a.param.ld + a.cols;
    if (needed * 4 > a.param.buffer.size) throw new RangeError(`${a.label}: param needs ${needed} elements but its buffer holds ${a.param.buffer.size / 4}`);
    checkStepStateBuffer(a.label, a.stepState);
    const params = createUniform(this.device, `${a.label}.params`, PERTURB_PARAMS, {
      rows: a.rows,
      cols: a.cols,
      ld: a.param.ld,
      globalCols: a.globalCols,
      rowOffset,
      colOffset,
      every: a.every,
      keep: Math.fround(1 - a.shrink),
      noise: a.noise,
      key0: a.key[0],
      key1: a.key[1],
    });
    return prepareDispatch(this.device, {
      label: a.label,
      pipeline: this.pipeline,
      buffers: [a.stepState, params, a.param.buffer],
      workgroups: Math.ceil((a.rows * a.cols) / PERTURB_WORKGROUPS.PERTURB_WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
