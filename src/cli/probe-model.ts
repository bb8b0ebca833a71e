// Node-only: `deadunits inspect --probe X.npy MODEL`: which units of a trained network are dead on your inputs,
// without training. MODEL is a PyTorch nn.Sequential of Linear layers (safetensors; ReLU between them unless the
// activation is given) or a deadunits checkpoint / run folder (its own configuration). The observatory's probe
// pass (dropout off; dead = pre-activation <= 0 for every probe row) runs once on the GPU, and the folder gets:
//   config.json                the configuration the model was read into (layers, activations)
//   maps/L<l>/step-0000000000.png | .npy   the unit maps (src/cli/outputs/unit-maps.ts: codes per unit)
//   dead-units.json            per hidden layer: width, dead count, the dead units' indices
//   report.md                  the same, with the maps, the model and probe files (size, SHA-256)
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type ActivationConfig, LIMITS, parseRunConfig, type RunConfig, toJson } from '../config';
import { checkFileSize, type Dataset, DataError, dataFormat, fmtShape, parseCsv, parseNpy, probeSet } from '../data';
import { openRun } from '../engine/open-run';
import type { LayerParameters } from '../engine/trainer';
import { acquireNodeGpu } from '../gpu/dawn';
import type { GpuContext } from '../gpu/device';
import { latestCheckpoint, writeFileAtomic } from '../io/atomic-file';
import { CHECKPOINT_FORMAT, CheckpointError } from '../io/checkpoint';
import { readCheckpointFile } from '../io/checkpoint-file';
import { openSafetensorsFile } from '../io/safetensors-file';
import { torchSequentialSource } from '../io/torch-model';
import { hashRecordedFile, readRecordedFile, type FileIdentity, type ReadFile } from './data-files';
import { readTorchMlpFile } from './init-from';
import { writeUnitMaps } from './outputs/unit-maps';
import { runPaths, unitMapFile } from './run-dir';

export interface ProbeModelOptions {
  /** A PyTorch safetensors state dict, a deadunits checkpoint, or a run folder. */
  model: string;
  /** Probe inputs: .npy [rows, inputSize] or .csv (every column an input unless `labelColumn` names one to drop). */
  probe: string;
  out: string;
  /** PyTorch models: the hidden layers' activation (default relu). */
  activation?: ActivationConfig;
  labelColumn?: number | string;
  /** Rows kept when the probe file has more than the probe limit (chosen by this seed). */
  seed?: number;
  gpu?: GpuContext;
}

export interface ProbedLayer {
  layer: number;
  width: number;
  dead: number;
  /** Indices of the dead units, ascending. */
  deadUnits: number[];
}

export interface ProbeModelResult {
  out: string;
  config: RunConfig;
  rows: number;
  layers: ProbedLayer[];
}

interface LoadedModel {
  config: Omit<RunConfig, 'dataset' | 'snapshot' | 'steps' | 'batchSize'> | null;
  layers: LayerParameters[];
  inputSize: number;
  widths: number[];
  outputSize: number;
  kind: string;
}

/** A run folder stands for its latest checkpoint. */
async function modelPath(path: string): Promise<string> {
  if (!(await stat(path).catch(() => null))?.isDirectory()) return path;
  const latest = await latestCheckpoint(join(path, 'checkpoints'));
  if (!latest) throw new CheckpointError(`${path}: a folder without checkpoints (looked in ${join(path, 'checkpoints')})`, undefined, 'file');
  return latest.path;
}

async function loadModel(path: string): Promise<{ file: FileIdentity; model: LoadedModel }> {
  const resolved = await modelPath(path);
  // Hashed and read in pieces: a checkpoint or a model over 2 GiB cannot be read into one buffer.
  const file = await hashRecordedFile({ path: resolved }, 'model');
  const header = await openSafetensorsFile(resolved);
  const metadata = header.metadata;
  await header.close();
  if (metadata.format === CHECKPOINT_FORMAT) {
    const checkpoint = await readCheckpointFile(resolved);
    const config = parseRunConfig(checkpoint.config);
    const layers = checkpoint.trainer.layers.map(({ weights, bias }) => ({ weights, bias }));
    return {
      file,
      model: {
        config,
        layers,
        inputSize: config.inputSize,
        widths: config.hidden.map((h) => h.width),
        outputSize: config.outputSize,
        kind: 'deadunits checkpoint',
      },
    };
  }
  const torch = await readTorchMlpFile(resolved);
  return { file, model: { config: null, ...torch, kind: 'PyTorch state dict' } };
}

function readProbeInputs(file: ReadFile, labelColumn: number | string | undefined): { data: Float32Array; rows: number; columns: number } {
  const bytes = file.bytes;
  if (dataFormat({ name: file.path, bytes }) === 'npy') {
    const a = parseNpy(bytes, { name: file.path });
    if (a.shape.length !== 2) throw new DataError(`${file.path}: probe inputs must be 2-D [rows, features], got shape ${fmtShape(a.shape)}`);
    return { data: a.data, rows: a.shape[0], columns: a.shape[1] };
  }
  const t = parseCsv(new TextDecoder().decode(bytes), { name: file.path, labelColumn: labelColumn ?? null });
  return { data: t.inputs, rows: t.samples, columns: t.columns };
}

/** Runs the probe pass once over `options.probe` with the model's weights and writes maps and report into `options.out`. */
export async function probeModel(options: ProbeModelOptions): Promise<ProbeModelResult> {
  const { file: modelFile, model } = await loadModel(options.model);
  const probeFile = await readRecordedFile({ path: options.probe }, '--probe', (size) =>
    checkFileSize(options.probe, /\.npy$/i.test(options.probe) ? 'npy' : 'csv', size),
  );
  const inputs = readProbeInputs(probeFile, options.labelColumn);
  if (inputs.columns !== model.inputSize)
    throw new DataError(`${probeFile.path}: ${inputs.columns} input columns, but the model takes ${model.inputSize} (${model.kind} ${modelFile.path})`);
  // The probe pass needs a training set to exist (nothing trains): the probe rows, with labels 0.
  const dataset: Dataset = {
    inputs: inputs.data,
    targets: new Uint32Array(inputs.rows),
    samples: inputs.rows,
    inputSize: inputs.columns,
    outputSize: Math.max(2, model.outputSize),
    kind: 'classification',
  };
  const probeRows = Math.min(inputs.rows, LIMITS.probeSize.max);
  const base = model.config ?? {
    inputSize: model.inputSize,
    outputSize: model.outputSize,
    hidden: model.widths.map((width) => ({ width, activation: options.activation ?? { kind: 'relu' }, dropout: 0 })),
  };
  const config = parseRunConfig({
    ...base,
    loss: model.outputSize >= 2 ? 'softmax_ce' : 'mse',
    dataset: { kind: 'file', inputs: { path: probeFile.path, bytes: probeFile.size, sha256: probeFile.sha256 } },
    ...(model.config ? {} : { initFrom: { path: modelFile.path, bytes: modelFile.size, sha256: modelFile.sha256 } }),
    batchSize: Math.min(inputs.rows, 64),
    steps: 1,
    seed: options.seed ?? model.config?.seed ?? 1,
    snapshot: { every: 1, probeSize: Math.max(LIMITS.probeSize.min, probeRows) },
  });
  if (model.outputSize < 2) dataset.targets = new Float32Array(inputs.rows);
  dataset.kind = model.outputSize >= 2 ? 'classification' : 'regression';
  dataset.outputSize = model.outputSize;
  const probe = probeSet(dataset, probeRows, config.seed);

  const gpu = options.gpu ?? (await acquireNodeGpu());
  const run = await openRun(gpu, { config, data: { dataset, probe }, initial: model.layers }).catch((error: unknown) => {
    if (!options.gpu) gpu.device.destroy();
    throw error;
  });
  let layers: ProbedLayer[];
  const paths = runPaths(options.out);
  try {
    const snapshot = await run.observatory.next();
    if (!snapshot) throw new Error('the probe snapshot never came back from the GPU');
    await mkdir(options.out, { recursive: true });
    await writeUnitMaps(paths, snapshot, 'both');
    layers = snapshot.layers.map((l, i) => {
      const deadUnits: number[] = [];
      for (let u = 0; u < l.width; u++) if ((l.dead[u >>> 5] >>> (u & 31)) & 1) deadUnits.push(u);
      return { layer: i + 1, width: l.width, dead: deadUnits.length, deadUnits };
    });
  } finally {
    run.destroy();
    if (!options.gpu) gpu.device.destroy();
  }
  await writeFileAtomic(paths.config, new TextEncoder().encode(toJson(config) + '\n'));
  const summary = { model: modelFile.path, probe: probeFile.path, rows: probe.samples, layers };
  await writeFileAtomic(join(options.out, 'dead-units.json'), new TextEncoder().encode(JSON.stringify(summary, null, 2) + '\n'));
  await writeFileAtomic(paths.report, new TextEncoder().encode(probeReport(config, model.kind, modelFile, probeFile, inputs.rows, probe.samples, layers)));
  return { out: options.out, config, rows: probe.samples, layers };
}

function probeReport(config: RunConfig, kind: string, model: FileIdentity, probe: FileIdentity, rows: number, used: number, layers: ProbedLayer[]): string {
  const pct = (n: number, d: number) => `${((100 * n) / d).toFixed(1)} %`;
  const list = (units: number[]) => (units.length === 0 ? '-' : units.slice(0, 32).join(', ') + (units.length > 32 ? `, … (${units.length})` : ''));
  return [
    '# Dead units on your inputs',
    '',
    `- model: \`${model.path}\` (${kind}, ${model.size} bytes, SHA-256 \`${model.sha256}\`)`,
    `- network: ${[config.inputSize, ...config.hidden.map((h) => `${h.width} ${h.activation.kind}`), config.outputSize].join(' -> ')}`,
    `- in PyTorch: \`${torchSequentialSource(config)}\``,
    `- probe: \`${probe.path}\` (${probe.size} bytes, SHA-256 \`${probe.sha256}\`): ${used === rows ? `all ${rows} rows` : `${used} of ${rows} rows (the probe limit), chosen by seed ${config.seed}`}`,
    '',
    'A unit is dead when its pre-activation is <= 0 for every probe row (dropout off): it passes no signal and gets no gradient from these inputs.',
    '',
    '| layer | width | dead | dead units |',
    '| --- | ---: | ---: | --- |',
    ...layers.map((l) => `| L${l.layer} | ${l.width} | ${l.dead} (${pct(l.dead, l.width)}) | ${list(l.deadUnits)} |`),
    '',
    ...layers.flatMap((l) => [`![L${l.layer}](${unitMapFile(l.layer, 0, 'png')})`, '']),
    'Files: `config.json` (the network as read), `dead-units.json`, `maps/L<l>/step-0000000000.{png,npy}` (uint8 per unit: 0 alive, 1 dead).',
    '',
  ].join('\n');
}
