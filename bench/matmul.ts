// Matmul benchmark: the tuned kernel (and its portable path where it differs) against the naive
// 16x16 workgroup-tiled kernel, square sizes, then the tall/skinny GEMMs of one wide layer.
import type { GpuContext } from '../src/gpu/device.js';
import type { Dispatch } from '../src/gpu/dispatch.js';
import { MatmulKernel, NaiveMatmulKernel, type MatmulVariant } from '../src/gpu/kernels/matmul.js';
import { formatTable, timePasses, type SectionResult } from './timing.js';

const SQUARE_SIZES = [256, 512, 1024];

/** The GEMMs of a 1024 -> 4096 layer at batch 128: forward, dX and dW. */
const WIDE_LAYER: Array<{ variant: MatmulVariant; m: number; n: number; k: number; what: string }> = [
  { variant: 'nn', m: 128, n: 4096, k: 1024, what: 'Y = X·W' },
  { variant: 'nt', m: 128, n: 1024, k: 4096, what: 'dX = dY·Wᵀ' },
  { variant: 'tn', m: 1024, n: 4096, k: 128, what: 'dW = Xᵀ·dY' },
];

function filled(device: GPUDevice, label: string, count: number): GPUBuffer {
  const buffer = device.createBuffer({ label, size: count * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) data[i] = ((i * 7919) % 13) / 13 - 0.5;
  device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

interface Measured {
  gflops: number;
  medianMs: number;
  minMs: number;
  method: string;
}

async function measure(gpu: GpuContext, dispatch: Dispatch, flops: number, reps: number): Promise<Measured> {
  const t = await timePasses(gpu, dispatch.label, (pass) => dispatch.encode(pass), { warmup: 2, reps });
  return { gflops: flops / (t.medianMs * 1e6), medianMs: t.medianMs, minMs: t.minMs, method: t.method };
}

export async function benchMatmul(gpu: GpuContext): Promise<SectionResult> {
  const { device } = gpu;
  const tuned = await MatmulKernel.create(gpu);
  const portable = tuned.usesSubgroups ? await MatmulKernel.create(gpu, { portable: true }) : undefined;
  const naive = await NaiveMatmulKernel.create(gpu);
  const rows: SectionResult['rows'] = [];
  const tableRows: Array<Array<string | number>> = [];
  let method = '';

  for (const size of SQUARE_SIZES) {
    const a = filled(device, 'bench.a', size * size);
    const b = filled(device, 'bench.b', size * size);
    const c = filled(device, 'bench.c', size * size);
    const args = { variant: 'nn' as const, m: size, n: size, k: size, a: { buffer: a, ld: size }, b: { buffer: b, ld: size }, c: { buffer: c, ld: size } };
    const flops = 2 * size ** 3;
    // Fewer repetitions where one takes seconds (the naive kernel at 1024³ on a CPU adapter).
    const reps = size >= 1024 ? 5 : 9;
    const run = async (name: string, kernel: MatmulKernel | NaiveMatmulKernel, r: number) => {
      const d = kernel.prepare({ ...args, label: `bench.${name}.${size}` });
      try {
        return await measure(gpu, d, flops, r);
      } finally {
        d.destroy();
      }
    };
    const t = await run('tuned', tuned, reps);
    const p = portable ? await run('portable', portable, reps) : undefined;
    const n = await run('naive', naive, size >= 1024 ? 3 : reps);
    method = t.method;
    tableRows.push([`${size}³ nn`, t.gflops, p ? p.gflops : '-', n.gflops, `${(t.gflops / n.gflops).toFixed(1)}×`, t.medianMs, n.medianMs]);
    rows.push({ shape: `${size}x${size}x${size}`, variant: 'nn', tunedGflops: t.gflops, tunedMedianMs: t.medianMs, tunedMinMs: t.minMs,
      ...(p ? { portableGflops: p.gflops, portableMedianMs: p.medianMs } : {}),
      naiveGflops: n.gflops, naiveMedianMs: n.medianMs, naiveMinMs: n.minMs, ratio: t.gflops / n.gflops });
    for (const buffer of [a, b, c]) buffer.destroy();
  }

  for (const g of WIDE_LAYER) {
    const [aRows, aCols] = g.variant === 'tn' ? [g.k, g.m] : [g.m, g.k];
    const [bRows, bCols] = g.variant === 'nt' ? [g.n, g.k] : [g.k, g.n];
    const a = filled(device, 'bench.a', aRows * aCols);
    const b = filled(device, 'bench.b', bRows * bCols);
    const c = filled(device, 'bench.c', g.m * g.n);
    const args = { variant: g.variant, m: g.m, n: g.n, k: g.k, a: { buffer: a, ld: aCols }, b: { buffer: b, ld: bCols }, c: { buffer: c, ld: g.n } };
    const flops = 2 * g.m * g.n * g.k;
    const shape = `${g.m}x${g.n}x${g.k}`;
    const d = tuned.prepare({ ...args, label: `bench.tuned.${g.variant}.${shape}` });
    const t = await measure(gpu, d, flops, 5);
    d.destroy();
    let p: Measured | undefined;
    if (portable) {
      const dp = portable.prepare({ ...args, label: `bench.portable.${g.variant}.${shape}` });
      p = await measure(gpu, dp, flops, 5);
      dp.destroy();
    }
    tableRows.push([`${g.variant} m=${g.m} n=${g.n} k=${g.k} (${g.what})`, t.gflops, p ? p.gflops : '-', '-', '-', t.medianMs, '-']);
    rows.push({ shape, variant: g.variant, what: g.what, tunedGflops: t.gflops, tunedMedianMs: t.medianMs, tunedMinMs: t.minMs,
      ...(p ? { portableGflops: p.gflops, portableMedianMs: p.medianMs } : {}) });
    for (const buffer of [a, b, c]) buffer.destroy();
  }

  return {
    title: 'matmul (GFLOP/s, median)',
    table: formatTable(['shape', 'tuned', 'portable', 'naive', 'tuned/naive', 'tuned ms', 'naive ms'], tableRows),
    notes: [
      `tuned: ${tuned.usesSubgroups ? 'subgroup' : 'portable'} path, ${tuned.tile[0]}x${tuned.tile[1]} tiles (workgroup of ${tuned.workgroupSize}); ` +
        `portable: the same kernel without subgroups; naive: 16x16 workgroup-memory tiles, one output per invocation.`,
      `timing: ${method}, warm (2 untimed runs first), median of 5-9 runs.`,
    ],
    rows,
  };
}
