// Named runs for the UI: each one a question about dead units, small enough to run at a useful speed in a browser.
// Most share one setting (10-class gaussian mixture, 32 inputs, two hidden layers of 512, dropout 0.5) and change
// one thing, so they can be compared side by side.

import { type LayerConfig, parseRunConfig, type RunConfig, type RunConfigInput } from './schema';

export const PRESET_NAMES = ['dropout_only', 'lr_too_high', 'negative_bias', 'leaky_relu_cure', 'deep_narrow'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

export interface Preset {
  title: string;
  description: string;
  config: RunConfig;
}

const layer = (extra: Partial<LayerConfig> = {}): LayerConfig => ({
  width: 512,
  activation: { kind: 'relu' },
  dropout: 0.5,
  init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } },
  ...extra,
});

const base = {
  inputSize: 32,
  dataset: { kind: 'gaussian_mixture', samples: 4096, classes: 10, spread: 1 },
  hidden: [layer(), layer()],
  batchSize: 64,
  seed: 1,
  steps: 100_000,
  snapshot: { every: 100, probeSize: 256 },
} satisfies RunConfigInput;

// NOTE: chosen with a CPU simulation of these exact configs (300 steps, plain SGD): at lr 0.5 about a fifth of the
// second layer's ReLU units die within 60 steps and the loss stays finite; at lr 1 half of them die, but leaky ReLU
// at lr 1 (and ELU already at 0.5) diverges to NaN, so the cure could not be shown at the same learning rate.
const HIGH_LR = 0.5;

const inputs: Record<PresetName, { title: string; description: string; config: RunConfigInput }> = {
  dropout_only: {
    title: 'Dropout only: dropout freezes nothing',
    description:
      'ReLU layers with dropout 0.5, a small learning rate and zero bias. Every step half the units are switched off at ' +
      'random, but a dropped unit is only skipped for that step and comes back the next: run it as long as you like, ' +
      'dropped units flicker and none stays off. The few second-layer units that do die here (about 1 in 200 at this ' +
      'seed, within the first few hundred steps) are killed by the weight updates, not by dropout: dead is measured ' +
      'with dropout off, and it is a different, absorbing failure.',
    config: { ...base, optimizer: { kind: 'momentum', momentum: 0.9 }, lr: 0.01 },
  },
  lr_too_high: {
    title: 'Learning rate too high: units die',
    description:
      `The same network trained with plain SGD at learning rate ${HIGH_LR}. In the first few ` +
      'dozen steps, large updates push many units of the second layer so far negative that they output zero for ' +
      'every input; from then on they get no gradient and never change again. Those are dead units, and dropout ' +
      'has nothing to do with it.',
    config: { ...base, optimizer: { kind: 'sgd' }, lr: HIGH_LR },
  },
  negative_bias: {
    title: 'Negative bias at initialization',
    description:
      'Biases start at -1 instead of 0, and weights are small (normal, std 0.05), so most units are below zero for ' +
      'every input from the first step: they are dead before training begins, and with them the layer above.',
    config: {
      ...base,
      hidden: [0, 1].map(() => layer({ init: { weights: { kind: 'normal', std: 0.05 }, bias: { kind: 'constant', value: -1 } } })),
      optimizer: { kind: 'momentum', momentum: 0.9 },
      lr: 0.01,
    },
  },
  leaky_relu_cure: {
    title: 'Leaky ReLU as the cure',
    description:
      `The run where units die (plain SGD, learning rate ${HIGH_LR}) with leaky ReLU (slope 0.01 below zero). About ` +
      'as many units are pushed below zero for every input, but they still pass 1% of the gradient, so they are ' +
      'quiet rather than dead and can climb back over time.',
    config: {
      ...base,
      hidden: [layer({ activation: { kind: 'leaky_relu', alpha: 0.01 } }), layer({ activation: { kind: 'leaky_relu', alpha: 0.01 } })],
      optimizer: { kind: 'sgd' },
      lr: HIGH_LR,
    },
  },
  deep_narrow: {
    title: 'Deep and narrow: born dead',
    description:
      'Sixteen ReLU layers only 3 units wide on the two-spirals problem, no dropout. With so few units per layer it ' +
      'is likely that some layer has all its units at zero for every input right at initialization; then nothing ' +
      'downstream moves and the whole network is dead from birth, whatever the learning rate.',
    config: {
      ...base,
      inputSize: 2,
      dataset: { kind: 'spirals', samples: 2048, turns: 1.5, noise: 0.05 },
      hidden: Array.from({ length: 16 }, () => layer({ width: 3, dropout: 0 })),
      optimizer: { kind: 'momentum', momentum: 0.9 },
      lr: 0.01,
      steps: 20_000,
    },
  },
};

function build(): Record<PresetName, Preset> {
  const out = {} as Record<PresetName, Preset>;
  for (const name of PRESET_NAMES) {
    const p = inputs[name];
    out[name] = { title: p.title, description: p.description, config: parseRunConfig(p.config) };
  }
  return out;
}

/** The named runs. Each config is fully parsed (defaults filled); copy it before editing (structuredClone). */
export const PRESETS: Readonly<Record<PresetName, Preset>> = build();

/** A fresh, editable copy of a preset's config. */
export function presetConfig(name: PresetName): RunConfig {
  return structuredClone(PRESETS[name].config);
}
