// Node-only: the layout of a run folder, and its manifest (run.json), which says how the run was started so
// that `resume` can continue it with the same options.
//
//   config.json                        the validated run configuration (src/config toJson); with your own data
//                                      it records each file's path, size and SHA-256 (src/cli/data-files.ts)
//   run.json                           manifest: format, options (checkpoint interval, kept checkpoints, csv,
//                                      unit maps, kernels), status and step of the last exit, and the matmul
//                                      kernel each product shape ran with
//   metrics.jsonl                      one MetricsRow per snapshot (src/report/metrics.ts), appended as they come
//   metrics.csv                        the same rows as CSV (with --csv)
//   checkpoints/checkpoint-<step>.safetensors   the last M checkpoints (src/io/checkpoint.ts)
//   maps/L<l>/step-<step>.png | .npy   unit maps of hidden layer l (src/cli/outputs/unit-maps.ts)
//   charts/*.svg                       the report's plots
//   report.md                          the answer to the seed question, final numbers, plots, latest maps
//   FAILED.md                          only when the run stopped on a non-finite loss or parameter, or on a GPU error
//   run.lock                           while a process owns the folder (src/io/run-lock.ts): host, PID, start
//   checkpoints/*.damaged              a checkpoint that failed its checksum or checks, set aside by a resume
//
// A run starts by writing config.json, then run.json: a folder with config.json but no run.json (and no
// checkpoint) is a run that stopped while starting; `run` with the same configuration and `resume` both start it
// over (see claimRunDir, unfinishedStart).
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { ConfigError, jsonTreeIssue, parseRunConfig, type RunConfig } from '../config';
import { listCheckpoints, TEMP_FILE_PATTERN, writeFileAtomic } from '../io/atomic-file';
import { InputFileError, readRegularText, readRegularTextIfExists } from '../io/regular-file';
import { LOCK_FILE } from '../io/run-lock';

export const RUN_FORMAT = 'deadunits-run';
export const RUN_VERSION = 1;

/** Options of `run` when not given (and of a `resume` whose run.json was never written). */
export const DEFAULT_CHECKPOINT_EVERY = 5000;
export const DEFAULT_KEEP = 3;

/** Largest config.json / run.json read (each is about 1 KiB). */
const MAX_RUN_FILE_BYTES = 1 << 20;

export const UNIT_MAP_KINDS = ['png', 'npy', 'both', 'none'] as const;
export type UnitMapKind = (typeof UNIT_MAP_KINDS)[number];
export const RUN_STATUSES = ['running', 'completed', 'interrupted', 'non-finite', 'gpu-error'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunPaths {
  dir: string;
  config: string;
  manifest: string;
  metrics: string;
  csv: string;
  checkpoints: string;
  maps: string;
  charts: string;
  report: string;
  failed: string;
}

export function runPaths(dir: string): RunPaths {
  return {
    dir,
    config: join(dir, 'config.json'),
    manifest: join(dir, 'run.json'),
    metrics: join(dir, 'metrics.jsonl'),
    csv: join(dir, 'metrics.csv'),
    checkpoints: join(dir, 'checkpoints'),
    maps: join(dir, 'maps'),
    charts: join(dir, 'charts'),
    report: join(dir, 'report.md'),
    failed: join(dir, 'FAILED.md'),
  };
}

/** Unit map file of hidden layer `layer` (1-based) at `step`, relative to the run folder (zero-padded: names sort like steps). */
export function unitMapFile(layer: number, step: number, ext: 'png' | 'npy'): string {
  return `maps/L${layer}/step-${String(step).padStart(10, '0')}.${ext}`;
}

const ManifestSchema = z.strictObject({
  format: z.literal(RUN_FORMAT),
  version: z.literal(RUN_VERSION),
  checkpointEvery: z.number().int().min(0),
  keepCheckpoints: z.number().int().min(1),
  csv: z.boolean(),
  unitMaps: z.enum(UNIT_MAP_KINDS),
  status: z.enum(RUN_STATUSES),
  /** Steps completed at the last exit (or at the last checkpoint while running). */
  step: z.number().int().min(0),
  /** One line on why the run stopped, when it did not complete. */
  message: z.string().optional(),
  /** --kernels: 'auto' or the matmul configuration forced on every product (absent in runs from before it existed: auto). */
  kernels: z.string().optional(),
  /** The matmul configuration each product shape ran with on the latest device, and how it was chosen. */
  matmul: z.array(z.strictObject({ shape: z.string(), kernel: z.string(), source: z.enum(['forced', 'default', 'tuned', 'cached']) })).optional(),
});
export type RunManifest = z.infer<typeof ManifestSchema>;

export class RunDirError extends Error {
  override name = 'RunDirError';
}

export async function writeManifest(dir: string, manifest: Omit<RunManifest, 'format' | 'version'>): Promise<void> {
  const full: RunManifest = { format: RUN_FORMAT, version: RUN_VERSION, ...manifest };
  await writeFileAtomic(runPaths(dir).manifest, new TextEncoder().encode(JSON.stringify(full, null, 2) + '\n'));
}

/** The manifest of a run folder, validated; null when the folder has none. Throws RunDirError naming the field. */
export async function readManifest(dir: string): Promise<RunManifest | null> {
  const path = runPaths(dir).manifest;
  const text = await readRunFile(path, readRegularTextIfExists);
  if (text === null) return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunDirError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  const tree = jsonTreeIssue(value);
  if (tree) throw new RunDirError(`${path}: ${tree.path ? `field ${tree.path}: ` : ''}${tree.message}`);
  const parsed = ManifestSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RunDirError(`${path}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** The run configuration saved in a run folder (validated; ConfigError names the field). */
export async function readRunConfig(dir: string): Promise<RunConfig> {
  const path = runPaths(dir).config;
  let text: string;
  try {
    text = await readRunFile(path, readRegularText);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new RunDirError(`${dir} is not a deadunits run folder: ${path} is missing`);
    throw error;
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RunDirError(`${path} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    return parseRunConfig(value);
  } catch (error) {
    if (error instanceof ConfigError) throw new ConfigError(error.issues, `run configuration in ${path}`);
    throw error;
  }
}

/** A run folder's own file, read within its size limit; one that is not a regular file is a RunDirError. */
async function readRunFile<T>(path: string, read: (path: string, max: number, what: string) => Promise<T>): Promise<T> {
  try {
    return await read(path, MAX_RUN_FILE_BYTES, 'a run folder file');
  } catch (error) {
    if (error instanceof InputFileError) throw new RunDirError(error.message);
    throw error;
  }
}

/** Files a run folder may hold besides the run's own: its lock, and temp files of interrupted writes (removed on start). */
function isBookkeeping(name: string): boolean {
  return name === LOCK_FILE || name === `${LOCK_FILE}.takeover` || TEMP_FILE_PATTERN.test(name);
}

/**
 * A run that stopped while starting: config.json written, run.json not (a crash or a full disk in between), and
 * nothing else but an empty checkpoints/ folder. Its configuration, or null when `dir` is not such a folder.
 */
export async function unfinishedStart(dir: string): Promise<RunConfig | null> {
  const names = (await readdir(dir).catch(() => [] as string[])).filter((n) => !isBookkeeping(n));
  if (!names.includes('config.json') || names.includes('run.json')) return null;
  if (names.some((n) => n !== 'config.json' && n !== 'checkpoints')) return null;
  if ((await listCheckpoints(runPaths(dir).checkpoints)).length > 0) return null;
  return readRunConfig(dir).catch(() => null);
}

/**
 * What `run` finds at `dir`: 'fresh' (missing or empty, created; or a run of this configuration that stopped
 * while starting), or 'same-run' (a run folder of exactly this configuration, to be continued). Any other
 * non-empty folder is refused: a run never mixes its files with foreign ones or overwrites another run. The lock
 * and temp files of interrupted writes do not count.
 */
export async function claimRunDir(dir: string, config: RunConfig): Promise<'fresh' | 'same-run'> {
  await mkdir(dir, { recursive: true });
  const entries = (await readdir(dir)).filter((n) => !isBookkeeping(n));
  if (entries.length === 0) return 'fresh';
  const started = await unfinishedStart(dir);
  if (started) {
    if (JSON.stringify(started) === JSON.stringify(config)) return 'fresh';
    throw new RunDirError(
      `${dir} holds a run that stopped while starting (config.json without run.json) of another configuration: start that one with \`deadunits resume ${dir}\`, or choose another --out folder`,
    );
  }
  const manifest = await readManifest(dir).catch(() => null);
  if (manifest) {
    const saved = await readRunConfig(dir).catch(() => null);
    if (saved && JSON.stringify(saved) === JSON.stringify(config)) return 'same-run';
    throw new RunDirError(
      `${dir} holds another run (its config.json differs from this configuration): choose another --out folder, or continue that run with \`deadunits resume ${dir}\``,
    );
  }
  const shown = entries.slice(0, 5).join(', ') + (entries.length > 5 ? `, … (${entries.length} entries)` : '');
  throw new RunDirError(`${dir} is not empty and is not a deadunits run folder (it holds ${shown}): choose an empty or new --out folder`);
}
