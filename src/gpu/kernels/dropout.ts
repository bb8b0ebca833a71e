// Inverted dropout on the GPU (shaders/dropout.wgsl): forward, backward and the per-unit mask bitmap,
// all recomputing the mask from (key, step, sample, unit); the step is read from the StepState buffer.
import source from '../../../shaders/dropout.wgsl?raw';
import { dropoutScale, dropoutThreshold } from '../../spec/dropout-rate.js';
import type { MatrixRef } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

/** The shader's workgroup override: invocations per workgroup of every entry point. */
const WORKGROUP = { WG: 256 } as const;
const U32_MAX = 0xffffffff;

export interface DropoutArgs {
  label: string;
  /** Drop probability in [0, 1). */
  p: number;
  /** rngKey(seed, 'dropout', layer). */
  key: readonly [number, number];
  /** The StepState buffer (STEP_STATE_BYTES); its `step` selects the mask. */
  stepState: GPUBuffer;
  /** Batch rows; row r is sample r of the Philox counter. */
  rows: number;
  /** Units in this block. */
  cols: number;
  /** Global unit index of this block's first column (column sharding), default 0. */
  unitOffset?: number;
  input: MatrixRef;
  output: MatrixRef;
}

export interface DropoutMaskBitsArgs {
  label: string;
  p: number;
  key: readonly [number, number];
  stepState: GPUBuffer;
  /** The batch row whose mask is exported. */
  sample: number;
  cols: number;
  unitOffset?: number;
  /** Output: ceil(cols / 32) u32 words; bit (u % 32) of word (u / 32) set <=> block column u dropped. */
  bits: GPUBuffer;
}

export const DROPOUT_PARAMS = wgslStruct('dropout.wgsl', 'DropoutParams', {
  rows: 'u32',
  cols: 'u32',
  unitOffset: 'u32',
  groupsPerRow: 'u32',
  inOffset: 'u32',
  inLd: 'u32',
  outOffset: 'u32',
  outLd: 'u32',
  threshold: 'u32',
  scale: 'f32',
  key0: 'u32',
  key1: 'u32',
  sample: 'u32',
  invocations: 'u32',
});

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

function checkMatrix(label: string, name: string, m: MatrixRef, rows: number, cols: number): void {
  const offset = m.offset ?? 0;
  checkU32(`${label}: ${name}.offset`, offset);
  checkU32(`${label}: ${name}.ld`, m.ld);
  if (m.ld < cols) throw new RangeError(`${label}: ${name}.ld = ${m.ld} is less than cols = ${cols}`);
  const needed = rows === 0 || cols === 0 ? 0 : offset + (rows - 1) * m.ld + cols;
  if (needed * 4 > m.buffer.size) {
    throw new RangeError(`${label}: ${name} needs ${needed} elements but its buffer holds ${m.buffer.size / 4}`);
  }
}

function checkUnits(label: string, cols: number, unitOffset: number): void {
  checkU32(`${label}: cols`, cols);
  checkU32(`${label}: unitOffset`, unitOffset);
  if (unitOffset + cols > U32_MAX) throw new RangeError(`${label}: unitOffset + cols = ${unitOffset + cols} exceeds u32`);
}

export class DropoutKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: { forward: GPUComputePipeline; backward: GPUComputePipeline; maskBits: GPUComputePipeline },
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<DropoutKernel> {
    const pipeline = (entryPoint: string) =>
      computePipeline(gpu.device, { family: 'Dropout', source, entryPoint, usesDropoutMask: true, constants: WORKGROUP });
    const [forward, backward, maskBits] = await Promise.all([pipeline('forward'), pipeline('backward'), pipeline('mask_bits')]);
    return new DropoutKernel(gpu.device, { forward, backward, maskBits }, options.maxWorkgroupsPerDimension);
  }

  /** output = mask ⊙ input · scale. */
  prepareForward(args: DropoutArgs): Dispatch {
    return this.prepareApply(this.pipelines.forward, args);
  }

  /** input = dY, output = dX = mask ⊙ dY · scale, with the forward pass's mask (same key, step, rows, units). */
  prepareBackward(args: DropoutArgs): Dispatch {
    return this.prepareApply(this.pipelines.backward, args);
  }

  /** The dropped-units bitmap of one sample at the current step (for the unit map: "dropped" state). */
  prepareMaskBits(args: DropoutMaskBitsArgs): Dispatch {
    const { label, cols, unitOffset = 0, sample } = args;
    checkUnits(label, cols, unitOffset);
    checkU32(`${label}: sample`, sample);
    checkStepStateBuffer(label, args.stepState);
    const words = Math.ceil(cols / 32);
    if (words * 4 > args.bits.size) throw new RangeError(`${label}: bits needs ${words} words but its buffer holds ${args.bits.size / 4}`);
    const params = this.params(label, args, { rows: 0, cols, unitOffset, groupsPerRow: 0, sample, invocations: words });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines.maskBits,
      buffers: [params, args.stepState, null, null, args.bits],
      workgroups: Math.ceil(words / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  private prepareApply(pipeline: GPUComputePipeline, args: DropoutArgs): Dispatch {
    const { label, rows, cols, unitOffset = 0 } = args;
    checkUnits(label, cols, unitOffset);
    checkU32(`${label}: rows`, rows);
    checkStepStateBuffer(label, args.stepState);
    checkMatrix(label, 'input', args.input, rows, cols);
    checkMatrix(label, 'output', args.output, rows, cols);
    if (args.input.buffer === args.output.buffer) {
      throw new RangeError(`${label}: input and output must be different buffers (WebGPU forbids aliasing a writable binding)`);
    }
    const groupsPerRow = cols === 0 ? 0 : ((unitOffset + cols - 1) >>> 2) - (unitOffset >>> 2) + 1;
    const invocations = rows * groupsPerRow;
    if (invocations > U32_MAX) throw new RangeError(`${label}: ${rows} rows x ${cols} units is too large for one dispatch`);
    const params = this.params(label, args, {
      rows,
      cols,
      unitOffset,
      groupsPerRow,
      sample: 0,
      invocations,
      input: args.input,
      output: args.output,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline,
      buffers: [params, args.stepState, args.input.buffer, args.output.buffer],
      workgroups: Math.ceil(invocations / WORKGROUP.WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  private params(
    label: string,
    args: { p: number; key: readonly [number, number] },
    shape: {
      rows: number;
      cols: number;
      unitOffset: number;
      groupsPerRow: number;
      sample: number;
      invocations: number;
      input?: MatrixRef;
      output?: MatrixRef;
    },
  ): GPUBuffer {
    let threshold: number;
    let scale: number;
    try {
      threshold = dropoutThreshold(args.p);
      scale = dropoutScale(args.p);
    } catch (error) {
      throw new RangeError(`${label}: ${(error as Error).message}`);
    }
    checkU32(`${label}: key[0]`, args.key[0]);
    checkU32(`${label}: key[1]`, args.key[1]);
    return createUniform(this.device, `${label}.params`, DROPOUT_PARAMS, {
      rows: shape.rows,
      cols: shape.cols,
      unitOffset: shape.unitOffset,
      groupsPerRow: shape.groupsPerRow,
      inOffset: shape.input?.offset ?? 0,
      inLd: shape.input?.ld ?? 0,
      outOffset: shape.output?.offset ?? 0,
      outLd: shape.output?.ld ?? 0,
      threshold,
      scale,
      key0: args.key[0],
      key1: args.key[1],
      sample: shape.sample,
      invocations: shape.invocations,
    });
  }
}
