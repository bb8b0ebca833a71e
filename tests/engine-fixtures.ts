// Small models and data sets shared by the engine tests: big enough to exercise every code path
// (three activations, dropout, shapes that are not multiples of any tile), small enough for lavapipe.
import type { ModelSpec } from '../src/engine/model-spec';
import type { TrainingData } from '../src/engine/trainer';
import { philox4x32, unitFloat } from '../src/reference/philox';
import { rngKey } from '../src/spec/rng-streams';

export function smallSpec(overrides: Partial<ModelSpec> = {}): ModelSpec {
  return {
    inputSize: 5,
    outputSize: 3,
    loss: 'softmax_ce',
    batch: 7,
    inputDropout: 0.1,
    hidden: [
      { width: 33, activation: { kind: 'relu' }, dropout: 0.5, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0.05 } } },
      { width: 18, activation: { kind: 'gelu' }, dropout: 0.2, init: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: 0 } } },
      {
        width: 9,
        activation: { kind: 'leaky_relu', alpha: 0.1 },
        dropout: 0,
        init: { weights: { kind: 'he_uniform' }, bias: { kind: 'constant', value: -0.1 } },
      },
    ],
    outputInit: { weights: { kind: 'xavier_normal' }, bias: { kind: 'constant', value: 0 } },
    optimizer: { kind: 'adam', beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
    schedule: { kind: 'cosine', baseLr: 0.01, warmupSteps: 10, totalSteps: 120, decayEvery: 1, gamma: 1, minLr: 0.001, beta1: 0.9, beta2: 0.999 },
    seed: 1234,
    stepsPerSubmit: 16,
    ...overrides,
  };
}

/** A deterministic classification set: class = argmax of a fixed linear map of the input. */
export function smallClassification(samples: number, inputSize: number, classes: number, seed = 5): TrainingData {
  const key = rngKey(seed, 'dataset');
  const inputs = new Float32Array(samples * inputSize);
  for (let i = 0; i < inputs.length; i++) inputs[i] = unitFloat(philox4x32([i, 0, 0, 0], key)[0]) * 2 - 1;
  const targets = new Uint32Array(samples);
  for (let s = 0; s < samples; s++) {
    let best = 0;
    let bestScore = -Infinity;
    for (let c = 0; c < classes; c++) {
      let score = 0;
      for (let j = 0; j < inputSize; j++) score += inputs[s * inputSize + j] * Math.sin(1 + c * 7 + j * 3);
      if (score > bestScore) [best, bestScore] = [c, score];
    }
    targets[s] = best;
  }
  return { inputs, targets, samples };
}
