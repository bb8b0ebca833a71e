// One way to get a GPUDevice for the engine, whatever provides `GPU`: the browser's navigator.gpu
// or Dawn in Node (see ./dawn.ts, which is Node-only). This file must stay free of Node imports.
import { DEFAULT_KERNEL_POLICY, defaultTuningBudgetMs, type KernelPolicy } from './tuning/policy';

/** What the engine reports about the adapter it runs on. */
export interface AdapterSummary {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** True for CPU implementations (lavapipe, SwiftShader): 100-1000x slower than a GPU. */
  isSoftware: boolean;
  features: string[];
}

export interface GpuContext {
  device: GPUDevice;
  /** Kept referenced for the device's lifetime: Dawn-for-Node crashes if these are garbage-collected first. */
  handles: { gpu: GPU; adapter: GPUAdapter };
  adapter: AdapterSummary;
  /** Limits actually granted to the device (we ask for the adapter's maxima where the engine needs them). */
  limits: GPUSupportedLimits;
  hasSubgroups: boolean;
  hasTimestamps: boolean;
  /** Which matmul configurations run, and how they are tuned and remembered (./tuning/policy.ts). */
  kernels: KernelPolicy;
  /** Register a callback for device loss; returns a function that unregisters it. */
  onLost(callback: (info: GPUDeviceLostInfo) => void): () => void;
  /** Register a callback for validation/internal errors nobody captured with an error scope. */
  onError(callback: (error: GPUError) => void): () => void;
}

export interface AcquireOptions {
  powerPreference?: GPUPowerPreference;
  /** Ask for these features when the adapter has them (subgroups and timestamp-query by default). */
  optionalFeatures?: GPUFeatureName[];
  /**
   * Kernel choice and tuning (default: the adapter's default pick, nothing measured). With a store and no
   * budgetMs, the tuning budget is the adapter's default (defaultTuningBudgetMs).
   */
  kernels?: Partial<KernelPolicy>;
}

export class NoAdapterError extends Error {
  constructor(hint: string) {
    super(`No WebGPU adapter is available. ${hint}`);
    this.name = 'NoAdapterError';
  }
}

/** Limits the engine relies on: big storage bindings for wide layers, many bindings per kernel. */
const LIMITS_TO_MAXIMIZE = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxStorageBuffersPerShaderStage',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupsPerDimension',
] as const;

/** Kernels use workgroups of up to 256 invocations; the engine cannot run below this. */
const MIN_INVOCATIONS = 256;

const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|software|warp|basic render/i;

export async function acquireGpu(gpu: GPU, options: AcquireOptions = {}, noAdapterHint = ''): Promise<GpuContext> {
  let adapter: GPUAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: options.powerPreference ?? 'high-performance' });
  } catch (error) {
    // Dawn throws (rather than answering null) when no backend or no adapter matches its options.
    throw new NoAdapterError(`${(error as Error).message.trim()}. ${noAdapterHint}`);
  }
  if (!adapter) throw new NoAdapterError(noAdapterHint);

  const wanted = options.optionalFeatures ?? (['subgroups', 'timestamp-query'] as GPUFeatureName[]);
  const requiredFeatures = wanted.filter((f) => adapter.features.has(f));
  const requiredLimits: Record<string, number> = {};
  for (const name of LIMITS_TO_MAXIMIZE) requiredLimits[name] = adapter.limits[name];
  if (adapter.limits.maxComputeInvocationsPerWorkgroup < MIN_INVOCATIONS) {
    throw new NoAdapterError(
      `the adapter allows ${adapter.limits.maxComputeInvocationsPerWorkgroup} invocations per workgroup; deadunits needs ${MIN_INVOCATIONS}`,
    );
  }

  const device = await adapter.requestDevice({ label: 'deadunits', requiredFeatures, requiredLimits });
  const info = adapter.info;
  const summary: AdapterSummary = {
    vendor: info.vendor,
    architecture: info.architecture,
    device: info.device,
    description: info.description,
    isSoftware: SOFTWARE_ADAPTER.test(`${info.vendor} ${info.architecture} ${info.description} ${info.device}`),
    features: [...device.features].sort(),
  };

  const lostCallbacks = new Set<(info: GPUDeviceLostInfo) => void>();
  void device.lost.then((lostInfo) => lostCallbacks.forEach((cb) => cb(lostInfo)));
  const errorCallbacks = new Set<(error: GPUError) => void>();
  device.addEventListener('uncapturederror', (event) => {
    const error = (event as GPUUncapturedErrorEvent).error;
    if (errorCallbacks.size === 0) console.error(`deadunits: uncaptured WebGPU error: ${error.message}`);
    errorCallbacks.forEach((cb) => cb(error));
  });

  return {
    device,
    handles: { gpu, adapter },
    adapter: summary,
    limits: device.limits,
    hasSubgroups: device.features.has('subgroups'),
    hasTimestamps: device.features.has('timestamp-query'),
    kernels: {
      ...DEFAULT_KERNEL_POLICY,
      ...options.kernels,
      budgetMs: options.kernels?.budgetMs ?? (options.kernels?.store ? defaultTuningBudgetMs(summary.isSoftware) : 0),
    },
    onLost(cb) {
      lostCallbacks.add(cb);
      return () => lostCallbacks.delete(cb);
    },
    onError(cb) {
      errorCallbacks.add(cb);
      return () => errorCallbacks.delete(cb);
    },
  };
}

/** Browser entry: navigator.gpu, with a clear error where the browser has no WebGPU. */
export async function acquireBrowserGpu(options: AcquireOptions = {}): Promise<GpuContext> {
  const gpu = (globalThis.navigator as Navigator | undefined)?.gpu;
  if (!gpu) {
    throw new NoAdapterError('This browser does not expose WebGPU (navigator.gpu). Use a recent Chrome or Edge, Firefox 141+, or Safari 26+.');
  }
  return acquireGpu(gpu, options, 'The browser has WebGPU but returned no adapter: check that hardware acceleration is on.');
}
