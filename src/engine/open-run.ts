// The one way a host opens a training run, fresh or from a saved state: model spec from the configuration,
// Trainer, saved state, Observatory, in that order (the observatory reads the trainer's step to decide whether
// to take the step-0 snapshot). The CLI (src/cli/run-job.ts, src/cli/demo.ts) and the page's Worker
// (src/ui/worker/session.ts) all open runs here, so all of them share one staging ring and loss ring policy.
// The data set comes in from the host (src/data's runData): the engine never imports src/data.
// A run that does not fit the GPU fails here, before any step, with one GpuAllocationError (./gpu-faults.ts); a
// saved state that could not be written back fails with a GpuScopeError. Nothing is left allocated either way.
import type { RunConfig } from '../config/schema';
import type { GpuContext } from '../gpu/device';
import { modelSpecFromConfig } from './from-config';
import type { TrainingData } from './model-buffers';
import type { ModelSpec } from './model-spec';
import { Observatory, type ObservatoryState } from './observatory';
import { Trainer, type LayerParameters, type TrainerState } from './trainer';

/**
 * Staging buffers per observatory: snapshots taken while this many are still on their way back are skipped
 * (counted). Hosts that read after every chunk keep a chunk within this many snapshot intervals and never skip.
 */
export const SNAPSHOT_RING_SIZE = 8;
/** The loss ring holds at least this many steps ... */
const MIN_LOSS_HISTORY = 4096;
/** ... and at most this many, even for longer snapshot intervals (a snapshot then carries its interval's last losses). */
const MAX_LOSS_HISTORY = 1 << 16;

/** Steps of loss history kept on the GPU: one snapshot interval, so that every step's loss reaches a snapshot (within bounds). */
export function lossHistoryCapacity(snapshotEvery: number): number {
  return Math.max(MIN_LOSS_HISTORY, Math.min(snapshotEvery, MAX_LOSS_HISTORY));
}

/** The observatory's probe set: a fixed subset of the data set's inputs [samples, inputSize]. */
export interface ProbeInputs {
  inputs: Float32Array;
  samples: number;
}

/** A run's data: the training set and its probe set (src/data's runData builds both from the configuration). */
export interface RunData<D extends TrainingData = TrainingData, P extends ProbeInputs = ProbeInputs> {
  dataset: D;
  probe: P;
}

/** What a run continues from: a checkpoint's trainer state and, when the run had one, its observatory's. */
export interface SavedRun {
  trainer: TrainerState;
  observatory?: ObservatoryState;
}

export interface OpenRunOptions<D extends TrainingData, P extends ProbeInputs> {
  /** Validated. */
  config: RunConfig;
  data: RunData<D, P>;
  /** Snapshot interval in steps; default config.snapshot.every. */
  snapshotEvery?: number;
  /** Continue from this state (same configuration); absent: a fresh run, which takes the step-0 snapshot. */
  saved?: SavedRun | null;
  /** A fresh run's starting weights instead of the init schemes (config initFrom): the step-0 snapshot sees them. */
  initial?: readonly LayerParameters[] | null;
  /** A fresh run's step-0 snapshot: taken now (default), or in pieces by the host (ObservatoryOptions.initialSnapshot). */
  initialSnapshot?: 'now' | 'pieces';
  /** Probe rows per slice of the probe pass (ModelSpec.probeChunkRows); unset: as many as memory allows. Tests set it low. */
  probeChunkRows?: number;
}

/** An open run: its engine objects and what they were built from. */
export interface OpenedRun<D extends TrainingData = TrainingData, P extends ProbeInputs = ProbeInputs> {
  config: RunConfig;
  spec: ModelSpec;
  dataset: D;
  probe: P;
  trainer: Trainer;
  observatory: Observatory;
  /** Frees the observatory's and the trainer's GPU objects. */
  destroy(): void;
}

export async function openRun<D extends TrainingData, P extends ProbeInputs>(gpu: GpuContext, options: OpenRunOptions<D, P>): Promise<OpenedRun<D, P>> {
  const { config, saved } = options;
  const { dataset, probe } = options.data;
  const every = options.snapshotEvery ?? config.snapshot.every;
  const spec: ModelSpec = {
    ...modelSpecFromConfig(config),
    probeRows: probe.samples,
    ...(options.probeChunkRows !== undefined && { probeChunkRows: options.probeChunkRows }),
  };
  // Tuning is sized to the steps still to train (a short run pays almost nothing for it).
  const remaining = Math.max(0, config.steps - (saved?.trainer.step ?? 0));
  const trainer = await Trainer.create(gpu, spec, dataset, { lossHistoryCapacity: lossHistoryCapacity(every), tuneForSteps: remaining });
  let observatory: Observatory | undefined;
  try {
    if (saved) await trainer.writeState(saved.trainer);
    else if (options.initial) trainer.writeParameters(options.initial);
    observatory = await openObservatory(
      trainer,
      probe,
      every,
      config.snapshot.frozenWindow,
      every > 0 ? Math.ceil(remaining / every) + 1 : 1,
      options.initialSnapshot,
    );
    if (saved?.observatory) observatory.writeState(saved.observatory);
  } catch (error) {
    observatory?.destroy();
    trainer.destroy();
    throw error;
  }
  const obs = observatory;
  return {
    config,
    spec,
    dataset,
    probe,
    trainer,
    observatory: obs,
    destroy() {
      obs.destroy();
      trainer.destroy();
    },
  };
}

/** An observatory over `trainer` with the shared staging ring (also for replacing one when the interval changes). */
export function openObservatory(
  trainer: Trainer,
  probe: ProbeInputs,
  every: number,
  frozenWindow: number,
  tuneForSnapshots?: number,
  initialSnapshot?: 'now' | 'pieces',
): Promise<Observatory> {
  return Observatory.create(trainer, {
    initialSnapshot,
    every,
    probeInputs: probe.inputs,
    probeRows: probe.samples,
    ringSize: SNAPSHOT_RING_SIZE,
    frozenWindow,
    tuneForSnapshots,
  });
}
