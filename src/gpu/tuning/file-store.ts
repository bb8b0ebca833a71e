// Node-only: tuning records as JSON files under the user's cache folder, one file per adapter key
// (<cache>/deadunits/matmul-tuning/<fnv1a(key)>.json, the full key inside). Written atomically (temporary file,
// then rename), so two processes tuning at once leave one whole record, never a torn one.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fnv1a, parseTuningRecord, type TuningRecord, type TuningStore } from './store';

/**
 * The user's cache folder, by platform convention: $XDG_CACHE_HOME, else %LOCALAPPDATA% on Windows,
 * ~/Library/Caches on macOS, ~/.cache elsewhere.
 */
export function userCacheDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.XDG_CACHE_HOME) return env.XDG_CACHE_HOME;
  if (platform === 'win32') return env.LOCALAPPDATA ?? join(home, 'AppData', 'Local');
  if (platform === 'darwin') return join(home, 'Library', 'Caches');
  return join(home, '.cache');
}

export class FileTuningStore implements TuningStore {
  constructor(readonly where: string = join(userCacheDir(), 'deadunits', 'matmul-tuning')) {}

  private file(key: string): string {
    return join(this.where, `${fnv1a(key)}.json`);
  }

  async load(key: string): Promise<TuningRecord | null> {
    let text: string;
    try {
      text = await readFile(this.file(key), 'utf8');
    } catch {
      return null;
    }
    try {
      return parseTuningRecord(JSON.parse(text), key);
    } catch {
      return null;
    }
  }

  async save(record: TuningRecord): Promise<void> {
    await mkdir(this.where, { recursive: true });
    const file = this.file(record.key);
    const temporary = `${file}.${process.pid}.${Date.now()}.tmp`;
    await writeFile(temporary, `${JSON.stringify(record, null, 1)}\n`);
    await rename(temporary, file);
  }
}
