// The page's own data sets, in the Worker: the bytes of a dropped or chosen .npy / .csv file come in, are hashed
// (SHA-256) and parsed here (src/data/user-data.ts, as the CLI does), and the data set stays here for the runs that
// name it by hash (config dataset.inputs.sha256). A file too big is refused from its size before it is parsed, and a
// data set too big for the adapter before anything is allocated on the GPU, each with the numbers.
import { type DatasetConfig, type FileRef, type LossKind, probeRowsFor, type RunConfig } from '../../config';
import { checkDatasetForConfig, checkFileSize, DataError, dataFormat, formatBytes, probeSet, userDataset, type Dataset, type ProbeSet } from '../../data';

export interface DataFilePayload {
  /** The file's name (no folders): shown in messages and recorded as its path. */
  name: string;
  bytes: ArrayBuffer;
}

export interface DataLoadRequest {
  inputs: DataFilePayload;
  targets?: DataFilePayload;
  labelColumn?: number | string;
  header?: boolean | 'auto';
  /** What the configuration already fixes (else inferred from the files). */
  loss?: LossKind;
  outputSize?: number;
}

export type FileDatasetConfig = Extract<DatasetConfig, { kind: 'file' }>;

/** What the page needs to build a configuration on the loaded data. */
export interface DataLoadSummary {
  dataset: FileDatasetConfig;
  inputSize: number;
  outputSize: number;
  loss: LossKind;
  samples: number;
  notes: string[];
}

export async function sha256Hex(bytes: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Which parse of which files: the hashes, the CSV options and the task (the loss). */
const key = (inputs: string, targets: string | undefined, d: Pick<FileDatasetConfig, 'labelColumn' | 'header'>, loss: LossKind) =>
  JSON.stringify([inputs, targets ?? null, d.labelColumn ?? null, d.header ?? null, loss]);

export class UserDataStore {
  private readonly datasets = new Map<string, Dataset>();

  /** `maxBinding`: the adapter's largest storage binding in bytes (null before there is a device). */
  constructor(private readonly maxBinding: () => number | null) {}

  /** Hashes and parses the files; keeps the data set for runs that name it. Throws DataError / ConfigError naming the file or field. */
  async load(request: DataLoadRequest): Promise<DataLoadSummary> {
    const files = [request.inputs, ...(request.targets ? [request.targets] : [])];
    for (const f of files)
      checkFileSize(f.name, dataFormat({ name: f.name, bytes: new Uint8Array(f.bytes, 0, Math.min(8, f.bytes.byteLength)) }), f.bytes.byteLength);
    const [inputsSha, targetsSha] = await Promise.all(files.map((f) => sha256Hex(f.bytes)));
    const data = userDataset(
      { name: request.inputs.name, bytes: new Uint8Array(request.inputs.bytes) },
      request.targets && { name: request.targets.name, bytes: new Uint8Array(request.targets.bytes) },
      { labelColumn: request.labelColumn, header: request.header },
      { loss: request.loss, outputSize: request.outputSize },
    );
    this.checkFits(data.dataset, request.inputs.name);
    const ref = (f: DataFilePayload, sha256: string): FileRef => ({ path: f.name, bytes: f.bytes.byteLength, sha256 });
    const dataset: FileDatasetConfig = {
      kind: 'file',
      name: request.inputs.name,
      inputs: ref(request.inputs, inputsSha),
      ...(request.targets ? { targets: ref(request.targets, targetsSha) } : {}),
      ...(request.labelColumn !== undefined ? { labelColumn: request.labelColumn } : {}),
      ...(request.header !== undefined ? { header: request.header } : {}),
    };
    this.datasets.set(key(inputsSha, targetsSha, dataset, data.loss), data.dataset);
    return { dataset, inputSize: data.inputSize, outputSize: data.outputSize, loss: data.loss, samples: data.dataset.samples, notes: data.notes };
  }

  /** Whether a run of `config` can start here (its files were loaded in this Worker). */
  has(config: RunConfig): boolean {
    return this.find(config) !== undefined;
  }

  /** The data set and probe set of a file run; DataError naming the file when it was not loaded. */
  runData(config: RunConfig): { dataset: Dataset; probe: ProbeSet } {
    const dataset = this.find(config);
    if (!dataset) {
      const d = config.dataset as FileDatasetConfig;
      const sha = d.inputs?.sha256 ? ` (SHA-256 ${d.inputs.sha256.slice(0, 12)}…)` : '';
      throw new DataError(`${d.inputs?.path ?? d.name}${sha} is not loaded: choose or drop the file again`);
    }
    checkDatasetForConfig(dataset, config);
    return { dataset, probe: probeSet(dataset, probeRowsFor(config.snapshot, dataset.samples).rows, config.seed) };
  }

  private find(config: RunConfig): Dataset | undefined {
    const d = config.dataset;
    if (d.kind !== 'file' || !d.inputs?.sha256) return undefined;
    const dataset = this.datasets.get(key(d.inputs.sha256, d.targets?.sha256, d, config.loss));
    // More classes than the labels use is a choice of the configuration (the extra outputs are never the target).
    if (dataset?.kind === 'classification' && config.outputSize > dataset.outputSize) return { ...dataset, outputSize: config.outputSize };
    return dataset;
  }

  /** The data set is one storage binding on the GPU: refuse it here, with the numbers, rather than fail to allocate. */
  private checkFits(dataset: Dataset, name: string): void {
    const max = this.maxBinding();
    if (max === null) return;
    const bytes = dataset.samples * Math.max(dataset.inputSize, dataset.kind === 'regression' ? dataset.outputSize : 1) * 4;
    if (bytes > max)
      throw new DataError(
        `${name}: ${dataset.samples} rows × ${dataset.inputSize} features = ${formatBytes(bytes)} of float32, more than this adapter's largest storage buffer (${formatBytes(max)}): use fewer rows or features`,
      );
  }
}
