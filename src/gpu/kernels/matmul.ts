// C = op(A)·op(B) (+ bias) (+ C) on the GPU, with the kernel configuration chosen per shape: see
// shaders/matmul.wgsl for the kernels, ./matmul-configs.ts for the family, src/gpu/tuning/ for the choice, and
// bench/matmul.ts for the measurements. Every configuration gives the same bits, so a choice is a speed choice.
import naiveSource from '../../../shaders/matmul_naive.wgsl?raw';
import matmulSource from '../../../shaders/matmul.wgsl?raw';
import subgroupSource from '../../../shaders/matmul_subgroups.wgsl?raw';
import tiledSource from '../../../shaders/matmul_tiled.wgsl?raw';
import flatSource from '../../../shaders/matmul_flat.wgsl?raw';
import type { GpuContext } from '../device';
import { prepareDispatch, type Dispatch } from '../dispatch';
import { computePipeline } from '../shaders';
import { createUniform } from '../uniforms';
import { wgslStruct } from '../../spec/wgsl-struct';
import { chooseConfig, fillTimings, type TuneOutcome } from '../tuning/choose';
import { emptyRecord, fnv1a, tuningKey, type TuningRecord, type TuningStore } from '../tuning/store';
import { peakMacsPerMs, type KernelPolicy } from '../tuning/policy';
import { candidateConfigs, configName, parseConfigName, unsupportedReason, type MatmulCapabilities, type MatmulConfig } from './matmul-configs';
import { flatKernelSource } from './matmul-flat';
import { measureMatmul, type MatmulShape } from './matmul-measure';
import { checkMatmulArgs, checkMatrix, emptyDispatch, MatmulProgram, vec4Aligned, type MatmulArgs, type MatmulVariant } from './matmul-program';

export type { MatrixRef } from '../buffers';
export { vec4Aligned, type EpilogueDropout, type MatmulArgs, type MatmulEpilogue, type MatmulVariant } from './matmul-program';
export type { MatmulShape } from './matmul-measure';

export interface MatmulOptions {
  maxWorkgroupsPerDimension?: number;
  /**
   * 'auto': per shape, the configuration the device's tuning chose, else the adapter's first candidate; or a
   * configuration name (./matmul-configs.ts) for every shape. Default: the device's policy (gpu.kernels.matmul).
   */
  kernels?: string;
}

/** How a shape got its configuration. */
export type ChoiceSource = 'forced' | 'default' | 'tuned' | 'cached';

export interface MatmulChoice {
  /** The shape key: `nn 128x4096x1024` (+ ` scalar` when the operands do not allow vec4 loads). */
  shape: string;
  kernel: string;
  source: ChoiceSource;
  /** Milliseconds per product of every configuration timed on this shape (extrapolated from a cut-down product). */
  timings?: Record<string, number | null>;
}

export function shapeKey(s: MatmulShape): string {
  return `${s.variant} ${s.m}x${s.n}x${s.k}${s.aligned ? '' : ' scalar'}`;
}

/** A digest of every matmul kernel source (and of the generator of the straight-line ones): tuning results measured on other kernels do not apply. */
export const MATMUL_KERNELS_DIGEST = fnv1a([matmulSource, subgroupSource, tiledSource, flatSource, flatKernelSource.toString()].join('\n'));

export function matmulCapabilities(gpu: GpuContext): MatmulCapabilities {
  const info = gpu.handles.adapter.info;
  return {
    isSoftware: gpu.adapter.isSoftware,
    isSwiftShader: gpu.adapter.architecture.toLowerCase() === 'swiftshader',
    hasSubgroups: gpu.hasSubgroups,
    subgroupMinSize: info.subgroupMinSize ?? 0,
    subgroupMaxSize: info.subgroupMaxSize ?? 0,
    maxInvocationsPerWorkgroup: gpu.limits.maxComputeInvocationsPerWorkgroup,
    maxWorkgroupStorageSize: gpu.limits.maxComputeWorkgroupStorageSize,
  };
}

/** A matmul kernel choice (--kernels, ?kernels=, $DEADUNITS_KERNELS) that is malformed or cannot run on this adapter. */
export class KernelChoiceError extends Error {
  override name = 'KernelChoiceError';
}

/** The configuration `kernels` names on this adapter (one clear error when it cannot run here). */
export function resolveKernelName(kernels: string, caps: MatmulCapabilities): MatmulConfig {
  const parsed = parseConfigName(kernels);
  if (typeof parsed === 'string') throw new KernelChoiceError(`kernels: ${parsed}`);
  const reason = unsupportedReason(parsed, caps);
  if (reason) throw new KernelChoiceError(`kernels: ${reason}`);
  return parsed;
}

/**
 * Tuning state shared by every MatmulKernel of a device: the timings record (loaded from the store once) and
 * a queue, so that two kernels tuning at once do not time each other's work.
 */
interface DeviceTuning {
  record: TuningRecord | null;
  /** Shape keys whose timings came from the store (the rest were measured by this process). */
  fromStore: Set<string>;
  queue: Promise<unknown>;
}
const deviceTuning = new WeakMap<GPUDevice, WeakMap<KernelPolicy, DeviceTuning>>();

/** The tuning state of a device under a policy (each host's policy object: tests use several on one device). */
function tuningOf(device: GPUDevice, policy: KernelPolicy): DeviceTuning {
  let byPolicy = deviceTuning.get(device);
  if (!byPolicy) deviceTuning.set(device, (byPolicy = new WeakMap()));
  let t = byPolicy.get(policy);
  if (!t) byPolicy.set(policy, (t = { record: null, fromStore: new Set(), queue: Promise.resolve() }));
  return t;
}

/** A shape prepared on this kernel, and the configuration its dispatches run now. */
interface ShapeSlot {
  shape: MatmulShape;
  kernel: string;
  source: ChoiceSource;
}

/** The tuned GEMM: one configuration per shape, chosen by tune() (or forced), every one bit-identical. */
export class MatmulKernel {
  private readonly programs = new Map<string, MatmulProgram>();
  private readonly slots = new Map<string, ShapeSlot>();

  private constructor(
    private readonly gpu: GpuContext,
    private readonly policy: KernelPolicy,
    /** Candidate names, the adapter's default first; a single name when forced. */
    readonly candidates: readonly string[],
    private readonly forced: boolean,
    private readonly maxWorkgroupsPerDimension?: number,
  ) {}

  static async create(gpu: GpuContext, options: MatmulOptions = {}): Promise<MatmulKernel> {
    const caps = matmulCapabilities(gpu);
    const kernels = options.kernels ?? gpu.kernels.matmul;
    const forced = kernels !== 'auto';
    const candidates = forced ? [configName(resolveKernelName(kernels, caps))] : candidateConfigs(caps).map(configName);
    const kernel = new MatmulKernel(gpu, gpu.kernels, candidates, forced, options.maxWorkgroupsPerDimension);
    await kernel.program(candidates[0]).compileAll();
    return kernel;
  }

  /** The configuration used where nothing else was chosen (the forced one, or the adapter's best guess). */
  get defaultKernel(): string {
    return this.candidates[0];
  }

  /** Output tile of one workgroup of the default configuration: [rows, cols]. */
  get tile(): [number, number] {
    return this.program(this.defaultKernel).tile;
  }

  private program(name: string): MatmulProgram {
    let p = this.programs.get(name);
    if (!p) {
      const config = parseConfigName(name);
      if (typeof config === 'string') throw new Error(config);
      this.programs.set(name, (p = new MatmulProgram(this.gpu.device, config, this.maxWorkgroupsPerDimension)));
    }
    return p;
  }

  /**
   * The dispatch of one product. It runs the configuration chosen for its shape at the time it is encoded:
   * the default until tune() has chosen, so the same Dispatch can be built before tuning and encoded after.
   */
  prepare(args: MatmulArgs): Dispatch {
    checkMatmulArgs(args);
    const { label, variant, m, n, k } = args;
    if (m === 0 || n === 0) return emptyDispatch(label);
    const shape: MatmulShape = { variant, m, n, k, aligned: vec4Aligned(args) };
    const key = shapeKey(shape);
    let slot = this.slots.get(key);
    if (!slot) this.slots.set(key, (slot = { shape, kernel: this.defaultKernel, source: this.forced ? 'forced' : 'default' }));
    const s = slot;
    let bound: { kernel: string; dispatch: Dispatch } | null = null;
    const current = (): Dispatch => {
      if (bound?.kernel !== s.kernel) {
        bound?.dispatch.destroy();
        bound = { kernel: s.kernel, dispatch: this.program(s.kernel).prepare(args, shape.aligned) };
      }
      return bound.dispatch;
    };
    current();
    return {
      label,
      // The operands are the same whichever configuration runs: a GPU error naming one points at this product.
      get buffers() {
        return current().buffers;
      },
      encode: (pass) => current().encode(pass),
      destroy: () => {
        bound?.dispatch.destroy();
        bound = null;
      },
    };
  }

  /** The configuration of every shape prepared so far, and where it came from. */
  choices(): MatmulChoice[] {
    const record = tuningOf(this.gpu.device, this.policy).record;
    return [...this.slots.entries()].map(([shape, slot]) => {
      const timings = record?.shapes[shape];
      return { shape, kernel: slot.kernel, source: slot.source, ...(timings && Object.keys(timings).length ? { timings: { ...timings } } : {}) };
    });
  }

  /**
   * Chooses a configuration for every shape prepared so far: from the timings remembered in the policy's store,
   * completed by measuring within the policy's budget (and saved back); `expectedUses` (how often each product
   * will run) shrinks that budget to a share of the work it speeds up (src/gpu/tuning/choose.ts). Forced kernels do not tune. Dispatches
   * already prepared switch at their next encode; the numbers they produce do not change.
   */
  async tune(expectedUses?: number): Promise<TuneOutcome> {
    if (this.forced || this.slots.size === 0) return { measured: 0, incomplete: [] };
    const tuning = tuningOf(this.gpu.device, this.policy);
    const run = tuning.queue.then(() => this.tuneNow(tuning, expectedUses));
    tuning.queue = run.catch(() => undefined);
    return run;
  }

  private async tuneNow(tuning: DeviceTuning, expectedUses: number | undefined): Promise<TuneOutcome> {
    const { store, budgetMs } = this.policy;
    const key = tuningKey({ ...this.gpu.adapter, kernels: MATMUL_KERNELS_DIGEST });
    if (!tuning.record) {
      const loaded = store ? await loadQuietly(store, key) : null;
      tuning.record = loaded ?? emptyRecord(key);
      for (const shape of Object.keys(tuning.record.shapes)) tuning.fromStore.add(shape);
    }
    const record = tuning.record;
    const slots = [...this.slots.entries()];
    const tile = this.largestTile();
    const outcome = await fillTimings({
      shapes: slots.map(([key, slot]) => ({ key, work: slot.shape.m * slot.shape.n * slot.shape.k })),
      candidates: this.candidates,
      timings: record.shapes,
      measure: (shape, name) => {
        tuning.fromStore.delete(shape.key);
        if (this.policy.measure) return this.policy.measure(shape.key, name);
        return measureMatmul(this.gpu.device, this.program(name), this.slots.get(shape.key)!.shape, tile);
      },
      now: () => performance.now(),
      budgetMs,
      ...(expectedUses !== undefined ? { expected: { uses: expectedUses, peakMacsPerMs: peakMacsPerMs(this.gpu.adapter.isSoftware) } } : {}),
    });
    if (outcome.measured > 0 && store) await saveQuietly(store, record);
    for (const [key, slot] of slots) {
      const timings = record.shapes[key];
      const kernel = chooseConfig(this.candidates, timings);
      try {
        await this.program(kernel).compile(slot.shape);
      } catch {
        continue; // keep the default, which is compiled
      }
      slot.kernel = kernel;
      slot.source = timings && Object.keys(timings).length ? (tuning.fromStore.has(key) ? 'cached' : 'tuned') : 'default';
    }
    return outcome;
  }

  /** The biggest output tile of the candidates: every candidate is timed on the same cut-down product. */
  private largestTile(): [number, number] {
    let rows = 1;
    let cols = 1;
    for (const name of this.candidates) {
      const [r, c] = this.program(name).tile;
      rows = Math.max(rows, r);
      cols = Math.max(cols, c);
    }
    return [rows, cols];
  }
}

async function loadQuietly(store: TuningStore, key: string): Promise<TuningRecord | null> {
  try {
    return await store.load(key);
  } catch {
    return null; // an unreadable cache costs a re-tune, never a failed run
  }
}

async function saveQuietly(store: TuningStore, record: TuningRecord): Promise<void> {
  try {
    await store.save(record);
  } catch {
    // A read-only cache folder: the next run tunes again.
  }
}

/** The naive kernel's tile: TILE x TILE outputs and invocations per workgroup (its override TILE). */
const NAIVE_TILE = 16;

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
