// Named runs for the UI: each one a question about dead units, small enough to run at a useful speed in a browser.
// Most share one setting (10-class gaussian mixture, 32 inputs, two hidden layers of 512, dropout 0.5) and change
// one thing, so they can be compared side by side.

import { type LayerConfig, parseRunConfig, type RunConfig, type RunConfigInput } from './schema';

export const PRESET_NAMES = [
  'dropout_only',
  'lr_too_high',
  'negative_bias',
  'leaky_relu_cure',
  'deep_narrow',
  'continual_plain',
  'continual_dropout',
  'continual_l2',
  'continual_shrink_perturb',
  'continual_cbp',
  'continual_leaky',
] as const;
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

// The slowly-changing regression of Dohare et al. ("Loss of plasticity in deep continual learning", Nature 2024),
// as in the authors' code (github shibhansh/loss-of-plasticity, lop/slowly_changing_regression): 20 bits, 15 of them
// flipping (one flips every 10,000 steps), a teacher of 100 threshold units, a 20 -> 5 -> 1 ReLU learner trained
// online (batch 1) by SGD at step 0.01. Here the bias input is a 21st bit that is always 1, and the learner's
// weights start uniform in ±1/sqrt(fan in) as PyTorch's Linear layers do (torch_uniform, so a widened layer and
// the output layer after it keep PyTorch's scale; its biases start at 0).
const CONTINUAL_STEPS = 1_000_000;
const continualLayer = (extra: Partial<LayerConfig> = {}): LayerConfig => ({
  width: 5,
  activation: { kind: 'relu' },
  dropout: 0,
  init: { weights: { kind: 'torch_uniform' }, bias: { kind: 'constant', value: 0 } },
  ...extra,
});
const continualBase = {
  inputSize: 21,
  dataset: { kind: 'slowly_changing', flipping: 15, teacherWidth: 100, beta: 0.7 },
  hidden: [continualLayer()],
  outputInit: { weights: { kind: 'torch_uniform' }, bias: { kind: 'constant', value: 0 } },
  optimizer: { kind: 'sgd' },
  lr: 0.01,
  batchSize: 1,
  tasks: { every: 10_000 },
  seed: 1,
  steps: CONTINUAL_STEPS,
  stepsPerSubmit: 256,
  snapshot: { every: 1000, probeSize: 256 },
} satisfies RunConfigInput;
const ON_TASK =
  'Dead is measured on the current task: the 32 inputs that share its flipping bits. One seed is noisy; the README ' + 'table gives means over seeds.';

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
  continual_plain: {
    title: 'Non-stationary: units die as the tasks change',
    description:
      'Slowly-changing regression: the target function changes a little every 10,000 steps (one input bit flips), ' +
      'and a small ReLU network keeps learning online with plain SGD for a million steps. Unlike the stationary ' +
      'presets, units can die progressively here (in the paper from about 29 % to 84 % over a million steps): a new ' +
      'task can push more of them below zero on every input, and a unit dead on the task gets no gradient from it. In our runs of 100,000 steps (5 seeds) 48 % of the units ' +
      'ended dead and as many frozen; the loss of plasticity the paper shows (later tasks fitted worse) needs the ' +
      'full million steps: in one such run (seed 1) every unit was dead from task 60 on and the last tasks were ' +
      `fitted worse than the first ones. ${ON_TASK}`,
    config: continualBase,
  },
  continual_dropout: {
    title: 'Non-stationary + dropout 0.3: does not stop it',
    description:
      'The same stream of tasks with dropout 0.3 on the hidden layer. Dropout switches units off for one step at a ' +
      'time; it does nothing against the weight updates that push units below zero for good, so units still die ' +
      "as tasks go by: in the authors' runs as many as without it, in ours (100,000 steps, 5 seeds) 72 % against " +
      `48 % without it. ${ON_TASK}`,
    config: { ...continualBase, hidden: [continualLayer({ dropout: 0.3 })] },
  },
  continual_l2: {
    title: 'Non-stationary + L2: slows it',
    description:
      "The same stream of tasks with L2 weight decay 0.01. In the authors' runs it slowed the dying down. Here it " +
      'decays the weights only, not the biases, and in our runs of 100,000 steps it made things worse: the weights ' +
      'of units already below zero on the task shrink away and leave them at their bias; 84 % of the units ended ' +
      `dead against 48 % without it (5 seeds; two lost every unit). ${ON_TASK}`,
    config: { ...continualBase, weightDecay: 0.01 },
  },
  continual_shrink_perturb: {
    title: 'Non-stationary + Shrink & Perturb',
    description:
      'The same stream of tasks; after every step every parameter is shrunk by 1e-4 (what L2 0.01 does at step 0.01) ' +
      "and gets Gaussian noise of std 0.001, which keeps nudging units back above zero. In the authors' runs far " +
      'fewer units stayed dead (about 16 % after a million steps against 84 %); in ours of 100,000 steps (5 seeds) ' +
      `16 % against 48 % without it, and the last task was fitted better. ${ON_TASK}`,
    config: { ...continualBase, shrinkPerturb: { shrink: 1e-4, noise: 1e-3, every: 1 } },
  },
  continual_cbp: {
    title: 'Non-stationary + continual backprop: the cure',
    description:
      'The same stream of tasks with continual backprop: every unit carries a running utility (how much it ' +
      'contributes to the output); a small fraction (1e-4 per step) of the mature units (100 steps old or more) with ' +
      'the lowest utility is re-initialised: fresh incoming weights, zero outgoing weights. Dead units have zero ' +
      'utility, so they are the first to be replaced. In our runs of 100,000 steps (5 seeds) 8 % of the units ended ' +
      `dead against 48 % without it, with the lowest loss on the last task of all the presets. ${ON_TASK}`,
    config: { ...continualBase, continualBackprop: { replacementRate: 1e-4, decay: 0.99, maturity: 100 } },
  },
  continual_leaky: {
    title: 'Non-stationary + leaky ReLU',
    description:
      'The same stream of tasks with leaky ReLU (slope 0.01 below zero). Units still get pushed below zero on every ' +
      'input of a task, but they keep 1% of their gradient, so none is frozen and they can come back when the task ' +
      'changes. In our runs of 100,000 steps (5 seeds) 44 % of the units ended below zero on every input of the ' +
      `task (shown as dead), as with ReLU, but none frozen. ${ON_TASK}`,
    config: { ...continualBase, hidden: [continualLayer({ activation: { kind: 'leaky_relu', alpha: 0.01 } })] },
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
