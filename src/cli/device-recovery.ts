// Node-only: the run job's WebGPU device and what happens when it is lost. The device is watched; after an error,
// a lost device is replaced by a fresh one (the run job then continues from its latest checkpoint), up to
// MAX_RECOVERIES losses in a row without a checkpoint in between.
import type { GpuContext } from '../gpu/device';

/** Consecutive device losses without a checkpoint in between before the run gives up. */
const MAX_RECOVERIES = 3;
/** device.lost settles asynchronously: how long an error waits for it before it is taken for an ordinary error. */
const LOST_SETTLE_MS = 500;

/** Training on a device that was lost (snapshots stopped coming back, or the loss was seen between chunks). */
export class DeviceLostError extends Error {
  override name = 'DeviceLostError';
}

export class DeviceRecovery {
  private lost = false;
  private unwatch: () => void = () => undefined;
  /** Devices re-acquired after a loss. */
  recoveries = 0;
  private lostInARow = 0;

  private constructor(
    private current: GpuContext,
    /** Whether the run job created the device (and destroys it): a caller's device is only used. */
    private own: boolean,
    /** Called when the device is lost (to wake readers waiting for snapshots that will never come back). */
    private readonly onLost: () => void,
    private readonly note: (line: string) => void,
    /** A fresh device (the first one, unless given, and every replacement). */
    private readonly acquire: () => Promise<GpuContext>,
  ) {
    this.watch();
  }

  /** Uses `gpu`, or acquires a device of its own with `acquire`. */
  static async start(
    gpu: GpuContext | undefined,
    onLost: () => void,
    note: (line: string) => void,
    acquire: () => Promise<GpuContext>,
  ): Promise<DeviceRecovery> {
    return new DeviceRecovery(gpu ?? (await acquire()), !gpu, onLost, note, acquire);
  }

  get gpu(): GpuContext {
    return this.current;
  }

  private watch(): void {
    this.unwatch();
    this.lost = false;
    const off = this.current.onLost(() => {
      this.lost = true;
      this.onLost();
    });
    this.unwatch = () => void off();
  }

  /** Between chunks: throws DeviceLostError when the device was lost meanwhile. */
  throwIfLost(): void {
    if (this.lost) throw new DeviceLostError('device lost');
  }

  /** After an error: was the device lost? */
  async wasLost(): Promise<boolean> {
    if (this.lost) return true;
    return Promise.race([this.current.device.lost.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), LOST_SETTLE_MS))]);
  }

  /** A checkpoint was written: losses count from here. */
  checkpointWritten(): void {
    this.lostInARow = 0;
  }

  /**
   * After `error` on a lost device: counts the loss (giving up after too many in a row), lets `dropSession` free
   * what lived on the old device, and acquires a new one.
   */
  async replace(error: Error, dropSession: () => void): Promise<void> {
    this.recoveries++;
    this.lostInARow++;
    if (this.lostInARow > MAX_RECOVERIES)
      throw new DeviceLostError(
        `the WebGPU device was lost ${this.lostInARow} times without a checkpoint in between; giving up (last error: ${error.message}). Check the GPU and its driver, then resume the run`,
      );
    this.note(`WebGPU device lost (${error.message}); acquiring a new one and continuing from the latest checkpoint`);
    try {
      dropSession();
    } catch {
      // Destroying objects of a lost device may fail; they are gone either way.
    }
    this.unwatch();
    if (this.own) this.current.device.destroy();
    this.current = await this.acquire();
    this.own = true;
    this.watch();
  }

  /** Stops watching and destroys the device if the run job created it. */
  close(): void {
    this.unwatch();
    if (this.own) this.current.device.destroy();
  }
}
