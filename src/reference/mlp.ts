// The whole training step on the CPU, built from the per-kernel references in the same order as
// src/engine/trainer.ts: same batches, same dropout masks, same initialization streams. It is the
// oracle for the engine's end-to-end test and a fallback for tiny runs; it never shards.
import { optimizerStateCount } from '../spec/optimizers';
import { rngKey } from '../spec/rng-streams';
import { activationBackward, activationForward } from './activation';
import { biasGrad } from './bias';
import { dropoutBackward, dropoutForward } from './dropout';
import { batchIndices, gatherRows } from './gather';
import { initReference } from './init';
import { lossForward } from './loss';
import { matmulReference } from './matmul';
import { optimizerStep } from './optimizer';
import { StepStateReference } from './schedule';
import { activationWidths, type ModelSpec } from '../engine/model-spec';
import type { LayerParameters, TrainingData } from '../engine/trainer';

interface ParamState {
  value: Float32Array;
  grad: Float32Array;
  state1?: Float32Array;
  state2?: Float32Array;
}

export class ReferenceTrainer {
  private readonly weights: ParamState[] = [];
  private readonly biases: ParamState[] = [];
  private readonly schedule: StepStateReference;
  readonly losses: number[] = [];

  constructor(
    readonly spec: ModelSpec,
    private readonly data: TrainingData,
  ) {
    const widths = activationWidths(spec);
    const states = optimizerStateCount(spec.optimizer);
    const param = (value: Float32Array): ParamState => ({
      value,
      grad: new Float32Array(value.length),
      state1: states >= 1 ? new Float32Array(value.length) : undefined,
      state2: states >= 2 ? new Float32Array(value.length) : undefined,
    });
    for (let l = 1; l < widths.length; l++) {
      const init = l <= spec.hidden.length ? spec.hidden[l - 1].init : spec.outputInit;
      const shape = { fanIn: widths[l - 1], fanOut: widths[l], globalCols: widths[l], cols: widths[l] };
      this.weights.push(param(initReference({ ...shape, scheme: init.weights, key: rngKey(spec.seed, 'initWeights', l), rows: widths[l - 1] })));
      this.biases.push(param(initReference({ ...shape, scheme: init.bias, key: rngKey(spec.seed, 'initBias', l), rows: 1 })));
    }
    this.schedule = new StepStateReference(spec.schedule);
  }

  get step(): number {
    return this.schedule.step;
  }

  parameters(): LayerParameters[] {
    return this.weights.map((w, i) => ({ weights: w.value.slice(), bias: this.biases[i].value.slice() }));
  }

  /** One training step; returns its mean loss. */
  trainStep(): number {
    const { spec } = this;
    const step = this.schedule.step;
    const widths = activationWidths(spec);
    const batch = spec.batch;
    const hiddenCount = spec.hidden.length;
    const classification = spec.loss === 'softmax_ce';

    const indices = batchIndices(rngKey(spec.seed, 'batchOrder'), step, batch, this.data.samples);
    let x = gatherRows(this.data.inputs, spec.inputSize, indices);
    const targets = gatherRows(this.data.targets, classification ? 1 : spec.outputSize, indices);
    if (spec.inputDropout > 0) {
      x = dropoutForward({ p: spec.inputDropout, key: rngKey(spec.seed, 'dropout', 0), step, rows: batch, cols: spec.inputSize, input: x });
    }

    // Forward: keep each layer's input (for dW) and pre-activation (for act').
    const inputs: Float32Array[] = [x];
    const preActivations: Float32Array[] = [];
    for (let l = 1; l <= hiddenCount + 1; l++) {
      const input = inputs[l - 1];
      const z = new Float32Array(batch * widths[l]);
      matmulReference({
        variant: 'nn',
        m: batch,
        n: widths[l],
        k: widths[l - 1],
        a: input,
        lda: widths[l - 1],
        b: this.weights[l - 1].value,
        ldb: widths[l],
        c: z,
        ldc: widths[l],
        bias: this.biases[l - 1].value,
      });
      preActivations.push(z);
      if (l > hiddenCount) break;
      const hidden = spec.hidden[l - 1];
      let y = activationForward(hidden.activation, z);
      if (hidden.dropout > 0) y = dropoutForward({ ...this.dropoutArgs(l, step), input: y });
      inputs.push(y);
    }

    const logits = preActivations[hiddenCount];
    const { loss, grad } = lossForward(spec.loss, logits, targets, batch, spec.outputSize);
    this.losses.push(loss);

    // Backward.
    let dZ = grad;
    for (let l = hiddenCount + 1; l >= 1; l--) {
      const fanIn = widths[l - 1];
      const fanOut = widths[l];
      if (l <= hiddenCount) {
        const hidden = spec.hidden[l - 1];
        // dZ currently holds dL/dY of layer l.
        const dA = hidden.dropout > 0 ? dropoutBackward({ ...this.dropoutArgs(l, step), dY: dZ }) : dZ;
        dZ = activationBackward(hidden.activation, preActivations[l - 1], dA);
      }
      matmulReference({
        variant: 'tn',
        m: fanIn,
        n: fanOut,
        k: batch,
        a: inputs[l - 1],
        lda: fanIn,
        b: dZ,
        ldb: fanOut,
        c: this.weights[l - 1].grad,
        ldc: fanOut,
      });
      this.biases[l - 1].grad.set(biasGrad(dZ, batch, fanOut));
      if (l === 1) break;
      const dX = new Float32Array(batch * fanIn);
      matmulReference({
        variant: 'nt',
        m: batch,
        n: fanIn,
        k: fanOut,
        a: dZ,
        lda: fanOut,
        b: this.weights[l - 1].value,
        ldb: fanOut,
        c: dX,
        ldc: fanIn,
      });
      dZ = dX;
    }

    const values = this.schedule.values();
    const biasOptimizer = { ...spec.optimizer, weightDecay: 0 };
    for (const [p, optimizer] of [...this.weights.map((w) => [w, spec.optimizer] as const), ...this.biases.map((b) => [b, biasOptimizer] as const)]) {
      optimizerStep({
        spec: optimizer,
        lr: values.lr,
        biasCorrection1: values.biasCorrection1,
        biasCorrection2: values.biasCorrection2,
        param: p.value,
        grad: p.grad,
        state1: p.state1,
        state2: p.state2,
      });
    }
    this.schedule.advance();
    return loss;
  }

  private dropoutArgs(l: number, step: number) {
    const { spec } = this;
    return { p: spec.hidden[l - 1].dropout, key: rngKey(spec.seed, 'dropout', l), step, rows: spec.batch, cols: spec.hidden[l - 1].width };
  }
}
