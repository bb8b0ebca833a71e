// Continual backprop on the GPU (shaders/cbp.wgsl): per-unit utility, the choice of the units to replace and
// their re-initialisation, recorded into the training step with no readback. Buffers belong to the model:
// per hidden layer a unit buffer ([width] CbpUnit, src/spec/cbp.ts) and a selection buffer.
import source from '../../../shaders/cbp.wgsl?raw';
import { CBP_SELECTION_HEADER, CBP_UNIT_WORDS, cbpRateFixed } from '../../spec/cbp.js';
import { initDraw, type InitScheme } from '../../spec/init-schemes.js';
import { createStorage, type MatrixRef } from '../buffers.js';
import type { GpuContext } from '../device.js';
import { prepareDispatch, type Dispatch } from '../dispatch.js';
import { computePipeline } from '../shaders.js';
import { createUniform } from '../uniforms.js';
import { wgslStruct } from '../../spec/wgsl-struct.js';
import { checkStepStateBuffer } from './schedule.js';

export const CBP_WORKGROUPS = { CBP_WG: 64, SELECT_WG: 256 } as const;
const DISTRIBUTION = { uniform: 0, normal: 1, constant: 2 } as const;
const MODE = { incoming: 0, bias: 1, outgoing: 2 } as const;

interface LayerArgs {
  label: string;
  /** Units of the layer. */
  units: number;
  /** [units] CbpUnit. */
  unitState: GPUBuffer;
}

export interface ActivityArgs extends LayerArgs {
  /** act(Z) of one column block: [rows, ld]. */
  acts: MatrixRef;
  rows: number;
  cols: number;
  unitOffset: number;
}

export interface OutgoingArgs extends LayerArgs {
  /** A block of W_{l+1} whose rows are units [unitOffset, unitOffset + rows) of this layer. */
  weights: MatrixRef;
  rows: number;
  cols: number;
  unitOffset: number;
  /** false for the first column block of W_{l+1}, true for the next (their sums add). */
  accumulate: boolean;
}

export interface UtilityArgs extends LayerArgs {
  decay: number;
}

export interface SelectArgs extends LayerArgs {
  maturity: number;
  rate: number;
  maxReplace: number;
  /** [CBP_SELECTION_HEADER + maxReplace] u32. */
  selection: GPUBuffer;
}

interface ResetCommon extends LayerArgs {
  stepState: GPUBuffer;
  selection: GPUBuffer;
  maxReplace: number;
  /** The parameter block written, dense [rows, cols] with row stride ld. */
  block: MatrixRef;
  rows: number;
  cols: number;
  /** Its optimizer state buffers (same layout), zeroed where reset. */
  states: readonly GPUBuffer[];
}

export type ResetArgs =
  /** A block of W_l: chosen units among columns [unitOffset, unitOffset + cols) get fresh draws (rowOffset: the block's first global row). */
  | (ResetCommon & {
      mode: 'incoming';
      unitOffset: number;
      rowOffset: number;
      scheme: InitScheme;
      fanIn: number;
      fanOut: number;
      key: readonly [number, number];
    })
  /** A bias block of layer l: chosen units among its columns get `value`. */
  | (ResetCommon & { mode: 'bias'; unitOffset: number; value: number })
  /** A block of W_{l+1}: chosen units among its rows [unitOffset, unitOffset + rows) get 0. */
  | (ResetCommon & { mode: 'outgoing'; unitOffset: number });

export const CBP_PARAMS = wgslStruct('cbp.wgsl', 'CbpParams', {
  rows: 'u32',
  cols: 'u32',
  ld: 'u32',
  unitOffset: 'u32',
  accumulate: 'u32',
  invRows: 'f32',
  units: 'u32',
  decay: 'f32',
  maturity: 'u32',
  rateFixed: 'u32',
  maxReplace: 'u32',
  mode: 'u32',
  rowOffset: 'u32',
  kind: 'u32',
  scale: 'f32',
  states: 'u32',
  key0: 'u32',
  key1: 'u32',
});
type ParamField = keyof typeof CBP_PARAMS.fields;

type Entry = 'activity' | 'outgoing' | 'utility' | 'selectUnits' | 'resetUnits';

export class CbpKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipelines: Record<Entry, GPUComputePipeline>,
    private readonly maxWorkgroupsPerDimension: number | undefined,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<CbpKernel> {
    const pipeline = (entryPoint: string) => computePipeline(gpu.device, { family: 'Cbp', source, entryPoint, usesInitDraw: true, constants: CBP_WORKGROUPS });
    const [activity, outgoing, utility, selectUnits, resetUnits] = await Promise.all(
      ['activity', 'outgoing', 'utility', 'select_units', 'reset_units'].map(pipeline),
    );
    return new CbpKernel(gpu.device, { activity, outgoing, utility, selectUnits, resetUnits }, options.maxWorkgroupsPerDimension);
  }

  private params(label: string, f: Partial<Record<ParamField, number>>): GPUBuffer {
    // Fields an entry point does not read are 0.
    const values = Object.fromEntries(CBP_PARAMS.fieldNames.map((name) => [name, f[name] ?? 0])) as Record<ParamField, number>;
    return createUniform(this.device, `${label}.params`, CBP_PARAMS, values);
  }

  private dispatch(label: string, entry: Entry, buffers: (GPUBuffer | null)[], workgroups: number, owned: GPUBuffer[]): Dispatch {
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[entry],
      buffers,
      workgroups,
      owned,
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }

  /** activity[unitOffset + c] = mean over rows of |acts[r, c]|. */
  prepareActivity(a: ActivityArgs): Dispatch {
    checkLayer(a);
    checkMatrix(a.label, 'acts', a.acts, a.rows, a.cols);
    if (a.unitOffset + a.cols > a.units) throw new RangeError(`${a.label}: units [${a.unitOffset}, ${a.unitOffset + a.cols}) exceed the layer's ${a.units}`);
    const params = this.params(a.label, {
      rows: a.rows,
      cols: a.cols,
      ld: a.acts.ld,
      unitOffset: a.unitOffset,
      invRows: Math.fround(1 / a.rows),
      units: a.units,
    });
    if ((a.acts.offset ?? 0) !== 0) throw new RangeError(`${a.label}: acts must start at offset 0`);
    return this.dispatch(a.label, 'activity', [null, params, a.acts.buffer, null, null, null, a.unitState], Math.ceil(a.cols / CBP_WORKGROUPS.CBP_WG), [
      params,
    ]);
  }

  /** outgoing[unitOffset + r] (+)= Σ_c |W[r, c]|. */
  prepareOutgoing(a: OutgoingArgs): Dispatch {
    checkLayer(a);
    checkMatrix(a.label, 'weights', a.weights, a.rows, a.cols);
    if ((a.weights.offset ?? 0) !== 0) throw new RangeError(`${a.label}: weights must start at offset 0`);
    const params = this.params(a.label, {
      rows: a.rows,
      cols: a.cols,
      ld: a.weights.ld,
      unitOffset: a.unitOffset,
      accumulate: a.accumulate ? 1 : 0,
      units: a.units,
    });
    return this.dispatch(a.label, 'outgoing', [null, params, null, a.weights.buffer, null, null, a.unitState], Math.ceil(a.rows / CBP_WORKGROUPS.CBP_WG), [
      params,
    ]);
  }

  prepareUtility(a: UtilityArgs): Dispatch {
    checkLayer(a);
    if (!(a.decay >= 0 && a.decay < 1)) throw new RangeError(`${a.label}: decay must be in [0, 1), got ${a.decay}`);
    const params = this.params(a.label, { units: a.units, decay: a.decay });
    return this.dispatch(a.label, 'utility', [null, params, null, null, null, null, a.unitState], Math.ceil(a.units / CBP_WORKGROUPS.CBP_WG), [params]);
  }

  /** One workgroup: the count of mature units, the accumulator, and the units chosen this step. */
  prepareSelect(a: SelectArgs): Dispatch {
    checkLayer(a);
    checkSelection(a.label, a.selection, a.maxReplace);
    const params = this.params(a.label, { units: a.units, maturity: a.maturity, rateFixed: cbpRateFixed(a.rate), maxReplace: a.maxReplace });
    return this.dispatch(a.label, 'selectUnits', [null, params, null, null, null, null, a.unitState, a.selection], 1, [params]);
  }

  prepareReset(a: ResetArgs): Dispatch {
    checkLayer(a);
    checkStepStateBuffer(a.label, a.stepState);
    checkSelection(a.label, a.selection, a.maxReplace);
    checkMatrix(a.label, 'block', a.block, a.rows, a.cols);
    if ((a.block.offset ?? 0) !== 0) throw new RangeError(`${a.label}: block must start at offset 0`);
    if (a.states.length > 2) throw new RangeError(`${a.label}: at most 2 optimizer state buffers, got ${a.states.length}`);
    const span = a.mode === 'incoming' ? a.rows : a.mode === 'bias' ? 1 : a.cols;
    let draw = { kind: DISTRIBUTION.constant as number, scale: 0, key: [0, 0] as readonly [number, number], rowOffset: 0 };
    if (a.mode === 'incoming') {
      const d = initDraw(a.scheme, a.fanIn, a.fanOut);
      draw = { kind: DISTRIBUTION[d.distribution], scale: d.scale, key: a.key, rowOffset: a.rowOffset };
    } else if (a.mode === 'bias') draw = { ...draw, scale: Math.fround(a.value) };
    const params = this.params(a.label, {
      rows: a.rows,
      cols: a.cols,
      ld: a.block.ld,
      unitOffset: a.unitOffset,
      units: a.units,
      maxReplace: a.maxReplace,
      mode: MODE[a.mode],
      rowOffset: draw.rowOffset,
      kind: draw.kind,
      scale: draw.scale,
      states: a.states.length,
      key0: draw.key[0],
      key1: draw.key[1],
    });
    // Without optimizer state the bindings still need buffers: a 16-byte stand-in each (never two writable
    // bindings of one buffer).
    const spares = [0, 1].filter((s) => a.states[s] === undefined).map((s) => createStorage(this.device, `${a.label}.noState${s + 1}`, 16));
    const [state1, state2] = [a.states[0] ?? spares[0], a.states[1] ?? spares[spares.length - 1]];
    const workgroups = Math.ceil((a.maxReplace * span) / CBP_WORKGROUPS.CBP_WG);
    return this.dispatch(a.label, 'resetUnits', [a.stepState, params, null, a.block.buffer, state1, state2, null, a.selection], workgroups, [
      params,
      ...spares,
    ]);
  }
}

function checkLayer(a: LayerArgs): void {
  if (!Number.isInteger(a.units) || a.units < 1) throw new RangeError(`${a.label}: units must be a positive integer, got ${a.units}`);
  if (a.unitState.size < a.units * CBP_UNIT_WORDS * 4)
    throw new RangeError(`${a.label}: the unit buffer holds ${a.unitState.size} bytes; ${a.units} units need ${a.units * CBP_UNIT_WORDS * 4}`);
}

function checkSelection(label: string, selection: GPUBuffer, maxReplace: number): void {
  if (!Number.isInteger(maxReplace) || maxReplace < 1) throw new RangeError(`${label}: maxReplace must be a positive integer, got ${maxReplace}`);
  const words = CBP_SELECTION_HEADER + maxReplace;
  if (selection.size < words * 4) throw new RangeError(`${label}: the selection buffer needs ${words} words, holds ${selection.size / 4}`);
}

function checkMatrix(label: string, name: string, m: MatrixRef, rows: number, cols: number): void {
  if (m.ld < cols) throw new RangeError(`${label}: ${name}.ld = ${m.ld} is less than cols = ${cols}`);
  const needed = rows === 0 || cols === 0 ? 0 : (m.offset ?? 0) + (rows - 1) * m.ld + cols;
  if (needed * 4 > m.buffer.size) throw new RangeError(`${label}: ${name} needs ${needed} elements but its buffer holds ${m.buffer.size / 4}`);
}
