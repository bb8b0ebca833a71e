// Node-only: opening files a user names (a config, a sweep spec, a checkpoint) or a run folder holds, safely.
// Only regular files are read: a device such as /dev/zero would be read without end and a FIFO would block
// forever, so both are refused before the first byte. Every read is bounded by the format's own size limit.
import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';

/** A file that cannot be used as given (not a regular file, or larger than its format allows): the user fixes the path. */
export class InputFileError extends Error {
  override name = 'InputFileError';
  constructor(
    readonly path: string,
    /** The message without the path. */
    readonly reason: string,
  ) {
    super(`${path}: ${reason}`);
  }
}

// O_NONBLOCK makes opening a FIFO return at once (instead of waiting for a writer), so it can be refused.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

function kindOf(stats: { isDirectory(): boolean; isFIFO(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; isSocket(): boolean }): string {
  if (stats.isDirectory()) return 'a folder';
  if (stats.isFIFO()) return 'a FIFO (named pipe)';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

/** Opens `path` for reading if it is a regular file; InputFileError otherwise. File system errors (ENOENT, EACCES) pass through. */
export async function openRegularFile(path: string): Promise<{ handle: FileHandle; size: number }> {
  const handle = await open(path, OPEN_FLAGS);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) throw new InputFileError(path, `is ${kindOf(stats)}, not a regular file`);
    return { handle, size: stats.size };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** Reads exactly `length` bytes at `position` into `target` (from `offset`); fewer bytes in the file is an error naming it. */
export async function readFully(handle: FileHandle, target: Uint8Array, offset: number, length: number, position: number, path: string): Promise<void> {
  for (let done = 0; done < length; ) {
    const { bytesRead } = await handle.read(target, offset + done, Math.min(length - done, 64 * 2 ** 20), position + done);
    if (bytesRead === 0)
      throw new InputFileError(path, `ends at byte ${position + done}, before the ${length} bytes expected from byte ${position} (truncated while read?)`);
    done += bytesRead;
  }
}

/** The bytes of a regular file of at most `maxBytes` (`what` names the format in the message). */
export async function readRegularFile(path: string, maxBytes: number, what: string): Promise<Uint8Array> {
  const { handle, size } = await openRegularFile(path);
  try {
    if (size > maxBytes) throw new InputFileError(path, `is ${size} bytes; ${what} is at most ${maxBytes} bytes`);
    const bytes = new Uint8Array(size);
    await readFully(handle, bytes, 0, size, 0, path);
    return bytes;
  } finally {
    await handle.close();
  }
}

/** The UTF-8 text of a regular file of at most `maxBytes`. */
export async function readRegularText(path: string, maxBytes: number, what: string): Promise<string> {
  return new TextDecoder().decode(await readRegularFile(path, maxBytes, what));
}

/** As readRegularText, or null when there is no such file. */
export async function readRegularTextIfExists(path: string, maxBytes: number, what: string): Promise<string | null> {
  try {
    return await readRegularText(path, maxBytes, what);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}
