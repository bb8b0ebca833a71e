// Node-only: the run folder's checkpoints (checkpoints/checkpoint-<step>.safetensors, written atomically with a
// CRC-32 per tensor, the last `keep` kept) and the manifest entry that names the latest one: every `every` steps
// while training and once at exit.
import { join } from 'node:path';
import type { RunConfig } from '../../config';
import type { CheckpointState } from '../../io/checkpoint';
import { checkpointFileName, pruneCheckpoints } from '../../io/atomic-file';
import { writeCheckpointFile } from '../../io/checkpoint-file';
import { writeManifest, type RunManifest, type RunPaths } from '../run-dir';

export type ManifestFields = Omit<RunManifest, 'format' | 'version'>;

export class Checkpoints {
  /** The matmul kernels of the current device (recorded in the manifest). */
  private matmul: ManifestFields['matmul'];

  constructor(
    private readonly paths: RunPaths,
    private readonly config: RunConfig,
    /** The manifest written with each checkpoint (with its status and step). */
    private readonly manifest: ManifestFields,
    /** Steps between checkpoints while training; 0: only at exit. */
    private readonly every: number,
    private readonly keep: number,
  ) {}

  /** The first step after `step` where a checkpoint is due (Infinity when only the exit writes one): chunks end there. */
  nextAfter(step: number): number {
    return this.every > 0 ? (Math.floor(step / this.every) + 1) * this.every : Infinity;
  }

  /** Records the matmul kernel choices of a (new) device, now and with every later checkpoint. */
  async recordMatmulKernels(matmul: NonNullable<ManifestFields['matmul']>, status: RunManifest['status'], step: number): Promise<void> {
    this.matmul = matmul;
    await writeManifest(this.paths.dir, { ...this.manifest, status, step, matmul });
  }

  /** Whether a checkpoint is due at `step` while training. */
  dueAt(step: number): boolean {
    return this.every > 0 && step % this.every === 0;
  }

  /** Writes the state of `step`, prunes old checkpoints and records it in the manifest with `status`. */
  async write(state: CheckpointState, status: RunManifest['status']): Promise<void> {
    const step = state.trainer.step;
    // Streamed tensor by tensor (src/io/checkpoint-file.ts): a checkpoint may exceed what one buffer holds.
    await writeCheckpointFile(join(this.paths.checkpoints, checkpointFileName(step)), state, this.config);
    await pruneCheckpoints(this.paths.checkpoints, this.keep);
    await writeManifest(this.paths.dir, { ...this.manifest, status, step, ...(this.matmul ? { matmul: this.matmul } : {}) });
  }
}
