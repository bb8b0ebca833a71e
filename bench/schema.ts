// The benchmark result file: one JSON document per run, the same from `npm run bench` (Node/Dawn) and from
// bench.html (any WebGPU browser), validated whenever one is loaded (compare view, --compare).
// Every unit is "higher is better", so a ratio > 1 always means the numerator wins.
import { z } from 'zod';
import { summarize } from './stats';

export const BENCH_SCHEMA = 'deadunits-bench';
export const BENCH_SCHEMA_VERSION = 1;

export const BENCH_GROUPS = ['matmul', 'train', 'monitoring', 'readback', 'million', 'continual'] as const;
export type BenchGroup = (typeof BENCH_GROUPS)[number];

/** A comma-separated list of groups (CLI --only, page ?only=), checked against BENCH_GROUPS. */
export function parseGroups(list: string): BenchGroup[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const name of names) {
    if (!(BENCH_GROUPS as readonly string[]).includes(name))
      throw new RangeError(`unknown benchmark group "${name}": expected one of ${BENCH_GROUPS.join(', ')}`);
  }
  if (names.length === 0) throw new RangeError(`no benchmark group given: expected one or more of ${BENCH_GROUPS.join(', ')}`);
  return names as BenchGroup[];
}

/** Who ran the case: our engine, the naive WGSL floor, or TensorFlow.js's WebGPU backend. */
export const BENCH_IMPLS = ['deadunits', 'naive', 'tfjs'] as const;
export type BenchImpl = (typeof BENCH_IMPLS)[number];

export const BENCH_UNITS = ['GFLOP/s', 'steps/s', 'MB/s'] as const;
export type BenchUnit = (typeof BENCH_UNITS)[number];

/** 'gpu-timestamp': time between timestamp-query writes around the work; 'wall': host clock until the result is back. */
export const BENCH_TIMINGS = ['gpu-timestamp', 'wall'] as const;
export type BenchTiming = (typeof BENCH_TIMINGS)[number];

const finite = z.number().refine(Number.isFinite, 'must be a finite number');
const positive = finite.refine((x) => x > 0, 'must be > 0');
const paramValue = z.union([z.string(), z.number(), z.boolean()]);

export const CaseResultSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]*$/, 'must be lower-case letters, digits, ".", "_" or "-"'),
    group: z.enum(BENCH_GROUPS),
    impl: z.enum(BENCH_IMPLS),
    label: z.string().min(1),
    params: z.record(z.string(), paramValue),
    unit: z.enum(BENCH_UNITS),
    timing: z.enum(BENCH_TIMINGS),
    samples: z.array(positive).min(1),
    median: positive,
    min: positive,
    max: positive,
    p10: positive,
    p90: positive,
    mad: finite.refine((x) => x >= 0, 'must be >= 0'),
    /** Other figures of the same measurement, e.g. achieved GFLOP/s of a training step (medians). */
    derived: z.record(z.string(), finite).optional(),
  })
  .superRefine((c, ctx) => {
    // The summary must be the samples' own: a hand-edited median is caught on load. (Zod runs this even
    // when a sample failed its own check; that failure is reported already.)
    if (c.samples.length === 0 || !c.samples.every((x) => Number.isFinite(x) && x > 0)) return;
    const s = summarize(c.samples);
    for (const key of ['median', 'min', 'max', 'p10', 'p90', 'mad'] as const) {
      if (Math.abs(c[key] - s[key]) > 1e-9 * Math.max(1, Math.abs(s[key]))) {
        ctx.addIssue({ code: 'custom', path: [key], message: `is ${c[key]} but the samples give ${s[key]}` });
      }
    }
  });
export type CaseResult = z.infer<typeof CaseResultSchema>;

export const RatioSchema = z.object({
  name: z.string().min(1),
  /** Case ids; value = median(numerator) / median(denominator). */
  numerator: z.string().min(1),
  denominator: z.string().min(1),
  value: positive,
  /** The ratio the project aims for, when there is one (e.g. 3 for our wide step against TF.js). */
  goal: positive.optional(),
});
export type Ratio = z.infer<typeof RatioSchema>;

export const AdapterInfoSchema = z.object({
  vendor: z.string(),
  architecture: z.string(),
  device: z.string(),
  description: z.string(),
  isSoftware: z.boolean(),
  features: z.array(z.string()),
  limits: z.record(z.string(), finite),
});
export type AdapterInfo = z.infer<typeof AdapterInfoSchema>;

export const BenchResultSchema = z
  .object({
    schema: z.literal(BENCH_SCHEMA),
    version: z.literal(BENCH_SCHEMA_VERSION),
    host: z.enum(['node', 'browser']),
    /** navigator.userAgent in a browser; absent in Node. */
    userAgent: z.string().optional(),
    /** process.version in Node; absent in a browser. */
    node: z.string().optional(),
    /** Tiny shapes for smoke tests: never compare a quick run with a full one. */
    quick: z.boolean(),
    startedAt: z.iso.datetime(),
    durationSeconds: finite.refine((x) => x >= 0, 'must be >= 0'),
    adapter: AdapterInfoSchema,
    /** TensorFlow.js used for the side-by-side cases; null when they were not run. */
    tfjs: z
      .object({
        version: z.string(),
        backend: z.string(),
        /** "vendor / architecture" of the adapter TF.js's WebGPU backend got: it should be ours. */
        adapter: z.string().optional(),
      })
      .nullable(),
    cases: z.array(CaseResultSchema),
    ratios: z.array(RatioSchema),
    /** Cases that could not run here (e.g. TF.js unavailable), with the reason. */
    notes: z.array(z.string()),
  })
  .superRefine((r, ctx) => {
    const ids = new Set<string>();
    r.cases.forEach((c, i) => {
      if (ids.has(c.id)) ctx.addIssue({ code: 'custom', path: ['cases', i, 'id'], message: `"${c.id}" appears twice` });
      ids.add(c.id);
    });
    r.ratios.forEach((ratio, i) => {
      for (const side of ['numerator', 'denominator'] as const) {
        if (!ids.has(ratio[side])) ctx.addIssue({ code: 'custom', path: ['ratios', i, side], message: `names no case ("${ratio[side]}")` });
      }
    });
    if (r.host === 'node' && !r.node) ctx.addIssue({ code: 'custom', path: ['node'], message: 'is required when host is "node"' });
    if (r.host === 'browser' && !r.userAgent) ctx.addIssue({ code: 'custom', path: ['userAgent'], message: 'is required when host is "browser"' });
  });
export type BenchResult = z.infer<typeof BenchResultSchema>;

export class BenchResultError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BenchResultError';
  }
}

/** Validates a parsed result; throws BenchResultError naming the first bad field, e.g. `cases[2].median: ...`. */
export function parseBenchResult(value: unknown, source = 'benchmark result'): BenchResult {
  const parsed = BenchResultSchema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = issue.path.reduce<string>((acc, key) => (typeof key === 'number' ? `${acc}[${key}]` : acc ? `${acc}.${String(key)}` : String(key)), '');
  throw new BenchResultError(`${source}: ${path || '(root)'}: ${issue.message}`);
}

/** Parses JSON text, then validates it. */
export function benchResultFromJson(text: string, source = 'benchmark result'): BenchResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new BenchResultError(`${source}: not JSON (${(error as Error).message})`);
  }
  return parseBenchResult(value, source);
}

export function benchResultToJson(result: BenchResult): string {
  return `${JSON.stringify(result, null, 2)}\n`;
}

/** Builds a case from its samples (the summary is computed, never typed in). */
export function makeCase(c: Omit<CaseResult, 'median' | 'min' | 'max' | 'p10' | 'p90' | 'mad'>): CaseResult {
  return { ...c, ...summarize(c.samples) };
}

/**
 * The file name under bench/results/: one per device and date, e.g.
 * `software-google-swiftshader-browser-2026-11-27.json`; quick runs say so.
 */
export function resultFileName(result: BenchResult): string {
  const a = result.adapter;
  const device = [a.vendor, a.architecture, a.device || a.description].filter(Boolean).join('-');
  const slug =
    device
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-|-$/g, '')
      .slice(0, 60) || 'unknown-adapter';
  const parts = [a.isSoftware ? 'software' : 'gpu', slug, result.host, result.startedAt.slice(0, 10)];
  if (result.quick) parts.push('quick');
  return `${parts.join('-')}.json`;
}
