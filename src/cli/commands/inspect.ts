// `deadunits inspect FILE`: what a checkpoint holds, read without a GPU. The file is validated as a whole
// (src/io/checkpoint.ts) before anything is printed, so a truncated, damaged or foreign file is an error naming it.
// It is read tensor by tensor, so a checkpoint of any size can be inspected; devices and FIFOs are refused.
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Command, Option } from 'commander';
import { ACTIVATIONS, type ActivationConfig, type ActivationKind, DEFAULT_ALPHA, safeParseRunConfig } from '../../config';
import { probeModel } from '../probe-model';
import { CHECKPOINT_FORMAT, CheckpointError, checkShapesMatchConfig } from '../../io/checkpoint';
import { scanCheckpointFile } from '../../io/checkpoint-file';
import { checkFileNameStep, latestCheckpoint } from '../../io/atomic-file';
import type { Tensor } from '../../io/safetensors';
import { type LayerHistorySummary, summarizeUnitHistory } from '../../report/seed-answer';
import { configSummary, matchingPreset } from '../config-summary';

export interface TensorSummary {
  name: string;
  dtype: Tensor['dtype'];
  shape: number[];
  bytes: number;
  /** Over the finite elements; null when there are none. */
  min: number | null;
  max: number | null;
  mean: number | null;
  nonFinite: number;
}

export interface CheckpointSummary {
  file: string;
  fileBytes: number;
  format: string;
  version: number;
  step: number;
  optimizer: string;
  /** 'verified': every tensor matched its CRC-32; 'none': a file written before checksums (nothing to verify). */
  checksums: 'verified' | 'none';
  /** The saved configuration, as saved. */
  config: unknown;
  /** One line, or the reason the saved configuration does not validate. */
  configSummary: string;
  configValid: boolean;
  preset: string | null;
  tensors: TensorSummary[];
  observatory: { lastSnapshotStep: number; skipped: number; layers: LayerHistorySummary[] } | null;
}

export function summarizeTensor(name: string, t: Tensor): TensorSummary {
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  for (let i = 0; i < t.data.length; i++) {
    const v = t.data[i];
    if (!Number.isFinite(v)) continue;
    finite++;
    sum += v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return {
    name,
    dtype: t.dtype,
    shape: [...t.shape],
    bytes: t.data.byteLength,
    min: finite ? min : null,
    max: finite ? max : null,
    mean: finite ? sum / finite : null,
    nonFinite: t.data.length - finite,
  };
}

/**
 * Reads, validates and summarizes a checkpoint file, tensor by tensor (memory: the largest tensor, whatever the
 * file's size). Only a regular file is read. Every failure is a CheckpointError whose message starts with the file
 * name: a damaged tensor (checksum), a step in the file name that is not the step inside, tensors whose shapes are
 * not those of the saved configuration.
 */
export async function inspectCheckpoint(file: string): Promise<CheckpointSummary> {
  const tensors: TensorSummary[] = [];
  const unitHistories: Uint32Array[] = [];
  const trainRecords: Uint32Array[] = [];
  let scanned: Awaited<ReturnType<typeof scanCheckpointFile>>;
  try {
    scanned = await scanCheckpointFile(file, (name, tensor) => {
      tensors.push(summarizeTensor(name, tensor));
      const h = /^unit_history\.(\d+)$/.exec(name);
      if (h) unitHistories[Number(h[1]) - 1] = tensor.data as Uint32Array;
      const r = /^train_record\.(\d+)$/.exec(name);
      if (r) trainRecords[Number(r[1]) - 1] = tensor.data as Uint32Array;
    });
  } catch (error) {
    if (error instanceof CheckpointError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') throw new CheckpointError(`${file}: cannot read: ${(error as Error).message}`, undefined, 'file');
    throw error;
  }
  const { plan, metadata, fileBytes } = scanned;
  checkFileNameStep(file, plan.step);
  const parsed = safeParseRunConfig(plan.config);
  if (parsed.success) {
    try {
      checkShapesMatchConfig(plan, parsed.data);
    } catch (error) {
      if (error instanceof CheckpointError) throw new CheckpointError(`${file}: ${error.message}`, error.tensor, error.field);
      throw error;
    }
  }
  const observatory = plan.observatory
    ? {
        lastSnapshotStep: plan.observatory.lastSnapshotStep,
        skipped: plan.observatory.skipped,
        layers: unitHistories.map((h, i) => {
          const record = trainRecords[i];
          const window = parsed.success ? parsed.data.snapshot.frozenWindow : undefined;
          const training = record && window !== undefined ? { record, step: plan.step, window } : undefined;
          return summarizeUnitHistory(h, plan.layerShapes[i][1], training);
        }),
      }
    : null;
  return {
    file,
    fileBytes,
    format: CHECKPOINT_FORMAT,
    version: Number(metadata.version),
    step: plan.step,
    optimizer: plan.optimizer,
    checksums: plan.checksums ? 'verified' : 'none',
    config: plan.config,
    configSummary: parsed.success ? configSummary(parsed.data) : `not a valid configuration: ${parsed.error.message}`,
    configValid: parsed.success,
    preset: parsed.success ? (matchingPreset(parsed.data) ?? null) : null,
    tensors: tensors.sort((a, b) => compareTensorNames(a.name, b.name)),
    observatory,
  };
}

/** A checkpoint file as given, or a run folder's latest checkpoint (in its checkpoints/ folder). */
export async function resolveCheckpoint(path: string): Promise<string> {
  const info = await stat(path).catch(() => null);
  if (!info?.isDirectory()) return path;
  const latest = (await latestCheckpoint(join(path, 'checkpoints'))) ?? (await latestCheckpoint(path));
  if (!latest) throw new CheckpointError(`${path}: a folder without checkpoints (looked in ${join(path, 'checkpoints')} and ${path})`, undefined, 'file');
  return latest.path;
}

/** layers.2.* after layers.1.*, layers.10.* after layers.9.*: numbers compare as numbers. */
function compareTensorNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

const fmt = (v: number | null): string => (v === null ? '-' : Number.isInteger(v) ? String(v) : v.toPrecision(5));

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 ** 2) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 ** 2).toFixed(1)} MiB`;
}

function table(rows: string[][]): string[] {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  return rows.map((r) =>
    r
      .map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c])))
      .join('  ')
      .trimEnd(),
  );
}

export function formatCheckpointSummary(s: CheckpointSummary): string {
  const lines = [
    `file:        ${s.file} (${formatBytes(s.fileBytes)})`,
    `format:      ${s.format} version ${s.version}`,
    `step:        ${s.step}`,
    `optimizer:   ${s.optimizer}`,
    `checksums:   ${s.checksums === 'verified' ? 'CRC-32 of every tensor and of the metadata, all verified' : 'none (written before checksums): not verified'}`,
    `config:      ${s.configSummary}${s.preset ? ` (= preset ${s.preset})` : ''}`,
    '',
    'tensors:',
    ...table([
      ['name', 'dtype', 'shape', 'bytes', 'min', 'max', 'mean', 'non-finite'],
      ...s.tensors.map((t) => [t.name, t.dtype, `[${t.shape.join(', ')}]`, String(t.bytes), fmt(t.min), fmt(t.max), fmt(t.mean), String(t.nonFinite)]),
    ]).map((l) => `  ${l}`),
  ];
  if (s.observatory) {
    lines.push('', `observatory: last snapshot at step ${s.observatory.lastSnapshotStep}, ${s.observatory.skipped} snapshots skipped`);
    lines.push(
      ...table([
        ['layer', 'width', 'dead now', 'ever dead', 'revived units', 'revivals', 'ever dropped', 'longest drop run'],
        ...s.observatory.layers.map((l, i) => [
          `L${i + 1}`,
          String(l.width),
          String(l.deadNow),
          String(l.everDead),
          String(l.revivedUnits),
          String(l.totalRevivals),
          String(l.everDropped),
          String(l.longestDropRun),
        ]),
      ]).map((l) => `  ${l}`),
    );
  } else lines.push('', 'observatory: none (the run had no observatory)');
  return lines.join('\n');
}

interface InspectFlags {
  json?: boolean;
  config?: boolean;
  probe?: string;
  out?: string;
  activation?: ActivationKind;
  labelColumn?: string;
}

/** An activation kind with its default alpha (leaky_relu, elu). */
function ACTIVATION_DEFAULTS(kind: ActivationKind): ActivationConfig {
  return kind === 'leaky_relu' || kind === 'elu' ? { kind, alpha: DEFAULT_ALPHA[kind] } : { kind };
}

export function inspectCommand(): Command {
  return new Command('inspect')
    .description(
      "Print what a checkpoint holds: format, step, configuration, every tensor with statistics, optimizer and the observatory's per-layer unit counts.",
    )
    .argument(
      '<checkpoint>',
      'a .safetensors checkpoint written by `deadunits run` (or the engine), or a run folder (its latest checkpoint); with --probe also a PyTorch nn.Sequential state dict',
    )
    .option('--json', 'machine-readable output: one JSON object, including the full configuration')
    .option('--config', 'also print the full configuration as JSON after the summary')
    .option('--probe <inputs>', 'run the model on these inputs (.npy or .csv) and write its unit maps and a report, without training (needs a GPU)')
    .option('--out <dir>', 'with --probe: the folder for maps and report (default <model>-probe)')
    .addOption(
      new Option('--activation <kind>', 'with --probe, for a PyTorch model: the activation between its Linear layers (default relu)').choices(ACTIVATIONS),
    )
    .option('--label-column <index|name>', 'with --probe on a CSV: a column to leave out (the labels)')
    .addHelpText(
      'after',
      `
Examples:
  $ deadunits inspect runs/a/checkpoints/checkpoint-0000001000.safetensors
  $ deadunits inspect runs/a                      # the run folder's latest checkpoint
  $ deadunits inspect --json ckpt.safetensors | jq '.tensors[] | select(.nonFinite > 0)'
  $ deadunits inspect --probe X.npy model.safetensors   # your PyTorch MLP: which units are dead on X`,
    )
    .action(async (file: string, options: InspectFlags) => {
      if (options.probe !== undefined) {
        const labelColumn =
          options.labelColumn === undefined ? undefined : /^-?\d+$/.test(options.labelColumn) ? Number(options.labelColumn) : options.labelColumn;
        const result = await probeModel({
          model: file,
          probe: options.probe,
          out: options.out ?? `${file.replace(/[\\/]+$/, '').replace(/\.safetensors$/i, '')}-probe`,
          activation: options.activation && ACTIVATION_DEFAULTS(options.activation),
          labelColumn,
        });
        for (const l of result.layers) console.log(`L${l.layer}: ${l.dead} of ${l.width} units dead on ${result.rows} probe rows`);
        console.log(`report: ${join(result.out, 'report.md')}`);
        return;
      }
      const summary = await inspectCheckpoint(await resolveCheckpoint(file));
      if (options.json) console.log(JSON.stringify(summary, null, 2));
      else {
        console.log(formatCheckpointSummary(summary));
        if (options.config) console.log(`\nconfig (JSON):\n${JSON.stringify(summary.config, null, 2)}`);
      }
    });
}
