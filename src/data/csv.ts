// Numeric CSV: one sample per line, an optional header, one column chosen as the label (or none).
// Deliberately small: fields are separated by one delimiter (',' ';' or tab, detected from the first line unless
// given), surrounding double quotes are stripped, quoted delimiters are not supported. Blank lines and lines
// starting with '#' are skipped. Errors name the 1-based line and column, as a text editor shows them.

import { DATASET_MAX_VALUES } from '../config/schema';
import { DataError } from './dataset';

export interface CsvOptions {
  /** Shown in error messages (default 'data.csv'). */
  name?: string;
  /**
   * true: the first line is a header; false: it is data; 'auto' (default): a header only when none of its fields
   * reads as a value (a number, NaN or infinity), so a first data row with a NaN or a typo is an error, never dropped.
   */
  header?: boolean | 'auto';
  /** The label column: 0-based index (negative counts from the end), header name, or null for none. Default -1 (last). */
  labelColumn?: number | string | null;
  /** Default: detected from the first line (',' then ';' then tab). */
  delimiter?: string;
  /** Largest samples × columns accepted (default DATASET_MAX_VALUES). */
  maxValues?: number;
}

export interface CsvTable {
  /** [samples, columns] row-major, the label column removed. */
  inputs: Float32Array;
  /** [samples] the label column, or null when labelColumn is null. */
  labels: Float32Array | null;
  samples: number;
  columns: number;
  /** Header names of the input columns (null without a header). */
  header: string[] | null;
  labelName: string | null;
}

const NUMBER_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NONFINITE_RE = /^[+-]?(?:nan|inf|infinity)$/i;

function splitLine(line: string, delimiter: string): string[] {
  return line.split(delimiter).map((f) => {
    const t = f.trim();
    return t.length >= 2 && t.startsWith('"') && t.endsWith('"') ? t.slice(1, -1).trim() : t;
  });
}

/**
 * A header names columns: no field may read as a value. Taking a row as a header drops it, so any number, NaN or
 * infinity makes the row data (a bad cell in it is then an error naming line and column); empty fields are allowed
 * (pandas writes one above its index column) as long as one field has text.
 */
function looksLikeHeader(fields: string[]): boolean {
  return fields.some((f) => f !== '') && fields.every((f) => f === '' || (!NUMBER_RE.test(f) && !NONFINITE_RE.test(f)));
}

/** Parse numeric CSV text. Throws DataError naming line and column for every malformed cell. */
export function parseCsv(text: string, options: CsvOptions = {}): CsvTable {
  const name = options.name ?? 'data.csv';
  const maxValues = options.maxValues ?? DATASET_MAX_VALUES;
  const lines: { no: number; text: string }[] = [];
  text.split(/\r?\n/).forEach((t, i) => {
    if (t.trim() !== '' && !t.trimStart().startsWith('#')) lines.push({ no: i + 1, text: t });
  });
  if (lines.length === 0) throw new DataError(`${name}: no data (the file is empty)`);
  const first = lines[0].text;
  const delimiter = options.delimiter ?? [',', ';', '\t'].find((d) => first.includes(d)) ?? ',';
  const firstFields = splitLine(first, delimiter);
  const auto = options.header === 'auto' || options.header === undefined;
  const hasHeader = auto ? looksLikeHeader(firstFields) : options.header;
  const header = hasHeader ? firstFields : null;
  const rows = hasHeader ? lines.slice(1) : lines;
  const width = firstFields.length;
  if (rows.length === 0) throw new DataError(`${name}: no data rows after the header`);
  if (rows.length * width > maxValues)
    throw new DataError(`${name}: ${rows.length} rows × ${width} columns = ${rows.length * width} values, over the limit of ${maxValues}`);

  let label: number | null;
  const lc = options.labelColumn === undefined ? -1 : options.labelColumn;
  if (lc === null) label = null;
  else if (typeof lc === 'string') {
    if (!header) throw new DataError(`${name}: label column "${lc}" given by name, but the file has no header`);
    label = header.indexOf(lc);
    if (label < 0) throw new DataError(`${name}: no column named "${lc}" (columns: ${header.join(', ')})`);
  } else {
    if (!Number.isInteger(lc) || lc >= width || lc < -width)
      throw new DataError(`${name}: label column ${lc} is not in [${-width}, ${width - 1}] (${width} columns)`);
    label = lc < 0 ? width + lc : lc;
  }
  const columns = label === null ? width : width - 1;
  if (columns < 1) throw new DataError(`${name}: no input columns left besides the label column`);

  const inputs = new Float32Array(rows.length * columns);
  const labels = label === null ? null : new Float32Array(rows.length);
  const colName = (c: number) => (header ? ` ("${header[c]}")` : '');
  rows.forEach((row, r) => {
    const fields = splitLine(row.text, delimiter);
    if (fields.length !== width) throw new DataError(`${name}: line ${row.no} has ${fields.length} fields, expected ${width}`);
    let k = r * columns;
    fields.forEach((f, c) => {
      if (f === '') throw new DataError(`${name}: line ${row.no}, column ${c + 1}${colName(c)}: empty field (missing value)`);
      // Line 1 read as data may be a header with a column named "nan" or "inf": say how to read it as one.
      const hint = auto && r === 0 && !hasHeader ? ' (if line 1 is a header, say so: header true, or --header yes)' : '';
      if (NONFINITE_RE.test(f))
        throw new DataError(`${name}: line ${row.no}, column ${c + 1}${colName(c)}: ${f} (NaN or infinity); data must be finite${hint}`);
      if (!NUMBER_RE.test(f)) {
        throw new DataError(`${name}: line ${row.no}, column ${c + 1}${colName(c)}: ${JSON.stringify(f)} is not a number${hint}`);
      }
      const v = Number(f);
      if (!Number.isFinite(Math.fround(v))) throw new DataError(`${name}: line ${row.no}, column ${c + 1}${colName(c)}: ${f} does not fit in float32`);
      if (c === label) labels![r] = v;
      else inputs[k++] = v;
    });
  });
  return {
    inputs,
    labels,
    samples: rows.length,
    columns,
    header: header ? header.filter((_, c) => c !== label) : null,
    labelName: header && label !== null ? header[label] : null,
  };
}

/** The table as arrays for datasetFromArrays: x = [samples, columns], y = [samples] (labelColumn must not be null). */
export function csvArrays(table: CsvTable): { x: { data: Float32Array; shape: [number, number] }; y: { data: Float32Array; shape: [number] } } {
  if (!table.labels) throw new DataError('the CSV table has no label column (labelColumn was null)');
  return { x: { data: table.inputs, shape: [table.samples, table.columns] }, y: { data: table.labels, shape: [table.samples] } };
}
