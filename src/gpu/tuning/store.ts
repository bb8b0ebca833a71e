// What the matmul autotuner keeps between runs: per adapter (vendor, architecture, device, description: the
// driver's version lives there), per kernel-source version and per product shape, the milliseconds each kernel
// configuration took. The choice is derived from the table (./choose.ts), so a later run with a bigger time
// budget can fill in what an earlier one left out. Hosts provide the storage: a file under the user's cache
// folder in Node (./file-store.ts), IndexedDB in the browser (./idb-store.ts), memory in tests.

export const TUNING_FORMAT = 'deadunits-matmul-tuning';
export const TUNING_VERSION = 1;

/** Milliseconds of one product per configuration name; null where the configuration failed to run. */
export type ShapeTimings = Record<string, number | null>;

export interface TuningRecord {
  format: typeof TUNING_FORMAT;
  version: typeof TUNING_VERSION;
  /** The adapter key the record belongs to (see tuningKey). */
  key: string;
  /** Per shape key (see ../kernels/matmul.ts shapeKey), the timings measured so far. */
  shapes: Record<string, ShapeTimings>;
}

export interface TuningStore {
  /** Where the records live, for messages ("~/.cache/deadunits/tuning", "IndexedDB deadunits-tuning"). */
  readonly where: string;
  /** The record of `key`, or null when there is none (or it is unreadable: tuning then starts afresh). */
  load(key: string): Promise<TuningRecord | null>;
  save(record: TuningRecord): Promise<void>;
}

/** The identity of an adapter and of our kernels: records never cross adapters, drivers or kernel versions. */
export interface TuningIdentity {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A digest of the matmul kernels' sources: a changed kernel invalidates what was measured with the old one. */
  kernels: string;
}

export function tuningKey(id: TuningIdentity): string {
  return [id.vendor, id.architecture, id.device, id.description, id.kernels].join(' | ');
}

/** FNV-1a, 32 bits, as 8 hex digits: a short stable name for a key (file names, digests). */
export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

/** A record read back from storage, or null when it is not one of ours (another format, a corrupt file). */
export function parseTuningRecord(value: unknown, key: string): TuningRecord | null {
  if (typeof value !== 'object' || value === null) return null;
  const r = value as Partial<TuningRecord>;
  if (r.format !== TUNING_FORMAT || r.version !== TUNING_VERSION || r.key !== key) return null;
  if (typeof r.shapes !== 'object' || r.shapes === null) return null;
  const shapes: Record<string, ShapeTimings> = {};
  for (const [shape, timings] of Object.entries(r.shapes)) {
    if (typeof timings !== 'object' || timings === null) continue;
    const clean: ShapeTimings = {};
    for (const [name, ms] of Object.entries(timings as Record<string, unknown>)) {
      if (ms === null || (typeof ms === 'number' && Number.isFinite(ms) && ms > 0)) clean[name] = ms;
    }
    shapes[shape] = clean;
  }
  return { format: TUNING_FORMAT, version: TUNING_VERSION, key, shapes };
}

export function emptyRecord(key: string): TuningRecord {
  return { format: TUNING_FORMAT, version: TUNING_VERSION, key, shapes: {} };
}

/** Records in memory: for tests, and for hosts without storage (nothing survives the process). */
export class MemoryTuningStore implements TuningStore {
  readonly where = 'memory';
  private readonly records = new Map<string, string>();

  async load(key: string): Promise<TuningRecord | null> {
    const text = this.records.get(key);
    return text === undefined ? null : parseTuningRecord(JSON.parse(text), key);
  }

  async save(record: TuningRecord): Promise<void> {
    this.records.set(record.key, JSON.stringify(record));
  }
}
