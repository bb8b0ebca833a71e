// The page's URL parameters: ?quick, ?only=matmul,train, ?cases=<label parts>, ?candidates=<matmul configurations>,
// ?tfjs=0, ?autorun, ?kernels=auto|<name>. Browser-safe and DOM-free,
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
  /** Only the cases whose label contains one of these (absent: all). */
  cases?: string[];
  /** Matmul configurations the matmul group times instead of the adapter's candidates (absent: the candidates). */
  candidates?: string[];
}

const KNOWN = ['quick', 'only', 'tfjs', 'autorun', 'kernels', 'cases', 'candidates'];

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
  const list = (name: string) =>
    params.has(name)
      ? params
          .get(name)!
          .split(',')
          .filter((item) => item.trim() !== '')
      : undefined;
  const cases = list('cases');
  const candidates = list('candidates');
  for (const name of candidates ?? []) {
    const parsed = parseConfigName(name);
    if (typeof parsed === 'string') throw new RangeError(`URL parameter candidates: ${parsed}`);
  }
  return {
    quick: flag(params, 'quick', false),
    groups,
    tfjs: flag(params, 'tfjs', true),
    autorun: flag(params, 'autorun', false),
    kernels,
    ...(cases ? { cases } : {}),
    ...(candidates ? { candidates } : {}),
  };
}
