// `deadunits export --torch RUN`: the latest weights of a run (or of one checkpoint) as a PyTorch state dict in
// safetensors, with the nn.Sequential it loads into (src/io/torch-model.ts), so the network can be studied in
// PyTorch: the same dead units, the same outputs.
import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { stat } from 'node:fs/promises';
import { Command } from 'commander';
import { parseRunConfig } from '../../config';
import { CheckpointError } from '../../io/checkpoint';
import { readCheckpointFile } from '../../io/checkpoint-file';
import { writeFileAtomic } from '../../io/atomic-file';
import { torchSequentialSource, torchStateDict } from '../../io/torch-model';
import { resolveCheckpoint } from './inspect';

export interface TorchExport {
  file: string;
  step: number;
  /** Python: the nn.Sequential the state dict loads into. */
  sequential: string;
}

/** Writes the weights of `path` (a run folder's latest checkpoint, or a checkpoint file) as a PyTorch state dict. */
export async function exportTorch(path: string, out?: string): Promise<TorchExport> {
  const checkpointFile = await resolveCheckpoint(path);
  // Tensor by tensor, checksums verified, regular files only (src/io/checkpoint-file.ts): any size, nothing damaged.
  let checkpoint;
  try {
    checkpoint = await readCheckpointFile(checkpointFile);
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new CheckpointError(`${checkpointFile}: cannot read: ${code}`, undefined, 'file');
    throw error;
  }
  const config = parseRunConfig(checkpoint.config);
  const isFolder = (await stat(path)).isDirectory();
  const file = out ?? join(isFolder ? join(path, 'export') : dirname(checkpointFile), `model-${String(checkpoint.step).padStart(10, '0')}.safetensors`);
  await mkdir(dirname(file), { recursive: true });
  const metadata = { step: String(checkpoint.step), source: basename(checkpointFile) };
  await writeFileAtomic(file, torchStateDict(config, checkpoint.trainer.layers, metadata));
  return { file, step: checkpoint.step, sequential: torchSequentialSource(config) };
}

export function exportCommand(): Command {
  return new Command('export')
    .description("Write a run's latest weights for another framework: --torch, a PyTorch nn.Sequential state dict (safetensors).")
    .argument('<run>', 'a run folder (its latest checkpoint) or a .safetensors checkpoint')
    .requiredOption('--torch', 'as a PyTorch state dict: "<i>.weight" [out, in], "<i>.bias" of nn.Sequential(Linear, activation, ...)')
    .option('--out <file>', 'where to write it (default <run>/export/model-<step>.safetensors)')
    .addHelpText(
      'after',
      `
Load it in PyTorch (pip install safetensors):
  import torch.nn as nn
  from safetensors.torch import load_file
  model = nn.Sequential(...)          # printed by this command
  model.load_state_dict(load_file("runs/a/export/model-0000002000.safetensors"))

Example:
  $ deadunits export --torch runs/a`,
    )
    .action(async (run: string, options: { out?: string }) => {
      const result = await exportTorch(run, options.out);
      console.log(`wrote ${result.file} (step ${result.step})`);
      console.log(`load it into: ${result.sequential}`);
    });
}
