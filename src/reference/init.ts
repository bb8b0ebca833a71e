// Parameter initialisation on the CPU: the oracle for shaders/init.wgsl (uniform and constant bit for bit,
// normal up to the GPU's log/cos accuracy). The caller picks the key: rngKey(seed, 'initWeights' | 'initBias', layer).
import { openUnitFloat, philox4x32, unitFloat, type Key } from './philox.js';

export type InitScheme =
  | { kind: 'he_normal' | 'he_uniform' | 'xavier_normal' | 'xavier_uniform' }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; limit: number }
  | { kind: 'constant'; value: number };

/** What the kernel actually draws: (2u - 1) * scale, z * scale, or a constant. */
export interface InitDraw {
  distribution: 'uniform' | 'normal' | 'constant';
  /** f32: the uniform limit, the normal std, or the constant. */
  scale: number;
}

/**
 * He (Kaiming) for ReLU: std = sqrt(2 / fanIn), limit = sqrt(6 / fanIn).
 * Xavier (Glorot): std = sqrt(2 / (fanIn + fanOut)), limit = sqrt(6 / (fanIn + fanOut)).
 * Computed in f64, then rounded once to f32 (the uniform the kernel receives).
 */
export function initDraw(scheme: InitScheme, fanIn: number, fanOut: number): InitDraw {
  const fan = (name: string, v: number) => {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`init ${scheme.kind}: ${name} must be a positive integer, got ${v}`);
    return v;
  };
  const finite = (name: string, v: number, min: number) => {
    if (!Number.isFinite(v) || v < min) throw new RangeError(`init ${scheme.kind}: ${name} must be finite and >= ${min}, got ${v}`);
    return Math.fround(v);
  };
  switch (scheme.kind) {
    case 'he_normal':
      return { distribution: 'normal', scale: Math.fround(Math.sqrt(2 / fan('fanIn', fanIn))) };
    case 'he_uniform':
      return { distribution: 'uniform', scale: Math.fround(Math.sqrt(6 / fan('fanIn', fanIn))) };
    case 'xavier_normal':
      return { distribution: 'normal', scale: Math.fround(Math.sqrt(2 / (fan('fanIn', fanIn) + fan('fanOut', fanOut)))) };
    case 'xavier_uniform':
      return { distribution: 'uniform', scale: Math.fround(Math.sqrt(6 / (fan('fanIn', fanIn) + fan('fanOut', fanOut)))) };
    case 'normal':
      return { distribution: 'normal', scale: finite('std', scheme.std, 0) };
    case 'uniform':
      return { distribution: 'uniform', scale: finite('limit', scheme.limit, 0) };
    case 'constant':
      return { distribution: 'constant', scale: finite('value', scheme.value, -Infinity) };
    default: {
      const never: never = scheme;
      throw new RangeError(`unknown init scheme ${JSON.stringify(never)}`);
    }
  }
}

/** Uniform in [-limit, limit): counter (i >> 2, 0, 0, 0), word i & 3. Exact in f32 (see shaders/init.wgsl). */
export function initUniformAt(key: Key, i: number, limit: number): number {
  const u = unitFloat(philox4x32([i >>> 2, 0, 0, 0], key)[i & 3]);
  return Math.fround((2 * u - 1) * limit);
}

/** N(0, std²) by Box-Muller: counter (i >> 1, 1, 0, 0), words 2(i & 1) and 2(i & 1) + 1. f64 then one rounding. */
export function initNormalAt(key: Key, i: number, std: number): number {
  const words = philox4x32([i >>> 1, 1, 0, 0], key);
  const pair = (i & 1) * 2;
  const u1 = openUnitFloat(words[pair]);
  const u2 = unitFloat(words[pair + 1]);
  return Math.fround(Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2) * std);
}

export interface InitReferenceArgs {
  scheme: InitScheme;
  key: Key;
  fanIn: number;
  fanOut: number;
  /** This block's shape. */
  rows: number;
  cols: number;
  /** Columns of the whole matrix (the RNG index is global). */
  globalCols: number;
  rowOffset?: number;
  colOffset?: number;
}

/** The block [rows, cols] (dense row-major) of the initialised [*, globalCols] matrix. */
export function initReference(args: InitReferenceArgs): Float32Array {
  const { key, rows, cols, globalCols, rowOffset = 0, colOffset = 0 } = args;
  const { distribution, scale } = initDraw(args.scheme, args.fanIn, args.fanOut);
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const i = (rowOffset + r) * globalCols + colOffset + c;
      out[r * cols + c] = distribution === 'uniform' ? initUniformAt(key, i, scale) : distribution === 'normal' ? initNormalAt(key, i, scale) : scale;
    }
  }
  return out;
}
