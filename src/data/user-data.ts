// The user's own data set, from the bytes of one or two files (.npy or .csv), for every host: the CLI reads them
// from disk (src/cli/data-files.ts), the page from a dropped file in its Worker. Browser-safe.
//
// What the run learns from the files, and the rule for each:
// - inputSize: the inputs' columns.
// - the task: the configured loss when there is one (softmax_ce: integer class labels; mse: float values); else
//   integer or bool targets are classes, targets with a fraction (or several columns) are values, and whole numbers
//   stored as floats (or in a CSV) are ambiguous: the message asks for `loss`.
// - outputSize: the classes (largest label + 1) or the target columns; a configured outputSize must agree.
import { ConfigError, DATASET_MAX_VALUES, type LossKind } from '../config/schema';
import { parseCsv, type CsvTable } from './csv';
import { type ArrayInput, DataError, type Dataset, datasetFromArrays, fmtShape } from './dataset';
import { parseNpy, type NpyDtype } from './npy';

/** One file's contents and the name messages use (its extension picks the format). */
export interface DataFile {
  name: string;
  bytes: Uint8Array;
}

/** The CSV options of a file data set (config dataset.{labelColumn, header, delimiter}). */
export interface CsvReadOptions {
  labelColumn?: number | string;
  header?: boolean | 'auto';
  delimiter?: string;
}

/** What the configuration already says, when the user set it: the rest is inferred. */
export interface TaskHints {
  loss?: LossKind;
  outputSize?: number;
}

export interface UserData {
  dataset: Dataset;
  inputSize: number;
  outputSize: number;
  loss: LossKind;
  /** One line each about what was read or assumed (a detected CSV header), for the host to show. */
  notes: string[];
}

export type DataFormat = 'npy' | 'csv';

const NPY_MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];

/** .npy or .csv (also .tsv / .txt), by extension, else by the .npy magic bytes. */
export function dataFormat(file: DataFile): DataFormat {
  const ext = /\.([A-Za-z0-9]+)$/.exec(file.name)?.[1]?.toLowerCase();
  if (ext === 'npy') return 'npy';
  if (ext === 'csv' || ext === 'tsv' || ext === 'txt') return 'csv';
  if (NPY_MAGIC.every((b, i) => file.bytes[i] === b)) return 'npy';
  throw new DataError(`${file.name}: not a .npy or .csv file (name it .npy or .csv; NumPy: np.save('x.npy', a))`);
}

/** Bytes a file may have before it is even read, so a huge file is refused with numbers before any allocation. */
export function maxFileBytes(format: DataFormat, maxValues = DATASET_MAX_VALUES): number {
  // .npy: 8 bytes per value at most (float64 / int64) plus its header; CSV: a generous 32 characters per value.
  return format === 'npy' ? maxValues * 8 + 65_536 : maxValues * 32;
}

/** Throws DataError with the numbers when a file of `bytes` cannot hold a data set within the limit. */
export function checkFileSize(name: string, format: DataFormat, bytes: number, maxValues = DATASET_MAX_VALUES): void {
  const max = maxFileBytes(format, maxValues);
  if (bytes > max) {
    throw new DataError(
      `${name}: ${formatBytes(bytes)} is too big: a data set holds at most ${maxValues} values (${formatBytes(maxValues * 4)} of float32), ` +
        `which ${format === 'npy' ? 'a .npy file' : 'a CSV file'} of at most ${formatBytes(max)} can hold`,
    );
  }
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)} MiB`;
  return `${(n / 1024 ** 3).toFixed(2)} GiB`;
}

/** An array as read from a file, with what its storage says about the values (integer dtype or not). */
interface ReadArray extends ArrayInput {
  data: Float32Array;
  shape: number[];
  /** The .npy dtype, or 'csv'. */
  dtype: NpyDtype | 'csv';
  /** Where the values came from, for messages: `y.npy` or `data.csv (column "label")`. */
  what: string;
}

const INTEGER_DTYPES: readonly string[] = ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'bool'];

function readNpy(file: DataFile, maxValues: number): ReadArray {
  const a = parseNpy(file.bytes, { name: file.name, maxValues });
  return { data: a.data, shape: a.shape, dtype: a.dtype, what: file.name };
}

function readCsv(file: DataFile, options: CsvReadOptions, labelColumn: number | string | null, maxValues: number, notes: string[]): CsvTable {
  const text = new TextDecoder('utf-8', { fatal: false }).decode(file.bytes);
  const table = parseCsv(text, { name: file.name, header: options.header, delimiter: options.delimiter, labelColumn, maxValues });
  if (table.header && (options.header === undefined || options.header === 'auto')) {
    const names = table.labelName === null ? table.header : [...table.header, table.labelName];
    notes.push(`${file.name}: line 1 read as a header (${names.join(', ')}); set header false (--header no) if it is data`);
  }
  return table;
}

/** The inputs and targets arrays of the files (targets: the second file, or the CSV's label column). */
export function readDataFiles(
  inputs: DataFile,
  targets: DataFile | undefined,
  options: CsvReadOptions = {},
  maxValues = DATASET_MAX_VALUES,
): { x: ReadArray; y: ReadArray; notes: string[] } {
  const notes: string[] = [];
  const inputFormat = dataFormat(inputs);
  if (!targets) {
    if (inputFormat === 'npy')
      throw new ConfigError([
        {
          path: 'dataset.targets',
          message: `is required with .npy inputs (${inputs.name}): the targets file (--targets y.npy), or use one CSV with a label column`,
        },
      ]);
    const table = readCsv(inputs, options, options.labelColumn ?? -1, maxValues, notes);
    const label = table.labelName === null ? `the label column (${options.labelColumn ?? -1})` : `column "${table.labelName}"`;
    return {
      x: { data: table.inputs, shape: [table.samples, table.columns], dtype: 'csv', what: inputs.name },
      y: { data: table.labels!, shape: [table.samples], dtype: 'csv', what: `${inputs.name}, ${label}` },
      notes,
    };
  }
  if (options.labelColumn !== undefined)
    throw new ConfigError([{ path: 'dataset.labelColumn', message: `applies to a CSV without a targets file; the targets come from ${targets.name}` }]);
  const readOne = (file: DataFile): ReadArray => {
    if (dataFormat(file) === 'npy') return readNpy(file, maxValues);
    const table = readCsv(file, options, null, maxValues, notes);
    return { data: table.inputs, shape: [table.samples, table.columns], dtype: 'csv', what: file.name };
  };
  const x = readOne(inputs);
  const y = readOne(targets);
  // A one-column targets CSV is a label vector, as a 1-D .npy would be.
  if (y.dtype === 'csv' && y.shape[1] === 1) y.shape = [y.shape[0]];
  return { x, y, notes };
}

/** Classification or regression, from the configured loss or the targets themselves; ConfigError on `loss` when unclear. */
export function inferTask(y: ReadArray, loss: LossKind | undefined): LossKind {
  if (loss) return loss;
  const columns = y.shape.length === 2 ? y.shape[1] : 1;
  if (columns > 1) return 'mse';
  if (INTEGER_DTYPES.includes(y.dtype)) return 'softmax_ce';
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < y.data.length; i++) {
    const v = y.data[i];
    if (!Number.isInteger(v)) return 'mse';
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const stored = y.dtype === 'csv' ? 'in a CSV' : `as ${y.dtype}`;
  const classes = min >= 0 ? ` as ${max + 1} classes` : '';
  throw new ConfigError([
    {
      path: 'loss',
      message:
        `the targets (${y.what}) are whole numbers from ${min} to ${max} stored ${stored}: classes or values? ` +
        `Set loss to "softmax_ce" to read them${classes}, or "mse" to fit them as values (e.g. --set loss=softmax_ce)`,
    },
  ]);
}

/**
 * The data set of a file data set, and the inputSize / outputSize / loss it implies. `hints` are the fields the
 * configuration already sets; a classification outputSize larger than the labels need is kept (unused classes).
 */
export function userDataset(inputs: DataFile, targets: DataFile | undefined, options: CsvReadOptions = {}, hints: TaskHints = {}): UserData {
  const { x, y, notes } = readDataFiles(inputs, targets, options);
  const loss = inferTask(y, hints.loss);
  const name = targets ? `${inputs.name} + ${targets.name}` : inputs.name;
  if (x.shape.length !== 2)
    throw new DataError(`${inputs.name}: inputs must be 2-D [samples, features], got shape ${fmtShape(x.shape)} (reshape with a.reshape(len(a), -1))`);
  if (loss === 'softmax_ce') {
    let classes: number | undefined = hints.outputSize;
    if (classes !== undefined) {
      for (let i = 0; i < y.data.length; i++) {
        if (y.data[i] >= classes)
          throw new ConfigError([
            { path: 'outputSize', message: `${classes} classes, but ${y.what} has label ${y.data[i]} at row ${i} (labels go from 0 to outputSize - 1)` },
          ]);
      }
    }
    const dataset = datasetFromArrays(x, y, { kind: 'classification', classes, name });
    return { dataset, inputSize: dataset.inputSize, outputSize: dataset.outputSize, loss, notes };
  }
  const dataset = datasetFromArrays(x, y, { kind: 'regression', name });
  if (hints.outputSize !== undefined && hints.outputSize !== dataset.outputSize)
    throw new ConfigError([{ path: 'outputSize', message: `${hints.outputSize} does not match the ${dataset.outputSize} target columns of ${y.what}` }]);
  return { dataset, inputSize: dataset.inputSize, outputSize: dataset.outputSize, loss, notes };
}
