// Node-only: metrics.jsonl (and metrics.csv) of a run, appended one row per snapshot as the run goes.
// Each row is one write of a whole '\n'-terminated line, so a crash can leave at most an unterminated last
// line; readers ignore it and a resume cuts the files back to the rows its checkpoint covers.
import { createReadStream } from 'node:fs';
import { open, readFile, type FileHandle } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { writeFileAtomic } from '../../io/atomic-file';
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
 * Every complete row of a metrics.jsonl file, streamed (a 10^7-step run has 10^5 rows: never all in memory).
 * An unterminated last line (a crash mid-write) is skipped; a malformed complete line is an error naming its line.
 */
export async function* readMetricsRows(path: string): AsyncGenerator<MetricsRow> {
  const stream = createReadStream(path, { encoding: 'utf8' });
  let pending: string | null = null;
  let lineNumber = 0;
  try {
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    // readline also yields an unterminated last line; hold each line back until the next one proves it ended.
    for await (const line of lines) {
      if (pending !== null) yield parse(pending, lineNumber, path);
      pending = line;
      lineNumber++;
    }
    if (pending !== null && (await endsWithNewline(path))) yield parse(pending, lineNumber, path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  } finally {
    stream.destroy();
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

async function endsWithNewline(path: string): Promise<boolean> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    await handle.read(last, 0, 1, size - 1);
    return last[0] === 0x0a;
  } finally {
    await handle.close();
  }
}

/**
 * Cuts metrics.jsonl (and metrics.csv, rebuilt from the kept rows) back to the rows of steps <= `step`,
 * atomically: what a resume from the checkpoint at `step` will produce again is removed, so that the files end
 * up as an uninterrupted run's (apart from the timing fields). Returns the number of rows kept.
 */
export async function truncateMetrics(paths: { metrics: string; csv: string }, step: number, options: { csv: boolean; layerCount: number }): Promise<number> {
  let text: string;
  try {
    text = await readFile(paths.metrics, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    text = '';
  }
  const kept: string[] = [];
  const csvLines: string[] = [metricsCsvHeader(options.layerCount)];
  const lines = text.split('\n');
  // The last element is '' after a final newline, or an unterminated line: dropped either way.
  for (let i = 0; i < lines.length - 1; i++) {
    const row = parse(lines[i], i + 1, paths.metrics);
    if (row.step > step) break;
    kept.push(lines[i]);
    csvLines.push(metricsToCsvLine(row));
  }
  await writeFileAtomic(paths.metrics, new TextEncoder().encode(kept.map((l) => l + '\n').join('')));
  if (options.csv) await writeFileAtomic(paths.csv, new TextEncoder().encode(csvLines.join('\n') + '\n'));
  return kept.length;
}
