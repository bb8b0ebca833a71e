// Node-only: the checkpoint a run continues from. The newest one is read and checked whole (every tensor against its
// CRC-32, the step in its name against the step inside, its shapes against the run's configuration); a damaged one
// is set aside (renamed *.damaged, kept for a look) with a line saying so, and the next older one is tried. A
// checkpoint of another configuration is not damage but a foreign file: that stops the run.
import { rename } from 'node:fs/promises';
import { basename } from 'node:path';
import type { RunConfig } from '../config';
import { checkFileNameStep, listCheckpoints } from '../io/atomic-file';
import { type Checkpoint, CheckpointError, checkShapesMatchConfig } from '../io/checkpoint';
import { readCheckpointFile } from '../io/checkpoint-file';
import { InputFileError } from '../io/regular-file';
import { RunDirError, type RunPaths } from './run-dir';

export interface LoadedCheckpoint {
  step: number;
  path: string;
  checkpoint: Checkpoint;
}

/** Suffix of a checkpoint set aside as damaged (listCheckpoints no longer sees it). */
export const DAMAGED_SUFFIX = '.damaged';

/**
 * The newest checkpoint of the run folder that reads back whole, or null when there is none. `note` is told about
 * every damaged checkpoint set aside. Throws RunDirError when checkpoints exist but none is usable (nothing is
 * renamed then), or one belongs to another configuration.
 */
export async function newestGoodCheckpoint(paths: RunPaths, config: RunConfig, note: (line: string) => void): Promise<LoadedCheckpoint | null> {
  const all = await listCheckpoints(paths.checkpoints);
  const damaged: { path: string; reason: string }[] = [];
  for (let i = all.length - 1; i >= 0; i--) {
    const { path, step } = all[i];
    let checkpoint: Checkpoint;
    try {
      checkpoint = await readCheckpointFile(path);
      checkFileNameStep(path, checkpoint.step);
      const shapes = checkpoint.trainer.layers.map((l): [number, number] => [l.weights.length / l.bias.length, l.bias.length]);
      try {
        checkShapesMatchConfig({ layerShapes: shapes, observatory: null }, config);
      } catch (error) {
        if (error instanceof CheckpointError) throw new CheckpointError(`${path}: ${error.message} (${paths.config})`, error.tensor, error.field);
        throw error;
      }
    } catch (error) {
      if (error instanceof CheckpointError || error instanceof InputFileError) {
        damaged.push({ path, reason: error.message });
        continue;
      }
      throw error;
    }
    if (JSON.stringify(checkpoint.config) !== JSON.stringify(config)) throw new RunDirError(`${path} belongs to another configuration than ${paths.config}`);
    if (!checkpoint.observatory) throw new RunDirError(`${path} has no observatory state (unit history): it was not written by a run`);
    for (const bad of damaged) {
      await rename(bad.path, bad.path + DAMAGED_SUFFIX);
      note(`checkpoint damaged: ${bad.reason}; set aside as ${basename(bad.path)}${DAMAGED_SUFFIX}, continuing from ${basename(path)} (step ${step}) instead`);
    }
    return { step, path, checkpoint };
  }
  if (damaged.length > 0)
    throw new RunDirError(
      `every checkpoint in ${paths.checkpoints} is damaged, so there is nothing to continue from:\n${damaged.map((d) => `  ${d.reason}`).join('\n')}\n` +
        `Delete them to start the run over (\`deadunits resume ${paths.dir}\` then starts from step 0), or start a new run with \`deadunits run --config ${paths.config} --out NEW_FOLDER\`.`,
    );
  return null;
}
