// Node-only: the files a run reads (a file data set's inputs and targets), read from disk with their size and
// SHA-256. A configuration records both when the run starts (config.json holds them); every later read (resume,
// a sweep point, a device loss) must find the same bytes, or the run stops with a message naming the file.
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { IO_CHUNK_BYTES } from '../io/atomic-file';
import { openRegularFile } from '../io/regular-file';
import { ConfigError, probeRowsFor, type FileRef, type LossKind, type RunConfig } from '../config';
import {
  checkDatasetForConfig,
  checkFileSize,
  DataError,
  probeSet,
  runData,
  userDataset,
  type Dataset,
  type ProbeSet,
  type TaskHints,
  type UserData,
} from '../data';

/** A file as read: its bytes and what identifies them. */
export interface ReadFile {
  path: string;
  bytes: Uint8Array;
  size: number;
  sha256: string;
}

export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** A file as recorded without its bytes: what identifies it. */
export type FileIdentity = Omit<ReadFile, 'bytes'>;

/**
 * Reads `ref` for the config field `field` (e.g. dataset.inputs). `check` limits the size before reading (so a
 * huge file is refused before it is loaded). A recorded size or hash that differs is an error naming the file.
 */
export async function readRecordedFile(ref: FileRef, field: string, check?: (size: number) => void): Promise<ReadFile> {
  await statRecordedFile(ref, field, check);
  const bytes = new Uint8Array(await readFile(ref.path));
  const sha256 = sha256Hex(bytes);
  checkUnchanged(ref, field, bytes.length, sha256);
  return { path: ref.path, bytes, size: bytes.length, sha256 };
}

/**
 * As readRecordedFile, for a file read in pieces afterwards (a model of any size: Node cannot read a file over
 * 2 GiB into one buffer): its size and SHA-256, hashed as a stream, checked against `ref` where recorded.
 */
export async function hashRecordedFile(ref: FileRef, field: string): Promise<FileIdentity> {
  await statRecordedFile(ref, field);
  const hash = createHash('sha256');
  let size = 0;
  const { handle } = await openRegularFile(ref.path);
  try {
    const chunk = new Uint8Array(Math.min(IO_CHUNK_BYTES, 8 << 20));
    for (;;) {
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, size);
      if (bytesRead === 0) break;
      hash.update(chunk.subarray(0, bytesRead));
      size += bytesRead;
    }
  } finally {
    await handle.close();
  }
  const sha256 = hash.digest('hex');
  checkUnchanged(ref, field, size, sha256);
  return { path: ref.path, size, sha256 };
}

async function statRecordedFile(ref: FileRef, field: string, check?: (size: number) => void): Promise<void> {
  const info = await stat(ref.path).catch((error: NodeJS.ErrnoException) => {
    throw new DataError(`${field}: cannot read ${ref.path}: ${error.code === 'ENOENT' ? 'no such file' : (error.code ?? error.message)}`);
  });
  if (!info.isFile()) throw new DataError(`${field}: ${ref.path} is not a regular file`);
  if (ref.bytes === undefined || ref.bytes === info.size) check?.(info.size);
}

function checkUnchanged(ref: FileRef, field: string, size: number, sha256: string): void {
  if ((ref.bytes !== undefined && ref.bytes !== size) || (ref.sha256 !== undefined && ref.sha256 !== sha256)) {
    const was = [ref.bytes !== undefined ? `${ref.bytes} bytes` : null, ref.sha256 ? `sha256 ${ref.sha256.slice(0, 12)}…` : null].filter(Boolean).join(', ');
    throw new DataError(
      `${field}: ${ref.path} has changed since the run recorded it (${was}; now ${size} bytes, sha256 ${sha256.slice(0, 12)}…): ` +
        'put the original file back, or start a new run on the new one',
    );
  }
}

/** `ref` with its path made absolute against `baseDir` (a bare string is a path). */
export function resolveRef(ref: unknown, baseDir: string): unknown {
  if (typeof ref === 'string') return isAbsolute(ref) ? ref : resolve(baseDir, ref);
  if (typeof ref === 'object' && ref !== null && typeof (ref as FileRef).path === 'string') {
    const r = ref as FileRef;
    return { ...r, path: isAbsolute(r.path) ? r.path : resolve(baseDir, r.path) };
  }
  return ref;
}

/** Makes the file paths of a raw (unvalidated) configuration absolute against `baseDir`, in place. */
export function resolveConfigPaths(raw: Record<string, unknown>, baseDir: string): void {
  const ds = raw.dataset as Record<string, unknown> | undefined;
  if (ds && typeof ds === 'object' && ds.kind === 'file') {
    if (ds.inputs !== undefined) ds.inputs = resolveRef(ds.inputs, baseDir);
    if (ds.targets !== undefined) ds.targets = resolveRef(ds.targets, baseDir);
  }
  if (raw.initFrom !== undefined) raw.initFrom = resolveRef(raw.initFrom, baseDir);
}

type FileDataset = Extract<RunConfig['dataset'], { kind: 'file' }>;

/** A raw (unvalidated) file reference as a FileRef; ConfigError naming `field` when it is not one. */
export function fileRefOf(raw: unknown, field = 'initFrom'): FileRef {
  if (typeof raw === 'string') return { path: raw };
  if (typeof raw === 'object' && raw !== null && typeof (raw as FileRef).path === 'string') return raw as FileRef;
  throw new ConfigError([{ path: field, message: field.startsWith('dataset.') ? 'is required: the path of a .npy or .csv file' : 'is required: a file path' }]);
}

interface LoadedFiles extends UserData {
  inputs: ReadFile;
  targets?: ReadFile;
}

async function loadFiles(ds: Partial<FileDataset>, hints: TaskHints): Promise<LoadedFiles> {
  const read = (raw: unknown, field: string) => {
    const ref = fileRefOf(raw, field);
    // Before reading, the format is known by the extension only; anything but .npy gets the CSV bound (the larger).
    return readRecordedFile(ref, field, (size) => checkFileSize(ref.path, /\.npy$/i.test(ref.path) ? 'npy' : 'csv', size));
  };
  const inputs = await read(ds.inputs, 'dataset.inputs');
  const targets = ds.targets === undefined ? undefined : await read(ds.targets, 'dataset.targets');
  return { ...parseFiles(ds, inputs, targets, hints), inputs, targets };
}

function parseFiles(ds: Partial<FileDataset>, inputs: ReadFile, targets: ReadFile | undefined, hints: TaskHints): UserData {
  return userDataset(
    { name: inputs.path, bytes: inputs.bytes },
    targets && { name: targets.path, bytes: targets.bytes },
    { labelColumn: ds.labelColumn, header: ds.header, delimiter: ds.delimiter },
    hints,
  );
}

const record = (f: ReadFile): FileRef => ({ path: f.path, bytes: f.size, sha256: f.sha256 });

/**
 * For a raw configuration (after presets, --set and flags, before validation) with a file data set: reads the
 * files, records their size and SHA-256, and fills inputSize, outputSize and loss where the configuration leaves
 * them out (see src/data/user-data.ts for the rules). Paths must be absolute already (resolveConfigPaths).
 * Returns one-line notes for the user (a detected CSV header) and the data set. Other data sets: nothing to do.
 */
export async function completeFileConfig(raw: Record<string, unknown>): Promise<{ notes: string[]; dataset: Dataset | null }> {
  const ds = raw.dataset as Record<string, unknown> | undefined;
  if (!ds || typeof ds !== 'object' || ds.kind !== 'file') return { notes: [], dataset: null };
  const loss = raw.loss === 'softmax_ce' || raw.loss === 'mse' ? raw.loss : undefined;
  const outputSize = typeof raw.outputSize === 'number' ? raw.outputSize : undefined;
  const loaded = await loadFiles(ds as Partial<FileDataset>, { loss, outputSize });
  raw.dataset = { ...ds, inputs: record(loaded.inputs), ...(loaded.targets ? { targets: record(loaded.targets) } : {}) };
  raw.inputSize ??= loaded.inputSize;
  raw.outputSize ??= loaded.outputSize;
  raw.loss ??= loaded.loss;
  return { notes: loaded.notes, dataset: loaded.dataset };
}

/**
 * A validated configuration whose data files carry their size and hash (recorded now if they do not yet): what a
 * run folder's config.json must hold so that resuming can tell a changed file.
 */
export async function withRecordedFiles(config: RunConfig): Promise<RunConfig> {
  const ds = config.dataset;
  if (ds.kind !== 'file' || (ds.inputs?.sha256 && (!ds.targets || ds.targets.sha256))) return config;
  const loaded = await loadFiles(ds, { loss: config.loss, outputSize: config.outputSize });
  return { ...config, dataset: { ...ds, inputs: record(loaded.inputs), ...(loaded.targets ? { targets: record(loaded.targets) } : {}) } };
}

/** The last file data set parsed, kept so that a sweep's points (and a device loss) do not parse it again. */
let cached: { key: string; dataset: Dataset } | null = null;

/**
 * A run's data set and probe set: generated from the seed, or read from its files (which must match the recorded
 * size and hash: they are read and hashed every time, only the parsing is saved) and checked against the
 * configuration (ConfigError naming the field).
 */
export async function runDataOf(config: RunConfig): Promise<{ dataset: Dataset; probe: ProbeSet }> {
  const ds = config.dataset;
  if (ds.kind !== 'file') return runData(config);
  const hints = { loss: config.loss, outputSize: config.outputSize };
  const inputs = await readRecordedFile(fileRefOf(ds.inputs, 'dataset.inputs'), 'dataset.inputs');
  const targets = ds.targets === undefined ? undefined : await readRecordedFile(fileRefOf(ds.targets, 'dataset.targets'), 'dataset.targets');
  const key = JSON.stringify([inputs.sha256, targets?.sha256, ds.labelColumn, ds.header, ds.delimiter, hints]);
  let dataset: Dataset;
  if (cached?.key === key) dataset = cached.dataset;
  else {
    dataset = parseFiles(ds, inputs, targets, hints).dataset;
    cached = { key, dataset };
  }
  checkDatasetForConfig(dataset, config);
  // The same probe rule as generated data sets: snapshot.probe resolved against the user's row count.
  return { dataset, probe: probeSet(dataset, probeRowsFor(config.snapshot, dataset.samples).rows, config.seed) };
}
