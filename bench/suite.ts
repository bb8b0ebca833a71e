// The benchmark suite, host-neutral: `npm run bench` (bench/run.ts, Dawn in Node) and bench.html (any
// WebGPU browser, bench/page/) both call runSuite with a GpuContext and, when they could load it, the
// TensorFlow.js module, and get the same BenchResult. Each group contributes a list of tasks, so the
// total is known before the first one runs (the progress indicator) and results stream out task by task.
import type { GpuContext } from '../src/gpu/device';
import { continualTasks } from './continual-step';
import { matmulTasks } from './matmul';
import { millionTasks } from './million';
import { monitoringTasks } from './monitoring';
import { readbackTasks } from './readback';
import {
  BENCH_GROUPS,
  BENCH_SCHEMA,
  BENCH_SCHEMA_VERSION,
  parseBenchResult,
  type AdapterInfo,
  type BenchGroup,
  type BenchResult,
  type CaseResult,
  type Ratio,
} from './schema';
import type { BenchTask, SuiteContext } from './task';
import type { Tf } from './tfjs-mlp';
import { trainTasks } from './train';

export interface HostInfo {
  host: 'node' | 'browser';
  userAgent?: string;
  node?: string;
}

export interface SuiteOptions {
  quick: boolean;
  /** Groups to run (default all). */
  groups?: readonly BenchGroup[];
  /** Only the tasks whose label contains one of these (e.g. `nn 1024x1024`); default all of the groups'. */
  cases?: readonly string[];
  /** Matmul configurations the matmul group times instead of the adapter's candidates. */
  matmulCandidates?: readonly string[];
  tf: Tf | null;
  /** Why TF.js is missing, when tf is null (goes into the result's notes). */
  tfUnavailable?: string;
  /** Free-form notes for the result, e.g. "machine busy with other jobs". */
  notes?: readonly string[];
  /** Called before each task. */
  onProgress?(progress: { done: number; total: number; label: string }): void;
  /** Called after each task with what it measured. */
  onCases?(cases: CaseResult[], ratios: Ratio[]): void;
}

type TaskFactory = (ctx: SuiteContext) => BenchTask[];

const GROUP_TASKS: Record<BenchGroup, TaskFactory> = {
  matmul: matmulTasks,
  train: trainTasks,
  monitoring: monitoringTasks,
  readback: readbackTasks,
  million: millionTasks,
  continual: continualTasks,
};

/** The tasks whose label contains one of `cases` (all when none given); an error names the labels when none does. */
export function selectTasks(tasks: BenchTask[], cases: readonly string[] | undefined): BenchTask[] {
  if (!cases || cases.length === 0) return tasks;
  const chosen = tasks.filter((t) => cases.some((c) => t.label.includes(c)));
  if (chosen.length === 0) {
    throw new RangeError(`cases: no case label contains ${cases.map((c) => `"${c}"`).join(' or ')}; labels: ${tasks.map((t) => t.label).join('; ')}`);
  }
  return chosen;
}

/** Limit names reported in the result (GPUSupportedLimits' properties are prototype getters: not enumerable everywhere). */
const REPORTED_LIMITS = [
  'maxBufferSize',
  'maxStorageBufferBindingSize',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupSizeY',
  'maxComputeWorkgroupSizeZ',
  'maxComputeWorkgroupsPerDimension',
  'maxBindGroups',
  'minStorageBufferOffsetAlignment',
  'maxSubgroupSize',
  'minSubgroupSize',
];

export function adapterInfo(gpu: GpuContext): AdapterInfo {
  const limits: Record<string, number> = {};
  const source = gpu.handles.adapter.limits as unknown as Record<string, unknown>;
  for (const name of REPORTED_LIMITS) {
    const value = source[name];
    if (typeof value === 'number' && Number.isFinite(value)) limits[name] = value;
  }
  const { vendor, architecture, device, description, isSoftware } = gpu.adapter;
  return { vendor, architecture, device, description, isSoftware, features: [...gpu.handles.adapter.features].map(String).sort(), limits };
}

export async function runSuite(gpu: GpuContext, host: HostInfo, options: SuiteOptions): Promise<BenchResult> {
  const startedAt = new Date();
  const t0 = performance.now();
  const ctx: SuiteContext = { gpu, tf: options.tf, quick: options.quick, ...(options.matmulCandidates ? { matmulCandidates: options.matmulCandidates } : {}) };
  const groups = options.groups ?? BENCH_GROUPS;
  const tasks = selectTasks(
    groups.flatMap((g) => GROUP_TASKS[g](ctx)),
    options.cases,
  );
  const cases: CaseResult[] = [];
  const ratios: Ratio[] = [];
  const notes: string[] = [...(options.notes ?? [])];
  if (!options.tf) notes.push(`TensorFlow.js cases left out: ${options.tfUnavailable ?? 'not requested'}`);
  if (!gpu.hasTimestamps) notes.push('adapter has no timestamp-query: every case is timed on the wall clock');

  for (const [index, task] of tasks.entries()) {
    options.onProgress?.({ done: index, total: tasks.length, label: task.label });
    const out = await task.run();
    cases.push(...out.cases);
    ratios.push(...(out.ratios ?? []));
    options.onCases?.(out.cases, out.ratios ?? []);
  }
  options.onProgress?.({ done: tasks.length, total: tasks.length, label: 'done' });

  const tf = options.tf;
  return parseBenchResult(
    {
      schema: BENCH_SCHEMA,
      version: BENCH_SCHEMA_VERSION,
      ...host,
      quick: options.quick,
      startedAt: startedAt.toISOString(),
      durationSeconds: (performance.now() - t0) / 1000,
      adapter: adapterInfo(gpu),
      tfjs: tf ? tfjsInfo(tf) : null,
      cases,
      ratios,
      notes,
    },
    'suite result',
  );
}

/** TF.js's version and backend, and the adapter its WebGPU backend runs on (read from the backend's private info). */
function tfjsInfo(tf: Tf): { version: string; backend: string; adapter?: string } {
  const backend = tf.getBackend();
  const info = (tf.findBackend(backend) as { adapterInfo?: { vendor?: unknown; architecture?: unknown } } | null)?.adapterInfo;
  const adapter = info && typeof info.vendor === 'string' && typeof info.architecture === 'string' ? `${info.vendor} / ${info.architecture}` : undefined;
  return { version: tf.version.tfjs, backend, ...(adapter ? { adapter } : {}) };
}
