// Node-only: the CLI's error contract. Every error a user can cause or fix prints one message naming the file or
// field and what to do, and exits with
//   2  input: a flag, configuration, sweep spec, run folder or checkpoint that is wrong, or a net the GPU cannot
//      hold (fix what you gave);
//   1  environment: a full disk, a read-only or forbidden folder, no WebGPU adapter, a lost device, a run folder in
//      use by another process (fix the machine, or wait).
// Errors are classified by their class (and a system error by its errno code), never by their message text. Anything
// else is a bug: one line saying so, exit 1; the stack trace only when DEBUG is set.
import { ConfigError } from '../config';
import { DataError } from '../data';
import { GpuAllocationError } from '../engine/gpu-faults';
import { CapacityError } from '../engine/layout';
import { NoAdapterError } from '../gpu/device';
import { KernelChoiceError } from '../gpu/kernels/matmul';
import { CheckpointError } from '../io/checkpoint';
import { InputFileError } from '../io/regular-file';
import { RunLockedError } from '../io/run-lock';
import { MetricsFileError } from './outputs/metrics-writer';
import { DeviceLostError } from './device-recovery';
import { RunDirError } from './run-dir';
import { ShardError } from './sweep/shard';

export const EXIT_INPUT = 2;
export const EXIT_ENVIRONMENT = 1;

export interface ErrorReport {
  exitCode: typeof EXIT_INPUT | typeof EXIT_ENVIRONMENT;
  message: string;
}

/**
 * Errors in what the user gave: their message already names the field or file and the limit. A net the GPU cannot
 * hold (GpuAllocationError) is fixed in the configuration too: its message says what to change.
 */
const INPUT_ERRORS = [
  ConfigError,
  CheckpointError,
  RunDirError,
  ShardError,
  CapacityError,
  DataError,
  InputFileError,
  MetricsFileError,
  GpuAllocationError,
  KernelChoiceError,
];
/** Errors of the machine or of other processes: their message says what to do. */
const ENVIRONMENT_ERRORS = [NoAdapterError, DeviceLostError, RunLockedError];

/**
 * System errors by errno code: exit status and what the user should do. Paths the user names (--out at a file, a
 * name too long) are input; a disk that is full, read-only or forbidden is the environment.
 */
const SYSTEM_ERRORS: Record<string, { exitCode: ErrorReport['exitCode']; what: string; todo: string }> = {
  ENOSPC: {
    exitCode: 1,
    what: 'no space left on the device',
    todo: 'free some space (checkpoints written so far are intact), then run the same command again',
  },
  EDQUOT: { exitCode: 1, what: 'disk quota exceeded', todo: 'free some space or raise the quota, then run the same command again' },
  EROFS: { exitCode: 1, what: 'the file system is read-only', todo: 'choose a folder on a writable file system (--out)' },
  EACCES: { exitCode: 1, what: 'permission denied', todo: 'choose a folder you may write to (--out), or change its permissions' },
  EPERM: { exitCode: 1, what: 'operation not permitted', todo: 'choose a folder you may write to (--out), or change its permissions' },
  EIO: { exitCode: 1, what: 'input/output error', todo: 'check the disk or network file system, then run the same command again' },
  EMFILE: { exitCode: 1, what: 'too many open files', todo: 'raise the limit (ulimit -n), then run the same command again' },
  ENFILE: { exitCode: 1, what: 'too many open files on the system', todo: 'close other programs, then run the same command again' },
  EFBIG: { exitCode: 1, what: 'file too large for the file system', todo: 'use a file system that allows larger files (--out)' },
  ESTALE: { exitCode: 1, what: 'stale network file handle', todo: 'remount the network file system, then run the same command again' },
  EBUSY: { exitCode: 1, what: 'the resource is busy', todo: 'try again once the other program lets go of it' },
  ENAMETOOLONG: { exitCode: 2, what: 'a file or folder name is too long', todo: 'choose a shorter path' },
  ENOTDIR: { exitCode: 2, what: 'a part of the path is a file, not a folder', todo: 'choose a path whose folders are folders' },
  EISDIR: { exitCode: 2, what: 'it is a folder, not a file', todo: 'give a file' },
  EEXIST: { exitCode: 2, what: 'a file is in the way', todo: 'choose another path, or move that file' },
  ENOENT: { exitCode: 2, what: 'no such file or folder', todo: 'check the path' },
  ELOOP: { exitCode: 2, what: 'too many symbolic links', todo: 'check the path' },
};

/** What the CLI prints and exits with for `error`; null for an error that is a bug (nothing the user did). */
export function reportFor(error: unknown): ErrorReport | null {
  if (error instanceof CapacityError) return { exitCode: EXIT_INPUT, message: `${error.message.replace(/\.$/, '')}: ${error.remedy}` };
  if (INPUT_ERRORS.some((C) => error instanceof C)) return { exitCode: EXIT_INPUT, message: (error as Error).message };
  if (ENVIRONMENT_ERRORS.some((C) => error instanceof C)) return { exitCode: EXIT_ENVIRONMENT, message: (error as Error).message };
  const system = systemError(error);
  if (system) {
    const known = SYSTEM_ERRORS[system.code];
    if (known) {
      const where = system.path ? `${system.path}${system.dest ? ` -> ${system.dest}` : ''}: ` : '';
      return { exitCode: known.exitCode, message: `${where}${known.what} (${system.code}${system.syscall ? `, ${system.syscall}` : ''}): ${known.todo}` };
    }
  }
  return null;
}

interface SystemError {
  code: string;
  syscall?: string;
  path?: string;
  dest?: string;
}

/** A Node system error: an Error with a string errno `code` (and usually `syscall` and `path`). */
function systemError(error: unknown): SystemError | null {
  if (!(error instanceof Error)) return null;
  const e = error as NodeJS.ErrnoException & { dest?: string };
  if (typeof e.code !== 'string' || !/^E[A-Z]+$/.test(e.code)) return null;
  return { code: e.code, syscall: e.syscall, path: e.path, dest: e.dest };
}

/** Prints the report of `error` to stderr and returns the exit status. */
export function reportError(error: unknown, env: NodeJS.ProcessEnv = process.env): number {
  const report = reportFor(error);
  const debug = env.DEBUG !== undefined && env.DEBUG !== '' && env.DEBUG !== '0';
  if (report) {
    console.error(`error: ${report.message}`);
    if (debug && error instanceof Error && error.stack) console.error(error.stack);
    return report.exitCode;
  }
  if (debug) console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
  else {
    const message = error instanceof Error ? error.message : String(error);
    console.error(`error: ${message}\n(an unexpected error, probably a bug: run again with DEBUG=1 for the stack trace, and report it)`);
  }
  return EXIT_ENVIRONMENT;
}
