// Frozen units on the GPU (shaders/frozen.wgsl): a per-step scan of the training pre-activations folded into a
// per-unit record (last active step, first and last non-finite step, thaws), and at snapshots the frozen and
// non-finite bitmaps. Definitions in src/reference/frozen.ts, which mirrors the shader bit for bit.
//
// When the engine encodes what:
// - every step, inside the step after the forward pass (StepState.step = the step being computed):
//   prepareTrainScan per column block of every hidden layer, on the block's Z buffer;
// - at a snapshot after t completed steps, after the probe's dead scan and before the history update:
//   prepareFrozenPack per layer (it clears non-finite units out of the dead bitmap).
//
// Buffers (caller-owned; global unit indices of the layer):
//   record                           width x TRAIN_RECORD_WORDS u32 (see TrainRecordField)
//   nonFiniteBits, frozenBits, deadBits  ceil(width / 32) u32 words
import source from '../../../shaders/frozen.wgsl?raw';
import { bitmapWords } from '../../spec/bitmaps.js';
import { TRAIN_RECORD_WORDS } from '../../spec/train-record.js';
import type { MatrixRef } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

const U32_MAX = 0xffffffff;
/** The shader's workgroup overrides: train_scan SCAN_TILE columns (32) x SCAN_LANES row lanes; the rest WG units. */
const WORKGROUP = { SCAN_TILE: 32, SCAN_LANES: 8, WG: 256 } as const;
const { SCAN_TILE, WG } = WORKGROUP;

export const FROZEN_PARAMS = wgslStruct('frozen.wgsl', 'FrozenParams', {
  rows: 'u32',
  cols: 'u32',
  unitOffset: 'u32',
  zOffset: 'u32',
  ld: 'u32',
  gated: 'u32',
  window: 'u32',
  countsOffset: 'u32',
  invocations: 'u32',
});

export interface TrainScanArgs {
  label: string;
  /** Training pre-activations of this column block, [rows, cols]. */
  z: MatrixRef;
  /** Batch rows. */
  rows: number;
  cols: number;
  /** Global unit index of the block's first column, default 0. */
  unitOffset?: number;
  /** StepState: `step` is the step being computed (encode inside the step). */
  stepState: GPUBuffer;
  /** true for relu (active <=> z > 0); false where the derivative is not 0 below zero (active <=> finite). */
  gated: boolean;
  /** W, steps (>= 1): a thaw ends a stretch of at least W quiet steps. */
  window: number;
  /** The whole layer's record, updated in place for [unitOffset, unitOffset + cols). */
  record: GPUBuffer;
}

export interface FrozenPackArgs {
  label: string;
  /** StepState: `step` labels the snapshot (encode after end_step: completed steps). */
  stepState: GPUBuffer;
  /** Layer width. */
  cols: number;
  window: number;
  record: GPUBuffer;
  /** In: the probe's non-finite units (dead scan); out: probe or the snapshot's last training step. */
  nonFiniteBits: GPUBuffer;
  /** Out: frozen units. */
  frozenBits: GPUBuffer;
  /** In and out: the probe's dead units, non-finite ones cleared. */
  deadBits: GPUBuffer;
  /** counts[countsOffset] += frozen units, counts[countsOffset + 1] += non-finite units (clear first). */
  counts: GPUBuffer;
  countsOffset: number;
}

export interface ResetRecordArgs {
  label: string;
  cols: number;
  record: GPUBuffer;
}

type EntryPoint = 'train_scan' | 'frozen_pack' | 'reset_record';
const ENTRY_POINTS: readonly EntryPoint[] = ['train_scan', 'frozen_pack', 'reset_record'];

/** Binding indices of shaders/frozen.wgsl. */
const B = { params: 0, stepState: 1, z: 2, record: 3, nonFiniteBits: 4, frozenBits: 5, deadBits: 6, counts: 7 } as const;

interface ParamFields {
  rows?: number;
  cols: number;
  unitOffset?: number;
  zOffset?: number;
  ld?: number;
  gated?: boolean;
  window?: number;
  countsOffset?: number;
  invocations: number;
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > U32_MAX) throw new RangeError(`${name} must be a u32, got ${value}`);
}

function checkWords(label: string, name: string, buffer: GPUBuffer, words: number): void {
  if (words * 4 > buffer.size) throw new RangeError(`${label}: ${name} needs ${words} u32 words but its buffer holds ${buffer.size / 4}`);
}

function checkWindow(label: string, window: number): void {
  if (!Number.isInteger(window) || window < 1 || window > U32_MAX) throw new RangeError(`${label}: window must be an integer in [1, 2^32 - 1], got ${window}`);
}

function checkDistinct(label: string, buffers: Record<string, GPUBuffer>): void {
  const seen = new Map<GPUBuffer, string>();
  for (const [name, buffer] of Object.entries(buffers)) {
    const other = seen.get(buffer);
    if (other) throw new RangeError(`${label}: ${other} and ${name} must be different buffers (WebGPU forbids aliasing a writable binding)`);
    seen.set(buffer, name);
  }
}

export class FrozenKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Readonly<Record<EntryPoint, GPUComputePipeline>>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<FrozenKernel> {
    const compiled = await Promise.all(
      ENTRY_POINTS.map((entryPoint) => computePipeline(gpu.device, { family: 'Frozen', source, entryPoint, constants: WORKGROUP })),
    );
    const pipelines = Object.fromEntries(ENTRY_POINTS.map((e, i) => [e, compiled[i]])) as Record<EntryPoint, GPUComputePipeline>;
    return new FrozenKernel(gpu.device, pipelines, options.maxWorkgroupsPerDimension);
  }

  /** One training step of one column block: per unit, OR over the batch rows of (z > 0) and (z non-finite), folded into the record. */
  prepareTrainScan(a: TrainScanArgs): Dispatch {
    const { label, rows, cols, unitOffset = 0 } = a;
    checkU32(`${label}: rows`, rows);
    checkU32(`${label}: cols`, cols);
    checkU32(`${label}: unitOffset`, unitOffset);
    checkWindow(label, a.window);
    const zOffset = a.z.offset ?? 0;
    checkU32(`${label}: z.offset`, zOffset);
    checkU32(`${label}: z.ld`, a.z.ld);
    if (a.z.ld < cols) throw new RangeError(`${label}: z.ld = ${a.z.ld} is less than cols = ${cols}`);
    const needed = rows === 0 || cols === 0 ? 0 : zOffset + (rows - 1) * a.z.ld + cols;
    if (needed > U32_MAX) throw new RangeError(`${label}: z spans ${needed} elements, beyond 32-bit indexing`);
    checkWords(label, 'z', a.z.buffer, needed);
    checkWords(label, 'record', a.record, (unitOffset + cols) * TRAIN_RECORD_WORDS);
    checkStepStateBuffer(label, a.stepState);
    checkDistinct(label, { z: a.z.buffer, record: a.record, stepState: a.stepState });
    const workgroups = Math.ceil(cols / SCAN_TILE);
    const params = this.params(label, { rows, cols, unitOffset, zOffset, ld: a.z.ld, gated: a.gated, window: a.window, invocations: workgroups });
    const buffers: (GPUBuffer | null)[] = new Array(B.record + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.stepState] = a.stepState;
    buffers[B.z] = a.z.buffer;
    buffers[B.record] = a.record;
    return this.single(label, 'train_scan', params, buffers, workgroups);
  }

  /** The snapshot's frozen and non-finite bitmaps and totals; clears non-finite units from deadBits. */
  prepareFrozenPack(a: FrozenPackArgs): Dispatch {
    const { label, cols, countsOffset } = a;
    checkU32(`${label}: cols`, cols);
    checkU32(`${label}: countsOffset`, countsOffset);
    checkWindow(label, a.window);
    const words = bitmapWords(cols);
    checkWords(label, 'record', a.record, cols * TRAIN_RECORD_WORDS);
    checkWords(label, 'nonFiniteBits', a.nonFiniteBits, words);
    checkWords(label, 'frozenBits', a.frozenBits, words);
    checkWords(label, 'deadBits', a.deadBits, words);
    checkWords(label, 'counts', a.counts, countsOffset + 2);
    checkStepStateBuffer(label, a.stepState);
    checkDistinct(label, {
      stepState: a.stepState,
      record: a.record,
      nonFiniteBits: a.nonFiniteBits,
      frozenBits: a.frozenBits,
      deadBits: a.deadBits,
      counts: a.counts,
    });
    const params = this.params(label, { cols, window: a.window, countsOffset, invocations: cols });
    const buffers: (GPUBuffer | null)[] = new Array(B.counts + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.stepState] = a.stepState;
    buffers[B.record] = a.record;
    buffers[B.nonFiniteBits] = a.nonFiniteBits;
    buffers[B.frozenBits] = a.frozenBits;
    buffers[B.deadBits] = a.deadBits;
    buffers[B.counts] = a.counts;
    return this.single(label, 'frozen_pack', params, buffers, Math.ceil(cols / WG));
  }

  /** Writes initialTrainRecord(cols) on the GPU. */
  prepareResetRecord(a: ResetRecordArgs): Dispatch {
    const { label, cols } = a;
    checkU32(`${label}: cols`, cols);
    checkWords(label, 'record', a.record, cols * TRAIN_RECORD_WORDS);
    const params = this.params(label, { cols, invocations: cols });
    const buffers: (GPUBuffer | null)[] = new Array(B.record + 1).fill(null);
    buffers[B.params] = params;
    buffers[B.record] = a.record;
    return this.single(label, 'reset_record', params, buffers, Math.ceil(cols / WG));
  }

  private single(label: string, entry: EntryPoint, params: GPUBuffer, buffers: ReadonlyArray<GPUBuffer | null>, workgroups: number): Dispatch {
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[entry],
      buffers,
      workgroups,
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  private params(label: string, f: ParamFields): GPUBuffer {
    return createUniform(this.device, `${label}.params`, FROZEN_PARAMS, {
      rows: f.rows ?? 0,
      cols: f.cols,
      unitOffset: f.unitOffset ?? 0,
      zOffset: f.zOffset ?? 0,
      ld: f.ld ?? 0,
      gated: f.gated ? 1 : 0,
      window: f.window ?? 1,
      countsOffset: f.countsOffset ?? 0,
      invocations: f.invocations,
    });
  }
}
