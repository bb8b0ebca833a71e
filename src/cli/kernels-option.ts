// Node-only: how the CLI picks matmul kernels. `--kernels auto` (the default, or $DEADUNITS_KERNELS) tunes each
// product shape on first use within the adapter's time budget ($DEADUNITS_TUNING_BUDGET_MS overrides it) and
// remembers the choice under the user's cache folder; `--kernels <name>` runs one configuration everywhere.
// Any choice gives bit-identical results: this is about speed only.
import { InvalidArgumentError } from 'commander';
import { acquireNodeGpu } from '../gpu/dawn';
import type { GpuContext } from '../gpu/device';
import { KernelChoiceError } from '../gpu/kernels/matmul';
import { MATMUL_FAMILY, parseConfigName } from '../gpu/kernels/matmul-configs';
import { FileTuningStore } from '../gpu/tuning/file-store';
import type { KernelPolicy } from '../gpu/tuning/policy';

export const KERNELS_HELP = `matmul kernels: auto (tuned per shape on first use, remembered in the user's cache folder) or one of ${MATMUL_FAMILY.join(', ')} (default: $DEADUNITS_KERNELS or auto)`;

/** Commander parser of --kernels: 'auto' or a well-formed configuration name (whether the adapter can run it is checked on the device). */
export function parseKernelsFlag(value: string): string {
  if (value === 'auto') return value;
  const parsed = parseConfigName(value);
  if (typeof parsed === 'string') throw new InvalidArgumentError(`${parsed}; or auto`);
  return value;
}

/** The kernel policy of a CLI process: `kernels` (default $DEADUNITS_KERNELS, else auto), tuned into the user's cache. */
export function cliKernelPolicy(kernels?: string, env: NodeJS.ProcessEnv = process.env): Partial<KernelPolicy> {
  const budget = env.DEADUNITS_TUNING_BUDGET_MS;
  const budgetMs = budget !== undefined && budget !== '' ? Number(budget) : undefined;
  if (budgetMs !== undefined && !(Number.isFinite(budgetMs) && budgetMs >= 0))
    throw new KernelChoiceError(`DEADUNITS_TUNING_BUDGET_MS must be a number of milliseconds >= 0, got "${budget}"`);
  return {
    matmul: parseKernelsFlag(kernels ?? env.DEADUNITS_KERNELS ?? 'auto'),
    store: new FileTuningStore(),
    ...(budgetMs !== undefined ? { budgetMs } : {}),
  };
}

/** A Dawn device for a CLI command, with the CLI's kernel policy. */
export function acquireCliGpu(kernels?: string): Promise<GpuContext> {
  return acquireNodeGpu({ kernels: cliKernelPolicy(kernels) });
}
