// The run configuration: one zod schema gives the types, the defaults and the validation of a run.
// Every rejection names the field (a path such as `hidden[1].dropout`), the value and the allowed range,
// so the config form, the URL loader and the CLI can all show the same message.
//
// Conventions the engine relies on (documented here because the schema is the contract):
// - `hidden[l]` is hidden layer l (0-based); the output layer is implicit (`outputSize`, `loss`, `outputInit`).
// - `weightDecay` lives at the top level and applies to weight matrices only, never to biases. For `adamw` it is
//   decoupled (w -= lr·wd·w, AdamW); for `sgd`, `momentum` and `adam` it is L2 (g += wd·w).
// - Learning-rate schedule, with t the 0-based step and W = schedule.warmupSteps (see `learningRateAt`):
//   warm-up t < W: lr·(t+1)/W; then with s = t - W: constant lr; step lr·gamma^floor(s/every);
//   cosine minLr + (lr-minLr)·(1+cos(π·s/(steps-W)))/2.
// - Dropout p is the probability of *dropping* a unit (kept units are scaled by 1/(1-p)); p = 1 is rejected.
// - `snapshot.every` = 0 turns snapshots off; `shardColumns`, when set, caps the columns of each weight shard.
// - `snapshot.probe` picks the probe set the dead scan evaluates (dropout off): 'all' walks every training row (in
//   slices), 'sample' a fixed random sample of `probeSize` rows, 'auto' (default) all rows when the data set has
//   at most AUTO_PROBE_ALL_ROWS, else the sample (see probeRowsFor).
// - `snapshot.frozenWindow` is W: a unit is frozen once no training batch row gave it z > 0 for W steps.

import { z } from 'zod';
import { jsonTreeIssue } from './json-input';

// ---------------------------------------------------------------------------------------------------------------
// Limits (exported so the UI can show them next to the inputs).

export interface Range {
  readonly min: number;
  readonly max: number;
  /** The bound itself is not allowed: (min, … or …, max). */
  readonly minOpen?: boolean;
  readonly maxOpen?: boolean;
  readonly int?: boolean;
}

/** Largest data set kept resident: samples × inputSize (and samples × outputSize) values, 128 MiB of f32. */
export const DATASET_MAX_VALUES = 2 ** 25;
/** Continual backprop replaces at most this many units of a layer in one step (the GPU selects them one by one). */
export const MAX_REPLACEMENTS_PER_STEP = 64;
/** Rough cap on the multiply-adds needed to generate a synthetic data set on the CPU (a few seconds in JS). */
export const GENERATION_MAX_WORK = 2 ** 31;
/** The GPU's step counter (StepState.step, and the Philox counter word of dropout and batches) is a u32. */
export const MAX_STEPS = 0xffff_ffff;

export const LIMITS = {
  inputSize: { min: 1, max: 65_536, int: true },
  outputSize: { min: 1, max: 65_536, int: true },
  width: { min: 1, max: 1_048_576, int: true },
  depth: { min: 1, max: 64, int: true },
  dropout: { min: 0, max: 1, maxOpen: true },
  leakyAlpha: { min: 0, max: 1, minOpen: true, maxOpen: true },
  eluAlpha: { min: 0, max: 10, minOpen: true },
  initStd: { min: 0, max: 100, minOpen: true },
  initLimit: { min: 0, max: 100, minOpen: true },
  biasValue: { min: -100, max: 100 },
  lr: { min: 0, max: 100, minOpen: true },
  momentum: { min: 0, max: 1, maxOpen: true },
  beta: { min: 0, max: 1, maxOpen: true },
  eps: { min: 0, max: 1, minOpen: true },
  weightDecay: { min: 0, max: 1 },
  warmupSteps: { min: 0, max: MAX_STEPS, int: true },
  decayEvery: { min: 1, max: MAX_STEPS, int: true },
  gamma: { min: 0, max: 1, minOpen: true },
  minLr: { min: 0, max: 100 },
  batchSize: { min: 1, max: 65_536, int: true },
  seed: { min: 0, max: 0xffff_ffff, int: true },
  steps: { min: 1, max: MAX_STEPS, int: true },
  stepsPerSubmit: { min: 1, max: 256, int: true },
  shardColumns: { min: 1, max: 1_048_576, int: true },
  snapshotEvery: { min: 0, max: MAX_STEPS, int: true },
  frozenWindow: { min: 1, max: MAX_STEPS, int: true },
  probeSize: { min: 16, max: 4096, int: true },
  samples: { min: 1, max: 1_048_576, int: true },
  teacherWidth: { min: 1, max: 4096, int: true },
  noise: { min: 0, max: 10 },
  classes: { min: 2, max: 4096, int: true },
  spread: { min: 0, max: 100, minOpen: true },
  turns: { min: 0, max: 10, minOpen: true },
  density: { min: 0, max: 1, minOpen: true },
  flipping: { min: 0, max: 65_535, int: true },
  teacherBeta: { min: 0, max: 1 },
  taskEvery: { min: 0, max: MAX_STEPS, int: true },
  replacementRate: { min: 0, max: 0.1 },
  utilityDecay: { min: 0, max: 1, maxOpen: true },
  maturity: { min: 0, max: MAX_STEPS, int: true },
  shrink: { min: 0, max: 1, maxOpen: true },
  perturbNoise: { min: 0, max: 10 },
  perturbEvery: { min: 1, max: MAX_STEPS, int: true },
} as const satisfies Record<string, Range>;

/** snapshot.probe: every training row, a sample of probeSize rows, or all rows up to AUTO_PROBE_ALL_ROWS. */
export const PROBE_MODES = ['auto', 'all', 'sample'] as const;
export type ProbeMode = (typeof PROBE_MODES)[number];
/**
 * 'auto' probes the whole training set up to this many rows: a probe pass over 4,096 rows costs about as much as
 * 20 training steps at batch 64 (forward only, better-filled matmuls), i.e. ~20 % at a snapshot every 100 steps.
 */
export const AUTO_PROBE_ALL_ROWS = 4096;

/** The probe set a run uses: `all` rows of the training set, or a fixed random sample of `rows` of them. */
export function probeRowsFor(snapshot: { probe: ProbeMode; probeSize: number }, samples: number): { all: boolean; rows: number } {
  const all = snapshot.probe === 'all' || (snapshot.probe === 'auto' && samples <= AUTO_PROBE_ALL_ROWS) || snapshot.probeSize >= samples;
  return { all, rows: all ? samples : snapshot.probeSize };
}

export function formatRange(r: Range): string {
  return `${r.minOpen ? '(' : '['}${r.min}, ${r.max}${r.maxOpen ? ')' : ']'}`;
}

export function inRange(v: number, r: Range): boolean {
  if (!Number.isFinite(v)) return false;
  if (r.int && !Number.isInteger(v)) return false;
  return (r.minOpen ? v > r.min : v >= r.min) && (r.maxOpen ? v < r.max : v <= r.max);
}

/** A value as it appears in a message: numbers as JS prints them, everything else as JSON. */
export function showValue(v: unknown): string {
  if (typeof v === 'number') return String(v);
  if (v === undefined) return 'undefined';
  if (typeof v === 'bigint') return `${v}n`;
  try {
    const s = JSON.stringify(v);
    return s.length > 60 ? `${s.slice(0, 57)}...` : s;
  } catch {
    return String(v);
  }
}

/**
 * A number in a range. The message always carries value and range: "1.2 is not in [0, 1)".
 * NOTE: -0 is folded to +0 so that JSON and URL round trips (which cannot keep the sign of zero) are exact.
 */
function num(r: Range, note?: string) {
  const what = r.int ? 'an integer' : 'a number';
  const suffix = note ? ` (${note})` : '';
  return z
    .number({
      error: (iss) =>
        iss.input === undefined ? `is required: ${what} in ${formatRange(r)}` : `${showValue(iss.input)} is not ${what}; expected ${what} in ${formatRange(r)}`,
    })
    .refine((v) => inRange(v, r), {
      error: (iss) => `${showValue(iss.input)} is not ${r.int ? 'an integer ' : ''}in ${formatRange(r)}${suffix}`,
    })
    .transform((v) => v + 0);
}

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (iss) => (iss.input === undefined ? `is required: one of ${values.join(', ')}` : `${showValue(iss.input)} is not one of ${values.join(', ')}`),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Layers

export const ACTIVATIONS = ['relu', 'leaky_relu', 'elu', 'gelu'] as const;
export type ActivationKind = (typeof ACTIVATIONS)[number];
/** Default α where the activation has one; relu and gelu take none. */
export const DEFAULT_ALPHA = { leaky_relu: 0.01, elu: 1 } as const;

/**
 * `alpha` is the negative-side slope of leaky_relu (0 < α < 1) or the saturation of elu (α > 0). After parsing it
 * is always present for those two (filled with the default) and always absent for relu / gelu (giving one is an error).
 */
export const ActivationSchema = z
  .strictObject({
    kind: oneOf(ACTIVATIONS),
    // Checked below, where the range can depend on the kind.
    alpha: z.unknown().optional(),
  })
  .superRefine((a, ctx) => {
    if (a.alpha === undefined) return;
    const fail = (message: string) => ctx.addIssue({ code: 'custom', path: ['alpha'], input: a.alpha, message });
    if (a.kind === 'relu' || a.kind === 'gelu') {
      fail(`${showValue(a.alpha)} is not allowed: alpha applies only to leaky_relu and elu, not ${a.kind}`);
    } else if ((ACTIVATIONS as readonly unknown[]).includes(a.kind)) {
      const r = a.kind === 'leaky_relu' ? LIMITS.leakyAlpha : LIMITS.eluAlpha;
      if (typeof a.alpha !== 'number' || !Number.isFinite(a.alpha))
        fail(`${showValue(a.alpha)} is not a number; expected a number in ${formatRange(r)} (alpha of ${a.kind})`);
      else if (!inRange(a.alpha, r)) fail(`${showValue(a.alpha)} is not in ${formatRange(r)} (alpha of ${a.kind})`);
    }
  })
  .transform((a): { kind: ActivationKind; alpha?: number } =>
    a.kind === 'leaky_relu' || a.kind === 'elu' ? { kind: a.kind, alpha: ((a.alpha as number | undefined) ?? DEFAULT_ALPHA[a.kind]) + 0 } : { kind: a.kind },
  );
export type ActivationConfig = z.infer<typeof ActivationSchema>;

export const WEIGHT_INIT_KINDS = ['he_normal', 'he_uniform', 'xavier_normal', 'xavier_uniform', 'torch_uniform', 'normal', 'uniform'] as const;
export type WeightInitKind = (typeof WEIGHT_INIT_KINDS)[number];

const kindError = (values: readonly string[]) => (iss: { input?: unknown }) =>
  iss.input === undefined ? `is required: one of ${values.join(', ')}` : `${showValue(iss.input)} is not one of ${values.join(', ')}`;

/** Weight init: he_* use fan_in (ReLU gain 2), xavier_* use (fan_in + fan_out), torch_uniform is PyTorch Linear's ±1/sqrt(fan_in); normal/uniform are explicit scales. */
export const WeightInitSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.enum(['he_normal', 'he_uniform', 'xavier_normal', 'xavier_uniform', 'torch_uniform']) }),
  z.strictObject({ kind: z.literal('normal'), std: num(LIMITS.initStd) }),
  z.strictObject({ kind: z.literal('uniform'), limit: num(LIMITS.initLimit) }),
]);
export type WeightInitConfig = z.infer<typeof WeightInitSchema>;

export const BiasInitSchema = z.strictObject({
  kind: z.literal('constant', { error: kindError(['constant']) }).default('constant'),
  value: num(LIMITS.biasValue).default(0),
});
export type BiasInitConfig = z.infer<typeof BiasInitSchema>;

export const InitSchema = z.strictObject({
  weights: WeightInitSchema.default({ kind: 'he_normal' }),
  bias: BiasInitSchema.default({ kind: 'constant', value: 0 }),
});
export type InitConfig = z.infer<typeof InitSchema>;

export const LayerSchema = z.strictObject({
  width: num(LIMITS.width),
  activation: ActivationSchema.default({ kind: 'relu' }),
  dropout: num(LIMITS.dropout, 'dropout p must be < 1').default(0),
  init: InitSchema.default({ weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } }),
});
export type LayerConfig = z.infer<typeof LayerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Optimizer and schedule

export const OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw'] as const;
export const OptimizerSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('sgd') }),
  z.strictObject({
    kind: z.literal('momentum'),
    momentum: num(LIMITS.momentum).default(0.9),
    nesterov: z.boolean({ error: (iss) => `${showValue(iss.input)} is not true or false` }).default(false),
  }),
  z.strictObject({
    kind: z.enum(['adam', 'adamw']),
    beta1: num(LIMITS.beta).default(0.9),
    beta2: num(LIMITS.beta).default(0.999),
    eps: num(LIMITS.eps).default(1e-8),
  }),
]);
export type OptimizerConfig = z.infer<typeof OptimizerSchema>;

export const SCHEDULES = ['constant', 'step', 'cosine'] as const;
const warmup = num(LIMITS.warmupSteps).default(0);
export const ScheduleSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('constant'), warmupSteps: warmup }),
  z.strictObject({ kind: z.literal('step'), every: num(LIMITS.decayEvery).default(10_000), gamma: num(LIMITS.gamma).default(0.5), warmupSteps: warmup }),
  z.strictObject({ kind: z.literal('cosine'), minLr: num(LIMITS.minLr).default(0), warmupSteps: warmup }),
]);
export type ScheduleConfig = z.infer<typeof ScheduleSchema>;

// ---------------------------------------------------------------------------------------------------------------
// Data sets

/**
 * A file a run reads: its path (a file name on the page) and, once read, its size in bytes and SHA-256 (hex). A
 * bare string is the path. The recorded size and hash make a changed file an error, never a silently different run.
 */
export const FileRefSchema = z.preprocess(
  (v) => (typeof v === 'string' ? { path: v } : v),
  z.strictObject({
    path: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required: the file path' : `${showValue(iss.input)} is not a string`) })
      .min(1, { error: 'must not be empty' })
      .max(4096, { error: 'is longer than 4096 characters' }),
    bytes: z
      .number({ error: (iss) => `${showValue(iss.input)} is not a byte count` })
      .int()
      .min(0)
      .optional(),
    sha256: z
      .string({ error: (iss) => `${showValue(iss.input)} is not a string` })
      .regex(/^[0-9a-f]{64}$/, { error: (iss) => `${showValue(iss.input)} is not a SHA-256 (64 lowercase hex digits)` })
      .optional(),
  }),
);
export type FileRef = z.infer<typeof FileRefSchema>;

export const DATASETS = ['teacher', 'gaussian_mixture', 'spirals', 'sparse', 'slowly_changing', 'file'] as const;
export type DatasetKind = (typeof DATASETS)[number];
const samples = num(LIMITS.samples).default(4096);
export const DatasetSchema = z.discriminatedUnion('kind', [
  /** Regression on the outputs of a random one-hidden-layer ReLU teacher, plus gaussian noise of std `noise`. */
  z.strictObject({ kind: z.literal('teacher'), samples, teacherWidth: num(LIMITS.teacherWidth).default(64), noise: num(LIMITS.noise).default(0.1) }),
  /** `classes` gaussian blobs; `spread` is the within-class std relative to the spread of the class centres. */
  z.strictObject({ kind: z.literal('gaussian_mixture'), samples, classes: num(LIMITS.classes).default(10), spread: num(LIMITS.spread).default(1) }),
  /** Two interleaved spirals (2 classes) of `turns` turns, embedded in inputSize dimensions. */
  z.strictObject({ kind: z.literal('spirals'), samples, turns: num(LIMITS.turns).default(1.5), noise: num(LIMITS.noise).default(0.05) }),
  /** Sparse inputs (a `density` fraction of nonzeros), labels from a random linear teacher. */
  z.strictObject({ kind: z.literal('sparse'), samples, density: num(LIMITS.density).default(0.05), classes: num(LIMITS.classes).default(10) }),
  /**
   * Slowly-changing regression (Dohare et al.), streamed: generated on the GPU every step, never resident.
   * inputSize = m + 1 bits: `flipping` bits fixed within a task (one of them, chosen at random, flips at every task
   * switch, see `tasks.every`), the other m − flipping bits drawn afresh every step, the last bit always 1. Target:
   * a fixed teacher of `teacherWidth` linear threshold units with weights in {−1, +1} (on all m + 1 bits) and
   * output weights and bias in {−1, +1}; unit i fires when its weighted sum exceeds beta·(m + 1) − S_i, S_i its
   * number of −1 weights.
   */
  z.strictObject({
    kind: z.literal('slowly_changing'),
    flipping: num(LIMITS.flipping).default(15),
    teacherWidth: num(LIMITS.teacherWidth).default(100),
    beta: num(LIMITS.teacherBeta).default(0.7),
  }),
  /**
   * The user's own arrays: `inputs` [samples, features] and `targets` (integer class labels, or float values for
   * regression), each a .npy or .csv file; without `targets`, the `labelColumn` of a CSV `inputs` file. `name` is
   * for display (default: the inputs file's name). The CLI and the page read the files and fill in their size and
   * SHA-256, which later reads must match. See src/data/user-data.ts.
   */
  z.strictObject({
    kind: z.literal('file'),
    name: z
      .string({ error: (iss) => (iss.input === undefined ? 'is required: the file name' : `${showValue(iss.input)} is not a string`) })
      .min(1, { error: 'must not be empty' })
      .max(256, { error: (iss) => `${showValue(iss.input)} is longer than 256 characters` }),
    inputs: FileRefSchema.optional(),
    targets: FileRefSchema.optional(),
    /** CSV inputs without a targets file: the label column, 0-based (negative from the end) or a header name. Default -1. */
    labelColumn: z
      .union([z.number().int(), z.string().min(1)], { error: (iss) => `${showValue(iss.input)} is not a column index or a header name` })
      .optional(),
    /** CSV: true (the first line names the columns), false, or 'auto' (default: a header only when no field reads as a value). */
    header: z.union([z.boolean(), z.literal('auto')], { error: (iss) => `${showValue(iss.input)} is not true, false or "auto"` }).optional(),
    /** CSV field separator; default: detected from the first line. */
    delimiter: z.enum([',', ';', '\t'], { error: (iss) => `${showValue(iss.input)} is not one of ",", ";", "\\t"` }).optional(),
  }),
]);
export type DatasetConfig = z.infer<typeof DatasetSchema>;

export const LOSSES = ['softmax_ce', 'mse'] as const;
export type LossKind = (typeof LOSSES)[number];

/** The loss a data set calls for: mse for teacher regression, softmax cross-entropy for the classifiers. */
export function naturalLoss(kind: DatasetKind): LossKind {
  return kind === 'teacher' || kind === 'slowly_changing' ? 'mse' : 'softmax_ce';
}

/** Data sets generated on the GPU step by step (no resident samples, no host-side generation). */
export function isStreamed(kind: DatasetKind): kind is 'slowly_changing' {
  return kind === 'slowly_changing';
}

/** The output size a data set fixes, or undefined where it does not (teacher: any; file: from the arrays). */
export function datasetClasses(d: { kind: DatasetKind; classes?: number }): number | undefined {
  if (d.kind === 'gaussian_mixture' || d.kind === 'sparse') return d.classes;
  if (d.kind === 'spirals') return 2;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------------
// Non-stationary training: tasks and the cures for loss of plasticity

const flag = (name: string) => z.boolean({ error: (iss) => `${showValue(iss.input)} is not true or false (${name})` }).default(false);

/**
 * Task switches: task k covers steps [k·every, (k+1)·every); every = 0 is one task for the whole run (stationary).
 * At each switch, whatever the flags ask changes: slowly_changing flips one of its flipping bits (always), a fresh
 * Philox permutation of the input features (`permuteInputs`), a fresh relabelling of the classes (`shuffleLabels`),
 * a re-initialised output layer (`resetOutput`). Task 0 already has its own permutation / relabelling.
 */
export const TasksSchema = z.strictObject({
  every: num(LIMITS.taskEvery).default(0),
  permuteInputs: flag('tasks.permuteInputs'),
  shuffleLabels: flag('tasks.shuffleLabels'),
  resetOutput: flag('tasks.resetOutput'),
});
export type TasksConfig = z.infer<typeof TasksSchema>;

/**
 * Continual backprop (generate-and-test), off while replacementRate = 0. Per hidden unit, utility
 * u ← decay·u + (1 − decay)·mean|activation|·Σ|outgoing weights| (bias-corrected by 1 − decay^age); each step,
 * replacementRate × (units with age ≥ maturity) is added to a per-layer accumulator and its whole part is the number
 * of lowest-utility mature units re-initialised: incoming weights from the layer's init, bias to its init value,
 * outgoing weights 0, their optimizer state 0, age and utility 0.
 */
export const ContinualBackpropSchema = z.strictObject({
  replacementRate: num(LIMITS.replacementRate).default(0),
  decay: num(LIMITS.utilityDecay).default(0.99),
  maturity: num(LIMITS.maturity).default(100),
});
export type ContinualBackpropConfig = z.infer<typeof ContinualBackpropSchema>;

/** Shrink & Perturb, off while shrink = noise = 0: every `every` steps, every parameter p ← (1 − shrink)·p + noise·N(0, 1). */
export const ShrinkPerturbSchema = z.strictObject({
  shrink: num(LIMITS.shrink).default(0),
  noise: num(LIMITS.perturbNoise).default(0),
  every: num(LIMITS.perturbEvery).default(1),
});
export type ShrinkPerturbConfig = z.infer<typeof ShrinkPerturbSchema>;

// ---------------------------------------------------------------------------------------------------------------
// The run

export const DEFAULT_LAYER: LayerConfig = {
  width: 256,
  activation: { kind: 'relu' },
  dropout: 0.5,
  init: { weights: { kind: 'he_normal' }, bias: { kind: 'constant', value: 0 } },
};

const RunObjectSchema = z.strictObject({
  inputSize: num(LIMITS.inputSize).default(32),
  hidden: z
    .array(LayerSchema, { error: (iss) => `${showValue(iss.input)} is not a list of layers` })
    .min(LIMITS.depth.min, { error: `must have at least ${LIMITS.depth.min} hidden layer (depth in ${formatRange(LIMITS.depth)})` })
    .max(LIMITS.depth.max, { error: (iss) => `${(iss.input as unknown[]).length} hidden layers is not in ${formatRange(LIMITS.depth)}` })
    .default([DEFAULT_LAYER, DEFAULT_LAYER]),
  /** Filled from the data set when omitted (classes; 1 for teacher). */
  outputSize: num(LIMITS.outputSize),
  /** Filled from the data set when omitted (mse for teacher, softmax_ce otherwise). */
  loss: oneOf(LOSSES),
  outputInit: InitSchema.default({ weights: { kind: 'xavier_normal' }, bias: { kind: 'constant', value: 0 } }),
  inputDropout: num(LIMITS.dropout, 'dropout p must be < 1').default(0),
  optimizer: OptimizerSchema.default({ kind: 'momentum', momentum: 0.9, nesterov: false }),
  lr: num(LIMITS.lr).default(0.01),
  schedule: ScheduleSchema.default({ kind: 'constant', warmupSteps: 0 }),
  weightDecay: num(LIMITS.weightDecay).default(0),
  tasks: TasksSchema.default({ every: 0, permuteInputs: false, shuffleLabels: false, resetOutput: false }),
  continualBackprop: ContinualBackpropSchema.default({ replacementRate: 0, decay: 0.99, maturity: 100 }),
  shrinkPerturb: ShrinkPerturbSchema.default({ shrink: 0, noise: 0, every: 1 }),
  batchSize: num(LIMITS.batchSize).default(64),
  dataset: DatasetSchema.default({ kind: 'gaussian_mixture', samples: 4096, classes: 10, spread: 1 }),
  seed: num(LIMITS.seed).default(1),
  steps: num(LIMITS.steps).default(50_000),
  stepsPerSubmit: num(LIMITS.stepsPerSubmit).default(32),
  shardColumns: num(LIMITS.shardColumns).optional(),
  snapshot: z
    .strictObject({
      every: num(LIMITS.snapshotEvery).default(100),
      probeSize: num(LIMITS.probeSize).default(256),
      probe: z.enum(PROBE_MODES).default('auto'),
      frozenWindow: num(LIMITS.frozenWindow).default(100),
    })
    .default({ every: 100, probeSize: 256, probe: 'auto', frozenWindow: 100 }),
  /**
   * Start from these weights instead of the init schemes: a PyTorch nn.Sequential of Linear layers saved as
   * safetensors (`0.weight` [out, in], `0.bias`, ...), whose shapes must match the layers (src/io/torch-model.ts).
   */
  initFrom: FileRefSchema.optional(),
});

/** Fill `loss` and `outputSize` from the data set when they are omitted (before validation, so the checks still run). */
function fillDerived(input: unknown): unknown {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return input;
  const o = input as Record<string, unknown>;
  const raw = o.dataset === undefined ? { kind: 'gaussian_mixture' } : o.dataset;
  if (typeof raw !== 'object' || raw === null) return input;
  const ds = raw as Record<string, unknown>;
  const known = (DATASETS as readonly unknown[]).includes(ds.kind);
  // An unknown kind is reported on dataset.kind; fill the rest anyway so it is the only message.
  const kind = (known ? ds.kind : 'gaussian_mixture') as DatasetKind;
  const out = { ...o };
  if (kind === 'file' && ds.name === undefined) {
    // The inputs file's name (without folders) names the data set unless one is given.
    const inputs = typeof ds.inputs === 'string' ? ds.inputs : (ds.inputs as { path?: unknown } | undefined)?.path;
    if (typeof inputs === 'string' && inputs !== '') out.dataset = { ...ds, name: inputs.replace(/^.*[\\/]/, '').slice(0, 256) || inputs.slice(0, 256) };
  }
  if (out.loss === undefined) out.loss = naturalLoss(kind);
  if (out.outputSize === undefined) {
    if (kind === 'teacher' || kind === 'slowly_changing') out.outputSize = 1;
    else if (kind === 'spirals') out.outputSize = 2;
    else if (kind !== 'file') out.outputSize = ds.classes === undefined ? 10 : ds.classes;
  }
  return out;
}

export const RunConfigSchema = z.preprocess(
  fillDerived,
  RunObjectSchema.superRefine((c, ctx) => {
    // Zod may run this even when some fields failed; each check only looks at fields that are themselves valid,
    // so a bad value is reported once, by its own field.
    const ok = (v: unknown, r: Range): v is number => typeof v === 'number' && inRange(v, r);
    const issue = (path: (string | number)[], input: unknown, message: string) => ctx.addIssue({ code: 'custom', path, input, message });
    const d = c.dataset as Partial<DatasetConfig> & { kind: DatasetKind };
    if (typeof d !== 'object' || d === null || !(DATASETS as readonly unknown[]).includes(d.kind)) return;
    if (d.kind !== 'file' && (LOSSES as readonly unknown[]).includes(c.loss)) {
      const want = naturalLoss(d.kind);
      if (c.loss !== want) issue(['loss'], c.loss, `${showValue(c.loss)} does not fit dataset.kind = "${d.kind}" (it needs loss "${want}")`);
    }
    const classes = datasetClasses(d);
    if (ok(c.outputSize, LIMITS.outputSize) && (d.kind === 'spirals' || ok(classes, LIMITS.classes)) && c.outputSize !== classes) {
      const field = d.kind === 'spirals' ? 'dataset.kind = "spirals" (2 classes)' : `dataset.classes = ${classes}`;
      issue(['outputSize'], c.outputSize, `${c.outputSize} does not match ${field}`);
    }
    if (d.kind === 'spirals' && ok(c.inputSize, LIMITS.inputSize) && c.inputSize < 2) {
      issue(['inputSize'], c.inputSize, `${c.inputSize} is too small for dataset.kind = "spirals" (needs >= 2)`);
    }
    if (d.kind === 'slowly_changing') checkSlowlyChanging(c, d, ok, issue);
    if (d.kind !== 'file' && d.kind !== 'slowly_changing' && ok(d.samples, LIMITS.samples)) {
      if (ok(c.inputSize, LIMITS.inputSize) && ok(c.outputSize, LIMITS.outputSize)) {
        const width = Math.max(c.inputSize, c.outputSize);
        const values = d.samples * width;
        if (values > DATASET_MAX_VALUES) {
          issue(
            ['dataset', 'samples'],
            d.samples,
            `${d.samples} samples × ${width} values (max of inputSize, outputSize) = ${values} exceeds the limit of ${DATASET_MAX_VALUES} values`,
          );
        } else {
          const work = generationWork(c);
          if (work > GENERATION_MAX_WORK) {
            issue(
              ['dataset', 'samples'],
              d.samples,
              `${d.samples} samples need about ${work.toExponential(2)} operations to generate (limit ${GENERATION_MAX_WORK}); use fewer samples, inputs or teacher units`,
            );
          }
        }
      }
      if (ok(c.batchSize, LIMITS.batchSize) && c.batchSize > d.samples)
        issue(['batchSize'], c.batchSize, `${c.batchSize} is larger than dataset.samples = ${d.samples}`);
    }
    const sched = c.schedule;
    const steps = ok(c.steps, LIMITS.steps) ? c.steps : undefined;
    if (sched.kind === 'cosine' && ok(sched.minLr, LIMITS.minLr) && ok(c.lr, LIMITS.lr) && sched.minLr > c.lr) {
      issue(['schedule', 'minLr'], sched.minLr, `${sched.minLr} is larger than lr = ${c.lr}`);
    }
    if (steps !== undefined && ok(sched.warmupSteps, LIMITS.warmupSteps) && sched.warmupSteps > steps) {
      issue(['schedule', 'warmupSteps'], sched.warmupSteps, `${sched.warmupSteps} is larger than steps = ${steps}`);
    }
    if (steps !== undefined && ok(c.snapshot.every, LIMITS.snapshotEvery) && c.snapshot.every > steps) {
      issue(['snapshot', 'every'], c.snapshot.every, `${c.snapshot.every} is larger than steps = ${steps}`);
    }
    checkTasksAndCures(c, ok, issue);
  }),
);

type Ok = (v: unknown, r: Range) => v is number;
type Issue = (path: (string | number)[], input: unknown, message: string) => void;

function checkSlowlyChanging(c: { inputSize: number; outputSize: number }, d: { flipping?: unknown; teacherWidth?: unknown }, ok: Ok, issue: Issue): void {
  if (!ok(c.inputSize, LIMITS.inputSize)) return;
  if (c.inputSize < 2) {
    issue(
      ['inputSize'],
      c.inputSize,
      `${c.inputSize} is too small for dataset.kind = "slowly_changing" (needs >= 2: at least one bit and the constant last bit)`,
    );
    return;
  }
  if (ok(d.flipping, LIMITS.flipping) && d.flipping > c.inputSize - 1) {
    issue(['dataset', 'flipping'], d.flipping, `${d.flipping} is larger than inputSize - 1 = ${c.inputSize - 1} (the bits before the constant last one)`);
  }
  if (ok(d.teacherWidth, LIMITS.teacherWidth) && c.inputSize * d.teacherWidth > DATASET_MAX_VALUES) {
    issue(
      ['dataset', 'teacherWidth'],
      d.teacherWidth,
      `${d.teacherWidth} teacher units × inputSize ${c.inputSize} = ${c.inputSize * d.teacherWidth} teacher weights exceed the limit of ${DATASET_MAX_VALUES}`,
    );
  }
  if (ok(c.outputSize, LIMITS.outputSize) && c.outputSize !== 1) {
    issue(['outputSize'], c.outputSize, `${c.outputSize} does not match dataset.kind = "slowly_changing" (one regression target)`);
  }
}

function checkTasksAndCures(c: z.infer<typeof RunObjectSchema>, ok: Ok, issue: Issue): void {
  const t = c.tasks;
  if (typeof t === 'object' && t !== null && t.every === 0) {
    for (const key of ['permuteInputs', 'shuffleLabels', 'resetOutput'] as const) {
      if (t[key] === true) issue(['tasks', key], true, `true needs task switches: set tasks.every >= 1 (steps per task)`);
    }
  }
  if (t?.shuffleLabels === true && c.loss === 'mse') {
    issue(['tasks', 'shuffleLabels'], true, 'true needs class labels (loss "softmax_ce"); this run is a regression (loss "mse")');
  }
  const rate = c.continualBackprop?.replacementRate;
  if (ok(rate, LIMITS.replacementRate) && rate > 0 && Array.isArray(c.hidden)) {
    c.hidden.forEach((layer, l) => {
      if (!ok(layer?.width, LIMITS.width)) return;
      const perStep = rate * layer.width;
      if (perStep > MAX_REPLACEMENTS_PER_STEP) {
        issue(
          ['continualBackprop', 'replacementRate'],
          rate,
          `${rate} × hidden[${l}].width ${layer.width} = ${perStep} replacements per step exceeds ${MAX_REPLACEMENTS_PER_STEP} per layer`,
        );
      }
    });
  }
}

/** The validated run configuration (every default filled in). */
export type RunConfig = z.infer<typeof RunConfigSchema>;
/** What a caller may pass: any field may be omitted and takes its default. */
export type RunConfigInput = Omit<z.input<typeof RunObjectSchema>, 'outputSize' | 'loss'> & { outputSize?: number; loss?: LossKind };

/** Multiply-adds (or random draws) needed to generate the synthetic data set of a config. */
export function generationWork(c: Pick<RunConfig, 'inputSize' | 'outputSize' | 'dataset'>): number {
  const d = c.dataset;
  switch (d.kind) {
    case 'teacher':
      return d.samples * (c.inputSize + 1) * (d.teacherWidth + c.outputSize);
    case 'gaussian_mixture':
    case 'spirals':
      return d.samples * c.inputSize * 2;
    case 'sparse':
      return d.samples * c.inputSize * (1 + d.density * d.classes);
    case 'slowly_changing':
    case 'file':
      return 0;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Parsing and errors

export interface ConfigIssue {
  /** Where the problem is: a field path like `hidden[1].dropout`, or a URL parameter name. */
  path: string;
  message: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[], what = 'run configuration') {
    super(`Invalid ${what}:\n${issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`).join('\n')}`);
    this.issues = issues;
  }
}

/** `['hidden', 1, 'dropout']` → `hidden[1].dropout`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let s = '';
  for (const p of path) s += typeof p === 'number' ? `[${p}]` : s === '' ? String(p) : `.${String(p)}`;
  return s;
}

/** Zod issues → our issues, with value and allowed values in every message. */
export function toConfigIssues(error: z.ZodError): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const iss of error.issues) {
    const input = (iss as { input?: unknown }).input;
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const key of iss.keys) out.push({ path: formatPath([...iss.path, key]), message: 'is not a known field' });
        break;
      case 'invalid_union': {
        // A bad discriminator: the path ends in `kind` and the input is the whole object.
        const disc = (iss as { discriminator?: string }).discriminator;
        const options = (iss as { options?: unknown[] }).options;
        if (disc !== undefined) {
          const obj = input as Record<string, unknown> | undefined;
          const value = typeof obj === 'object' && obj !== null ? obj[disc] : input;
          const path = iss.path[iss.path.length - 1] === disc ? iss.path : [...iss.path, disc];
          const allowed = options?.join(', ');
          out.push({
            path: formatPath(path),
            message: value === undefined ? `is required: one of ${allowed}` : `${showValue(value)} is not one of ${allowed}`,
          });
        } else out.push({ path: formatPath(iss.path), message: iss.message });
        break;
      }
      case 'invalid_type':
        if (iss.expected === 'object' || iss.expected === 'array') {
          out.push({
            path: formatPath(iss.path),
            message:
              input === undefined
                ? `is required (${iss.expected === 'object' ? 'an object' : 'a list'})`
                : `${showValue(input)} is not ${iss.expected === 'object' ? 'an object' : 'a list'}`,
          });
        } else out.push({ path: formatPath(iss.path), message: iss.message });
        break;
      default:
        out.push({ path: formatPath(iss.path), message: iss.message });
    }
  }
  return out;
}

export type SafeParseResult = { success: true; data: RunConfig } | { success: false; error: ConfigError };

export function safeParseRunConfig(input: unknown): SafeParseResult {
  // Before zod walks it (recursively): a tree nested too deep or holding "__proto__" is refused here.
  const tree = jsonTreeIssue(input);
  if (tree) return { success: false, error: new ConfigError([tree]) };
  const r = RunConfigSchema.safeParse(input, { reportInput: true });
  return r.success ? { success: true, data: r.data } : { success: false, error: new ConfigError(toConfigIssues(r.error)) };
}

/** Validate and fill defaults; throws ConfigError listing every bad field as "path: value is not in range". */
export function parseRunConfig(input: unknown): RunConfig {
  const r = safeParseRunConfig(input);
  if (!r.success) throw r.error;
  return r.data;
}

/** A meaningful run: 2 hidden ReLU layers of 256 with dropout 0.5 on a 10-class gaussian mixture, SGD + momentum. */
export function defaultRunConfig(): RunConfig {
  return parseRunConfig({});
}

/** Scheduled learning rate for the 0-based step t (the value the engine writes into StepState.lr). */
export function learningRateAt(c: Pick<RunConfig, 'lr' | 'schedule' | 'steps'>, t: number): number {
  const s = c.schedule;
  const w = s.warmupSteps;
  if (t < w) return (c.lr * (t + 1)) / w;
  const k = t - w;
  switch (s.kind) {
    case 'constant':
      return c.lr;
    case 'step':
      return c.lr * Math.pow(s.gamma, Math.floor(k / s.every));
    case 'cosine': {
      const span = c.steps - w;
      if (span <= 0) return s.minLr;
      const frac = Math.min(1, k / span);
      return s.minLr + ((c.lr - s.minLr) * (1 + Math.cos(Math.PI * frac))) / 2;
    }
  }
}
