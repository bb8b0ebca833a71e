// Which kernel configurations a device runs, set by the host when it acquires the device (src/gpu/device.ts):
// the CLI and the page tune and remember; tests and library users get the adapter's default pick unless they ask.
import type { TuningStore } from './store';

export interface KernelPolicy {
  /** 'auto' (tuned per shape, else the adapter's default) or one matmul configuration name for every shape. */
  matmul: string;
  /** Where tuning results persist between runs; null keeps them for this process only. */
  store: TuningStore | null;
  /** Milliseconds one tuning round may spend measuring (compilation included); 0 measures nothing. */
  budgetMs: number;
  /** Replaces timing on the GPU: milliseconds of a product (shape key) with a configuration. Tests inject made-up timings. */
  measure?: (shape: string, kernel: string) => Promise<number | null>;
}

export const DEFAULT_KERNEL_POLICY: KernelPolicy = { matmul: 'auto', store: null, budgetMs: 0 };

/** A tuning budget that suits the adapter: CPU adapters compile and run slowly, and a first run pays once. */
export function defaultTuningBudgetMs(isSoftware: boolean): number {
  return isSoftware ? 20_000 : 5_000;
}

/**
 * Multiply-adds per millisecond no adapter of the kind exceeds (software: a CPU's cores; hardware: a large GPU),
 * so that a run's predicted time is never longer than its real one and tuning never costs it more than its share.
 */
export function peakMacsPerMs(isSoftware: boolean): number {
  return isSoftware ? 5e7 : 1e10; // 100 GFLOP/s, 20 TFLOP/s
}
