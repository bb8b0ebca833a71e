// Slowly-changing regression on the GPU (shaders/bitflip.wgsl): the task switch (one flipping bit flips), the
// step's batch inputs and teacher targets, and the current task's probe inputs. Nothing is read back.
import source from '../../../shaders/bitflip.wgsl?raw';
import { teacherLayout } from '../../spec/bitflip.js';
import type { GpuContext } from '../device.js';
import { composeDispatches, prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

/** Threads per workgroup of batch_inputs / probe_inputs (one per input bit) and of teacher_targets (one row). */
export const BITFLIP_WORKGROUPS = { INPUTS_WG: 256, TARGETS_WG: 64 } as const;

export const BITFLIP_PARAMS = wgslStruct('bitflip.wgsl', 'BitflipParams', {
  rows: 'u32',
  inputSize: 'u32',
  flipping: 'u32',
  teacherWidth: 'u32',
  taskEvery: 'u32',
  exhaustive: 'u32',
  key0: 'u32',
  key1: 'u32',
});

export interface BitflipProblemBuffers {
  /** m + 1. */
  inputSize: number;
  flipping: number;
  teacherWidth: number;
  /** Steps per task (0: one task). */
  taskEvery: number;
  /** rngKey(seed, 'bitflip'). */
  key: readonly [number, number];
  stepState: GPUBuffer;
  /** [max(flipping, 1)] u32: the current task's flipping bits. */
  flipBits: GPUBuffer;
  /** [teacherLayout(inputSize, teacherWidth).words] f32. */
  teacher: GPUBuffer;
}

export interface BitflipStepArgs extends BitflipProblemBuffers {
  label: string;
  batch: number;
  /** [batch, inputSize] f32. */
  inputs: GPUBuffer;
  /** [batch] f32. */
  targets: GPUBuffer;
}

export interface BitflipProbeArgs extends BitflipProblemBuffers {
  label: string;
  rows: number;
  exhaustive: boolean;
  /** [rows, inputSize] f32. */
  inputs: GPUBuffer;
}

export class BitflipKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Record<'switchTask' | 'batchInputs' | 'probeInputs' | 'teacherTargets', GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<BitflipKernel> {
    const pipeline = (entryPoint: string) =>
      computePipeline(gpu.device, { family: 'Bitflip', source, entryPoint, usesPhilox: true, constants: BITFLIP_WORKGROUPS });
    const [switchTask, batchInputs, probeInputs, teacherTargets] = await Promise.all(
      ['switch_task', 'batch_inputs', 'probe_inputs', 'teacher_targets'].map(pipeline),
    );
    return new BitflipKernel(gpu.device, { switchTask, batchInputs, probeInputs, teacherTargets }, options.maxWorkgroupsPerDimension);
  }

  private params(label: string, p: BitflipProblemBuffers, rows: number, exhaustive: boolean): GPUBuffer {
    checkProblem(label, p);
    checkStepStateBuffer(label, p.stepState);
    return createUniform(this.device, `${label}.params`, BITFLIP_PARAMS, {
      rows,
      inputSize: p.inputSize,
      flipping: p.flipping,
      teacherWidth: p.teacherWidth,
      taskEvery: p.taskEvery,
      exhaustive: exhaustive ? 1 : 0,
      key0: p.key[0],
      key1: p.key[1],
    });
  }

  /**
   * One training step's data, recorded first in the step: switch_task (a flipping bit flips when a task begins),
   * then the batch inputs, then the teacher's targets for them.
   */
  prepareStep(a: BitflipStepArgs): Dispatch {
    checkBuffer(a.label, 'inputs', a.inputs, a.batch * a.inputSize);
    checkBuffer(a.label, 'targets', a.targets, a.batch);
    const params = this.params(a.label, a, a.batch, false);
    const d = (entry: keyof BitflipKernel['pipelines'], buffers: (GPUBuffer | null)[], workgroups: number) =>
      prepareDispatch(this.device, {
        label: `${a.label}.${entry}`,
        pipeline: this.pipelines[entry],
        buffers,
        workgroups,
        maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
      });
    return composeDispatches(
      a.label,
      [
        d('switchTask', [a.stepState, params, a.flipBits], 1),
        d('batchInputs', [a.stepState, params, a.flipBits, null, a.inputs], Math.ceil((a.batch * a.inputSize) / BITFLIP_WORKGROUPS.INPUTS_WG)),
        d('teacherTargets', [null, params, null, a.teacher, a.inputs, a.targets], a.batch),
      ],
      [params],
    );
  }

  /** The current task's probe inputs (the flipping bits as they are now). */
  prepareProbe(a: BitflipProbeArgs): Dispatch {
    checkBuffer(a.label, 'inputs', a.inputs, a.rows * a.inputSize);
    const params = this.params(a.label, a, a.rows, a.exhaustive);
    return prepareDispatch(this.device, {
      label: a.label,
      pipeline: this.pipelines.probeInputs,
      buffers: [a.stepState, params, a.flipBits, null, a.inputs],
      workgroups: Math.ceil((a.rows * a.inputSize) / BITFLIP_WORKGROUPS.INPUTS_WG),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}

function checkProblem(label: string, p: BitflipProblemBuffers): void {
  if (!Number.isInteger(p.inputSize) || p.inputSize < 2) throw new RangeError(`${label}: inputSize must be an integer >= 2, got ${p.inputSize}`);
  if (!Number.isInteger(p.flipping) || p.flipping < 0 || p.flipping > p.inputSize - 1)
    throw new RangeError(`${label}: flipping must be in [0, ${p.inputSize - 1}], got ${p.flipping}`);
  checkBuffer(label, 'flipBits', p.flipBits, Math.max(1, p.flipping));
  checkBuffer(label, 'teacher', p.teacher, teacherLayout(p.inputSize, p.teacherWidth).words);
}

function checkBuffer(label: string, name: string, buffer: GPUBuffer, elements: number): void {
  if (buffer.size < elements * 4) throw new RangeError(`${label}: ${name} needs ${elements} elements but its buffer holds ${buffer.size / 4}`);
}
