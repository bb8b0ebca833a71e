// C = op(A)·op(B) (+ bias) (+ C) on the GPU: see shaders/matmul.wgsl for the design, and
// bench/matmul.ts for the measurements behind the choices made here.
import source from '../../../shaders/matmul.wgsl?raw';
import subgroupSource from '../../../shaders/matmul_subgroups.wgsl?raw';
import naiveSource from '../../../shaders/matmul_naive.wgsl?raw';
import type { MatrixRef } from '../buffers';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';

export type { MatrixRef };

/**
 * 'nn': C = A·B, A [m,k], B [k,n] (forward Y = X·W).
 * 'nt': C = A·Bᵀ, A [m,k], B stored [n,k] (dX = dY·Wᵀ with W [in,out]).
 * 'tn': C = Aᵀ·B, A stored [k,m], B [k,n] (dW = Xᵀ·dY).
 */
export type MatmulVariant = 'nn' | 'nt' | 'tn';

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
}

export interface MatmulOptions {
  maxWorkgroupsPerDimension?: number;
  /** Never use the subgroup entry point, even where the device has subgroups (tests of the portable path). */
  portable?: boolean;
  /** Lanes per workgroup; default 8 on CPU adapters (one SIMD register), 64 on GPUs. */
  workgroupSize?: number;
}

const VARIANT_CODE: Record<MatmulVariant, number> = { nn: 0, nt: 1, tn: 2 };
/** Rows per tile: ROWS in shaders/matmul.wgsl (32 spilled and ran slower on lavapipe). */
const TILE_ROWS = 16;
/** Columns per lane: 4 * COLS4 in shaders/matmul.wgsl (16 measured no faster than 8). */
const LANE_COLS = 8;
/** The naive kernel's tile: TILE x TILE outputs and invocations per workgroup (its override TILE). */
const NAIVE_TILE = 16;

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
});

export const MATMUL_NAIVE_PARAMS = wgslStruct('matmul_naive.wgsl', 'Params', {
  m: 'u32',
  n: 'u32',
  k: 'u32',
  lda: 'u32',
  ldb: 'u32',
  ldc: 'u32',
  aOff: 'u32',
  bOff: 'u32',
  cOff: 'u32',
  tilesN: 'u32',
  tiles: 'u32',
});

/** Shapes of the stored operands, for bounds checks: [rows, cols] as laid out in memory. */
function storedShapes(args: Pick<MatmulArgs, 'variant' | 'm' | 'n' | 'k'>): { a: [number, number]; b: [number, number] } {
  const { variant, m, n, k } = args;
  return {
    a: variant === 'tn' ? [k, m] : [m, k],
    b: variant === 'nt' ? [n, k] : [k, n],
  };
}

function checkMatrix(label: string, name: string, ref: MatrixRef, rows: number, cols: number): void {
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
function emptyDispatch(label: string): Dispatch {
  return { label, buffers: [], encode() {}, destroy() {} };
}

/** The tuned GEMM: register-blocked, vec4 loads where aligned, subgroup operand sharing where available. */
export class MatmulKernel {
  private constructor(
    private readonly device: GPUDevice,
    /** [variant][aligned ? 1 : 0] */
    private readonly pipelines: Record<MatmulVariant, [GPUComputePipeline, GPUComputePipeline]>,
    /** Lanes per workgroup. */
    readonly workgroupSize: number,
    /** True when the subgroup entry point is used. */
    readonly usesSubgroups: boolean,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: MatmulOptions = {}): Promise<MatmulKernel> {
    // The subgroup path broadcasts from lanes 0..7, so it needs subgroups of at least 8 lanes.
    const minSize = gpu.handles.adapter.info.subgroupMinSize ?? 0;
    const usesSubgroups = !options.portable && gpu.hasSubgroups && minSize >= 8;
    const workgroupSize = options.workgroupSize ?? (gpu.adapter.isSoftware ? 8 : 64);
    const spec = usesSubgroups
      ? { family: 'Matmul', source: `${source}\n${subgroupSource}`, entryPoint: 'matmul_subgroups', enables: ['subgroups'] }
      : { family: 'Matmul', source, entryPoint: 'matmul' };
    const variants: MatmulVariant[] = ['nn', 'nt', 'tn'];
    const compiled = await Promise.all(
      variants.flatMap((v) =>
        [0, 1].map((aligned) => computePipeline(gpu.device, { ...spec, constants: { VARIANT: VARIANT_CODE[v], ALIGNED: aligned, WG: workgroupSize } })),
      ),
    );
    const pipelines = Object.fromEntries(variants.map((v, i) => [v, [compiled[2 * i], compiled[2 * i + 1]]])) as MatmulKernel['pipelines'];
    return new MatmulKernel(gpu.device, pipelines, workgroupSize, usesSubgroups, options.maxWorkgroupsPerDimension);
  }

  /** Output tile of one workgroup: [rows, cols]. */
  get tile(): [number, number] {
    return [TILE_ROWS, LANE_COLS * this.workgroupSize];
  }

  prepare(args: MatmulArgs): Dispatch {
    const { label, variant, m, n, k } = args;
    for (const [name, v] of [
      ['m', m],
      ['n', n],
      ['k', k],
    ] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`${label}: ${name} = ${v} is not a non-negative integer`);
    }
    if (!(variant in VARIANT_CODE)) throw new RangeError(`${label}: unknown variant ${String(variant)}`);
    if (m === 0 || n === 0) return emptyDispatch(label);
    const shapes = storedShapes(args);
    checkMatrix(label, 'a', args.a, ...shapes.a);
    checkMatrix(label, 'b', args.b, ...shapes.b);
    checkMatrix(label, 'c', args.c, m, n);
    if (args.c.buffer === args.a.buffer || args.c.buffer === args.b.buffer || args.c.buffer === args.bias?.buffer) {
      throw new Error(`${label}: c must not share a buffer with a, b or bias`);
    }
    const biasOffset = args.bias?.offset ?? 0;
    if (args.bias && (biasOffset + n) * 4 > args.bias.buffer.size) throw new RangeError(`${label}: bias [${n}] at offset ${biasOffset} overruns its buffer`);

    const aligned = vec4Aligned(args);
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
      biasOff: biasOffset,
      tilesN,
      tiles,
      hasBias: args.bias ? 1 : 0,
      accumulate: args.accumulate ? 1 : 0,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipelines[variant][aligned ? 1 : 0],
      // The vec4 views (bindings 2 and 4) alias a and b; without a bias, binding 5 gets a (never read).
      buffers: [params, args.a.buffer, args.a.buffer, args.b.buffer, args.b.buffer, args.bias?.buffer ?? args.a.buffer, args.c.buffer],
      workgroups: tiles,
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}

/**
 * The benchmark floor: the textbook kernel, one output per invocation, 16x16 tiles of A and B staged in
 * workgroup memory. 'nn' only, no bias, no accumulate.
 */
export class NaiveMatmulKernel {
  private constructor(
    private readonly device: GPUDevice,
    private readonly pipeline: GPUComputePipeline,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number } = {}): Promise<NaiveMatmulKernel> {
    const pipeline = await computePipeline(gpu.device, {
      family: 'MatmulNaive',
      source: naiveSource,
      entryPoint: 'matmul_naive',
      constants: { TILE: NAIVE_TILE },
    });
    return new NaiveMatmulKernel(gpu.device, pipeline, options.maxWorkgroupsPerDimension);
  }

  prepare(args: MatmulArgs): Dispatch {
    const { label, m, n, k } = args;
    if (args.variant !== 'nn' || args.bias || args.accumulate) throw new Error(`${label}: the naive kernel does 'nn' without bias or accumulate only`);
    if (m === 0 || n === 0) return emptyDispatch(label);
    checkMatrix(label, 'a', args.a, m, k);
    checkMatrix(label, 'b', args.b, k, n);
    checkMatrix(label, 'c', args.c, m, n);
    const tilesN = Math.ceil(n / NAIVE_TILE);
    const tiles = Math.ceil(m / NAIVE_TILE) * tilesN;
    const params = createUniform(this.device, `${label}.params`, MATMUL_NAIVE_PARAMS, {
      m,
      n,
      k,
      lda: args.a.ld,
      ldb: args.b.ld,
      ldc: args.c.ld,
      aOff: args.a.offset ?? 0,
      bOff: args.b.offset ?? 0,
      cOff: args.c.offset ?? 0,
      tilesN,
      tiles,
    });
    return prepareDispatch(this.device, {
      label,
      pipeline: this.pipeline,
      buffers: [params, args.a.buffer, args.b.buffer, args.c.buffer],
      workgroups: tiles,
      owned: [params],
      maxWorkgroupsPerDimension: this.maxWorkgroupsPerDimension,
    });
  }
}
