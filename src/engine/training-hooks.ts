// How work rides along with training: the Trainer records K steps per command buffer (a "chunk") and lets
// hooks (the observatory, per-step statistics) add their dispatches and copies to the same command buffer,
// so monitoring never costs a submit or a wait of its own. See Trainer.train and Trainer.addHooks.

import type { Dispatch } from '../gpu/dispatch';
import type { GpuRunError } from './gpu-faults';

/**
 * How a submitted chunk ended on the GPU, once its error scopes resolved: null when it and every chunk before it ran
 * clean, else the run's fault. Nothing a chunk computed may be used before its check resolved null.
 */
export type ChunkCheck = Promise<GpuRunError | null>;

/** What a hook may record into a chunk's command buffer after a step. */
export interface ChunkRecorder {
  /** Records a dispatch into the chunk's current compute pass. */
  dispatch(dispatch: Dispatch): void;
  /** Records commands outside any compute pass (buffer copies); the next dispatch opens a new pass. */
  copy(record: (encoder: GPUCommandEncoder) => void): void;
}

/**
 * Work a plug-in records into the Trainer's chunks. Steps are numbered by the count of steps completed once
 * they have run: the first training step is step 1.
 */
export interface TrainingHooks {
  /** Dispatches recorded inside step `step`, after its body and before end_step, while StepState still names it. */
  insideStep?(step: number): readonly Dispatch[];
  /** Work recorded after step `step` has ended, in the same command buffer (a snapshot's probe pass and copies). */
  afterStep?(step: number, chunk: ChunkRecorder): void;
  /**
   * The chunk holding everything recorded since the last call was submitted: map the staging buffers it fills, but
   * hand on what they hold only once `check` resolved null.
   */
  afterSubmit?(check: ChunkCheck): void;
}

/** A chunk's command encoder: opens compute passes on demand and closes them around copies. */
export class ChunkEncoder implements ChunkRecorder {
  private readonly encoder: GPUCommandEncoder;
  private pass: GPUComputePassEncoder | null = null;
  /** The distinct dispatches recorded, first-recorded first: where to look for the kernel a GPU error points at. */
  readonly dispatches = new Set<Dispatch>();

  constructor(
    device: GPUDevice,
    readonly label: string,
  ) {
    this.encoder = device.createCommandEncoder({ label });
  }

  dispatch(dispatch: Dispatch): void {
    this.dispatches.add(dispatch);
    this.pass ??= this.encoder.beginComputePass({ label: this.label });
    dispatch.encode(this.pass);
  }

  copy(record: (encoder: GPUCommandEncoder) => void): void {
    this.pass?.end();
    this.pass = null;
    record(this.encoder);
  }

  finish(): GPUCommandBuffer {
    this.pass?.end();
    this.pass = null;
    return this.encoder.finish();
  }
}
