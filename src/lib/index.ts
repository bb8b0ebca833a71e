// The library entry of the package (`import { openRun, Trainer } from 'deadunits'`): what a Node program needs
// to train a network on WebGPU (Dawn) and watch its units, the same objects the CLI and the page use.
// Built into lib/index.js with its declarations by scripts/build-package.mjs; the README shows an example. It sits
// above the hosts (it re-exports the CLI's run job), in a layer of its own (.dependency-cruiser.cjs).

// Configurations: schema, presets, JSON and URL forms.
export * from '../config';
// A device: Dawn in Node (npm `webgpu`).
export { acquireNodeGpu, type DawnOptions } from '../gpu/dawn';
export { NoAdapterError, type AcquireOptions, type AdapterSummary, type GpuContext } from '../gpu/device';
// The engine: open a run, train it, read its snapshots.
export {
  lossHistoryCapacity,
  openObservatory,
  openRun,
  SNAPSHOT_RING_SIZE,
  type OpenedRun,
  type OpenRunOptions,
  type ProbeInputs,
  type RunData,
  type SavedRun,
} from '../engine/open-run';
export { Trainer, type LayerParameters, type LayerState, type TrainerOptions, type TrainerState, type TrainingData } from '../engine/trainer';
export { Observatory, type ObservatoryOptions, type ObservatoryState } from '../engine/observatory';
export type { LayerCounts, LayerSnapshot, Snapshot } from '../engine/snapshot';
export { SnapshotSinks, type SnapshotSink } from '../engine/snapshot-sink';
export { modelSpecFromConfig } from '../engine/from-config';
export type { ModelSpec } from '../engine/model-spec';
// Data: synthetic sets from the seed, your own arrays (.npy, .csv), probe sets.
export {
  checkDatasetForConfig,
  DataError,
  datasetFromArrays,
  encodeNpy,
  generateDataset,
  parseCsv,
  parseNpy,
  probeSet,
  runData,
  selectRows,
  userDataset,
  type ArrayInput,
  type CsvOptions,
  type CsvTable,
  type DataFile,
  type Dataset,
  type NpyArray,
  type ProbeSet,
  type UserData,
} from '../data';
// Files: checkpoints, PyTorch state dicts, safetensors.
export { checkpointFromSafetensors, checkpointToSafetensors, CheckpointError, type Checkpoint, type CheckpointState } from '../io/checkpoint';
export { torchMlpFromSafetensors, torchSequentialSource, torchStateDict, type TorchMlp } from '../io/torch-model';
export { decodeSafetensors, encodeSafetensors, type Tensor } from '../io/safetensors';
// Reading the units: states and their codes, history summaries, the plain-language answer.
export { PRECEDENCE, UNIT_STATES, unitCodes, type UnitState } from '../report/unit-states';
export { answerSeedQuestion, summarizeUnitHistory, type LayerHistorySummary, type SeedAnswer } from '../report/seed-answer';
export { metricsFromSnapshot, type MetricsRow } from '../report/metrics';
// A whole headless run into a run folder, as `deadunits run` / `resume` do it.
export { resumeJob, runJob, type RunJobOptions, type RunJobResult } from '../cli/run-job';
