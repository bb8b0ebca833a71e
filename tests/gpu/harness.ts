// Shared set-up for tests that run kernels on a real WebGPU adapter (Dawn on lavapipe in CI).
// - No adapter is a failure, never a skip: a silent skip would let CI pass with nothing tested.
// - Each test runs inside validation/out-of-memory/internal error scopes; any GPU error fails it.
// - Every buffer a test creates is tracked and destroyed after the test.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { acquireNodeGpu } from '../../src/gpu/dawn';
import type { GpuContext } from '../../src/gpu/device';
import type { Dispatch } from '../../src/gpu/dispatch';
import { uploadStorage, createStorage, readF32, readU32 } from '../../src/gpu/buffers';

export interface GpuTestContext {
  gpu: GpuContext;
  device: GPUDevice;
  /** Buffers created during the current test and not yet destroyed. */
  liveBuffers(): number;
  f32(label: string, data: ArrayLike<number>): GPUBuffer;
  u32(label: string, data: ArrayLike<number>): GPUBuffer;
  zeros(label: string, count: number): GPUBuffer;
  readF32(buffer: GPUBuffer, count: number): Promise<Float32Array>;
  readU32(buffer: GPUBuffer, count: number): Promise<Uint32Array>;
}

/** Call at the top of a test file; the returned object is filled in by beforeAll. */
export function useGpu(): GpuTestContext {
  const tracked = new Set<GPUBuffer>();
  const ctx = {} as GpuTestContext;

  beforeAll(async () => {
    const gpu = await acquireNodeGpu();
    const device = gpu.device;
    const create = device.createBuffer.bind(device);
    device.createBuffer = (descriptor: GPUBufferDescriptor) => {
      const buffer = create(descriptor);
      tracked.add(buffer);
      const destroy = buffer.destroy.bind(buffer);
      buffer.destroy = () => {
        tracked.delete(buffer);
        destroy();
      };
      return buffer;
    };
    Object.assign(ctx, {
      gpu,
      device,
      liveBuffers: () => tracked.size,
      f32: (label: string, data: ArrayLike<number>) => uploadStorage(device, label, Float32Array.from(data)),
      u32: (label: string, data: ArrayLike<number>) => uploadStorage(device, label, Uint32Array.from(data)),
      zeros: (label: string, count: number) => createStorage(device, label, count * 4),
      readF32: (buffer: GPUBuffer, count: number) => readF32(device, buffer, count),
      readU32: (buffer: GPUBuffer, count: number) => readU32(device, buffer, count),
    } satisfies GpuTestContext);
  });

  beforeEach(() => {
    ctx.device.pushErrorScope('internal');
    ctx.device.pushErrorScope('out-of-memory');
    ctx.device.pushErrorScope('validation');
  });

  afterEach(async () => {
    const errors = await Promise.all([ctx.device.popErrorScope(), ctx.device.popErrorScope(), ctx.device.popErrorScope()]);
    for (const buffer of [...tracked]) buffer.destroy();
    const first = errors.find((e) => e !== null);
    if (first) throw new Error(`GPU reported an error during the test: ${first.message}`);
  });

  afterAll(() => {
    ctx.device?.destroy();
  });

  return ctx;
}

export interface CloseOptions {
  /** Absolute tolerance. */
  atol: number;
  /** Relative tolerance (scaled by |expected|). */
  rtol?: number;
  /** Row length, to print the worst index as [row, col]. */
  cols?: number;
  label?: string;
}

/** Worst |a - e| - (atol + rtol |e|) over all elements, NaN-aware. */
export function worstDifference(actual: ArrayLike<number>, expected: ArrayLike<number>, atol: number, rtol = 0) {
  let worst = { index: -1, actual: 0, expected: 0, excess: -Infinity, diff: 0 };
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const e = expected[i];
    const diff = Math.abs(a - e);
    const excess = Number.isNaN(diff) ? (Number.isNaN(a) && Number.isNaN(e) ? -Infinity : Infinity) : diff - (atol + rtol * Math.abs(e));
    if (excess > worst.excess) worst = { index: i, actual: a, expected: e, excess, diff };
  }
  return worst;
}

/** Fails with the worst element, its index and both values, not just "not equal". */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, options: CloseOptions): void {
  expect(actual.length, `${options.label ?? 'result'}: length`).toBe(expected.length);
  const worst = worstDifference(actual, expected, options.atol, options.rtol ?? 0);
  if (worst.excess > 0) {
    const where = options.cols ? `[${Math.floor(worst.index / options.cols)}, ${worst.index % options.cols}]` : `[${worst.index}]`;
    throw new Error(
      `${options.label ?? 'result'}: worst difference ${worst.diff.toExponential(3)} at ${where}: ` +
        `got ${worst.actual}, expected ${worst.expected} (atol ${options.atol}, rtol ${options.rtol ?? 0}, ${expected.length} elements)`,
    );
  }
}

/** Fails on the first differing word, printing both in hex. */
export function expectBitExact(actual: ArrayLike<number>, expected: ArrayLike<number>, label = 'result'): void {
  expect(actual.length, `${label}: length`).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    if (actual[i] !== expected[i]) {
      throw new Error(`${label}: first difference at [${i}]: got ${actual[i]}, expected ${expected[i]}`);
    }
  }
}

/** Deterministic test data: a small xorshift so test inputs never depend on Math.random. */
export function randomArray(length: number, seed: number, scale = 1): Float32Array {
  let s = seed >>> 0 || 1;
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = ((s / 0x100000000) * 2 - 1) * scale;
  }
  return out;
}

export interface StepStateWords {
  step: number;
  lr?: number;
  /** 1 - beta1^(step+1); default 1. */
  bc1?: number;
  /** 1 - beta2^(step+1); default 1. */
  bc2?: number;
}

/**
 * Fills the first 16 bytes of a StepState buffer { step: u32, lr: f32, bias_correction1: f32,
 * bias_correction2: f32 } as the engine's begin_step would, for kernels tested on their own.
 */
export function writeStepState(device: GPUDevice, buffer: GPUBuffer, s: StepStateWords): void {
  const bytes = new ArrayBuffer(16);
  const view = new DataView(bytes);
  view.setUint32(0, s.step, true);
  view.setFloat32(4, s.lr ?? 0.01, true);
  view.setFloat32(8, s.bc1 ?? 1, true);
  view.setFloat32(12, s.bc2 ?? 1, true);
  device.queue.writeBuffer(buffer, 0, bytes);
}

/** Encodes dispatches in one compute pass and submits them (the engine batches its own). */
export function runDispatches(device: GPUDevice, label: string, dispatches: Dispatch[]): void {
  const encoder = device.createCommandEncoder({ label });
  const pass = encoder.beginComputePass({ label });
  for (const d of dispatches) d.encode(pass);
  pass.end();
  device.queue.submit([encoder.finish()]);
}
