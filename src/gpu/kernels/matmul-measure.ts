// How the autotuner times one kernel configuration on one product shape: on scratch buffers of the shape's
// n and k (never the run's own buffers), with m — and n when one row block is already big — cut down so that a
// CPU adapter measures in tens of milliseconds instead of seconds, but only as far as keeps every workgroup
// of the device busy. The milliseconds are scaled back to the whole product.
import { createStorage } from '../buffers';
import { timeWork } from '../tuning/gpu-timer';
import type { MatmulProgram, MatmulVariant } from './matmul-program';

export interface MatmulShape {
  variant: MatmulVariant;
  m: number;
  n: number;
  k: number;
  /** Whether the run's operands allow vec4 loads (the timed pipeline must be the one the run uses). */
  aligned: boolean;
}

/** Multiply-adds of one measured product, at most: ~20 ms on lavapipe, ~150 ms on SwiftShader. */
const MAX_MEASURED_WORK = 1 << 25;

/** The shape actually timed: m (then n) reduced to multiples of `tile` rows/cols, whole product when small. */
export function measuredShape(shape: MatmulShape, tile: [number, number], maxWork = MAX_MEASURED_WORK): MatmulShape {
  const { m, n, k } = shape;
  if (m * n * k <= maxWork) return shape;
  const [rowStep, colStep] = tile;
  const rows = Math.min(m, Math.max(rowStep, Math.floor(maxWork / (n * k) / rowStep) * rowStep));
  const cols = rows * n * k <= maxWork ? n : Math.min(n, Math.max(colStep, Math.floor(maxWork / (rows * k) / colStep) * colStep));
  return { ...shape, m: rows, n: cols };
}

function pattern(count: number): Float32Array<ArrayBuffer> {
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = ((i * 7919) % 13) / 13 - 0.5;
  return data;
}

/**
 * Milliseconds of one `shape` product with `program`, extrapolated from a product cut down with `tile` (the
 * largest tile of all candidates, so every candidate times the same cut); null if it failed to compile or run.
 */
export async function measureMatmul(
  device: GPUDevice,
  program: MatmulProgram,
  shape: MatmulShape,
  tile: [number, number],
  maxWork?: number,
): Promise<number | null> {
  const cut = measuredShape(shape, tile, maxWork);
  const { variant, m, n, k } = cut;
  const [aRows, aCols] = variant === 'tn' ? [k, m] : [m, k];
  const [bRows, bCols] = variant === 'nt' ? [n, k] : [k, n];
  const buffers: GPUBuffer[] = [];
  const filled = (label: string, rows: number, cols: number) => {
    const buffer = createStorage(device, `MatmulTuner.${label}`, rows * cols * 4);
    device.queue.writeBuffer(buffer, 0, pattern(rows * cols));
    buffers.push(buffer);
    return buffer;
  };
  device.pushErrorScope('validation');
  device.pushErrorScope('internal');
  let ms: number | null = null;
  try {
    await program.compile({ variant, aligned: shape.aligned });
    const args = {
      label: `MatmulTuner.${program.name}`,
      variant,
      m,
      n,
      k,
      a: { buffer: filled('a', aRows, aCols), ld: aCols },
      b: { buffer: filled('b', bRows, bCols), ld: bCols },
      c: { buffer: filled('c', m, n), ld: n },
    };
    const dispatch = program.prepare(args, shape.aligned && aCols % 4 === 0 && bCols % 4 === 0);
    try {
      ms = await timeWork(device, args.label, (pass) => dispatch.encode(pass));
    } finally {
      dispatch.destroy();
    }
  } catch {
    ms = null;
  } finally {
    const errors = await Promise.all([device.popErrorScope(), device.popErrorScope()]);
    if (errors.some((e) => e !== null)) ms = null;
    for (const b of buffers) b.destroy();
  }
  return ms === null ? null : (ms * shape.m * shape.n) / (m * n);
}
