// The peer we measure against: the same MLP training step in TensorFlow.js (any backend; the benchmark
// uses WebGPU). Same widths, ReLU, inverted dropout on every hidden layer, softmax cross-entropy averaged
// over the batch, plain SGD, same batch. Host-neutral: the caller passes the `tf` module it loaded
// (Node: after installing navigator.gpu; the page: through Vite), so this file never imports TF.js itself
// and the simulator's bundle never contains it.
//
// NOTE (what is not identical): TF.js draws its dropout masks with its own RNG (tf.dropout, as tf.layers
// does) and keeps the batch resident as one tensor; our engine gathers a fresh minibatch on the GPU each
// step. Neither changes the arithmetic of a step.
import type * as TF from '@tensorflow/tfjs';
import type { LayerParameters } from '../src/engine/trainer';

export type Tf = typeof TF;

export interface TfMlpShape {
  /** [input, hidden..., output]. */
  widths: number[];
  batch: number;
  /** Dropout rate of every hidden layer (0 = none). */
  dropout: number;
  learningRate: number;
}

export class TfMlp {
  private readonly weights: TF.Variable[] = [];
  private readonly biases: TF.Variable[] = [];
  private readonly optimizer: TF.SGDOptimizer;

  private constructor(
    private readonly tf: Tf,
    readonly shape: TfMlpShape,
    params: readonly LayerParameters[] | undefined,
    seed: number,
  ) {
    const w = shape.widths;
    if (params && params.length !== w.length - 1) throw new RangeError(`${params.length} parameter layers for ${w.length - 1} weight layers`);
    for (let l = 1; l < w.length; l++) {
      const [fanIn, fanOut] = [w[l - 1], w[l]];
      const given = params?.[l - 1];
      if (given && (given.weights.length !== fanIn * fanOut || given.bias.length !== fanOut)) {
        throw new RangeError(`layer ${l}: parameters [${given.weights.length}], [${given.bias.length}] do not match ${fanIn} x ${fanOut}`);
      }
      // He-normal weights (as our default init); the values do not change the cost of a step.
      const weights = given ? tf.tensor2d(given.weights, [fanIn, fanOut]) : tf.randomNormal([fanIn, fanOut], 0, Math.sqrt(2 / fanIn), 'float32', seed + l);
      const bias = given ? tf.tensor1d(given.bias) : tf.zeros([fanOut]);
      this.weights.push(tf.variable(weights, true, `w${l}`));
      this.biases.push(tf.variable(bias, true, `b${l}`));
      weights.dispose();
      bias.dispose();
    }
    this.optimizer = tf.train.sgd(shape.learningRate);
  }

  /** A network with given parameters (weights [fanIn, fanOut] row-major, as our engine stores them) or He-normal ones. */
  static create(tf: Tf, shape: TfMlpShape, params?: readonly LayerParameters[], seed = 7): TfMlp {
    return new TfMlp(tf, shape, params, seed);
  }

  /** Logits [batch, output]; dropout only when training. */
  forward(x: TF.Tensor2D, training: boolean): TF.Tensor2D {
    const { tf } = this;
    let h: TF.Tensor2D = x;
    const hidden = this.weights.length - 1;
    for (let l = 0; l <= hidden; l++) {
      const z = tf.add(tf.matMul(h, this.weights[l]), this.biases[l]) as TF.Tensor2D;
      if (l === hidden) return z;
      h = tf.relu(z);
      if (training && this.shape.dropout > 0) h = tf.dropout(h, this.shape.dropout) as TF.Tensor2D;
    }
    throw new Error('unreachable');
  }

  /** Mean softmax cross-entropy of the batch. */
  loss(x: TF.Tensor2D, oneHot: TF.Tensor2D, training: boolean): TF.Scalar {
    return this.tf.losses.softmaxCrossEntropy(oneHot, this.forward(x, training)) as TF.Scalar;
  }

  /** One SGD step; returns the step's loss (a tensor the caller disposes: reading it forces completion). */
  step(x: TF.Tensor2D, oneHot: TF.Tensor2D): TF.Scalar {
    const cost = this.optimizer.minimize(() => this.loss(x, oneHot, true), true, [...this.weights, ...this.biases]);
    if (!cost) throw new Error('TF.js optimizer returned no loss');
    return cost;
  }

  /** Current parameters in our layout, for tests. */
  async parameters(): Promise<LayerParameters[]> {
    return Promise.all(this.weights.map(async (w, l) => ({ weights: new Float32Array(await w.data()), bias: new Float32Array(await this.biases[l].data()) })));
  }

  dispose(): void {
    for (const v of [...this.weights, ...this.biases]) v.dispose();
    this.optimizer.dispose();
  }
}

/** A resident batch for TF.js: inputs [batch, input] and one-hot targets [batch, classes]. */
export function tfBatch(
  tf: Tf,
  inputs: Float32Array,
  targets: Uint32Array,
  batch: number,
  inputSize: number,
  classes: number,
): { x: TF.Tensor2D; oneHot: TF.Tensor2D; dispose(): void } {
  const x = tf.tensor2d(inputs.subarray(0, batch * inputSize), [batch, inputSize]);
  const oneHot = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from(targets.subarray(0, batch)), 'int32'), classes).toFloat() as TF.Tensor2D);
  return { x, oneHot, dispose: () => tf.dispose([x, oneHot]) };
}
