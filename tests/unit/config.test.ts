import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  defaultRunConfig,
  fromJson,
  fromQueryString,
  learningRateAt,
  parseRunConfig,
  PRESET_NAMES,
  PRESETS,
  presetConfig,
  type RunConfig,
  safeParseRunConfig,
  toJson,
  toQueryString,
} from '../../src/config';

/** The ConfigError message of a rejected input (fails the test if the input is accepted). */
function rejection(input: unknown): ConfigError {
  const r = safeParseRunConfig(input);
  if (r.success) throw new Error(`expected ${JSON.stringify(input)} to be rejected`);
  return r.error;
}

function queryRejection(qs: string): ConfigError {
  try {
    fromQueryString(qs);
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error(`expected query ${qs} to be rejected`);
}

describe('run config schema', () => {
  it('fills every default from an empty object into a meaningful run', () => {
    const c = defaultRunConfig();
    expect(parseRunConfig({})).toEqual(c);
    expect(c.hidden.length).toBeGreaterThanOrEqual(1);
    expect(c.hidden[0]).toEqual({
      width: 256,
      activation: { kind: 'relu' },
      dropout: 0.5,
      init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } },
    });
    expect(c.dataset).toEqual({ kind: 'gaussian_mixture', samples: 4096, classes: 10, spread: 1 });
    expect([c.outputSize, c.loss]).toEqual([10, 'softmax_ce']);
    expect(c.stepsPerSubmit).toBe(32);
    expect(c.snapshot).toEqual({ every: 100, probeSize: 256, probe: 'auto', frozenWindow: 100 });
    expect(c.shardColumns).toBeUndefined();
    // Parsing a full config is the identity.
    expect(parseRunConfig(c)).toEqual(c);
  });

  it('derives loss and output size from the data set when they are omitted', () => {
    expect(parseRunConfig({ dataset: { kind: 'teacher' } })).toMatchObject({ loss: 'mse', outputSize: 1 });
    expect(parseRunConfig({ dataset: { kind: 'spirals' } })).toMatchObject({ loss: 'softmax_ce', outputSize: 2 });
    expect(parseRunConfig({ dataset: { kind: 'sparse', classes: 7 } })).toMatchObject({ loss: 'softmax_ce', outputSize: 7 });
    expect(parseRunConfig({ dataset: { kind: 'teacher' }, outputSize: 4 })).toMatchObject({ loss: 'mse', outputSize: 4 });
  });

  it('names field, value and range in every message', () => {
    const e = rejection({ hidden: [{ width: 8 }, { width: 8, dropout: 1.2 }] });
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.issues).toEqual([{ path: 'hidden[1].dropout', message: expect.stringContaining('1.2 is not in [0, 1)') }]);
    expect(e.message).toContain('hidden[1].dropout: 1.2 is not in [0, 1)');
  });

  it('rejects dropout p = 1 saying why', () => {
    expect(rejection({ hidden: [{ width: 8, dropout: 1 }] }).message).toContain('hidden[0].dropout: 1 is not in [0, 1) (dropout p must be < 1)');
    expect(rejection({ inputDropout: 1 }).message).toContain('inputDropout: 1 is not in [0, 1)');
  });

  it.each([
    [{ inputSize: 0 }, 'inputSize: 0 is not an integer in [1, 65536]'],
    [{ inputSize: 65537 }, 'inputSize: 65537 is not an integer in [1, 65536]'],
    [{ hidden: [{ width: 1_048_577 }] }, 'hidden[0].width: 1048577 is not an integer in [1, 1048576]'],
    [{ hidden: [{ width: 2.5 }] }, 'hidden[0].width: 2.5 is not an integer in [1, 1048576]'],
    [{ hidden: [{ width: '8' }] }, 'hidden[0].width: "8" is not an integer; expected an integer in [1, 1048576]'],
    [{ hidden: [{}] }, 'hidden[0].width: is required: an integer in [1, 1048576]'],
    [{ hidden: [] }, 'hidden: must have at least 1 hidden layer (depth in [1, 64])'],
    [{ hidden: Array.from({ length: 65 }, () => ({ width: 2 })) }, 'hidden: 65 hidden layers is not in [1, 64]'],
    [{ lr: 0 }, 'lr: 0 is not in (0, 100]'],
    [{ lr: 100.5 }, 'lr: 100.5 is not in (0, 100]'],
    [{ lr: Number.NaN }, 'lr: NaN is not a number; expected a number in (0, 100]'],
    [{ lr: Number.POSITIVE_INFINITY }, 'lr: Infinity is not a number'],
    [{ seed: 2 ** 32 }, 'seed: 4294967296 is not an integer in [0, 4294967295]'],
    [{ steps: 2 ** 32 }, 'steps: 4294967296 is not an integer in [1, 4294967295]'],
    [{ batchSize: 0 }, 'batchSize: 0 is not an integer in [1, 65536]'],
    [{ stepsPerSubmit: 257 }, 'stepsPerSubmit: 257 is not an integer in [1, 256]'],
    [{ shardColumns: 0 }, 'shardColumns: 0 is not an integer in [1, 1048576]'],
    [{ snapshot: { probeSize: 8 } }, 'snapshot.probeSize: 8 is not an integer in [16, 4096]'],
    [{ snapshot: { every: -1 } }, 'snapshot.every: -1 is not an integer in [0, 4294967295]'],
    [{ weightDecay: 2 }, 'weightDecay: 2 is not in [0, 1]'],
    [{ optimizer: { kind: 'adam', beta2: 1 } }, 'optimizer.beta2: 1 is not in [0, 1)'],
    [{ optimizer: { kind: 'momentum', momentum: -0.1 } }, 'optimizer.momentum: -0.1 is not in [0, 1)'],
    [{ optimizer: { kind: 'momentum', nesterov: 'yes' } }, 'optimizer.nesterov: "yes" is not true or false'],
    [{ optimizer: { kind: 'nadam' } }, 'optimizer.kind: "nadam" is not one of sgd, momentum, adam, adamw'],
    [{ optimizer: { kind: 'sgd', momentum: 0.9 } }, 'optimizer.momentum: is not a known field'],
    [{ schedule: { kind: 'step', gamma: 0 } }, 'schedule.gamma: 0 is not in (0, 1]'],
    [{ schedule: { kind: 'step', every: 0 } }, 'schedule.every: 0 is not an integer in [1, 4294967295]'],
    [{ schedule: {} }, 'schedule.kind: is required: one of constant, step, cosine'],
    [
      { hidden: [{ width: 8, activation: { kind: 'relu', alpha: 0.1 } }] },
      'hidden[0].activation.alpha: 0.1 is not allowed: alpha applies only to leaky_relu and elu, not relu',
    ],
    [{ hidden: [{ width: 8, activation: { kind: 'leaky_relu', alpha: 1 } }] }, 'hidden[0].activation.alpha: 1 is not in (0, 1) (alpha of leaky_relu)'],
    [{ hidden: [{ width: 8, activation: { kind: 'elu', alpha: 0 } }] }, 'hidden[0].activation.alpha: 0 is not in (0, 10] (alpha of elu)'],
    [{ hidden: [{ width: 8, activation: { kind: 'tanh' } }] }, 'hidden[0].activation.kind: "tanh" is not one of relu, leaky_relu, elu, gelu'],
    [{ hidden: [{ width: 8, init: { weights: { kind: 'normal' } } }] }, 'hidden[0].init.weights.std: is required: a number in (0, 100]'],
    [{ hidden: [{ width: 8, init: { weights: { kind: 'uniform', limit: -1 } } }] }, 'hidden[0].init.weights.limit: -1 is not in (0, 100]'],
    [{ hidden: [{ width: 8, init: { weights: { kind: 'orthogonal' } } }] }, 'hidden[0].init.weights.kind: "orthogonal" is not one of he_normal'],
    [{ hidden: [{ width: 8, init: { bias: { value: -101 } } }] }, 'hidden[0].init.bias.value: -101 is not in [-100, 100]'],
    [{ outputInit: { bias: { kind: 'zeros' } } }, 'outputInit.bias.kind'],
    [{ dataset: { kind: 'gaussian_mixture', classes: 1 } }, 'dataset.classes: 1 is not an integer in [2, 4096]'],
    [{ dataset: { kind: 'sparse', density: 0 } }, 'dataset.density: 0 is not in (0, 1]'],
    [{ dataset: { kind: 'spirals', turns: 11 } }, 'dataset.turns: 11 is not in (0, 10]'],
    [{ dataset: { kind: 'teacher', noise: -1 } }, 'dataset.noise: -1 is not in [0, 10]'],
    [{ dataset: { kind: 'teacher', teacherWidth: 0 } }, 'dataset.teacherWidth: 0 is not an integer in [1, 4096]'],
    [{ dataset: { kind: 'gaussian_mixture', samples: 0 } }, 'dataset.samples: 0 is not an integer in [1, 1048576]'],
    [{ dataset: { kind: 'file', name: '' }, outputSize: 2 }, 'dataset.name: must not be empty'],
    [{ dataset: { kind: 'csv' } }, 'dataset.kind: "csv" is not one of teacher, gaussian_mixture, spirals, sparse, slowly_changing, file'],
    [{ dataset: 3 }, 'dataset: 3 is not an object'],
    [{ dataset: { kind: 'slowly_changing', flipping: 21 }, inputSize: 21 }, 'dataset.flipping: 21 is larger than inputSize - 1 = 20'],
    [{ dataset: { kind: 'slowly_changing' }, inputSize: 1 }, 'inputSize: 1 is too small for dataset.kind = "slowly_changing"'],
    [{ dataset: { kind: 'slowly_changing', beta: 1.5 } }, 'dataset.beta: 1.5 is not in [0, 1]'],
    [{ dataset: { kind: 'slowly_changing' }, outputSize: 2 }, 'outputSize: 2 does not match dataset.kind = "slowly_changing"'],
    [{ tasks: { every: -1 } }, 'tasks.every: -1 is not an integer in [0, 4294967295]'],
    [{ tasks: { permuteInputs: true } }, 'tasks.permuteInputs: true needs task switches: set tasks.every >= 1'],
    [{ tasks: { every: 10, shuffleLabels: true }, dataset: { kind: 'teacher' } }, 'tasks.shuffleLabels: true needs class labels (loss "softmax_ce")'],
    [{ tasks: { every: 10, resetOutput: 'yes' } }, 'tasks.resetOutput: "yes" is not true or false'],
    [{ continualBackprop: { replacementRate: 0.2 } }, 'continualBackprop.replacementRate: 0.2 is not in [0, 0.1]'],
    [{ continualBackprop: { decay: 1 } }, 'continualBackprop.decay: 1 is not in [0, 1)'],
    [
      { continualBackprop: { replacementRate: 0.01 }, hidden: [{ width: 8000 }] },
      'continualBackprop.replacementRate: 0.01 × hidden[0].width 8000 = 80 replacements per step exceeds 64 per layer',
    ],
    [{ shrinkPerturb: { shrink: 1 } }, 'shrinkPerturb.shrink: 1 is not in [0, 1)'],
    [{ shrinkPerturb: { every: 0 } }, 'shrinkPerturb.every: 0 is not an integer in [1, 4294967295]'],
    [{ hidden: 4 }, 'hidden: 4 is not a list'],
    [{ learningRate: 0.1 }, 'learningRate: is not a known field'],
    [42, '42 is not an object'],
  ])('rejects %j with "%s"', (input, expected) => {
    expect(rejection(input).message).toContain(expected);
  });

  it('reports every bad field at once, and nothing twice', () => {
    const e = rejection({ lr: -1, seed: -1, hidden: [{ width: 0, dropout: 2 }] });
    expect(e.issues.map((i) => i.path).sort()).toEqual(['hidden[0].dropout', 'hidden[0].width', 'lr', 'seed']);
    // A bad data set kind is reported once, not also as missing loss / outputSize.
    expect(rejection({ dataset: { kind: 'nope' } }).issues.map((i) => i.path)).toEqual(['dataset.kind']);
    // An invalid samples count does not also trigger the batch-size cross check.
    expect(rejection({ dataset: { kind: 'gaussian_mixture', samples: 0 } }).issues.map((i) => i.path)).toEqual(['dataset.samples']);
  });

  it.each([
    [{ dataset: { kind: 'teacher' }, loss: 'softmax_ce' }, 'loss: "softmax_ce" does not fit dataset.kind = "teacher" (it needs loss "mse")'],
    [{ dataset: { kind: 'spirals' }, loss: 'mse' }, 'loss: "mse" does not fit dataset.kind = "spirals"'],
    [{ dataset: { kind: 'gaussian_mixture', classes: 5 }, outputSize: 10 }, 'outputSize: 10 does not match dataset.classes = 5'],
    [{ dataset: { kind: 'spirals' }, outputSize: 3 }, 'outputSize: 3 does not match dataset.kind = "spirals" (2 classes)'],
    [{ dataset: { kind: 'spirals' }, inputSize: 1 }, 'inputSize: 1 is too small for dataset.kind = "spirals" (needs >= 2)'],
    [{ dataset: { kind: 'gaussian_mixture', samples: 100 }, batchSize: 101 }, 'batchSize: 101 is larger than dataset.samples = 100'],
    [
      { inputSize: 65536, dataset: { kind: 'gaussian_mixture', samples: 1024 } },
      'dataset.samples: 1024 samples × 65536 values (max of inputSize, outputSize) = 67108864 exceeds the limit of 33554432 values',
    ],
    [{ inputSize: 4096, dataset: { kind: 'teacher', samples: 8192, teacherWidth: 4096 } }, 'dataset.samples: 8192 samples need about'],
    [{ lr: 0.1, schedule: { kind: 'cosine', minLr: 0.2 } }, 'schedule.minLr: 0.2 is larger than lr = 0.1'],
    [{ steps: 10, schedule: { kind: 'constant', warmupSteps: 11 } }, 'schedule.warmupSteps: 11 is larger than steps = 10'],
    [{ steps: 10, snapshot: { every: 11 } }, 'snapshot.every: 11 is larger than steps = 10'],
    [{ dataset: { kind: 'file', name: 'x.npy' } }, 'outputSize: is required'],
  ])('cross-checks fields: %j', (input, expected) => {
    expect(rejection(input).message).toContain(expected);
  });

  it('fills activation alpha defaults for leaky_relu and elu only', () => {
    const c = parseRunConfig({
      hidden: [
        { width: 4, activation: { kind: 'leaky_relu' } },
        { width: 4, activation: { kind: 'elu' } },
        { width: 4, activation: { kind: 'gelu' } },
      ],
    });
    expect(c.hidden.map((l) => l.activation)).toEqual([{ kind: 'leaky_relu', alpha: 0.01 }, { kind: 'elu', alpha: 1 }, { kind: 'gelu' }]);
    expect('alpha' in c.hidden[2].activation).toBe(false);
  });

  it('accepts a file data set with an explicit output size and loss', () => {
    const c = parseRunConfig({ dataset: { kind: 'file', name: 'mnist.npy' }, outputSize: 10 });
    expect(c.dataset).toEqual({ kind: 'file', name: 'mnist.npy' });
    expect(parseRunConfig({ dataset: { kind: 'file', name: 'y.npy' }, outputSize: 3, loss: 'mse' }).loss).toBe('mse');
  });

  it('folds -0 to +0 so that serialization round trips', () => {
    const c = parseRunConfig({ hidden: [{ width: 4, init: { bias: { value: -0 } } }] });
    expect(Object.is(c.hidden[0].init.bias.value, 0)).toBe(true);
  });
});

describe('learning-rate schedule', () => {
  const at = (schedule: unknown, t: number, lr = 1, steps = 100) => learningRateAt(parseRunConfig({ lr, steps, schedule }), t);

  it('warms up linearly, then follows the schedule from the end of warm-up', () => {
    expect([0, 1, 3, 4, 50].map((t) => at({ kind: 'constant', warmupSteps: 4 }, t))).toEqual([0.25, 0.5, 1, 1, 1]);
    expect([0, 9, 10, 19, 20, 35].map((t) => at({ kind: 'step', every: 10, gamma: 0.5 }, t))).toEqual([1, 1, 0.5, 0.5, 0.25, 0.125]);
    expect(at({ kind: 'step', every: 10, gamma: 0.5, warmupSteps: 5 }, 14)).toBe(1);
    expect(at({ kind: 'step', every: 10, gamma: 0.5, warmupSteps: 5 }, 15)).toBe(0.5);
  });

  it('anneals cosine from lr to minLr over the steps after warm-up', () => {
    const s = { kind: 'cosine', minLr: 0.1, warmupSteps: 20 };
    expect(at(s, 20)).toBeCloseTo(1, 12);
    expect(at(s, 60)).toBeCloseTo(0.55, 12); // halfway: (lr + minLr) / 2
    expect(at(s, 100)).toBeCloseTo(0.1, 12);
    expect(at(s, 10)).toBeCloseTo(0.55, 12); // warm-up: lr·11/20
  });
});

describe('presets', () => {
  const hiddenOf = (c: RunConfig) => c.hidden;

  it('are all valid, titled and described in plain words', () => {
    expect(Object.keys(PRESETS).sort()).toEqual([...PRESET_NAMES].sort());
    for (const name of PRESET_NAMES) {
      const p = PRESETS[name];
      expect(p.title.length, name).toBeGreaterThan(5);
      expect(p.description.length, name).toBeGreaterThan(60);
      expect(parseRunConfig(p.config)).toEqual(p.config);
    }
  });

  it('"dropout only": ReLU, p = 0.5, non-negative bias, a small learning rate', () => {
    const c = PRESETS.dropout_only.config;
    for (const l of hiddenOf(c)) {
      expect(l).toMatchObject({ activation: { kind: 'relu' }, dropout: 0.5 });
      expect(l.init.bias.value).toBeGreaterThanOrEqual(0);
      expect(l.width).toBeGreaterThanOrEqual(64);
      expect(l.width).toBeLessThanOrEqual(1024);
    }
    expect(c.lr).toBeLessThanOrEqual(0.05);
  });

  it('"lr too high" uses plain SGD with a large lr on ReLU; the cure changes only the activation', () => {
    const high = PRESETS.lr_too_high.config;
    expect(high.optimizer.kind).toBe('sgd');
    expect(high.lr).toBeGreaterThanOrEqual(10 * PRESETS.dropout_only.config.lr);
    expect(high.lr).toBeLessThanOrEqual(5);
    expect(high.hidden.every((l) => l.activation.kind === 'relu')).toBe(true);
    for (const [name, kind] of [['leaky_relu_cure', 'leaky_relu']] as const) {
      const cure = PRESETS[name].config;
      expect(cure.hidden.every((l) => l.activation.kind === kind)).toBe(true);
      const strip = (c: RunConfig) => ({ ...c, hidden: c.hidden.map((l) => ({ ...l, activation: null })) });
      expect(strip(cure)).toEqual(strip(high));
    }
  });

  it('"negative bias" starts biases below zero; "deep and narrow" is 10-20 layers of width 2-4', () => {
    expect(PRESETS.negative_bias.config.hidden.every((l) => l.init.bias.value <= -0.5)).toBe(true);
    const deep = PRESETS.deep_narrow.config.hidden;
    expect(deep.length).toBeGreaterThanOrEqual(10);
    expect(deep.length).toBeLessThanOrEqual(20);
    expect(deep.every((l) => l.width >= 2 && l.width <= 4 && l.activation.kind === 'relu')).toBe(true);
  });

  it('the non-stationary presets share one run and change one thing each: the cure, or dropout, or the activation', () => {
    const plain = PRESETS.continual_plain.config;
    expect(plain.dataset).toMatchObject({ kind: 'slowly_changing', flipping: 15, teacherWidth: 100 });
    expect(plain).toMatchObject({ inputSize: 21, batchSize: 1, lr: 0.01, optimizer: { kind: 'sgd' }, tasks: { every: 10_000 } });
    expect(plain.steps).toBeGreaterThanOrEqual(100_000);
    expect(plain.continualBackprop.replacementRate).toBe(0);
    const differences: Record<string, (c: RunConfig) => unknown> = {
      continual_dropout: (c) => c.hidden[0].dropout,
      continual_l2: (c) => c.weightDecay,
      continual_shrink_perturb: (c) => c.shrinkPerturb,
      continual_cbp: (c) => c.continualBackprop,
      continual_leaky: (c) => c.hidden[0].activation,
    };
    for (const [name, pick] of Object.entries(differences)) {
      const c = PRESETS[name as keyof typeof PRESETS].config;
      expect(pick(c), name).not.toEqual(pick(plain));
      const strip = (x: RunConfig) => ({
        ...x,
        hidden: [{ ...x.hidden[0], dropout: 0, activation: null }],
        weightDecay: 0,
        shrinkPerturb: null,
        continualBackprop: null,
      });
      expect(strip(c), name).toEqual(strip(plain));
    }
  });

  it('presetConfig returns an independent copy', () => {
    const c = presetConfig('dropout_only');
    c.hidden[0].width = 3;
    expect(PRESETS.dropout_only.config.hidden[0].width).toBe(512);
  });
});

describe('JSON', () => {
  it('round trips and reports bad JSON and bad fields', () => {
    for (const name of PRESET_NAMES) expect(fromJson(toJson(PRESETS[name].config))).toEqual(PRESETS[name].config);
    expect(() => fromJson('{"lr": ')).toThrow(/not valid JSON/);
    expect(() => fromJson('{"lr": 200}')).toThrow(/lr: 200 is not in \(0, 100\]/);
  });
});

describe('URL query', () => {
  it('writes compact, readable parameters', () => {
    expect(toQueryString(PRESETS.dropout_only.config)).toBe('v=1&hidden=512:relu:0.5*2&opt=momentum&lr=0.01&data=gaussian_mixture&seed=1&steps=100000');
    expect(toQueryString(PRESETS.deep_narrow.config)).toContain('hidden=3:relu:0*16');
    expect(toQueryString(PRESETS.negative_bias.config)).toContain('hidden=512:relu:0.5:normal(0.05):-1*2');
  });

  it('reads the documented layer grammar', () => {
    const c = fromQueryString(
      '?hidden=64:leaky_relu:0.1:xavier_uniform,32:elu(0.5),16::0.2::-0.5,8:gelu:0*2&opt=adamw&beta2=0.99&lr=1e-3&data=teacher&noise=0',
    );
    expect(c.hidden).toEqual([
      {
        width: 64,
        activation: { kind: 'leaky_relu', alpha: 0.01 },
        dropout: 0.1,
        init: { weights: { kind: 'xavier_uniform' }, bias: { kind: 'constant', value: 0 } },
      },
      { width: 32, activation: { kind: 'elu', alpha: 0.5 }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
      { width: 16, activation: { kind: 'relu' }, dropout: 0.2, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: -0.5 } } },
      { width: 8, activation: { kind: 'gelu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
      { width: 8, activation: { kind: 'gelu' }, dropout: 0, init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } } },
    ]);
    expect(c.optimizer).toEqual({ kind: 'adamw', beta1: 0.9, beta2: 0.99, eps: 1e-8 });
    expect(c).toMatchObject({ lr: 0.001, loss: 'mse', outputSize: 1, dataset: { kind: 'teacher', noise: 0 } });
    // A '+' in an exponent arrives as a space after form decoding; it is read back as '+'.
    expect(fromQueryString('lr=1e+1').lr).toBe(10);
  });

  it('round trips every preset and configs with every optional part', () => {
    for (const name of PRESET_NAMES) expect(fromQueryString(toQueryString(PRESETS[name].config))).toEqual(PRESETS[name].config);
    const c = parseRunConfig({
      inputSize: 7,
      hidden: [{ width: 3, activation: { kind: 'elu', alpha: 2.5 }, dropout: 0.25, init: { weights: { kind: 'uniform', limit: 0.3 }, bias: { value: 0.1 } } }],
      outputInit: { weights: { kind: 'normal', std: 1e-7 }, bias: { value: -2 } },
      inputDropout: 0.1,
      optimizer: { kind: 'momentum', momentum: 0.5, nesterov: true },
      lr: 0.30000000000000004,
      schedule: { kind: 'step', every: 7, gamma: 0.9, warmupSteps: 3 },
      weightDecay: 1e-4,
      batchSize: 5,
      dataset: { kind: 'file', name: 'my data, v2 (final)&more.npy' },
      outputSize: 4,
      loss: 'mse',
      seed: 4294967295,
      steps: 0xffff_ffff,
      stepsPerSubmit: 256,
      shardColumns: 17,
      snapshot: { every: 0, probeSize: 16 },
    });
    const qs = toQueryString(c);
    expect(fromQueryString(qs)).toEqual(c);
    expect(fromQueryString(new URLSearchParams(qs))).toEqual(c);
  });

  it.each([
    ['lr=0.1&colour=red', 'colour: unknown URL parameter'],
    ['lr=0.1&lr=0.2', 'lr: is given more than once'],
    ['lr=', 'lr: is empty'],
    ['lr=fast', 'lr: "fast" is not a number (lr)'],
    ['lr=0x10', 'lr: "0x10" is not a number'],
    ['lr=500', 'lr: 500 is not in (0, 100]'],
    ['v=2', 'v: "2" is not a supported version (only 1)'],
    ['beta1=0.5', 'beta1: applies only with opt=adam|adamw (here opt=momentum)'],
    ['opt=sgd&momentum=0.5', 'momentum: applies only with opt=momentum (here opt=sgd)'],
    ['opt=momentum&nesterov=maybe', 'nesterov: "maybe" is not 1, 0, true or false'],
    ['opt=rmsprop', 'opt: "rmsprop" is not one of sgd, momentum, adam, adamw'],
    ['sched=cosine&minlr=5&lr=1', 'minlr: 5 is larger than lr = 1'],
    ['hidden=512:relu:1.2', 'hidden: 1.2 is not in [0, 1) (dropout p must be < 1) (at hidden[0].dropout)'],
    ['hidden=512:relu:0.5,8:swish:0', 'hidden: "swish" is not one of relu, leaky_relu, elu, gelu (at hidden[1].activation.kind)'],
    ['hidden=512:relu:x', 'hidden: layer spec 1 "512:relu:x": "x" is not a number (dropout)'],
    ['hidden=8:relu:0:normal', 'hidden: layer spec 1 "8:relu:0:normal": normal init needs its scale: normal(std)'],
    ['hidden=8:relu:0:he_normal(2)', 'he_normal init takes no value'],
    ['hidden=8:relu:0:orthogonal', '"orthogonal" is not one of he_normal'],
    ['hidden=8:relu:0:he_normal:0:9', 'has 6 fields, at most 5'],
    ['hidden=8:relu:0*65', 'repeat count 65 is not an integer in [1, 64]'],
    ['hidden=8:relu(:0', 'is not NAME or NAME(value)'],
    ['outinit=normal(0.1):0:1', 'outinit: "normal(0.1):0:1" is not WINIT[:BIAS]'],
    ['outinit=normal(-1)', 'outinit: -1 is not in (0, 100] (at outputInit.weights.std)'],
    ['data=teacher&loss=softmax_ce', 'loss: "softmax_ce" does not fit dataset.kind = "teacher"'],
    ['data=spirals&classes=3', 'classes: applies only with data=gaussian_mixture|sparse (here data=spirals)'],
    ['data=file', 'file: is required: the file name'],
    ['samples=10&batch=64', 'batch: 64 is larger than dataset.samples = 10'],
    ['probe=5', 'probe: 5 is not an integer in [16, 4096]'],
    ['steps=1.5', 'steps: 1.5 is not an integer in [1, 4294967295]'],
  ])('rejects %s naming the parameter', (qs, expected) => {
    expect(queryRejection(qs).message).toContain(expected);
  });

  it('lists every bad parameter, and can ignore page parameters', () => {
    const e = queryRejection('foo=1&lr=x&seed=-1&hidden=8:relu:2');
    expect(e.issues.map((i) => i.path).sort()).toEqual(['foo', 'hidden', 'lr', 'seed']);
    expect(fromQueryString('preset=lr_too_high&lr=0.5', { ignore: ['preset'] }).lr).toBe(0.5);
  });

  it('an empty query is the default run', () => {
    expect(fromQueryString('')).toEqual(defaultRunConfig());
    expect(fromQueryString(toQueryString(defaultRunConfig()))).toEqual(defaultRunConfig());
  });
});

describe('URL query variant defaults', () => {
  it('reads a variant parameter without its kind parameter against the default kind', () => {
    const d = defaultRunConfig();
    expect(fromQueryString('samples=100').dataset).toEqual({ ...d.dataset, samples: 100 });
    expect(fromQueryString('momentum=0.5').optimizer).toEqual({ kind: 'momentum', momentum: 0.5, nesterov: false });
    expect(fromQueryString('warmup=10').schedule).toEqual({ kind: 'constant', warmupSteps: 10 });
  });
});
