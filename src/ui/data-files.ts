// The page's side of the user's own data files: read the chosen or dropped files, keep them in this browser
// (./file-store.ts, by SHA-256), hand copies to the engine Worker (which parses them, ./worker/user-data-store.ts)
// and turn its answer into a run configuration. A URL that names files by hash gets them back from the browser, or
// a message that asks for each missing file by name.
import { parseRunConfig, type RunConfig } from '../config';
import type { DataFilesDetail } from './panels/config-form';
import { findFile, keepFile, type StoredFile } from './file-store';
import type { TrainingController } from './training-controller';
import { sha256Hex, type DataFilePayload, type FileDatasetConfig } from './worker/user-data-store';

/** What came of a load: the configuration to run (absent when it failed or waits for a file) and a line for the user. */
export interface DataFilesOutcome {
  config?: RunConfig;
  message: string;
}

const keyOf = (d: FileDatasetConfig) => `${d.inputs?.sha256}:${d.targets?.sha256 ?? ''}`;

export class PageDataFiles {
  /** Files the Worker holds (it keeps every data set it parsed). */
  private readonly loaded = new Set<string>();
  /** The files a restored URL named that this browser did not have: chosen again, they keep that run. */
  private wanted: FileDatasetConfig | null = null;

  constructor(private readonly engine: Pick<TrainingController, 'loadData'>) {}

  /** Whether a run of `config` can start: synthetic data, or files the Worker already holds. */
  ready(config: RunConfig): boolean {
    return config.dataset.kind !== 'file' || this.loaded.has(keyOf(config.dataset));
  }

  /** The user chose or dropped files: a new data set (sizes and loss from the files), or the files a URL asked for. */
  async choose(files: DataFilesDetail, base: RunConfig): Promise<DataFilesOutcome> {
    const read = async (f: File): Promise<StoredFile> => {
      const bytes = await f.arrayBuffer();
      return { name: f.name, bytes, sha256: await sha256Hex(bytes) };
    };
    const inputs = await read(files.inputs);
    const targets = files.targets && (await read(files.targets));
    const wanted = this.wanted;
    if (wanted && wanted.inputs?.sha256 === inputs.sha256 && wanted.targets?.sha256 === targets?.sha256 && base.dataset.kind === 'file') {
      return this.load(inputs, targets, base);
    }
    return this.load(inputs, targets, base, true);
  }

  /** A configuration that names files (a URL, an import): from this browser's store, or a message naming what is missing. */
  async restore(config: RunConfig): Promise<DataFilesOutcome> {
    const d = config.dataset;
    if (d.kind !== 'file') return { config, message: '' };
    if (!d.inputs?.sha256) return { message: `Choose or drop the data files (${d.inputs?.path ?? d.name}): inputs, and targets unless a CSV has the labels.` };
    const refs = [d.inputs, d.targets].filter((r) => r !== undefined);
    const found = await Promise.all(refs.map((r) => (r.sha256 ? findFile(r.sha256) : Promise.resolve(null))));
    const missing = refs.filter((_, i) => !found[i]);
    if (missing.length > 0 || !found[0]) {
      this.wanted = d;
      const list = missing.map((r) => `${r.path.replace(/^.*[\\/]/, '')} (${r.bytes ?? '?'} bytes, SHA-256 ${r.sha256?.slice(0, 12) ?? '?'}…)`).join(' and ');
      return { message: `This run trains on ${list}, which this browser does not keep: choose ${missing.length > 1 ? 'them' : 'it'} again.` };
    }
    return this.load(found[0], found[1] ?? undefined, config);
  }

  /**
   * Keeps the files, has the Worker parse them and returns the configuration: `fresh` takes inputSize, outputSize and
   * loss from the files (and a batch no larger than the rows); otherwise `base` must fit them as it is.
   */
  private async load(inputs: StoredFile, targets: StoredFile | undefined, base: RunConfig, fresh = false): Promise<DataFilesOutcome> {
    await Promise.all([inputs, targets].filter((f) => f !== undefined).map((f) => keepFile(f)));
    const d = base.dataset.kind === 'file' ? base.dataset : undefined;
    const copy = (f: StoredFile): DataFilePayload => ({ name: f.name, bytes: f.bytes.slice(0) });
    const answer = await this.engine.loadData({
      inputs: copy(inputs),
      ...(targets ? { targets: copy(targets) } : {}),
      ...(d?.labelColumn !== undefined ? { labelColumn: d.labelColumn } : {}),
      ...(d?.header !== undefined ? { header: d.header } : {}),
      ...(fresh ? {} : { loss: base.loss, outputSize: base.outputSize }),
    });
    if (!answer.ok) return { message: answer.message };
    const s = answer.summary;
    this.loaded.add(keyOf(s.dataset));
    this.wanted = null;
    const config = fresh
      ? parseRunConfig({
          ...base,
          dataset: s.dataset,
          inputSize: s.inputSize,
          outputSize: s.outputSize,
          loss: s.loss,
          batchSize: Math.min(base.batchSize, s.samples),
        })
      : base;
    const what = s.loss === 'softmax_ce' ? `${s.outputSize} classes` : `${s.outputSize} target column${s.outputSize === 1 ? '' : 's'}`;
    const files = [inputs.name, targets?.name].filter(Boolean).join(' + ');
    return { config, message: [`${files}: ${s.samples} rows × ${s.inputSize} features, ${what}.`, ...s.notes].join(' ') };
  }
}
