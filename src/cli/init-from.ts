// Node-only: `--init-from model.safetensors` (config initFrom): a PyTorch nn.Sequential of Linear layers as the
// network's starting weights. Its shapes either build the configuration's layers or must match them; the file is
// recorded (path, size, SHA-256) like a data file, and read again only when a run starts from step 0.
import { ConfigError, type ConfigIssue, type FileRef, type RunConfig } from '../config';
import type { LayerParameters } from '../engine/trainer';
import { CheckpointError } from '../io/safetensors';
import { openSafetensorsFile, type SafetensorsFile } from '../io/safetensors-file';
import { checkNotCheckpoint, linearParameters, torchMlpLayout, withTorchHint, type TorchMlp, type TorchMlpLayout } from '../io/torch-model';
import { hashRecordedFile, type FileIdentity } from './data-files';

/**
 * The model file's layers from its header, checked before the file is hashed (a wrong file is refused at once,
 * not after reading gigabytes), then its size and hash checked against `ref` where recorded.
 */
export async function readTorchModelLayout(ref: FileRef, field = 'initFrom'): Promise<{ file: FileIdentity; layout: TorchMlpLayout }> {
  const file = await openTorchFile(ref.path);
  let layout: TorchMlpLayout;
  try {
    layout = torchLayoutOf(file);
  } finally {
    await file.close();
  }
  return { file: await hashRecordedFile(ref, field), layout };
}

/** The model file and its layers (the file's size and hash checked against `ref` where recorded). */
export async function readTorchModel(ref: FileRef, field = 'initFrom'): Promise<{ file: FileIdentity; model: TorchMlp }> {
  const { file } = await readTorchModelLayout(ref, field);
  return { file, model: await readTorchMlpFile(ref.path) };
}

/**
 * A PyTorch state dict read tensor by tensor (src/io/safetensors-file.ts): any size the engine can train, not only
 * what fits in one 2 GiB buffer. Its layers are checked from the header before any weight is read (and by `check`,
 * e.g. against a configuration). Errors are CheckpointErrors naming the file.
 */
export async function readTorchMlpFile(path: string, check?: (layout: TorchMlpLayout) => void): Promise<TorchMlp> {
  const file = await openTorchFile(path);
  try {
    const layout = torchLayoutOf(file);
    check?.(layout);
    const layers: LayerParameters[] = [];
    for (const linear of layout.linears) {
      const weight = (await file.readTensor(linear.weight)).tensor;
      const bias = (await file.readTensor(linear.bias)).tensor;
      layers.push(linearParameters(linear, weight, bias, path));
    }
    return { ...layout, layers };
  } finally {
    await file.close();
  }
}

function openTorchFile(path: string): Promise<SafetensorsFile> {
  return openSafetensorsFile(path).catch((error: unknown) => {
    throw error instanceof CheckpointError ? withTorchHint(error) : error;
  });
}

function torchLayoutOf(file: SafetensorsFile): TorchMlpLayout {
  checkNotCheckpoint(file.metadata, file.path);
  return torchMlpLayout(file.entries, file.path);
}

/**
 * Gives a raw configuration the model's shapes: inputSize, outputSize and one hidden layer per hidden Linear,
 * each taking the settings (activation, dropout, init) of the configuration's layer at that place, or of its last;
 * a synthetic classification data set gets the model's number of classes.
 */
export function shapeConfigLikeModel(raw: Record<string, unknown>, model: TorchMlpLayout): void {
  const hidden = Array.isArray(raw.hidden) ? (raw.hidden as Record<string, unknown>[]) : [];
  raw.inputSize = model.inputSize;
  raw.outputSize = model.outputSize;
  raw.hidden = model.widths.map((width, i) => ({ ...(hidden[i] ?? hidden[hidden.length - 1] ?? {}), width }));
  // A synthetic classifier data set follows the model's classes (the spirals' 2 cannot, and say so).
  const ds = raw.dataset as Record<string, unknown> | undefined;
  if (ds && (ds.kind === 'gaussian_mixture' || ds.kind === 'sparse')) raw.dataset = { ...ds, classes: model.outputSize };
}

/** ConfigError naming every field whose size differs from the model's, or nothing. */
export function checkModelShapes(config: RunConfig, model: TorchMlpLayout, file: string): void {
  const issues: ConfigIssue[] = [];
  const has = `${file} has`;
  if (config.hidden.length !== model.widths.length) {
    issues.push({
      path: 'hidden',
      message: `${config.hidden.length} hidden layers, but ${has} ${model.widths.length} (${model.names.length} Linear layers: ${model.names.join(', ')})`,
    });
  } else {
    model.widths.forEach((w, i) => {
      if (config.hidden[i].width !== w) issues.push({ path: `hidden[${i}].width`, message: `${config.hidden[i].width}, but ${has} ${w} (${model.names[i]})` });
    });
  }
  if (config.inputSize !== model.inputSize)
    issues.push({ path: 'inputSize', message: `${config.inputSize}, but ${has} ${model.inputSize} (in size of ${model.names[0]})` });
  if (config.outputSize !== model.outputSize)
    issues.push({ path: 'outputSize', message: `${config.outputSize}, but ${has} ${model.outputSize} (out size of ${model.names[model.names.length - 1]})` });
  if (issues.length) throw new ConfigError(issues, `run configuration for initFrom ${file}`);
}

/** The starting weights of a run whose configuration has initFrom (checked again: size, hash and shapes); else null. */
export async function initialParametersOf(config: RunConfig): Promise<LayerParameters[] | null> {
  if (!config.initFrom) return null;
  const ref = config.initFrom;
  await readTorchModelLayout(ref);
  return (await readTorchMlpFile(ref.path, (layout) => checkModelShapes(config, layout, ref.path))).layers;
}
