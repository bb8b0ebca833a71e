// The user's data files kept in the browser (IndexedDB), by SHA-256, so that a reload of a URL that names a file data
// set (by name and hash) finds its bytes again without asking. Where IndexedDB is missing or refuses (private
// windows, quota), nothing is kept and a reload asks for the file by name.
const DB_NAME = 'deadunits-files';
const STORE = 'files';

export interface StoredFile {
  sha256: string;
  name: string;
  bytes: ArrayBuffer;
}

function open(): Promise<IDBDatabase | null> {
  if (typeof indexedDB === 'undefined') return Promise.resolve(null);
  return new Promise((resolve) => {
    const request = indexedDB.open(DB_NAME, 1);
    request.onupgradeneeded = () => request.result.createObjectStore(STORE, { keyPath: 'sha256' });
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
}

function done<T>(request: IDBRequest<T>): Promise<T | null> {
  return new Promise((resolve) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => resolve(null);
  });
}

/** Keeps `file` (its bytes are copied); false where the browser would not keep it. */
export async function keepFile(file: StoredFile): Promise<boolean> {
  const db = await open();
  if (!db) return false;
  try {
    const stored = await done(
      db
        .transaction(STORE, 'readwrite')
        .objectStore(STORE)
        .put({ ...file, bytes: file.bytes.slice(0) }),
    );
    return stored !== null;
  } finally {
    db.close();
  }
}

/** The kept file with this hash, or null. */
export async function findFile(sha256: string): Promise<StoredFile | null> {
  const db = await open();
  if (!db) return null;
  try {
    return ((await done(db.transaction(STORE, 'readonly').objectStore(STORE).get(sha256))) as StoredFile | undefined) ?? null;
  } finally {
    db.close();
  }
}
