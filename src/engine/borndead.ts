// Monte-Carlo estimate of the probability that a freshly initialized network is dead, on the GPU: many trials
// per submit. Trial t (seed = trialSeed(seed, t)) is the network a run with that seed starts from, fed its own
// standard normal probe inputs (see src/spec/borndead-trials.ts for the exact streams and the definition of dead).
// Per batch of T trials, one dispatch each: the born-dead kernel draws T probe sets and, layer by layer, T weight
// matrices (trial t from its own seed, with the init kernel's draws), multiplies all T at once (a wide layer
// instead runs the engine's tiled matmul, one dispatch per trial); the activation kernel runs once over all T;
// the verdict writes one count per trial. One submit and one readback per batch.
import { createStorage, readF32, readU32, uploadStorage } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import type { Dispatch } from '../gpu/dispatch';
import { ActivationKernel } from '../gpu/kernels/activation';
import { BornDeadKernel } from '../gpu/kernels/borndead';
import { MatmulKernel } from '../gpu/kernels/matmul';
import { CapacityError } from './layout';
import { type BornDeadSpec, PROBE_INPUT_SCHEME, probeInputKey, trialSeed } from '../spec/borndead-trials';
import { rngKey } from '../spec/rng-streams';

export type { BornDeadLayer, BornDeadSpec } from '../spec/borndead-trials';

/** Largest buffer a batch uses; the trials per batch follow from it (and from the device's binding limit). */
const BATCH_BUFFER_BYTES = 64 * 2 ** 20;
/**
 * Multiply-adds per trial and layer from which the layer runs as one tiled matmul per trial (the engine's
 * register-blocked kernel) rather than in the batched kernel: wide layers are worth a dispatch each, narrow
 * ones are not.
 */
const MATMUL_MIN_MACS = 1 << 18;

/** Trials per submit: enough to amortize the submit and readback; more only delays progress reports. */
const MAX_BATCH_TRIALS = 4096;

export interface BornDeadRunOptions {
  spec: BornDeadSpec;
  trials: number;
  /** Seed of trial 0; trial t uses seed + t (mod 2^32). */
  seed: number;
  /** Trials per submit; default: as many as fit BATCH_BUFFER_BYTES, at most MAX_BATCH_TRIALS. */
  batchTrials?: number;
  /** Called after each batch with the trials done so far. */
  onProgress?: (done: number, total: number) => void;
  signal?: AbortSignal;
}

export interface BornDeadResult {
  /** Trials actually run (fewer than asked when aborted). */
  trials: number;
  dead: number;
  /** Per trial: positive (probe row, unit) pairs of the last hidden layer; 0 = dead. */
  alive: Uint32Array;
  /** Per trial: largest pre-activation of the last hidden layer. */
  maxPre: Float32Array;
  /** Wall time of the trials (pipelines compiled beforehand are not counted). */
  seconds: number;
}

export function validateBornDeadSpec(spec: BornDeadSpec): void {
  const positive = (name: string, v: number) => {
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${name} must be a positive integer, got ${v}`);
  };
  positive('inputSize', spec.inputSize);
  positive('probeRows', spec.probeRows);
  if (spec.hidden.length < 1) throw new RangeError('a born-dead trial needs at least one hidden layer');
  spec.hidden.forEach((h, i) => {
    positive(`hidden[${i}].width`, h.width);
    if (!Number.isFinite(h.bias)) throw new RangeError(`hidden[${i}].bias must be finite, got ${h.bias}`);
  });
}

/** Floats of each per-trial slice: probe inputs, weights (largest layer), activations (widest layer). */
function sliceSizes(spec: BornDeadSpec): { probe: number; weights: number; activations: number } {
  let fanIn = spec.inputSize;
  let weights = 0;
  let widest = 0;
  for (const h of spec.hidden) {
    weights = Math.max(weights, fanIn * h.width);
    widest = Math.max(widest, h.width);
    fanIn = h.width;
  }
  return { probe: spec.probeRows * spec.inputSize, weights, activations: spec.probeRows * widest };
}

/** Trials per submit so that no buffer exceeds the batch budget or the device's binding limit. */
export function batchTrialsFor(spec: BornDeadSpec, maxBindingBytes: number): number {
  const s = sliceSizes(spec);
  const largest = 4 * Math.max(s.probe, s.weights, s.activations);
  const budget = Math.min(BATCH_BUFFER_BYTES, maxBindingBytes);
  if (largest > budget)
    throw new CapacityError(
      `one trial needs a ${largest}-byte buffer, more than the ${budget} bytes a batch may use`,
      'use fewer probe rows (--probe) or narrower layers (--width, --inputs)',
    );
  return Math.max(1, Math.min(MAX_BATCH_TRIALS, Math.floor(budget / largest)));
}

export class BornDeadRunner {
  private constructor(
    private readonly gpu: GpuContext,
    private readonly activation: ActivationKernel,
    private readonly kernel: BornDeadKernel,
    private readonly matmul: MatmulKernel,
    private readonly matmulMinMacs: number,
  ) {}

  /** `matmulMinMacs` (tests) overrides MATMUL_MIN_MACS: 0 sends every layer through the tiled matmul. */
  static async create(gpu: GpuContext, options: { maxWorkgroupsPerDimension?: number; matmulMinMacs?: number } = {}): Promise<BornDeadRunner> {
    const [activation, kernel, matmul] = await Promise.all([
      ActivationKernel.create(gpu, options),
      BornDeadKernel.create(gpu, options),
      MatmulKernel.create(gpu, options),
    ]);
    return new BornDeadRunner(gpu, activation, kernel, matmul, options.matmulMinMacs ?? MATMUL_MIN_MACS);
  }

  async run(options: BornDeadRunOptions): Promise<BornDeadResult> {
    const { spec, trials, seed } = options;
    validateBornDeadSpec(spec);
    if (!Number.isInteger(trials) || trials < 1) throw new RangeError(`trials must be a positive integer, got ${trials}`);
    if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`seed must be a u32, got ${seed}`);
    const batch = Math.min(trials, options.batchTrials ?? batchTrialsFor(spec, this.gpu.limits.maxStorageBufferBindingSize));
    const sizes = sliceSizes(spec);
    // A batch chosen by the caller may not fit the adapter's buffers: say so before creating them.
    const largest = 4 * Math.max(sizes.probe, sizes.weights, sizes.activations);
    const limit = Math.min(this.gpu.limits.maxStorageBufferBindingSize, this.gpu.limits.maxBufferSize);
    if (batch * largest > limit)
      throw new CapacityError(
        `${batch} trials per submit need a ${batch * largest}-byte buffer, more than the adapter's limit of ${limit} bytes`,
        largest > limit
          ? 'use fewer probe rows (--probe) or narrower layers (--width, --inputs)'
          : `use a batch (--batch) of at most ${Math.floor(limit / largest)}`,
      );
    const device = this.gpu.device;
    const buffers = {
      probe: createStorage(device, 'BornDead.probe', batch * sizes.probe * 4),
      weights: createStorage(device, 'BornDead.weights', batch * sizes.weights * 4),
      pre: createStorage(device, 'BornDead.pre', batch * sizes.activations * 4),
      act: createStorage(device, 'BornDead.act', batch * sizes.activations * 4),
      alive: createStorage(device, 'BornDead.alive', batch * 4),
      maxPre: createStorage(device, 'BornDead.maxPre', batch * 4),
    };
    // Each layer's constant bias as a vector, for the tiled matmul's bias operand.
    const biases = spec.hidden.map((h, i) => uploadStorage(device, `BornDead.bias${i + 1}`, new Float32Array(h.width).fill(h.bias)));
    const alive = new Uint32Array(trials);
    const maxPre = new Float32Array(trials);
    const started = performance.now();
    let done = 0;
    try {
      while (done < trials && !options.signal?.aborted) {
        const count = Math.min(batch, trials - done);
        const dispatches = this.prepareBatch(spec, seed, done, count, buffers, biases);
        try {
          const encoder = device.createCommandEncoder({ label: 'BornDead.batch' });
          const pass = encoder.beginComputePass({ label: 'BornDead.batch' });
          for (const d of dispatches) d.encode(pass);
          pass.end();
          device.queue.submit([encoder.finish()]);
          alive.set(await readU32(device, buffers.alive, count), done);
          maxPre.set(await readF32(device, buffers.maxPre, count), done);
        } finally {
          dispatches.forEach((d) => d.destroy());
        }
        done += count;
        options.onProgress?.(done, trials);
      }
    } finally {
      Object.values(buffers).forEach((b) => b.destroy());
      biases.forEach((b) => b.destroy());
    }
    const seconds = (performance.now() - started) / 1000;
    let dead = 0;
    for (let t = 0; t < done; t++) if (alive[t] === 0) dead++;
    return { trials: done, dead, alive: alive.slice(0, done), maxPre: maxPre.slice(0, done), seconds };
  }

  /** The dispatches of trials [first, first + count), in order: probe inputs, then per layer weights, forward, activation; the verdict. */
  private prepareBatch(
    spec: BornDeadSpec,
    seed: number,
    first: number,
    count: number,
    b: Record<'probe' | 'weights' | 'pre' | 'act' | 'alive' | 'maxPre', GPUBuffer>,
    biases: GPUBuffer[],
  ): Dispatch[] {
    const rows = spec.probeRows;
    const out: Dispatch[] = [];
    const inputs = spec.inputSize;
    // Trial t's key is [seed of trial first + t, stream]: the kernel adds t to the first word.
    const firstKey = (key: readonly [number, number]) => [trialSeed(seed, first), key[1]] as const;
    out.push(
      this.kernel.prepareInit({
        label: 'BornDead.probe',
        scheme: PROBE_INPUT_SCHEME,
        fanIn: inputs,
        fanOut: inputs,
        trials: count,
        key: firstKey(probeInputKey(0)),
        count: rows * inputs,
        target: { buffer: b.probe, stride: rows * inputs },
      }),
    );
    let fanIn = inputs;
    let x = b.probe;
    spec.hidden.forEach((layer, index) => {
      const l = index + 1;
      const fanOut = layer.width;
      out.push(
        this.kernel.prepareInit({
          label: `BornDead.weights${l}`,
          scheme: layer.weights,
          fanIn,
          fanOut,
          trials: count,
          key: firstKey(rngKey(0, 'initWeights', l)),
          count: fanIn * fanOut,
          target: { buffer: b.weights, stride: fanIn * fanOut },
        }),
      );
      if (rows * fanIn * fanOut >= this.matmulMinMacs) {
        for (let t = 0; t < count; t++) {
          out.push(
            this.matmul.prepare({
              label: `BornDead.matmul${l}[${t}]`,
              variant: 'nn',
              m: rows,
              n: fanOut,
              k: fanIn,
              a: { buffer: x, offset: t * rows * fanIn, ld: fanIn },
              b: { buffer: b.weights, offset: t * fanIn * fanOut, ld: fanOut },
              c: { buffer: b.pre, offset: t * rows * fanOut, ld: fanOut },
              bias: { buffer: biases[index] },
            }),
          );
        }
      } else {
        out.push(
          this.kernel.prepareForward({
            label: `BornDead.forward${l}`,
            trials: count,
            rows,
            fanIn,
            fanOut,
            xStride: rows * fanIn,
            wStride: fanIn * fanOut,
            preStride: rows * fanOut,
            x,
            w: b.weights,
            pre: b.pre,
            bias: layer.bias,
          }),
        );
      }
      if (l < spec.hidden.length) {
        out.push(
          this.activation.prepareForward({ label: `BornDead.activation${l}`, activation: layer.activation, z: b.pre, a: b.act, count: count * rows * fanOut }),
        );
      }
      x = b.act;
      fanIn = fanOut;
    });
    const last = spec.hidden[spec.hidden.length - 1].width;
    out.push(
      this.kernel.prepareVerdict({
        label: 'BornDead.verdict',
        trials: count,
        rows,
        fanOut: last,
        preStride: rows * last,
        pre: b.pre,
        alive: b.alive,
        maxPre: b.maxPre,
      }),
    );
    return out;
  }
}
