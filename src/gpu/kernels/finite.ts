// Finiteness check on the GPU (shaders/finite.wgsl): per tensor, the number of NaN / ±Infinity elements and
// the lowest index of one, written into a caller-owned result buffer of 2 u32 per slot. A run checks every
// parameter block this way at its checkpoints without reading the parameters back.
import source from '../../../shaders/finite.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { NO_INDEX, type FiniteCount } from '../../spec/finite-count';

/** u32 words per result slot: bad count, first bad index. */
export const FINITE_SLOT_WORDS = 2;
/** The shader's workgroup overrides: WG invocations, PER_THREAD elements each. */
const WORKGROUP = { WG: 256, PER_THREAD: 4 } as const;
const ELEMENTS_PER_WORKGROUP = WORKGROUP.WG * WORKGROUP.PER_THREAD;

export const FINITE_PARAMS = wgslStruct('finite.wgsl', 'Params', { count: 'u32', offset: 'u32', slot: 'u32' });

export interface FiniteCheckArgs {
  label: string;
  /** The f32 tensor (read as bits). */
  data: GPUBuffer;
  /** Elements to check, from `offset` (default 0). */
  count: number;
  offset?: number;
  /** Result buffer of at least FINITE_SLOT_WORDS * (slot + 1) u32, reset with finiteResultInit() before the dispatch. */
  result: GPUBuffer;
  slot: number;
}

/** The initial words of `slots` result slots: count 0, first NO_INDEX. */
export function finiteResultInit(slots: number): Uint32Array {
  const words = new Uint32Array(slots * FINITE_SLOT_WORDS);
  for (let s = 0; s < slots; s++) words[s * FINITE_SLOT_WORDS + 1] = NO_INDEX;
  return words;
}

/** Reads slot `slot` out of result words. */
export function finiteSlot(words: Uint32Array, slot: number): FiniteCount {
  return { bad: words[slot * FINITE_SLOT_WORDS], first: words[slot * FINITE_SLOT_WORDS + 1] };
}

export class FiniteKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<FiniteKernel> {
    const pipeline = await computePipeline(gpu.device, { family: 'Finite', source, entryPoint: 'count_nonfinite', constants: WORKGROUP });
    return new FiniteKernel(gpu.device, pipeline, options.maxWorkgroupsPerDimension);
  }

  /** Adds the non-finite elements of data[offset, offset + count) into result slot `slot`. */
  prepare(a: FiniteCheckArgs): Dispatch {
    const offset = a.offset ?? 0;
    if (!Number.isInteger(a.count) || a.count < 0 || !Number.isInteger(offset) || offset < 0 || offset + a.count > 0xffffffff - ELEMENTS_PER_WORKGROUP) {
      throw new RangeError(`${a.label}: ${a.count} elements at offset ${offset} do not fit 32-bit indexing`);
    }
    if (!Number.isInteger(a.slot) || a.slot < 0) throw new RangeError(`${a.label}: slot must be a non-negative integer, got ${a.slot}`);
    const params = createUniform(this.device, `${a.label}.params`, FINITE_PARAMS, { count: a.count, offset, slot: a.slot });
    return prepareDispatch(this.device, {
      label: a.label,
      pipeline: this.pipeline,
      buffers: [params, a.data, a.result],
      workgroups: Math.ceil(a.count / ELEMENTS_PER_WORKGROUP),
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
