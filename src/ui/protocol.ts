// The typed messages between the page and the engine Worker (src/ui/worker/engine-worker.ts). The page never touches
// the GPU: it sends commands, the worker trains and answers with frames (metrics rows, timeline columns and the latest
// snapshot's bitmaps, in one transferable buffer). Commands are validated on arrival (parseWorkerCommand) so that a bad
// message is an error naming the field, never a half-applied command.
//
// Flow control: the worker posts a `frame` only when it holds a credit; the page gives the credit back with `ack` once
// it has drawn the frame (one per animation frame at most). Between frames, metrics rows and timeline columns queue up
// (nothing is lost) and only the newest bitmaps are kept: the older ones are dropped and counted in `coalesced`.

import { z } from 'zod';
import { LOSSES, RunConfigSchema, type RunConfig } from '../config';
import type { RunEstimate } from '../engine/run-estimate';
import type { AdapterSummary } from '../gpu/device';
import type { MetricsRow } from '../report/metrics';
import type { LayerHistorySummary } from '../report/seed-answer';
import type { UnitBitmaps } from '../report/unit-states';
import type { DataLoadRequest, DataLoadSummary } from './worker/user-data-store';

/** Largest snapshot interval and steps-per-frame cap the toolbar accepts (the GPU step counter is a u32). */
export const MAX_SNAPSHOT_EVERY = 1_000_000;
export const MAX_STEPS_PER_FRAME = 100_000;

// ---------------------------------------------------------------------------------------------------------------
// Page → worker

export type WorkerCommand =
  /**
   * (Re)build the run at step 0, paused. If only `steps` differs from the current run, the run keeps going.
   * `stepsPerFrame`: the most steps a chunk of training may hold; null: chunks are sized by time alone.
   */
  | { type: 'configure'; config: RunConfig; snapshotEvery: number; stepsPerFrame: number | null }
  /** Train until paused or config.steps is reached. */
  | { type: 'run' }
  | { type: 'pause' }
  /** Train one snapshot interval (snapshotEvery steps), then pause. */
  | { type: 'step' }
  /** Back to step 0 with the same config (new parameters from the same seed: the same run again). */
  | { type: 'reset' }
  /** Change the snapshot interval or the cap on steps per chunk (null: none), also while running. */
  | { type: 'options'; snapshotEvery?: number; stepsPerFrame?: number | null }
  /** The page drew the last frame: the worker may post the next one. */
  | { type: 'ack' }
  /** The history of one unit (for the hover tooltip); answered with `unit-info` carrying the same id. */
  | { type: 'unit-info'; id: number; layer: number; unit: number }
  /** Keep sending (or stop sending) the death-step order of a hidden layer (1-based). */
  | { type: 'order'; layer: number; enabled: boolean }
  /** The run's state as a safetensors checkpoint (src/io/checkpoint.ts); answered with `checkpoint`. */
  | { type: 'checkpoint'; id: number }
  /** After a device loss: new device, state written back from the last saved state, paused. */
  | { type: 'resume' }
  /** Destroys the GPU device as if it had been lost (for the end-to-end test of the recovery path). */
  | { type: 'lose-device' }
  /** Destroys one of the run's weight buffers, so that its next chunk fails on the GPU (for the end-to-end test of that path). */
  | { type: 'force-gpu-error' }
  /**
   * The user's own files (.npy / .csv, transferred): hashed and parsed in the worker, kept for runs whose config names
   * them by hash; answered with `data` carrying the same id (the dataset fields and sizes, or a message).
   */
  | ({ type: 'data'; id: number } & DataLoadRequest);

const positiveInt = (max: number) => z.number().int().min(1).max(max);
const id = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);
const layer = z.number().int().min(1).max(64);
const dataFile = z.strictObject({ name: z.string().min(1).max(256), bytes: z.instanceof(ArrayBuffer) });

const WorkerCommandSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('configure'),
    config: z.unknown(),
    snapshotEvery: positiveInt(MAX_SNAPSHOT_EVERY),
    stepsPerFrame: positiveInt(MAX_STEPS_PER_FRAME).nullable(),
  }),
  z.strictObject({ type: z.literal('run') }),
  z.strictObject({ type: z.literal('pause') }),
  z.strictObject({ type: z.literal('step') }),
  z.strictObject({ type: z.literal('reset') }),
  z.strictObject({
    type: z.literal('options'),
    snapshotEvery: positiveInt(MAX_SNAPSHOT_EVERY).optional(),
    stepsPerFrame: positiveInt(MAX_STEPS_PER_FRAME).nullable().optional(),
  }),
  z.strictObject({ type: z.literal('ack') }),
  z.strictObject({ type: z.literal('unit-info'), id, layer, unit: z.number().int().min(0).max(1_048_575) }),
  z.strictObject({ type: z.literal('order'), layer, enabled: z.boolean() }),
  z.strictObject({ type: z.literal('checkpoint'), id }),
  z.strictObject({ type: z.literal('resume') }),
  z.strictObject({ type: z.literal('lose-device') }),
  z.strictObject({ type: z.literal('force-gpu-error') }),
  z.strictObject({
    type: z.literal('data'),
    id,
    inputs: dataFile,
    targets: dataFile.optional(),
    labelColumn: z.union([z.number().int(), z.string().min(1)]).optional(),
    header: z.union([z.boolean(), z.literal('auto')]).optional(),
    loss: z.enum(LOSSES).optional(),
    outputSize: z.number().int().min(1).optional(),
  }),
]);

export class ProtocolError extends Error {
  override name = 'ProtocolError';
}

/** Checks a message that arrived at the worker; throws ProtocolError naming the field and what was expected. */
export function parseWorkerCommand(data: unknown): WorkerCommand {
  const parsed = WorkerCommandSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const type = typeof data === 'object' && data !== null && 'type' in data ? ` "${String((data as { type: unknown }).type)}"` : '';
    throw new ProtocolError(`worker command${type}: field ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  const command = parsed.data;
  if (command.type !== 'configure') return command as WorkerCommand;
  const config = RunConfigSchema.safeParse(command.config);
  if (!config.success)
    throw new ProtocolError(`worker command "configure": field config: ${config.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return { ...command, config: config.data };
}

// ---------------------------------------------------------------------------------------------------------------
// Worker → page

/** 'failed': stopped by a GPU error mid-run (see the `run-failed` event); 'error': could not be built or another error. */
export type RunState = 'starting' | 'paused' | 'running' | 'finished' | 'lost' | 'failed' | 'error';

/** One hidden layer of the newest snapshot: one bitmap per unit state (1 bit per unit, bit u % 32 of word u / 32). */
export type FrameLayer = UnitBitmaps;

export interface FrameSnapshot {
  step: number;
  layers: FrameLayer[];
  /** The one buffer every bitmap views (transferred). */
  buffer: ArrayBuffer;
}

/**
 * A timeline column: per hidden layer, `rows` buckets of consecutive units, each with the fraction of its units in each
 * state of PRECEDENCE (src/report/unit-states.ts; a unit counts in its first state only), as bytes 0..255.
 */
export interface TimelineColumn {
  step: number;
  layers: Uint8Array[];
}

/** Per unit, what the observatory keeps (src/spec/unit-history.ts UnitHistoryField); null for "never". */
export interface UnitRecord {
  firstDeathStep: number | null;
  deaths: number;
  revivals: number;
  lastChangeStep: number | null;
  dead: boolean;
  dropRun: number;
  longestDropRun: number;
}

/** GPU work that has run for more than a second (see src/ui/worker/work-progress.ts). */
export interface WorkProgress {
  /** 'steps': a chunk training steps (from, to], with the snapshots due in it; 'snapshot': the snapshot of step `to` alone. */
  kind: 'steps' | 'snapshot';
  from: number;
  to: number;
  /** Snapshots the work takes. */
  snapshots: number;
  /** Steps of the chunk the GPU has finished. */
  done: number;
  elapsedSeconds: number;
  /** What the whole work should take (measured speed or the estimate); null when unknown. */
  expectedSeconds: number | null;
  /** 'snapshot' taken in pieces (the step-0 one): probe rows measured so far, of all; absent before the first piece. */
  probe?: { measured: number; rows: number };
}

/** One hidden layer of a partial step-0 snapshot: the units already proven not dead, 1 bit per unit. */
export interface PartialLayer {
  width: number;
  proven: Uint32Array;
}

export type WorkerEvent =
  /**
   * The run is built (at `step`) and waits for `run` or `step`. `notice`: something the user should know about this run
   * (e.g. that device-loss recovery is off for a net this large).
   */
  | { type: 'ready'; adapter: AdapterSummary; step: number; widths: number[]; resumed: boolean; notice: string | null }
  | { type: 'state'; state: RunState; step: number; stepsPerSecond: number | null; snapshotEvery: number; stepsPerFrame: number | null }
  /** Long GPU work still running (about once a second); null: it ended. */
  | { type: 'progress'; work: WorkProgress | null }
  /** What the run costs on this adapter (seconds per step and per snapshot, memory), sent once it is built. */
  | { type: 'estimate'; estimate: RunEstimate }
  /**
   * The step-0 snapshot while it is measured in pieces (a wide net on a slow adapter): after `rowsMeasured` of the
   * `probeRows` probe rows, per hidden layer the units proven not dead on the probe set (a positive or non-finite
   * pre-activation on a measured row); the others are not decided yet. The step-0 snapshot's frame replaces it.
   */
  | { type: 'partial'; rowsMeasured: number; probeRows: number; layers: PartialLayer[] }
  /** Everything since the previous frame: one row and one timeline column per snapshot, and the newest bitmaps. */
  | { type: 'frame'; rows: MetricsRow[]; columns: TimelineColumn[]; snapshot: FrameSnapshot | null; coalesced: number }
  /** Per hidden layer, the history reduced to counts (for the seed-answer panel). */
  | { type: 'summary'; step: number; layers: LayerHistorySummary[] }
  /** Cell i of the layer's map shows unit permutation[i]: units that died first come first, never-dead units last. */
  | { type: 'order'; layer: number; step: number; permutation: Uint32Array }
  | { type: 'unit-info'; id: number; layer: number; unit: number; step: number; record: UnitRecord }
  | { type: 'checkpoint'; id: number; step: number; bytes: Uint8Array }
  /** The GPU device was lost; `resumeStep` is the step of the last saved state (null: nothing to resume from). */
  | { type: 'device-lost'; message: string; resumeStep: number | null }
  /**
   * A GPU error stopped the run (src/engine/gpu-faults.ts): nothing computed after the snapshot of `lastGoodStep` was or
   * will be sent. `resumeStep`: the step of the last saved state (null: none).
   */
  | { type: 'run-failed'; message: string; lastGoodStep: number; resumeStep: number | null }
  /** The answer to a `data` command: what to put in the configuration, or why the files cannot be used. */
  | ({ type: 'data'; id: number } & ({ ok: true; summary: DataLoadSummary } | { ok: false; message: string }))
  /** `noWebGpu`: the browser has no usable adapter (show the no-WebGPU page). */
  | { type: 'error'; message: string; noWebGpu?: boolean };

/** The buffers a message can hand over without a copy (the receiver owns them afterwards). */
export function transferablesOf(event: WorkerEvent): Transferable[] {
  switch (event.type) {
    case 'frame': {
      const out: ArrayBuffer[] = [];
      if (event.snapshot) out.push(event.snapshot.buffer);
      for (const c of event.columns) for (const l of c.layers) if (!out.includes(l.buffer as ArrayBuffer)) out.push(l.buffer as ArrayBuffer);
      return out;
    }
    case 'partial':
      return event.layers.map((l) => l.proven.buffer as ArrayBuffer);
    case 'order':
      return [event.permutation.buffer as ArrayBuffer];
    case 'checkpoint':
      return [event.bytes.buffer as ArrayBuffer];
    default:
      return [];
  }
}
