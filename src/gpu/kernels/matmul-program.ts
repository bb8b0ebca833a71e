// One matmul kernel configuration (./matmul-configs.ts) on a device: its pipelines, compiled on demand per
// transpose variant and vec4 alignment, and the dispatches that run it. ./matmul.ts picks a configuration per
// shape; see shaders/matmul.wgsl for the kernels themselves.
import source from '../../../shaders/matmul.wgsl?raw';
import subgroupSource from '../../../shaders/matmul_subgroups.wgsl?raw';
import tiledSource from '../../../shaders/matmul_tiled.wgsl?raw';
import flatSource from '../../../shaders/matmul_flat.wgsl?raw';
import { flatKernelSource } from './matmul-flat';
import type { MatrixRef } from '../buffers';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline, type PipelineSpec } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { ACTIVATION_KIND_CODES, activationAlpha, type ActivationSpec } from '../../spec/activations';
import { dropoutScale, dropoutThreshold } from '../../spec/dropout-rate';
import { configHeader, configName, configTile, configWorkgroupSize, type MatmulConfig } from './matmul-configs';
import { checkStepStateBuffer, STEP_STATE_BYTES } from './schedule';

export type { MatrixRef };

/**
 * 'nn': C = A·B, A [m,k], B [k,n] (forward Y = X·W).
 * 'nt': C = A·Bᵀ, A [m,k], B stored [n,k] (dX = dY·Wᵀ with W [in,out]).
 * 'tn': C = Aᵀ·B, A stored [k,m], B [k,n] (dW = Xᵀ·dY).
 */
export type MatmulVariant = 'nn' | 'nt' | 'tn';
export const MATMUL_VARIANTS: readonly MatmulVariant[] = ['nn', 'nt', 'tn'];

export interface MatmulArgs {
  label: string;
  variant: MatmulVariant;
  m: number;
  n: number;
  k: number;
  a: MatrixRef;
  b: MatrixRef;
  /** [m, n]; must not share a buffer with a, b or bias (WebGPU forbids a writable binding aliasing others). */
  c: MatrixRef;
  /** C[i, j] += bias[j]. */
  bias?: { buffer: GPUBuffer; offset?: number };
  /** C = C + op(A)·op(B) instead of C = op(A)·op(B). */
  accumulate?: boolean;
  /** What the product's last pass also computes from each finished element of C (see MatmulEpilogue). */
  epilogue?: MatmulEpilogue;
}

/** The dropout of a fused epilogue: the same mask as shaders/dropout.wgsl (src/gpu/kernels/dropout.ts DropoutArgs). */
export interface EpilogueDropout {
  /** Drop probability in [0, 1); 0 means no dropout. */
  p: number;
  /** rngKey(seed, 'dropout', layer). */
  key: readonly [number, number];
  /** The StepState buffer; its `step` selects the mask. Row r of C is sample r. */
  stepState: GPUBuffer;
  /** Global unit index of C's column 0. */
  unitOffset: number;
}

/**
 * A hidden layer's elementwise work fused into the product that completes its input (every buffer laid out like c):
 * - 'forward' (nn, Z = X·W + b): C = Z is stored, then y = dropout(act(Z)) and, where `h` is given, h = act(Z).
 * - 'backward' (nt, dX = dZ'·Wᵀ into the layer below): dz = act'(z) ⊙ dropout_backward(dX); C is only read
 *   (when accumulating), never written.
 * The f32 operations are those of the activation and dropout kernels, so the results are bit-identical to them.
 */
export type MatmulEpilogue =
  | { kind: 'forward'; activation: ActivationSpec; dropout?: EpilogueDropout; h?: GPUBuffer; y: GPUBuffer }
  | { kind: 'backward'; activation: ActivationSpec; dropout?: EpilogueDropout; z: GPUBuffer; dz: GPUBuffer };

const EPILOGUE_CODE = { none: 0, forward: 1, backward: 2 } as const;

const VARIANT_CODE: Record<MatmulVariant, number> = { nn: 0, nt: 1, tn: 2 };

export const MATMUL_PARAMS = wgslStruct('matmul.wgsl', 'Params', {
  m: 'u32',
  n: 'u32',
  k: 'u32',
  lda: 'u32',
  ldb: 'u32',
  ldc: 'u32',
  aOff: 'u32',
  bOff: 'u32',
  cOff: 'u32',
  biasOff: 'u32',
  tilesN: 'u32',
  tiles: 'u32',
  hasBias: 'u32',
  accumulate: 'u32',
  epilogue: 'u32',
  actKind: 'u32',
  actAlpha: 'f32',
  dropout: 'u32',
  dropThreshold: 'u32',
  dropScale: 'f32',
  dropKey0: 'u32',
  dropKey1: 'u32',
  unitOffset: 'u32',
  writeH: 'u32',
});

/** Shapes of the stored operands, for bounds checks: [rows, cols] as laid out in memory. */
export function storedShapes(args: Pick<MatmulArgs, 'variant' | 'm' | 'n' | 'k'>): { a: [number, number]; b: [number, number] } {
  const { variant, m, n, k } = args;
  return {
    a: variant === 'tn' ? [k, m] : [m, k],
    b: variant === 'nt' ? [n, k] : [k, n],
  };
}

export function checkMatrix(label: string, name: string, ref: MatrixRef, rows: number, cols: number): void {
  const offset = ref.offset ?? 0;
  if (!Number.isInteger(offset) || offset < 0) throw new RangeError(`${label}: ${name}.offset ${offset} is not a non-negative integer`);
  if (!Number.isInteger(ref.ld) || ref.ld < cols) throw new RangeError(`${label}: ${name}.ld ${ref.ld} < ${cols} columns`);
  const needed = (offset + (rows - 1) * ref.ld + cols) * 4;
  if (rows > 0 && cols > 0 && needed > ref.buffer.size) {
    throw new RangeError(
      `${label}: ${name} [${rows}, ${cols}] (offset ${offset}, ld ${ref.ld}) needs ${needed} bytes; ${ref.buffer.label || 'buffer'} has ${ref.buffer.size}`,
    );
  }
}

/** Throws, naming the field, unless the arguments describe a product whose operands fit their buffers. */
export function checkMatmulArgs(args: MatmulArgs): void {
  const { label, variant, m, n, k } = args;
  for (const [name, v] of [
    ['m', m],
    ['n', n],
    ['k', k],
  ] as const) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`${label}: ${name} = ${v} is not a non-negative integer`);
  }
  if (!(variant in VARIANT_CODE)) throw new RangeError(`${label}: unknown variant ${String(variant)}`);
  if (m === 0 || n === 0) return;
  const shapes = storedShapes(args);
  checkMatrix(label, 'a', args.a, ...shapes.a);
  checkMatrix(label, 'b', args.b, ...shapes.b);
  checkMatrix(label, 'c', args.c, m, n);
  if (args.c.buffer === args.a.buffer || args.c.buffer === args.b.buffer || args.c.buffer === args.bias?.buffer) {
    throw new Error(`${label}: c must not share a buffer with a, b or bias`);
  }
  const biasOffset = args.bias?.offset ?? 0;
  if (args.bias && (biasOffset + n) * 4 > args.bias.buffer.size) throw new RangeError(`${label}: bias [${n}] at offset ${biasOffset} overruns its buffer`);
  if (args.epilogue) checkEpilogue(args);
}

function checkEpilogue(args: MatmulArgs): void {
  const { label, m, n } = args;
  const e = args.epilogue!;
  const want = e.kind === 'forward' ? 'nn' : 'nt';
  if (args.variant !== want) throw new RangeError(`${label}: epilogue ${e.kind} needs variant '${want}', got '${args.variant}'`);
  if (!(e.activation.kind in ACTIVATION_KIND_CODES)) throw new RangeError(`${label}: epilogue.activation.kind ${String(e.activation.kind)} is unknown`);
  const named: Array<[string, GPUBuffer]> =
    e.kind === 'forward'
      ? [['y', e.y], ...(e.h ? [['h', e.h] as [string, GPUBuffer]] : [])]
      : [
          ['z', e.z],
          ['dz', e.dz],
        ];
  for (const [name, buffer] of named) checkMatrix(label, `epilogue.${name}`, { buffer, ld: args.c.ld, offset: args.c.offset }, m, n);
  const writable = e.kind === 'forward' ? [args.c.buffer, e.y, ...(e.h ? [e.h] : [])] : [args.c.buffer, e.dz];
  const read = [args.a.buffer, args.b.buffer, ...(args.bias ? [args.bias.buffer] : []), ...(e.kind === 'backward' ? [e.z] : [])];
  if (new Set(writable).size !== writable.length || writable.some((w) => read.includes(w))) {
    throw new Error(`${label}: the epilogue's outputs must be buffers of their own (WebGPU forbids a writable binding aliasing others)`);
  }
  if (e.dropout && e.dropout.p > 0) {
    try {
      dropoutThreshold(e.dropout.p);
    } catch (error) {
      throw new RangeError(`${label}: epilogue.dropout.${(error as Error).message}`);
    }
    checkStepStateBuffer(label, e.dropout.stepState);
    const { unitOffset } = e.dropout;
    if (!Number.isInteger(unitOffset) || unitOffset < 0 || unitOffset + n > 0xffffffff) {
      throw new RangeError(`${label}: epilogue.dropout.unitOffset ${unitOffset} is not a u32 offset for ${n} units`);
    }
  }
}

/** The uniform fields of an epilogue (all zero without one). */
function epilogueParams(e: MatmulEpilogue | undefined) {
  const dropout = e?.dropout && e.dropout.p > 0 ? e.dropout : undefined;
  return {
    epilogue: EPILOGUE_CODE[e?.kind ?? 'none'],
    actKind: e ? ACTIVATION_KIND_CODES[e.activation.kind] : 0,
    actAlpha: e ? activationAlpha(e.activation) : 0,
    dropout: dropout ? 1 : 0,
    dropThreshold: dropout ? dropoutThreshold(dropout.p) : 0,
    dropScale: dropout ? dropoutScale(dropout.p) : 1,
    dropKey0: dropout?.key[0] ?? 0,
    dropKey1: dropout?.key[1] ?? 0,
    unitOffset: dropout?.unitOffset ?? 0,
    writeH: e?.kind === 'forward' && e.h ? 1 : 0,
  };
}

/**
 * vec4 loads need 16-byte aligned starts of every row (offset and ld multiples of 4). B of nn/tn is also read
 * in whole vec4s up to column ceil4(n), which must lie inside the buffer (else robust access would clamp
 * the vec4 and corrupt the last valid columns).
 */
export function vec4Aligned(args: Pick<MatmulArgs, 'variant' | 'm' | 'n' | 'k' | 'a' | 'b'>): boolean {
  const ok = (r: MatrixRef) => (r.offset ?? 0) % 4 === 0 && r.ld % 4 === 0;
  if (!ok(args.a) || !ok(args.b)) return false;
  if (args.variant !== 'nt' && args.k > 0) {
    const lastVec4End = (args.b.offset ?? 0) + (args.k - 1) * args.b.ld + Math.ceil(args.n / 4) * 4;
    if (lastVec4End * 4 > args.b.buffer.size) return false;
  }
  return true;
}

/** A Dispatch that records nothing (empty products). */
export function emptyDispatch(label: string): Dispatch {
  return { label, buffers: [], encode() {}, destroy() {} };
}

/** The fused epilogues call the dropout mask and the activation functions (shared with their own kernels). */
const SNIPPETS = { usesDropoutMask: true, usesActivation: true } as const;

/** What selects a pipeline of a configuration: the transpose variant and whether vec4 loads may be used. */
export interface PipelineKey {
  variant: MatmulVariant;
  aligned: boolean;
}

export class MatmulProgram {
  readonly name: string;
  /** Output tile of one workgroup: [rows, cols]. */
  readonly tile: [number, number];
  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pending = new Map<string, Promise<GPUComputePipeline>>();

  constructor(
    private readonly device: GPUDevice,
    readonly config: MatmulConfig,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {
    this.name = configName(config);
    this.tile = configTile(config);
  }

  private spec(key: PipelineKey): PipelineSpec {
    // NOTE: shaders.ts caches modules by family, so each configuration (its own tile consts) is a family of its own.
    const c = this.config;
    const header = configHeader(c);
    const constants = { VARIANT: VARIANT_CODE[key.variant], ALIGNED: key.aligned ? 1 : 0, WG: configWorkgroupSize(c) };
    const family = `Matmul.${this.name}`;
    if (c.kind === 'sg') {
      return {
        family,
        source: `${header}\n${source}\n${subgroupSource}`,
        entryPoint: 'matmul_subgroups',
        enables: ['subgroups'],
        ...SNIPPETS,
        constants: { ...constants, SHARE: c.share },
      };
    }
    if (c.kind === 'flat') {
      return {
        family,
        source: `${header}\n${source}\n${flatSource}\n${flatKernelSource(c.rows, c.cols / 4)}`,
        entryPoint: 'matmul_flat',
        ...SNIPPETS,
        constants,
      };
    }
    if (c.kind === 'wgmem') return { family, source: `${header}\n${source}\n${tiledSource}`, entryPoint: 'matmul_tiled', ...SNIPPETS, constants };
    return { family, source: `${header}\n${source}`, entryPoint: 'matmul', ...SNIPPETS, constants };
  }

  private pipelineId(key: PipelineKey): string {
    return `${key.variant}${key.aligned ? '4' : '1'}`;
  }

  /** Compiles the pipeline for `key` (once); prepare() may use it afterwards. */
  async compile(key: PipelineKey): Promise<void> {
    const id = this.pipelineId(key);
    if (this.pipelines.has(id)) return;
    let pending = this.pending.get(id);
    if (!pending) this.pending.set(id, (pending = computePipeline(this.device, this.spec(key))));
    this.pipelines.set(id, await pending);
  }

  /** Compiles every pipeline the configuration has. */
  async compileAll(): Promise<void> {
    await Promise.all(MATMUL_VARIANTS.flatMap((variant) => [false, true].map((aligned) => this.compile({ variant, aligned }))));
  }

  isCompiled(key: PipelineKey): boolean {
    return this.pipelines.has(this.pipelineId(key));
  }

  /**
   * The dispatch of one product (arguments checked by the caller: checkMatmulArgs). `aligned` may be false
   * where vec4Aligned(args) is true (the scalar pipeline is always correct), never the other way round.
   */
  prepare(args: MatmulArgs, aligned = vec4Aligned(args)): Dispatch {
    const { label, variant, m, n, k } = args;
    if (m === 0 || n === 0) return emptyDispatch(label);
    const pipeline = this.pipelines.get(this.pipelineId({ variant, aligned }));
    if (!pipeline) throw new Error(`${label}: pipeline ${this.name} ${variant}${aligned ? ' (vec4)' : ''} is not compiled yet`);
    const [tileRows, tileCols] = this.tile;
    const tilesN = Math.ceil(n / tileCols);
    const tiles = Math.ceil(m / tileRows) * tilesN;
    const params = createUniform(this.device, `${label}.params`, MATMUL_PARAMS, {
      m,
      n,
      k,
      lda: args.a.ld,
      ldb: args.b.ld,
      ldc: args.c.ld,
      aOff: args.a.offset ?? 0,
      bOff: args.b.offset ?? 0,
      cOff: args.c.offset ?? 0,
      biasOff: args.bias?.offset ?? 0,
      tilesN,
      tiles,
      hasBias: args.bias ? 1 : 0,
      accumulate: args.accumulate ? 1 : 0,
      ...epilogueParams(args.epilogue),
    });
    const e = args.epilogue;
    // Bindings the epilogue does not use still need a buffer: read-only ones get a, writable ones a small buffer
    // of their own (a writable binding may not alias another).
    const owned = [params];
    const unused = (name: string, bytes = 16) => {
      const buffer = this.device.createBuffer({ label: `${label}.unused.${name}`, size: bytes, usage: GPUBufferUsage.STORAGE });
      owned.push(buffer);
      return buffer;
    };
    const h = e?.kind === 'forward' && e.h ? e.h : unused('h');
    const y = e?.kind === 'forward' ? e.y : e?.kind === 'backward' ? e.dz : unused('y');
    const stepState = e?.dropout && e.dropout.p > 0 ? e.dropout.stepState : unused('stepState', STEP_STATE_BYTES);
    return prepareDispatch(this.device, {
      label,
      pipeline,
      // The vec4 views (bindings 2 and 4) alias a and b; without a bias, binding 5 gets a (never read).
      buffers: [
        ...[params, args.a.buffer, args.a.buffer, args.b.buffer, args.b.buffer, args.bias?.buffer ?? args.a.buffer, args.c.buffer],
        ...[e?.kind === 'backward' ? e.z : args.a.buffer, h, y, stepState],
      ],
      workgroups: tiles,
      owned,
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
