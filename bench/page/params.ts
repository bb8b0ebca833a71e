// The page's URL parameters: ?quick, ?only=matmul,train, ?tfjs=0, ?autorun, ?kernels=auto|<name>. Browser-safe and DOM-free,
// so it is tested in Node. A bad value is an error naming the parameter and what it accepts.
import { parseConfigName } from '../../src/gpu/kernels/matmul-configs';
import { BENCH_GROUPS, parseGroups, type BenchGroup } from '../schema';

export interface PageParams {
  quick: boolean;
  groups: BenchGroup[];
  tfjs: boolean;
  autorun: boolean;
  /** Matmul kernels of the training cases: 'auto' (tuned, remembered in IndexedDB) or a configuration name. */
  kernels: string;
}

const KNOWN = ['quick', 'only', 'tfjs', 'autorun', 'kernels'];

function flag(params: URLSearchParams, name: string, fallback: boolean): boolean {
  if (!params.has(name)) return fallback;
  const value = params.get(name)!;
  if (value === '' || value === '1' || value === 'true') return true;
  if (value === '0' || value === 'false') return false;
  throw new RangeError(`URL parameter ${name}=${value}: expected nothing, 1/true or 0/false`);
}

export function parsePageParams(search: string): PageParams {
  const params = new URLSearchParams(search);
  for (const name of params.keys()) {
    if (!KNOWN.includes(name)) throw new RangeError(`unknown URL parameter "${name}": expected ${KNOWN.join(', ')}`);
  }
  let groups: BenchGroup[] = [...BENCH_GROUPS];
  if (params.has('only')) {
    try {
      groups = parseGroups(params.get('only')!);
    } catch (error) {
      throw new RangeError(`URL parameter only: ${(error as Error).message}`);
    }
  }
  const kernels = params.get('kernels') ?? 'auto';
  if (kernels !== 'auto') {
    const parsed = parseConfigName(kernels);
    if (typeof parsed === 'string') throw new RangeError(`URL parameter kernels: ${parsed}; or auto`);
  }
  return { quick: flag(params, 'quick', false), groups, tfjs: flag(params, 'tfjs', true), autorun: flag(params, 'autorun', false), kernels };
}
