// Task switches on the GPU (shaders/tasks.wgsl): the task's permutation of the input features, its relabelling
// of the classes, and the re-initialisation of a parameter block when a task begins. The task index comes from
// StepState, so a chunk of K steps may cross a switch without the CPU knowing.
import source from '../../../shaders/tasks.wgsl?raw';
import { initDraw, type InitScheme } from '../../spec/init-schemes.js';
import { createStorage } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

export const TASKS_WORKGROUPS = { TASKS_WG: 64 } as const;
const WG = TASKS_WORKGROUPS.TASKS_WG;
const DISTRIBUTION = { uniform: 0, normal: 1, constant: 2 } as const;

export const TASK_PARAMS = wgslStruct('tasks.wgsl', 'TaskParams', {
  rows: 'u32',
  cols: 'u32',
  taskEvery: 'u32',
  completed: 'u32',
  key0: 'u32',
  key1: 'u32',
  globalCols: 'u32',
  rowOffset: 'u32',
  colOffset: 'u32',
  kind: 'u32',
  scale: 'f32',
  states: 'u32',
});

interface TaskArgs {
  label: string;
  /** rngKey(seed, 'taskPermutation', 0 | 1) or rngKey(seed, 'taskReset', layer). */
  key: readonly [number, number];
  stepState: GPUBuffer;
  /** Steps per task (0: one task). */
  taskEvery: number;
}

export interface PermuteColumnsArgs extends TaskArgs {
  /** true between steps (a probe pass): the task of the last completed step; false inside a step. */
  completed: boolean;
  rows: number;
  cols: number;
  /** [rows, cols] f32 each; distinct buffers. */
  src: GPUBuffer;
  dst: GPUBuffer;
}

export interface RelabelArgs extends TaskArgs {
  rows: number;
  classes: number;
  /** [rows] u32 class labels, relabelled in place. */
  labels: GPUBuffer;
}

export interface ResetBlockArgs extends TaskArgs {
  scheme: InitScheme;
  fanIn: number;
  fanOut: number;
  /** A dense [rows, cols] block of a [*, globalCols] matrix, at (rowOffset, colOffset). */
  rows: number;
  cols: number;
  globalCols: number;
  rowOffset?: number;
  colOffset?: number;
  param: GPUBuffer;
  /** Its optimizer state buffers (0, 1 or 2), zeroed with it. */
  states: readonly GPUBuffer[];
}

type Entry = 'permuteColumns' | 'relabel' | 'resetBlock';

export class TasksKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Record<Entry, GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<TasksKernel> {
    const pipeline = (entryPoint: string) =>
      computePipeline(gpu.device, { family: 'Tasks', source, entryPoint, usesInitDraw: true, constants: TASKS_WORKGROUPS });
    const [permuteColumns, relabel, resetBlock] = await Promise.all(['permute_columns', 'relabel', 'reset_block'].map(pipeline));
    return new TasksKernel(gpu.device, { permuteColumns, relabel, resetBlock }, options.maxWorkgroupsPerDimension);
  }

  private uniform(
    a: TaskArgs,
    fields: Partial<Record<'rows' | 'cols' | 'completed' | 'globalCols' | 'rowOffset' | 'colOffset' | 'kind' | 'states', number>>,
    scale = 0,
  ) {
    checkStepStateBuffer(a.label, a.stepState);
    return createUniform(this.device, `${a.label}.params`, TASK_PARAMS, {
      rows: fields.rows ?? 0,
      cols: fields.cols ?? 0,
      taskEvery: a.taskEvery,
      completed: fields.completed ?? 0,
      key0: a.key[0],
      key1: a.key[1],
      globalCols: fields.globalCols ?? 0,
      rowOffset: fields.rowOffset ?? 0,
      colOffset: fields.colOffset ?? 0,
      kind: fields.kind ?? 0,
      scale,
      states: fields.states ?? 0,
    });
  }

  private dispatch(label: string, entry: Entry, buffers: (GPUBuffer | null)[], threads: number, owned: GPUBuffer[]): Dispatch {
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[entry],
      buffers,
      workgroups: Math.ceil(threads / WG),
      owned,
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  /** dst[r, c] = src[r, π_task(c)]. */
  preparePermuteColumns(a: PermuteColumnsArgs): Dispatch {
    if (a.src === a.dst) throw new RangeError(`${a.label}: permute_columns needs distinct src and dst buffers`);
    checkBuffer(a.label, 'src', a.src, a.rows * a.cols);
    checkBuffer(a.label, 'dst', a.dst, a.rows * a.cols);
    const params = this.uniform(a, { rows: a.rows, cols: a.cols, completed: a.completed ? 1 : 0 });
    return this.dispatch(a.label, 'permuteColumns', [a.stepState, params, a.src, a.dst], a.cols, [params]);
  }

  /** labels[r] = π_task(labels[r]) over [0, classes). */
  prepareRelabel(a: RelabelArgs): Dispatch {
    checkBuffer(a.label, 'labels', a.labels, a.rows);
    const params = this.uniform(a, { rows: a.rows, cols: a.classes });
    return this.dispatch(a.label, 'relabel', [a.stepState, params, null, null, a.labels], a.rows, [params]);
  }

  /** At the first step of every task k >= 1: the block drawn afresh (counter word 2 = k), its optimizer state zeroed. */
  prepareResetBlock(a: ResetBlockArgs): Dispatch {
    const count = a.rows * a.cols;
    checkBuffer(a.label, 'param', a.param, count);
    a.states.forEach((s, i) => checkBuffer(a.label, `state${i + 1}`, s, count));
    if (a.states.length > 2) throw new RangeError(`${a.label}: at most 2 optimizer state buffers, got ${a.states.length}`);
    const draw = initDraw(a.scheme, a.fanIn, a.fanOut);
    const params = this.uniform(
      a,
      {
        rows: a.rows,
        cols: a.cols,
        globalCols: a.globalCols,
        rowOffset: a.rowOffset ?? 0,
        colOffset: a.colOffset ?? 0,
        kind: DISTRIBUTION[draw.distribution],
        states: a.states.length,
      },
      draw.scale,
    );
    // An optimizer without state still binds something there (the layout is the shader's): 16-byte stand-ins,
    // one per binding (WebGPU refuses one buffer bound twice as writable storage).
    const spares = [0, 1].filter((s) => a.states[s] === undefined).map((s) => createStorage(this.device, `${a.label}.noState${s + 1}`, 16));
    const [state1, state2] = [a.states[0] ?? spares[0], a.states[1] ?? spares[spares.length - 1]];
    return this.dispatch(a.label, 'resetBlock', [a.stepState, params, null, null, null, a.param, state1, state2], count, [params, ...spares]);
  }
}

function checkBuffer(label: string, name: string, buffer: GPUBuffer, elements: number): void {
  if (buffer.size < elements * 4) throw new RangeError(`${label}: ${name} needs ${elements} elements but its buffer holds ${buffer.size / 4}`);
}
