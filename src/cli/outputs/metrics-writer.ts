// Node-only: metrics.jsonl (and metrics.csv) of a run, appended one row per snapshot as the run goes.
// Each row is one write of a whole '\n'-terminated line, so a crash can leave at most an unterminated last
// line; readers ignore it and a resume cuts the files back to the rows its checkpoint covers.
import { open, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { writeFileAtomicWith, writeFully } from '../../io/atomic-file';
import { openRegularFile, readFully } from '../../io/regular-file';
import { metricsCsvHeader, metricsFromJsonLine, metricsToCsvLine, metricsToJsonLine, type MetricsRow } from '../../report/metrics';

export class MetricsWriter {
  private constructor(
    private readonly jsonl: FileHandle,
    private readonly csv: FileHandle | null,
  ) {}

  /** Opens the files for appending; a new CSV file gets its header first. */
  static async open(paths: { metrics: string; csv: string }, options: { csv: boolean; layerCount: number }): Promise<MetricsWriter> {
    const jsonl = await open(paths.metrics, 'a');
    let csv: FileHandle | null = null;
    if (options.csv) {
      csv = await open(paths.csv, 'a');
      if ((await csv.stat()).size === 0) await csv.write(metricsCsvHeader(options.layerCount) + '\n');
    }
    return new MetricsWriter(jsonl, csv);
  }

  async append(row: MetricsRow): Promise<void> {
    await this.jsonl.write(metricsToJsonLine(row) + '\n');
    if (this.csv) await this.csv.write(metricsToCsvLine(row) + '\n');
  }

  async close(): Promise<void> {
    await this.jsonl.close();
    await this.csv?.close();
  }
}

/**
 * metrics.jsonl opened for reading, or null when there is none. Only a regular file is read: a FIFO put in its
 * place would block a resume forever, a device would be read without end (InputFileError instead). `endsWithNewline`
 * tells whether its last line is complete (a crash mid-write leaves it unterminated).
 */
async function openMetrics(path: string): Promise<{ handle: FileHandle; endsWithNewline: boolean } | null> {
  let opened: { handle: FileHandle; size: number };
  try {
    opened = await openRegularFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
  const { handle, size } = opened;
  try {
    if (size === 0) return { handle, endsWithNewline: false };
    const last = new Uint8Array(1);
    await readFully(handle, last, 0, 1, size - 1, path);
    return { handle, endsWithNewline: last[0] === 0x0a };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/**
 * The complete lines of an open metrics.jsonl with their 1-based numbers, streamed from the start of the file
 * (never the whole file in memory: it can outgrow a string). An unterminated last line (a crash mid-write) is skipped.
 */
async function* completeLines(file: { handle: FileHandle; endsWithNewline: boolean }): AsyncGenerator<{ line: string; lineNumber: number }> {
  const stream = file.handle.createReadStream({ encoding: 'utf8', start: 0, autoClose: false });
  let pending: string | null = null;
  let lineNumber = 0;
  try {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    // readline also yields an unterminated last line; hold each line back until the next one proves it ended.
    for await (const line of lines) {
      if (pending !== null) yield { line: pending, lineNumber };
      pending = line;
      lineNumber++;
    }
    if (pending !== null && file.endsWithNewline) yield { line: pending, lineNumber };
  } finally {
    stream.destroy();
  }
}

/**
 * Every complete row of a metrics.jsonl file, streamed (a 10^7-step run has 10^5 rows: never all in memory).
 * An unterminated last line (a crash mid-write) is skipped; a malformed complete line is an error naming its line.
 */
export async function* readMetricsRows(path: string): AsyncGenerator<MetricsRow> {
  const file = await openMetrics(path);
  if (!file) return;
  try {
    for await (const { line, lineNumber } of completeLines(file)) yield parse(line, lineNumber, path);
  } finally {
    await file.handle.close();
  }
}

/** A complete line of metrics.jsonl that is not a metrics row (edited or damaged by hand or by a tool). */
export class MetricsFileError extends Error {
  override name = 'MetricsFileError';
  constructor(
    readonly path: string,
    readonly line: number,
    reason: string,
  ) {
    super(`${path} line ${line}: ${reason}. Restore that line, or delete it and every line after it (a resume writes them again from its checkpoint)`);
  }
}

function parse(line: string, lineNumber: number, path: string): MetricsRow {
  try {
    return metricsFromJsonLine(line);
  } catch (error) {
    throw new MetricsFileError(path, lineNumber, (error as Error).message);
  }
}

/**
 * Cuts metrics.jsonl (and metrics.csv, rebuilt from the kept rows) back to the rows of steps <= `step`,
 * atomically: what a resume from the checkpoint at `step` will produce again is removed, so that the files end
 * up as an uninterrupted run's (apart from the timing fields). Returns the number of rows kept.
 */
export async function truncateMetrics(paths: { metrics: string; csv: string }, step: number, options: { csv: boolean; layerCount: number }): Promise<number> {
  const file = await openMetrics(paths.metrics);
  let kept = 0;
  // Both files are written as they are read, in batches: memory stays bounded however long the run was.
  const copy = async (jsonl: FileHandle, csv: FileHandle | null) => {
    const out = new LineBatches(jsonl);
    const csvOut = csv ? new LineBatches(csv) : null;
    await csvOut?.add(metricsCsvHeader(options.layerCount));
    if (file) {
      for await (const { line, lineNumber } of completeLines(file)) {
        const row = parse(line, lineNumber, paths.metrics);
        if (row.step > step) break;
        kept++;
        await out.add(line);
        await csvOut?.add(metricsToCsvLine(row));
      }
    }
    await out.flush();
    await csvOut?.flush();
  };
  try {
    await writeFileAtomicWith(paths.metrics, (jsonl) => (options.csv ? writeFileAtomicWith(paths.csv, (csv) => copy(jsonl, csv)) : copy(jsonl, null)));
  } finally {
    await file?.handle.close();
  }
  return kept;
}

/** Lines appended to a file in writes of about BATCH_CHARS characters. */
class LineBatches {
  private static readonly BATCH_CHARS = 1 << 20;
  private lines: string[] = [];
  private chars = 0;
  private position = 0;

  constructor(private readonly handle: FileHandle) {}

  async add(line: string): Promise<void> {
    this.lines.push(line);
    this.chars += line.length + 1;
    if (this.chars >= LineBatches.BATCH_CHARS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.lines.length === 0) return;
    const bytes = new TextEncoder().encode(this.lines.map((l) => l + '\n').join(''));
    await writeFully(this.handle, bytes, this.position);
    this.position += bytes.length;
    this.lines = [];
    this.chars = 0;
  }
}
