// Browser: tuning records in IndexedDB (database `deadunits-tuning`, store `matmul`, keyed by the adapter key),
// reachable from the page and from its engine Worker alike. Where IndexedDB is missing or refused (private
// windows, file://), load() finds nothing and save() fails: the matmul kernel then re-tunes each session.
import { parseTuningRecord, type TuningRecord, type TuningStore } from './store';

const DB_NAME = 'deadunits-tuning';
const STORE = 'matmul';

function request<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB request failed'));
  });
}

export class IndexedDbTuningStore implements TuningStore {
  readonly where = `IndexedDB ${DB_NAME}`;
  private db: Promise<IDBDatabase> | null = null;

  private open(): Promise<IDBDatabase> {
    if (!this.db) {
      this.db = new Promise((resolve, reject) => {
        if (typeof indexedDB === 'undefined') return reject(new Error('no IndexedDB here'));
        const req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = () => req.result.createObjectStore(STORE);
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => reject(req.error ?? new Error(`cannot open IndexedDB ${DB_NAME}`));
      });
      this.db.catch(() => (this.db = null));
    }
    return this.db;
  }

  async load(key: string): Promise<TuningRecord | null> {
    try {
      const db = await this.open();
      const value: unknown = await request(db.transaction(STORE, 'readonly').objectStore(STORE).get(key));
      return parseTuningRecord(value, key);
    } catch {
      return null;
    }
  }

  async save(record: TuningRecord): Promise<void> {
    const db = await this.open();
    await request(db.transaction(STORE, 'readwrite').objectStore(STORE).put(record, record.key));
  }
}
