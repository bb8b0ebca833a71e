// Parameter initialisation on the CPU: the oracle for shaders/init.wgsl (uniform and constant bit for bit,
// normal up to the GPU's log/cos accuracy). The caller picks the key: rngKey(seed, 'initWeights' | 'initBias', layer).
import { initDraw, type InitScheme } from '../spec/init-schemes';
import { openUnitFloat, philox4x32, unitFloat, type Key } from '../spec/philox';

/** Uniform in [-limit, limit): counter (i >> 2, 0, draw, 0), word i & 3 (draw: see init_uniform_draw_at). Exact in f32 (see shaders/init.wgsl). */
export function initUniformAt(key: Key, i: number, limit: number, draw = 0): number {
  const u = unitFloat(philox4x32([i >>> 2, 0, draw >>> 0, 0], key)[i & 3]);
  return Math.fround((2 * u - 1) * limit);
}

/** N(0, std²) by Box-Muller: counter (i >> 1, 1, draw, 0), words 2(i & 1) and 2(i & 1) + 1. f64 then one rounding. */
export function initNormalAt(key: Key, i: number, std: number, draw = 0): number {
  const words = philox4x32([i >>> 1, 1, draw >>> 0, 0], key);
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
