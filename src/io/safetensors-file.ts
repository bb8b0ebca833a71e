// Node-only: safetensors files on disk, read and written tensor by tensor. Node cannot read a file over 2 GiB
// into one buffer (ERR_FS_FILE_TOO_LARGE), and a checkpoint of a wide net is bigger than that; so the header is
// read on its own, each tensor goes straight into its own typed array (or straight from it into the file), and
// no read or write moves more than IO_CHUNK_BYTES at once. Memory: the header plus the tensors asked for.
// The bytes are those of src/io/safetensors.ts (same layout, same validation).
import { crc32 as zlibCrc32 } from 'node:zlib';
import type { FileHandle } from 'node:fs/promises';
import { IO_CHUNK_BYTES, writeFileAtomicWith, writeFully } from './atomic-file';
import { crc32 as jsCrc32 } from './crc32';
import { InputFileError, openRegularFile, readFully } from './regular-file';
import {
  CheckpointError,
  fileBytesOf,
  layoutSafetensors,
  parseSafetensorsHeader,
  readHeaderLength,
  type SafetensorsEntry,
  type SafetensorsLimits,
  type Tensor,
  tensorFromFileBytes,
} from './safetensors';

/** CRC-32, native where Node has it (>= 20.15), else the browser-safe one: same values. */
const crc32: (bytes: Uint8Array, previous?: number) => number = typeof zlibCrc32 === 'function' ? (b, p) => zlibCrc32(b, p ?? 0) : jsCrc32;

export interface SafetensorsFile {
  path: string;
  /** File size in bytes. */
  size: number;
  metadata: Record<string, string>;
  /** Tensors in file order. */
  entries: SafetensorsEntry[];
  /** Reads one tensor (a fresh typed array) and the CRC-32 of its bytes as stored. */
  readTensor(name: string): Promise<{ tensor: Tensor; crc: number }>;
  close(): Promise<void>;
}

export interface ReadOptions extends SafetensorsLimits {
  /** Bytes per read call (tests use small ones to cross chunk boundaries); default IO_CHUNK_BYTES. */
  chunkBytes?: number;
}

/**
 * Opens a safetensors file and validates its header (src/io/safetensors.ts parseSafetensorsHeader). Anything
 * but a regular file is refused before reading. Errors are CheckpointErrors whose message starts with the path.
 */
export async function openSafetensorsFile(path: string, options: ReadOptions = {}): Promise<SafetensorsFile> {
  const chunk = options.chunkBytes ?? IO_CHUNK_BYTES;
  let opened: { handle: FileHandle; size: number };
  try {
    opened = await openRegularFile(path);
  } catch (error) {
    if (error instanceof InputFileError) throw new CheckpointError(error.message, undefined, 'file');
    throw error;
  }
  const { handle, size } = opened;
  try {
    const first8 = new Uint8Array(Math.min(8, size));
    await readFully(handle, first8, 0, first8.length, 0, path);
    const headerLength = withPath(path, () => readHeaderLength(first8, size, options));
    const json = new Uint8Array(headerLength);
    await readFully(handle, json, 0, headerLength, 8, path);
    const header = withPath(path, () => parseSafetensorsHeader(json, size));
    const byName = new Map(header.entries.map((e) => [e.name, e]));
    return {
      path,
      size,
      metadata: header.metadata,
      entries: header.entries,
      async readTensor(name) {
        const entry = byName.get(name);
        if (!entry) throw new CheckpointError(`${path}: tensor "${name}" is not in the file`, name, 'name');
        const bytes = new Uint8Array(entry.end - entry.begin);
        let crc = 0;
        for (let done = 0; done < bytes.length; ) {
          const n = Math.min(chunk, bytes.length - done);
          try {
            await readFully(handle, bytes, done, n, header.dataStart + entry.begin + done, path);
          } catch (error) {
            if (error instanceof InputFileError) throw new CheckpointError(`${error.message}`, name, 'data_offsets');
            throw error;
          }
          crc = crc32(bytes.subarray(done, done + n), crc);
          done += n;
        }
        return { tensor: tensorFromFileBytes(entry, bytes), crc };
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

function withPath<T>(path: string, f: () => T): T {
  try {
    return f();
  } catch (error) {
    if (error instanceof CheckpointError) throw new CheckpointError(`${path}: ${error.message}`, error.tensor, error.field);
    throw error;
  }
}

/** Writes a safetensors file atomically (temp + rename), tensor by tensor: the bytes of encodeSafetensors, without holding them all. */
export async function writeSafetensorsFile(
  path: string,
  tensors: Record<string, Tensor>,
  metadata: Record<string, string> = {},
  options: { chunkBytes?: number } = {},
): Promise<void> {
  const layout = layoutSafetensors(tensors, metadata);
  await writeFileAtomicWith(path, async (handle) => {
    await writeFully(handle, layout.header, 0);
    let at = layout.header.length;
    for (const name of layout.order) {
      const bytes = fileBytesOf(tensors[name]);
      await writeFully(handle, bytes, at, options.chunkBytes);
      at += bytes.length;
    }
  });
}
