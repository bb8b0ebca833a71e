// The simulator's heart: owns every buffer of a training run (allocated once), records K training steps
// per command buffer, and reads back only when asked. The CPU never writes data on the training path:
// the step counter, learning rate, minibatch choice and dropout masks are all derived on the GPU from
// StepState and Philox. What one step runs is built in ./step-graph.ts.
//
// The Trainer owns the one training loop (train) and the one place where a command buffer of the run is
// recorded and submitted (submitChunk). The observatory and other monitoring plug into it as hooks
// (./training-hooks.ts): per-step dispatches, work after a step, copies, and a call once the chunk is submitted.
//
// GPU errors (./chunk-checks.ts, ./gpu-faults.ts): every buffer is created inside error scopes and Trainer.create
// awaits them before any work is submitted, so a run that does not fit fails with one GpuAllocationError and trains
// nothing. Every chunk is recorded and submitted inside error scopes too; a chunk that failed, an error the device
// reported outside any scope, or a canary that disagreed (Trainer.fail) stops the run: train() and every read throw
// the GpuRunError from then on, and hooks hand on nothing from a chunk before its check resolved clean.
//
// Wide layers are split into column blocks (src/engine/layout.ts); a weight is then a grid of blocks.
import { AllocationCheck } from '../gpu/allocation-check';
import { readBack, readF32, readU32 } from '../gpu/buffers';
import type { GpuContext } from '../gpu/device';
import { captureGpuErrors, checkedGpuWork, filterOf, GpuScopeError, labelsIn } from '../gpu/error-scopes';
import type { Dispatch } from '../gpu/dispatch';
import { ActivationKernel } from '../gpu/kernels/activation';
import { BitflipKernel } from '../gpu/kernels/bitflip';
import { CbpKernel } from '../gpu/kernels/cbp';
import { PerturbKernel } from '../gpu/kernels/perturb';
import { TasksKernel } from '../gpu/kernels/tasks';
import { BiasKernel } from '../gpu/kernels/bias';
import { DropoutKernel } from '../gpu/kernels/dropout';
import { GatherKernel } from '../gpu/kernels/gather';
import { InitKernel } from '../gpu/kernels/init';
import { LossKernel } from '../gpu/kernels/loss';
import { MatmulKernel, type MatmulChoice } from '../gpu/kernels/matmul';
import { OptimizerKernel } from '../gpu/kernels/optimizer';
import type { OptimizerSpec } from '../spec/optimizers';
import { ScheduleKernel, STEP_STATE_BYTES } from '../gpu/kernels/schedule';
import { initialStepState } from '../spec/step-state';
import { rngKey } from '../spec/rng-streams';
import { ChunkChecks } from './chunk-checks';
import { GpuAllocationError, GpuRunError } from './gpu-faults';
import { planLayout, type LayoutOptions, type ModelLayout } from './layout';
import { CBP_SELECTION_HEADER, CBP_UNIT_WORDS, CbpSelectionWord } from '../spec/cbp';
import { allocateContinual, continualKernelsNeeded, probeForTask } from './continual-graph';
import type { ActivationBlock, ContinualBuffers, Kernels, ModelBuffers, ParamBlock, TrainingData, WeightLayer } from './model-buffers';
import { activationWidths, type ModelSpec } from './model-spec';
import { ParameterCheck, type NonFiniteParameters } from './parameter-check';
import { ShardedParameters } from './sharded-params';
import { buildTrainingStep } from './step-graph';
import { stepTraffic, type StepTraffic } from './step-traffic';
import { SubmitPacer } from './submit-pacer';
import { ChunkEncoder, type ChunkCheck, type ChunkRecorder, type TrainingHooks } from './training-hooks';

export type { TrainingData } from './model-buffers';
export type { NonFiniteParameters } from './parameter-check';

export interface TrainerOptions extends LayoutOptions {
  /** Steps of loss history kept on the GPU between reads (default 4096). */
  lossHistoryCapacity?: number;
  /** Passed to every kernel, so tests can force folded dispatches. */
  maxWorkgroupsPerDimension?: number;
  /**
   * Steps this trainer is expected to train: matmul tuning then spends at most a small share of their predicted time
   * (src/gpu/tuning/choose.ts TUNING_SHARE), so a short run is not slowed by it. Absent: the device's budget alone.
   */
  tuneForSteps?: number;
  /**
   * Run each hidden layer's activation and dropout in the matmul epilogues (./step-graph.ts) instead of their own
   * dispatches (default true: fewer dispatches and bytes per step, measured faster in bench/train.ts). Same bits.
   */
  fuseEpilogues?: boolean;
}

/** Parameters of one weight layer, reassembled from its blocks: weights [fanIn, fanOut] row-major, bias [fanOut]. */
export interface LayerParameters {
  weights: Float32Array;
  bias: Float32Array;
}

/** One weight layer's training state: parameters plus optimizer state of the same shapes. */
export interface LayerState extends LayerParameters {
  /** Optimizer state of the weights, [fanIn, fanOut] each: momentum [velocity], Adam(W) [m, v], SGD none. */
  weightState: Float32Array[];
  /** Optimizer state of the bias, [fanOut] each, in the same order. */
  biasState: Float32Array[];
}

/** Everything needed to continue a run bit for bit (see Trainer.readState / writeState). */
export interface TrainerState {
  /** Training steps completed. */
  step: number;
  /** The optimizer the state belongs to (its state buffers differ by kind). */
  optimizer: OptimizerSpec['kind'];
  /** The StepState words as the GPU holds them (f32 fields as their bits). */
  stepState: Uint32Array;
  /** Per weight layer (hidden layers, then output). */
  layers: LayerState[];
  /** The loss ring: mean loss of step t at element t % length. */
  lossHistory: Float32Array;
  /** Task state and cures, where the run has them (absent for a stationary run without cures). */
  continual?: ContinualState;
}

/** What non-stationary training and its cures carry from step to step (see ./continual-graph.ts). */
export interface ContinualState {
  /** Slowly-changing regression: the current task's flipping bits (0 or 1 each). */
  taskBits?: Uint32Array;
  /** Continual backprop, per hidden layer: its unit words ([width, CBP_UNIT_WORDS]) and its accumulator [whole, fraction]. */
  cbp?: { units: Uint32Array; accumulator: Uint32Array }[];
}

const F32 = 4;

export class Trainer {
  readonly layout: ModelLayout;
  /** Every buffer the trainer allocated (it frees them on destroy). */
  private readonly allocated: GPUBuffer[] = [];
  /** Creates them inside error scopes; Trainer.create awaits its verdict before submitting anything. */
  private readonly allocations: AllocationCheck;
  /** The verdicts of the submitted chunks, and the run's fault once there is one. */
  private readonly checks: ChunkChecks;
  /** Unsubscribes from the device's uncaptured errors. */
  private readonly offError: () => void;
  private readonly dispatches: Dispatch[] = [];
  /** One training step, up to (not including) end_step; then end_step. */
  private stepBody: Dispatch[] = [];
  private stepEnd!: Dispatch;
  private completedSteps = 0;
  /** When train() waits for the GPU: learns the time per step, sleeps instead of polling. */
  private readonly pacer = new SubmitPacer();
  private readonly hooks: TrainingHooks[] = [];
  /** Built on first use (only runs that checkpoint need it). */
  private parameterCheck: ParameterCheck | null = null;
  private destroyed = false;

  // Buffers the outside world reads.
  readonly stepState: GPUBuffer;
  private readonly lossHistory: GPUBuffer;
  readonly lossHistoryCapacity: number;
  /** Per weight layer (hidden layers then output), the parameter blocks. */
  private readonly layers: WeightLayer[] = [];
  /** Per activation (0 = input, 1..L hidden, L+1 logits), its column blocks. */
  private readonly blocks: ActivationBlock[][] = [];
  /** Whole-layer reads and writes over the blocks above. */
  private readonly params: ShardedParameters;
  /** Task state and cures' buffers. */
  private readonly continual: ContinualBuffers;
  private readonly batchTargets!: GPUBuffer;

  private constructor(
    readonly gpu: GpuContext,
    readonly spec: ModelSpec,
    /** The kernels, created once per trainer; graphs built beside the step reuse them. */
    readonly kernels: Kernels,
    data: TrainingData,
    options: TrainerOptions,
  ) {
    const dataBytes = data.inputs.byteLength + data.targets.byteLength;
    this.layout = planLayout(spec, gpu.limits, { ...options, dataBytes });
    this.lossHistoryCapacity = options.lossHistoryCapacity ?? 4096;
    this.allocations = new AllocationCheck(gpu.device);
    this.checks = new ChunkChecks(gpu.device);
    // An error nobody captured (work outside the scopes) stops the run too: it is never only logged.
    this.offError = gpu.onError((error) => this.fail(uncapturedFault(error, this.checks.verifiedStep)));
    try {
      this.stepState = this.alloc('stepState', STEP_STATE_BYTES / F32);
      gpu.device.queue.writeBuffer(this.stepState, 0, initialStepState());
      this.lossHistory = this.alloc('lossHistory', this.lossHistoryCapacity);
      this.allocateTensors();
      this.continual = allocateContinual(gpu.device, spec, data, (label, elements) => this.alloc(label, elements));
      this.params = new ShardedParameters(gpu.device, spec, this.blocks, this.layers);
      const step = buildTrainingStep({
        device: gpu.device,
        spec,
        kernels,
        data,
        stepState: this.stepState,
        lossHistory: this.lossHistory,
        lossHistoryCapacity: this.lossHistoryCapacity,
        blocks: this.blocks,
        layers: this.layers,
        continual: this.continual,
        alloc: (label, elements) => this.alloc(label, elements),
        keep: (d) => this.keep(d),
        fuseEpilogues: options.fuseEpilogues ?? true,
      });
      this.stepBody = step.body;
      this.stepEnd = step.end;
      this.batchTargets = step.batchTargets;
    } catch (error) {
      this.destroy();
      throw error;
    }
  }

  static async create(gpu: GpuContext, spec: ModelSpec, data: TrainingData, options: TrainerOptions = {}): Promise<Trainer> {
    validateData(spec, data);
    const kernelOptions = { maxWorkgroupsPerDimension: options.maxWorkgroupsPerDimension };
    const [matmul, bias, activation, dropout, loss, optimizer, init, gather, schedule] = await Promise.all([
      MatmulKernel.create(gpu, kernelOptions),
      BiasKernel.create(gpu, kernelOptions),
      ActivationKernel.create(gpu, kernelOptions),
      DropoutKernel.create(gpu, kernelOptions),
      LossKernel.create(gpu, kernelOptions),
      OptimizerKernel.create(gpu, kernelOptions),
      InitKernel.create(gpu, kernelOptions),
      GatherKernel.create(gpu, kernelOptions),
      ScheduleKernel.create(gpu),
    ]);
    const need = continualKernelsNeeded(spec, data);
    const [bitflip, tasks, cbp, perturb] = await Promise.all([
      need.bitflip ? BitflipKernel.create(gpu, kernelOptions) : undefined,
      need.tasks ? TasksKernel.create(gpu, kernelOptions) : undefined,
      need.cbp ? CbpKernel.create(gpu, kernelOptions) : undefined,
      need.perturb ? PerturbKernel.create(gpu, kernelOptions) : undefined,
    ]);
    const kernels = { matmul, bias, activation, dropout, loss, optimizer, init, gather, schedule, bitflip, tasks, cbp, perturb };
    // Every buffer and bind group is created first; nothing is submitted before they are known good.
    const built = captureGpuErrors(gpu.device, () => new Trainer(gpu, spec, kernels, data, options));
    const trainer = built.result;
    const [failed, other] = await Promise.all([trainer.allocations.firstFailure(), built.errors]);
    if (failed || other) {
      trainer.destroy();
      if (failed) throw new GpuAllocationError(failed, trainer.layout.memory, gpu.adapter, spec);
      throw GpuRunError.fromScope(other!, 'Trainer.create', labelsIn(other!.message)[0] ?? null, 0);
    }
    try {
      // The step's products are prepared now: choose their kernels (remembered, or measured within the device's
      // budget) before the first step. Any choice gives the same bits, so this never changes a run's numbers.
      await matmul.tune(options.tuneForSteps);
    } catch (error) {
      trainer.destroy();
      throw error;
    }
    trainer.initializeParameters();
    return trainer;
  }

  /** The matmul kernel configuration of every product shape prepared on this trainer's kernels, and why. */
  matmulChoices(): MatmulChoice[] {
    return this.kernels.matmul.choices();
  }

  /** Training steps completed (recorded and submitted). */
  get step(): number {
    return this.completedSteps;
  }

  private alloc(label: string, elements: number): GPUBuffer {
    const buffer = this.allocations.storage(`Trainer.${label}`, elements * F32);
    this.allocated.push(buffer);
    return buffer;
  }

  private allocateTensors(): void {
    const { spec } = this;
    const batch = spec.batch;
    const widths = activationWidths(spec);
    const hiddenCount = spec.hidden.length;
    const stateCount = OptimizerKernel.stateBuffersNeeded(spec.optimizer);

    for (let l = 0; l < widths.length; l++) {
      const hasDropout = l === 0 ? spec.inputDropout > 0 : l <= hiddenCount && spec.hidden[l - 1].dropout > 0;
      this.blocks.push(
        this.layout.activations[l].blocks.map((block, j) => {
          const name = `a${l}.${j}`;
          const size = batch * block.width;
          if (l === 0) {
            // The gathered batch lands in z; with input dropout, y is the dropped copy.
            const z = this.alloc(`${name}.input`, size);
            return { ...block, z, y: hasDropout ? this.alloc(`${name}.dropped`, size) : z, g: z };
          }
          return {
            ...block,
            z: this.alloc(`${name}.z`, size),
            h: hasDropout ? this.alloc(`${name}.h`, size) : undefined,
            y: this.alloc(`${name}.y`, size),
            g: this.alloc(`${name}.g`, size),
          };
        }),
      );
    }

    const param = (label: string, count: number): ParamBlock => ({
      value: this.alloc(`${label}`, count),
      grad: this.alloc(`${label}.grad`, count),
      state: Array.from({ length: stateCount }, (_, s) => this.alloc(`${label}.state${s + 1}`, count)),
      count,
    });
    for (let l = 1; l < widths.length; l++) {
      const inputs = this.blocks[l - 1];
      const outputs = this.blocks[l];
      this.layers.push({
        weights: inputs.map((inBlock, i) => outputs.map((outBlock, j) => param(`W${l}.${i}.${j}`, inBlock.width * outBlock.width))),
        bias: outputs.map((outBlock, j) => param(`b${l}.${j}`, outBlock.width)),
      });
    }
  }

  private keep(d: Dispatch): Dispatch {
    this.dispatches.push(d);
    return d;
  }

  /** Draws every parameter from its Philox stream on the GPU, so that shards match an unsharded run. */
  private initializeParameters(): void {
    const { spec, kernels: k } = this;
    const widths = activationWidths(spec);
    const once: Dispatch[] = [];
    this.layers.forEach((layer, index) => {
      const l = index + 1;
      const init = l <= spec.hidden.length ? spec.hidden[l - 1].init : spec.outputInit;
      const fanIn = widths[l - 1];
      const fanOut = widths[l];
      this.blocks[l - 1].forEach((inp, i) => {
        this.blocks[l].forEach((out, j) => {
          once.push(
            k.init.prepare({
              label: `Trainer.initW${l}.${i}.${j}`,
              scheme: init.weights,
              key: rngKey(spec.seed, 'initWeights', l),
              fanIn,
              fanOut,
              target: { buffer: layer.weights[i][j].value, ld: out.width },
              rows: inp.width,
              cols: out.width,
              globalCols: fanOut,
              rowOffset: inp.offset,
              colOffset: out.offset,
            }),
          );
        });
      });
      this.blocks[l].forEach((out, j) => {
        once.push(
          k.init.prepare({
            label: `Trainer.initB${l}.${j}`,
            scheme: init.bias,
            key: rngKey(spec.seed, 'initBias', l),
            fanIn,
            fanOut,
            target: { buffer: layer.bias[j].value, ld: out.width },
            rows: 1,
            cols: out.width,
            globalCols: fanOut,
            colOffset: out.offset,
          }),
        );
      });
    });
    this.submitChunk('Trainer.init', 0, (chunk) => once.forEach((d) => chunk.dispatch(d)));
    for (const d of once) d.destroy();
  }

  /** The model's GPU buffers, for graphs built beside the step (observatory, statistics) with `kernels`. */
  get buffers(): ModelBuffers {
    const { blocks, layers, stepState, lossHistory, lossHistoryCapacity, batchTargets, continual } = this;
    return { blocks, layers, stepState, lossHistory, lossHistoryCapacity, batchTargets, continual };
  }

  /**
   * For the observatory: where its probe inputs come from when the task changes them (the current task of a
   * slowly-changing regression, the task's permutation of the fixed rows `base`), and the dispatch that rewrites
   * them for the task the last completed step trained on; undefined when the probe set is fixed.
   */
  probeForTask(base: GPUBuffer, rows: number, alloc: (label: string, elements: number) => GPUBuffer): { probe: GPUBuffer; refresh: Dispatch } | undefined {
    return probeForTask({ spec: this.spec, kernels: this.kernels, stepState: this.stepState, continual: this.continual }, base, rows, alloc);
  }

  /** Label of the dispatch that advances the GPU's step counter (what a step-counter canary points at). */
  get stepEndLabel(): string {
    return this.stepEnd.label;
  }

  /** The run's fault once a chunk failed, the device reported an uncaptured error, or fail() was called; else null. */
  get fault(): GpuRunError | null {
    return this.checks.fault;
  }

  /** Steps known to have run clean on the GPU (every chunk up to here resolved without error). */
  get verifiedStep(): number {
    return this.checks.verifiedStep;
  }

  /**
   * Stops the run on a fault found outside the chunks' error scopes (a snapshot's canary): from now on train() and every
   * read throw it. Returns the run's fault (the first one, if there was one already).
   */
  fail(fault: GpuRunError): GpuRunError {
    return this.checks.fail(fault);
  }

  /** Resolves once every chunk submitted so far has run and was checked; throws the run's fault if there is one. */
  async checked(): Promise<void> {
    const fault = await this.checks.settled();
    if (fault) throw fault;
  }

  /**
   * Reads numbers of the run (for graphs built beside the step: the observatory's histories) only once every chunk so
   * far ran clean; a fault, known now or found by the read itself, throws the run's GpuRunError instead.
   */
  async readChecked<T>(read: () => Promise<T>): Promise<T> {
    this.assertUsable();
    await this.checked();
    return this.guard(read());
  }

  /** Plugs work into every chunk train() records from now on; returns the function that unplugs it. */
  addHooks(hooks: TrainingHooks): () => void {
    this.assertAlive();
    this.hooks.push(hooks);
    return () => {
      const i = this.hooks.indexOf(hooks);
      if (i >= 0) this.hooks.splice(i, 1);
    };
  }

  /**
   * Trains `steps` steps: K (spec.stepsPerSubmit) per command buffer with every hook's work recorded into it,
   * two in flight, waiting (after sleeping through most of its predicted time) for each in turn. `progress` hears how
   * many of the steps the GPU has finished, as each command buffer completes. Resolves once every chunk ran clean;
   * rejects with the run's GpuRunError when one did not (or the run had failed before).
   */
  async train(steps: number, progress?: (done: number) => void): Promise<void> {
    this.assertUsable();
    if (!Number.isSafeInteger(steps) || steps < 0) throw new RangeError(`steps to train must be an integer >= 0, got ${steps}`);
    const { queue } = this.gpu.device;
    const chunks: number[] = [];
    for (let left = steps; left > 0; left -= chunks[chunks.length - 1]) chunks.push(Math.min(this.spec.stepsPerSubmit, left));
    const start = this.completedSteps;
    // Two chunks in flight, the host asleep through most of each instead of polling Dawn (./submit-pacer.ts).
    await this.pacer.run(
      chunks,
      (i) => {
        this.assertUsable();
        const count = chunks[i];
        const first = this.completedSteps + 1;
        this.submitChunk('Trainer.steps', count, (chunk) => {
          for (let step = first; step < first + count; step++) this.recordStep(chunk, step);
        });
        this.completedSteps += count;
      },
      () => {
        // Asked before the next chunk is submitted: it covers every step submitted so far.
        const done = this.completedSteps - start;
        const work = queue.onSubmittedWorkDone();
        return progress ? work.then(() => progress(done)) : work;
      },
    );
    await this.drain();
  }

  /**
   * Records work that is not a training step (the observatory's step-0 snapshot) and submits it as a chunk
   * of its own, through the same seam as training chunks; hooks are told with afterSubmit.
   */
  submitWork(label: string, record: (chunk: ChunkRecorder) => void): ChunkCheck {
    this.assertUsable();
    return this.submitChunk(label, 0, record);
  }

  /**
   * The one place where a command buffer of the run is recorded and submitted, inside GPU error scopes. Hooks are
   * told with the chunk's check: they map what it fills at once but hand it on only once the check resolved clean.
   * `steps`: training steps the chunk records (completedSteps counts them once it is submitted).
   */
  private submitChunk(label: string, steps: number, record: (chunk: ChunkRecorder) => void): ChunkCheck {
    const device = this.gpu.device;
    const chunk = new ChunkEncoder(device, label);
    const { errors } = captureGpuErrors(device, () => {
      record(chunk);
      device.queue.submit([chunk.finish()]);
    });
    const check = this.checks.add(errors, chunk, this.completedSteps, this.completedSteps + steps);
    for (const hooks of this.hooks) hooks.afterSubmit?.(check);
    return check;
  }

  /** Records training step `step` (1-based) with the hooks' work inside and after it. */
  private recordStep(chunk: ChunkRecorder, step: number): void {
    for (const d of this.stepBody) chunk.dispatch(d);
    for (const hooks of this.hooks) for (const d of hooks.insideStep?.(step) ?? []) chunk.dispatch(d);
    chunk.dispatch(this.stepEnd);
    for (const hooks of this.hooks) hooks.afterStep?.(step, chunk);
  }

  /** For benchmarks: records one training step, without any hook's work, into an open compute pass. */
  /** Dispatches of one training step and the bytes they move (./step-traffic.ts), for the bench. */
  stepTraffic(): StepTraffic {
    this.assertUsable();
    return stepTraffic([...this.stepBody, this.stepEnd]);
  }

  encodeStep(pass: GPUComputePassEncoder): void {
    for (const d of this.stepBody) d.encode(pass);
    this.stepEnd.encode(pass);
  }

  /**
   * The first weight layer holding a NaN or ±Infinity parameter, or null when every parameter is finite:
   * one GPU pass over every block and a readback of 2 words per block (./parameter-check.ts).
   */
  async firstNonFiniteLayer(): Promise<NonFiniteParameters | null> {
    this.assertUsable();
    if (!this.parameterCheck) {
      const created = await ParameterCheck.create(this.gpu, this.layers);
      if (this.destroyed || this.parameterCheck) created.destroy();
      this.assertAlive();
      this.parameterCheck ??= created;
    }
    const check = this.parameterCheck;
    this.submitChunk('Trainer.parameterCheck', 0, (chunk) => check.record(chunk));
    await this.checked();
    return check.read();
  }

  /** Waits until everything submitted so far has run and was checked; throws the run's fault if there is one. */
  async drain(): Promise<void> {
    await this.gpu.device.queue.onSubmittedWorkDone();
    await this.checked();
  }

  /** Mean loss of steps [from, from + count): at most lossHistoryCapacity steps back. */
  async readLosses(from = Math.max(0, this.completedSteps - this.lossHistoryCapacity), count = this.completedSteps - from): Promise<Float32Array> {
    this.assertUsable();
    if (from < 0 || count < 0 || from + count > this.completedSteps) {
      throw new RangeError(`losses [${from}, ${from + count}) are outside the ${this.completedSteps} steps trained`);
    }
    if (from < this.completedSteps - this.lossHistoryCapacity) {
      throw new RangeError(`loss of step ${from} is gone: only the last ${this.lossHistoryCapacity} steps are kept on the GPU`);
    }
    await this.checked();
    const ring = await this.guard(readF32(this.gpu.device, this.lossHistory, this.lossHistoryCapacity));
    const out = new Float32Array(count);
    for (let s = 0; s < count; s++) out[s] = ring[(from + s) % this.lossHistoryCapacity];
    return out;
  }

  /** Parameters of every weight layer (hidden layers, then output), reassembled from their blocks. */
  async readParameters(): Promise<LayerParameters[]> {
    this.assertUsable();
    await this.checked();
    return this.guard(
      Promise.all(
        this.layers.map(async (_, index) => ({
          weights: await this.params.readWeights(index, (b) => b.value),
          bias: await this.params.readBias(index, (b) => b.value),
        })),
      ),
    );
  }

  /** Overwrites every weight layer's parameters (same shapes as readParameters returns); optimizer state is kept. */
  writeParameters(params: readonly LayerParameters[]): void {
    this.assertUsable();
    if (params.length !== this.layers.length) throw new RangeError(`expected ${this.layers.length} layers of parameters, got ${params.length}`);
    params.forEach(({ weights, bias }, index) => this.params.checkShapes(index, 'parameters', weights, bias));
    params.forEach(({ weights, bias }, index) => {
      this.params.writeWeights(index, (b) => b.value, weights);
      this.params.writeBias(index, (b) => b.value, bias);
    });
  }

  /**
   * Everything a later run needs to continue this one bit for bit: parameters, optimizer state, the StepState
   * words (step, lr, bias corrections and the running beta powers), the loss ring and the step count.
   * Gradients and activations are not included: every step recomputes them from scratch. Read only once every chunk
   * ran clean, and only when the GPU's step counter agrees with the host's: a failed run never yields a state.
   */
  async readState(): Promise<TrainerState> {
    this.assertUsable();
    await this.checked();
    return this.guard(this.readStateUnchecked());
  }

  private async readStateUnchecked(): Promise<TrainerState> {
    const stateCount = OptimizerKernel.stateBuffersNeeded(this.spec.optimizer);
    const layers: LayerState[] = [];
    for (let index = 0; index < this.layers.length; index++) {
      const layer: LayerState = {
        weights: await this.params.readWeights(index, (b) => b.value),
        bias: await this.params.readBias(index, (b) => b.value),
        weightState: [],
        biasState: [],
      };
      for (let s = 0; s < stateCount; s++) {
        layer.weightState.push(await this.params.readWeights(index, (b) => b.state[s]));
        layer.biasState.push(await this.params.readBias(index, (b) => b.state[s]));
      }
      layers.push(layer);
    }
    const stepState = new Uint32Array(await this.readStepState());
    if (stepState[0] !== this.completedSteps) {
      throw this.fail(
        new GpuRunError({
          kind: 'canary',
          detail: `the GPU's step counter reads ${stepState[0]}, the host trained ${this.completedSteps} steps`,
          chunk: null,
          kernel: this.stepEnd.label,
          lastGoodStep: this.checks.verifiedStep,
        }),
      );
    }
    const state: TrainerState = {
      step: this.completedSteps,
      optimizer: this.spec.optimizer.kind,
      stepState,
      layers,
      lossHistory: await readF32(this.gpu.device, this.lossHistory, this.lossHistoryCapacity),
    };
    const continual = await this.readContinualState();
    if (continual) state.continual = continual;
    return state;
  }

  private async readContinualState(): Promise<ContinualState | undefined> {
    const { device } = this.gpu;
    const { bitflip, cbp } = this.continual;
    if (!bitflip && !cbp) return undefined;
    const out: ContinualState = {};
    if (bitflip) out.taskBits = await readU32(device, bitflip.flipBits, bitflip.problem.flipping);
    if (cbp) {
      out.cbp = [];
      for (const [i, layer] of cbp.entries()) {
        const units = await readU32(device, layer.units, this.spec.hidden[i].width * CBP_UNIT_WORDS);
        const header = await readU32(device, layer.selection, CBP_SELECTION_HEADER);
        out.cbp.push({ units, accumulator: Uint32Array.of(header[CbpSelectionWord.whole], header[CbpSelectionWord.fraction]) });
      }
    }
    return out;
  }

  /**
   * Restores a state from readState (of a trainer with the same spec; the data must also be the same for the
   * run to continue identically). The loss ring may have another capacity: the latest steps are carried over.
   * Call it before training; the observatory, if any, is created afterwards (it reads the step). The writes run inside
   * GPU error scopes: the returned promise rejects (GpuScopeError) when one failed.
   */
  writeState(state: TrainerState): Promise<void> {
    this.assertUsable();
    const { spec } = this;
    const stateCount = OptimizerKernel.stateBuffersNeeded(spec.optimizer);
    if (!Number.isSafeInteger(state.step) || state.step < 0 || state.step > 0xffffffff) throw new RangeError(`state step must be a u32, got ${state.step}`);
    if (state.optimizer !== spec.optimizer.kind)
      throw new RangeError(`state was saved with optimizer ${state.optimizer}; this trainer uses ${spec.optimizer.kind}`);
    if (state.stepState.length !== STEP_STATE_BYTES / F32)
      throw new RangeError(`step state holds ${state.stepState.length} words; expected ${STEP_STATE_BYTES / F32}`);
    if (state.stepState[0] !== state.step) throw new RangeError(`step state names step ${state.stepState[0]}, but the state is at step ${state.step}`);
    if (state.layers.length !== this.layers.length)
      throw new RangeError(`state has ${state.layers.length} weight layers; this model has ${this.layers.length}`);
    state.layers.forEach((layer, index) => {
      this.params.checkShapes(index, 'parameters', layer.weights, layer.bias);
      if (layer.weightState.length !== stateCount || layer.biasState.length !== stateCount) {
        throw new RangeError(
          `layer ${index + 1}: ${spec.optimizer.kind} keeps ${stateCount} state buffers per parameter, the state has ${layer.weightState.length} (weights) and ${layer.biasState.length} (bias)`,
        );
      }
      for (let s = 0; s < stateCount; s++) this.params.checkShapes(index, `optimizer state ${s + 1}`, layer.weightState[s], layer.biasState[s]);
    });
    if (state.lossHistory.length < 1) throw new RangeError('state loss history is empty');
    this.checkContinualState(state.continual);

    return this.guard(checkedGpuWork(this.gpu.device, 'writing the saved state', () => this.writeStateUnchecked(state)));
  }

  private writeStateUnchecked(state: TrainerState): void {
    const stateCount = OptimizerKernel.stateBuffersNeeded(this.spec.optimizer);
    state.layers.forEach((layer, index) => {
      this.params.writeWeights(index, (b) => b.value, layer.weights);
      this.params.writeBias(index, (b) => b.value, layer.bias);
      for (let s = 0; s < stateCount; s++) {
        this.params.writeWeights(index, (b) => b.state[s], layer.weightState[s]);
        this.params.writeBias(index, (b) => b.state[s], layer.biasState[s]);
      }
    });
    const queue = this.gpu.device.queue;
    queue.writeBuffer(this.stepState, 0, state.stepState.buffer, state.stepState.byteOffset, state.stepState.byteLength);
    // Step t's loss sits at t % capacity in both rings; carry over the steps both can hold.
    const ring = new Float32Array(this.lossHistoryCapacity);
    const from = Math.max(0, state.step - Math.min(this.lossHistoryCapacity, state.lossHistory.length));
    for (let t = from; t < state.step; t++) ring[t % this.lossHistoryCapacity] = state.lossHistory[t % state.lossHistory.length];
    queue.writeBuffer(this.lossHistory, 0, ring.buffer, ring.byteOffset, ring.byteLength);
    const { bitflip, cbp } = this.continual;
    const c = state.continual!;
    if (bitflip && bitflip.problem.flipping > 0) queue.writeBuffer(bitflip.flipBits, 0, c.taskBits!.buffer, c.taskBits!.byteOffset, c.taskBits!.byteLength);
    cbp?.forEach((layer, i) => {
      const { units, accumulator } = c.cbp![i];
      queue.writeBuffer(layer.units, 0, units.buffer, units.byteOffset, units.byteLength);
      const header = new Uint32Array(CBP_SELECTION_HEADER);
      header[CbpSelectionWord.whole] = accumulator[0];
      header[CbpSelectionWord.fraction] = accumulator[1];
      queue.writeBuffer(layer.selection, 0, header);
    });
    this.completedSteps = state.step;
    this.checks.restart(state.step);
  }

  /** A saved state carries exactly the task state and cure state this run keeps, with their shapes. */
  private checkContinualState(c: ContinualState | undefined): void {
    const { bitflip, cbp } = this.continual;
    if (bitflip && bitflip.problem.flipping > 0) {
      if (c?.taskBits?.length !== bitflip.problem.flipping)
        throw new RangeError(`state holds ${c?.taskBits?.length ?? 0} task bits; this run flips ${bitflip.problem.flipping}`);
    } else if (c?.taskBits && c.taskBits.length > 0) throw new RangeError('state holds task bits, but this run has no slowly-changing regression');
    if (cbp) {
      if (c?.cbp?.length !== cbp.length) throw new RangeError(`state holds continual backprop for ${c?.cbp?.length ?? 0} layers; this model has ${cbp.length}`);
      c.cbp.forEach(({ units, accumulator }, i) => {
        const words = this.spec.hidden[i].width * CBP_UNIT_WORDS;
        if (units.length !== words) throw new RangeError(`continual backprop units of layer ${i + 1}: ${units.length} words; expected ${words}`);
        if (accumulator.length !== 2) throw new RangeError(`continual backprop accumulator of layer ${i + 1}: ${accumulator.length} words; expected 2`);
      });
    } else if (c?.cbp) throw new RangeError('state holds continual backprop, but this run has none');
  }

  /** The StepState words (step, lr, bias corrections, beta powers) as the GPU holds them. */
  async readStepState(): Promise<ArrayBuffer> {
    return readBack(this.gpu.device, this.stepState, STEP_STATE_BYTES);
  }

  private assertAlive(): void {
    if (this.destroyed) throw new Error('Trainer was destroyed');
  }

  /** Alive and not failed: what computes or reads numbers needs this. */
  private assertUsable(): void {
    this.assertAlive();
    if (this.checks.fault) throw this.checks.fault;
  }

  /** A readback whose copy failed on the GPU stops the run (its numbers cannot be trusted). */
  private async guard<T>(read: Promise<T>): Promise<T> {
    try {
      return await read;
    } catch (error) {
      if (error instanceof GpuScopeError) {
        throw this.fail(GpuRunError.fromScope(error.report, error.what, labelsIn(error.report.message)[0] ?? null, this.checks.verifiedStep));
      }
      throw error;
    }
  }

  /** Frees every buffer and uniform the trainer created. Safe to call twice. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.offError();
    this.hooks.length = 0;
    this.parameterCheck?.destroy();
    for (const d of this.dispatches) d.destroy();
    for (const b of this.allocated) b.destroy();
    this.dispatches.length = 0;
    this.allocated.length = 0;
    this.stepBody = [];
  }
}

function validateData(spec: ModelSpec, data: TrainingData): void {
  if (data.bitflip) {
    const p = data.bitflip;
    if (p.inputSize !== spec.inputSize) throw new RangeError(`the slowly-changing regression has ${p.inputSize} inputs; the model takes ${spec.inputSize}`);
    if (spec.loss !== 'mse' || spec.outputSize !== 1) throw new RangeError('the slowly-changing regression needs one output trained with mse');
    if (p.initialBits.length !== p.flipping) throw new RangeError(`${p.initialBits.length} initial bits for ${p.flipping} flipping bits`);
    return;
  }
  if (data.samples < 1) throw new RangeError('data set is empty');
  if (data.inputs.length !== data.samples * spec.inputSize) {
    throw new RangeError(
      `data inputs hold ${data.inputs.length} values; ${data.samples} samples x inputSize ${spec.inputSize} = ${data.samples * spec.inputSize}`,
    );
  }
  const perSample = spec.loss === 'softmax_ce' ? 1 : spec.outputSize;
  if (data.targets.length !== data.samples * perSample) {
    throw new RangeError(`data targets hold ${data.targets.length} values; expected ${data.samples * perSample} (${perSample} per sample)`);
  }
  if (spec.loss === 'softmax_ce' && !(data.targets instanceof Uint32Array)) {
    throw new TypeError('softmax_ce needs integer class targets (Uint32Array)');
  }
}

/** An error the device reported outside every error scope, as the run's fault. */
function uncapturedFault(error: GPUError, verifiedStep: number): GpuRunError {
  return new GpuRunError({
    kind: 'uncaptured',
    filter: filterOf(error),
    detail: error.message,
    chunk: null,
    kernel: labelsIn(error.message)[0] ?? null,
    lastGoodStep: verifiedStep,
  });
}
