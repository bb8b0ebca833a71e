// Property tests: arbitrary valid configs round trip exactly through JSON and URL; every numeric field pushed
// out of its range is rejected with its path (and, through the URL, with its parameter) in the message.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DATASET_MAX_VALUES,
  formatPath,
  fromJson,
  fromQueryString,
  generationWork,
  LIMITS,
  MAX_REPLACEMENTS_PER_STEP,
  parseRunConfig,
  PROBE_MODES,
  queryParamForField,
  type Range,
  type RunConfig,
  safeParseRunConfig,
  toJson,
  toQueryString,
} from '../../src/config';

const NUM_RUNS = 300;

/** Any value in a range, bounds and awkward doubles included; -0 folded as the schema does. */
function inRangeArb(r: Range, cap?: number): fc.Arbitrary<number> {
  const max = cap === undefined ? r.max : Math.min(r.max, cap);
  if (r.int) {
    const lo = r.minOpen ? r.min + 1 : r.min;
    const hi = r.maxOpen ? max - 1 : max;
    return fc.bigInt({ min: BigInt(lo), max: BigInt(hi) }).map(Number);
  }
  return fc
    .double({ min: r.min, max, minExcluded: !!r.minOpen, maxExcluded: !!r.maxOpen && max === r.max, noNaN: true, noDefaultInfinity: true })
    .map((v) => v + 0);
}

const activationArb = fc.oneof(
  fc.constant({ kind: 'relu' as const }),
  fc.constant({ kind: 'gelu' as const }),
  inRangeArb(LIMITS.leakyAlpha).map((alpha) => ({ kind: 'leaky_relu' as const, alpha })),
  inRangeArb(LIMITS.eluAlpha).map((alpha) => ({ kind: 'elu' as const, alpha })),
);

const initArb = fc.record({
  weights: fc.oneof(
    fc.constantFrom('he_normal', 'he_uniform', 'xavier_normal', 'xavier_uniform', 'torch_uniform').map((kind) => ({ kind })),
    inRangeArb(LIMITS.initStd).map((std) => ({ kind: 'normal' as const, std })),
    inRangeArb(LIMITS.initLimit).map((limit) => ({ kind: 'uniform' as const, limit })),
  ),
  bias: inRangeArb(LIMITS.biasValue).map((value) => ({ kind: 'constant' as const, value })),
});

const layerArb = fc.record({
  width: fc.oneof(inRangeArb(LIMITS.width, 8), inRangeArb(LIMITS.width)),
  activation: activationArb,
  dropout: fc.oneof(fc.constant(0), fc.constant(0.5), inRangeArb(LIMITS.dropout)),
  init: initArb,
});

// Runs of identical layers exercise the URL's `*N` folding.
const hiddenArb = fc
  .array(fc.tuple(layerArb, fc.integer({ min: 1, max: 4 })), { minLength: 1, maxLength: 6 })
  .map((runs) => runs.flatMap(([l, n]) => Array.from({ length: n }, () => structuredClone(l))).slice(0, LIMITS.depth.max));

const optimizerArb = fc.oneof(
  fc.constant({ kind: 'sgd' as const }),
  fc.record({ kind: fc.constant('momentum' as const), momentum: inRangeArb(LIMITS.momentum), nesterov: fc.boolean() }),
  fc.record({
    kind: fc.constantFrom('adam' as const, 'adamw' as const),
    beta1: inRangeArb(LIMITS.beta),
    beta2: inRangeArb(LIMITS.beta),
    eps: inRangeArb(LIMITS.eps),
  }),
);

const scheduleArb = fc.oneof(
  fc.record({ kind: fc.constant('constant' as const), warmupSteps: inRangeArb(LIMITS.warmupSteps) }),
  fc.record({
    kind: fc.constant('step' as const),
    every: inRangeArb(LIMITS.decayEvery),
    gamma: inRangeArb(LIMITS.gamma),
    warmupSteps: inRangeArb(LIMITS.warmupSteps),
  }),
  fc.record({ kind: fc.constant('cosine' as const), minLr: inRangeArb(LIMITS.minLr), warmupSteps: inRangeArb(LIMITS.warmupSteps) }),
);

const samplesArb = inRangeArb(LIMITS.samples);
const datasetArb = fc.oneof(
  fc.record({ kind: fc.constant('teacher' as const), samples: samplesArb, teacherWidth: inRangeArb(LIMITS.teacherWidth), noise: inRangeArb(LIMITS.noise) }),
  fc.record({ kind: fc.constant('gaussian_mixture' as const), samples: samplesArb, classes: inRangeArb(LIMITS.classes), spread: inRangeArb(LIMITS.spread) }),
  fc.record({ kind: fc.constant('spirals' as const), samples: samplesArb, turns: inRangeArb(LIMITS.turns), noise: inRangeArb(LIMITS.noise) }),
  fc.record({ kind: fc.constant('sparse' as const), samples: samplesArb, density: inRangeArb(LIMITS.density), classes: inRangeArb(LIMITS.classes) }),
  fc.record({
    kind: fc.constant('slowly_changing' as const),
    flipping: fc.oneof(inRangeArb(LIMITS.flipping, 20), inRangeArb(LIMITS.flipping)),
    teacherWidth: inRangeArb(LIMITS.teacherWidth),
    beta: inRangeArb(LIMITS.teacherBeta),
  }),
  fc.record({ kind: fc.constant('file' as const), name: fc.string({ minLength: 1, maxLength: 40, unit: 'grapheme' }) }),
);

const tasksArb = fc.record({ every: inRangeArb(LIMITS.taskEvery), permuteInputs: fc.boolean(), shuffleLabels: fc.boolean(), resetOutput: fc.boolean() });
const cbpArb = fc.record({
  replacementRate: fc.oneof(fc.constant(0), inRangeArb(LIMITS.replacementRate)),
  decay: inRangeArb(LIMITS.utilityDecay),
  maturity: inRangeArb(LIMITS.maturity),
});
const snpArb = fc.record({ shrink: inRangeArb(LIMITS.shrink), noise: inRangeArb(LIMITS.perturbNoise), every: inRangeArb(LIMITS.perturbEvery) });

/** Valid configs: fields drawn independently, then the cross-field rules repaired (never by rejection). */
const configArb: fc.Arbitrary<RunConfig> = fc
  .record({
    inputSize: fc.oneof(inRangeArb(LIMITS.inputSize, 64), inRangeArb(LIMITS.inputSize)),
    hidden: hiddenArb,
    teacherOut: inRangeArb(LIMITS.outputSize, 16),
    fileOut: inRangeArb(LIMITS.outputSize),
    fileLoss: fc.constantFrom('softmax_ce' as const, 'mse' as const),
    outputInit: initArb,
    inputDropout: inRangeArb(LIMITS.dropout),
    optimizer: optimizerArb,
    lr: inRangeArb(LIMITS.lr),
    schedule: scheduleArb,
    weightDecay: inRangeArb(LIMITS.weightDecay),
    batchSize: inRangeArb(LIMITS.batchSize),
    dataset: datasetArb,
    tasks: tasksArb,
    continualBackprop: cbpArb,
    shrinkPerturb: snpArb,
    seed: inRangeArb(LIMITS.seed),
    steps: fc.oneof(inRangeArb(LIMITS.steps, 1000), inRangeArb(LIMITS.steps)),
    stepsPerSubmit: inRangeArb(LIMITS.stepsPerSubmit),
    shardColumns: fc.option(inRangeArb(LIMITS.shardColumns), { nil: undefined }),
    snapshot: fc.record({
      every: inRangeArb(LIMITS.snapshotEvery),
      probeSize: inRangeArb(LIMITS.probeSize),
      probe: fc.constantFrom(...PROBE_MODES),
      frozenWindow: inRangeArb(LIMITS.frozenWindow),
    }),
  })
  .map(({ teacherOut, fileOut, fileLoss, shardColumns, ...c }) => {
    const d = c.dataset;
    const outputSize =
      d.kind === 'teacher' ? teacherOut : d.kind === 'slowly_changing' ? 1 : d.kind === 'spirals' ? 2 : d.kind === 'file' ? fileOut : d.classes;
    const loss = d.kind === 'teacher' || d.kind === 'slowly_changing' ? 'mse' : d.kind === 'file' ? fileLoss : 'softmax_ce';
    const inputSize = d.kind === 'spirals' || d.kind === 'slowly_changing' ? Math.max(2, c.inputSize) : c.inputSize;
    const config = { ...c, inputSize, outputSize, loss, ...(shardColumns === undefined ? {} : { shardColumns }) } as RunConfig;
    if (d.kind === 'slowly_changing') {
      d.flipping = Math.min(d.flipping, inputSize - 1);
      d.teacherWidth = Math.min(d.teacherWidth, Math.floor(DATASET_MAX_VALUES / inputSize));
    }
    const t = config.tasks;
    if (t.every === 0) t.permuteInputs = t.shuffleLabels = t.resetOutput = false;
    if (loss === 'mse') t.shuffleLabels = false;
    const cbp = config.continualBackprop;
    const widest = Math.max(...config.hidden.map((h) => h.width));
    if (cbp.replacementRate * widest > MAX_REPLACEMENTS_PER_STEP) cbp.replacementRate = MAX_REPLACEMENTS_PER_STEP / widest;
    if (d.kind !== 'file' && d.kind !== 'slowly_changing') {
      d.samples = Math.min(d.samples, Math.floor(DATASET_MAX_VALUES / Math.max(inputSize, outputSize)));
      while (generationWork(config) > 2 ** 31) d.samples = Math.max(1, Math.floor(d.samples / 2));
      config.batchSize = Math.min(config.batchSize, d.samples);
    }
    const s = config.schedule;
    if (s.kind === 'cosine') s.minLr = Math.min(s.minLr, config.lr);
    s.warmupSteps = Math.min(s.warmupSteps, config.steps);
    config.snapshot.every = Math.min(config.snapshot.every, config.steps);
    // fast-check builds null-prototype records; the schema returns plain objects (toStrictEqual compares prototypes).
    return structuredClone(config);
  });

describe('config properties', () => {
  it('generated configs are valid and parse to themselves', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const r = safeParseRunConfig(c);
        if (!r.success) throw r.error;
        expect(r.data).toStrictEqual(c);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('round trip exactly through JSON', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        expect(fromJson(toJson(c))).toStrictEqual(c);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('round trip exactly through the URL query', () => {
    fc.assert(
      fc.property(configArb, (c) => {
        const qs = toQueryString(c);
        expect(fromQueryString(qs)).toStrictEqual(c);
        // What a browser hands back after navigation: the same string through URL parsing.
        expect(fromQueryString(new URL(`https://example.test/?${qs}`).search)).toStrictEqual(c);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

// -- mutation --

/** The range of a numeric leaf, from its key and surroundings (undefined: not a range-checked number). */
function rangeOf(path: readonly (string | number)[], parent: Record<string, unknown>): Range | undefined {
  const key = path[path.length - 1];
  const top = path[0];
  switch (key) {
    case 'inputSize':
    case 'outputSize':
    case 'width':
    case 'lr':
    case 'momentum':
    case 'eps':
    case 'weightDecay':
    case 'warmupSteps':
    case 'gamma':
    case 'minLr':
    case 'batchSize':
    case 'seed':
    case 'steps':
    case 'stepsPerSubmit':
    case 'shardColumns':
    case 'probeSize':
    case 'frozenWindow':
    case 'samples':
    case 'teacherWidth':
    case 'classes':
    case 'spread':
    case 'turns':
    case 'density':
    case 'flipping':
    case 'replacementRate':
    case 'maturity':
    case 'shrink':
      return LIMITS[key];
    case 'beta':
      return LIMITS.teacherBeta;
    case 'noise':
      return top === 'shrinkPerturb' ? LIMITS.perturbNoise : LIMITS.noise;
    case 'decay':
      return LIMITS.utilityDecay;
    case 'dropout':
    case 'inputDropout':
      return LIMITS.dropout;
    case 'beta1':
    case 'beta2':
      return LIMITS.beta;
    case 'alpha':
      return parent.kind === 'leaky_relu' ? LIMITS.leakyAlpha : LIMITS.eluAlpha;
    case 'std':
      return LIMITS.initStd;
    case 'limit':
      return LIMITS.initLimit;
    case 'value':
      return LIMITS.biasValue;
    case 'every':
      return top === 'snapshot' ? LIMITS.snapshotEvery : top === 'tasks' ? LIMITS.taskEvery : top === 'shrinkPerturb' ? LIMITS.perturbEvery : LIMITS.decayEvery;
  }
  return undefined;
}

function numericLeaves(obj: unknown, path: (string | number)[] = []): { path: (string | number)[]; range: Range }[] {
  if (typeof obj !== 'object' || obj === null) return [];
  const out: { path: (string | number)[]; range: Range }[] = [];
  for (const [k, v] of Object.entries(obj)) {
    const key = Array.isArray(obj) ? Number(k) : k;
    if (typeof v === 'number') {
      const range = rangeOf([...path, key], obj as Record<string, unknown>);
      if (!range) throw new Error(`no range known for ${formatPath([...path, key])}`);
      out.push({ path: [...path, key], range });
    } else out.push(...numericLeaves(v, [...path, key]));
  }
  return out;
}

/** Values outside a range: just past each bound, far past, a fraction for integers, and non-finite numbers. */
function outOfRangeArb(r: Range): fc.Arbitrary<number> {
  const below = r.minOpen ? [r.min, r.min - 1] : [r.min - (r.int ? 1 : 1e-9 * Math.max(1, Math.abs(r.min))), r.min - 1e6];
  const above = r.maxOpen ? [r.max, r.max + 1] : [r.max + (r.int ? 1 : 1e-9 * Math.max(1, Math.abs(r.max))), r.max * 10 + 1];
  const extra = r.int ? [r.min + 0.5] : [];
  return fc.constantFrom(...below, ...above, ...extra, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY);
}

function setAt(obj: unknown, path: readonly (string | number)[], value: unknown): void {
  let o = obj as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string | number, unknown>;
  o[path[path.length - 1]] = value;
}

const mutationArb = configArb.chain((c) => {
  const leaves = numericLeaves(c);
  return fc.integer({ min: 0, max: leaves.length - 1 }).chain((i) => outOfRangeArb(leaves[i].range).map((bad) => ({ c, leaf: leaves[i], bad })));
});

describe('config mutations', () => {
  it('every numeric field out of its range is rejected, naming the field, the value and the range', () => {
    fc.assert(
      fc.property(mutationArb, ({ c, leaf, bad }) => {
        const mutated = structuredClone(c);
        setAt(mutated, leaf.path, bad);
        const r = safeParseRunConfig(mutated);
        expect(r.success).toBe(false);
        if (r.success) return;
        const path = formatPath(leaf.path);
        const issue = r.error.issues.find((i) => i.path === path);
        expect(issue, `${path} = ${bad}: ${r.error.message}`).toBeDefined();
        expect(r.error.message).toContain(`${path}: ${String(bad)} is not`);
        expect(issue!.message).toContain(`${leaf.range.minOpen ? '(' : '['}${leaf.range.min}, ${leaf.range.max}${leaf.range.maxOpen ? ')' : ']'}`);
        expect(() => parseRunConfig(mutated)).toThrow(ConfigError);
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('through the URL, the out-of-range value is reported under its parameter', () => {
    // Only finite values can be written into a URL; the parameter that carries the field must be named.
    const finite = mutationArb.filter(({ bad }) => Number.isFinite(bad));
    fc.assert(
      fc.property(finite, ({ c, leaf, bad }) => {
        const mutated = structuredClone(c);
        setAt(mutated, leaf.path, bad);
        // toQueryString only formats; it does not validate, so it can write the bad value.
        const qs = toQueryString(mutated);
        let error: unknown;
        try {
          fromQueryString(qs);
        } catch (e) {
          error = e;
        }
        expect(error, qs).toBeInstanceOf(ConfigError);
        const issues = (error as ConfigError).issues;
        const param = queryParamForField(formatPath(leaf.path));
        expect(
          issues.some((i) => i.path === param && i.message.includes(String(bad))),
          `${param} in ${(error as ConfigError).message}`,
        ).toBe(true);
      }),
      { numRuns: NUM_RUNS },
    );
  });
});
