// Moves whole weight layers between the CPU and the GPU when the GPU holds them as column/row blocks
// (src/engine/layout.ts shards wide layers under the binding limit): reads reassemble a block grid into
// [fanIn, fanOut] row-major, writes scatter it back. Used for parameters and optimizer state alike.
import { readF32 } from '../gpu/buffers';
import { activationWidths, type ModelSpec } from './model-spec';
import type { ActivationBlock, ParamBlock, WeightLayer } from './model-buffers';

const F32 = 4;

/** Picks one of a parameter block's buffers: its value, or one of its optimizer state buffers. */
export type BlockBuffer = (block: ParamBlock) => GPUBuffer;

export class ShardedParameters {
  private readonly widths: number[];

  constructor(
    private readonly device: GPUDevice,
    spec: ModelSpec,
    /** Per activation (0 = input, 1..L hidden, L+1 logits), its column blocks. */
    private readonly blocks: readonly ActivationBlock[][],
    /** Per weight layer, its parameter blocks. */
    private readonly layers: readonly WeightLayer[],
  ) {
    this.widths = activationWidths(spec);
  }

  /** Throws unless weights are [fanIn, fanOut] and bias [fanOut] of weight layer `index` (0-based). */
  checkShapes(index: number, what: string, weights: Float32Array, bias: Float32Array): void {
    const l = index + 1;
    const [fanIn, fanOut] = [this.widths[l - 1], this.widths[l]];
    if (weights.length !== fanIn * fanOut || bias.length !== fanOut) {
      throw new RangeError(`layer ${l} ${what}: expected weights ${fanIn}x${fanOut} and bias ${fanOut}, got ${weights.length} and ${bias.length} values`);
    }
  }

  /** One buffer of every weight block of layer `index` (0-based), reassembled to [fanIn, fanOut] row-major. */
  async readWeights(index: number, select: BlockBuffer): Promise<Float32Array> {
    const fanOut = this.widths[index + 1];
    const weights = new Float32Array(this.widths[index] * fanOut);
    for (const [i, inp] of this.blocks[index].entries()) {
      for (const [j, out] of this.blocks[index + 1].entries()) {
        const block = await readF32(this.device, select(this.layers[index].weights[i][j]), inp.width * out.width);
        for (let r = 0; r < inp.width; r++) weights.set(block.subarray(r * out.width, (r + 1) * out.width), (inp.offset + r) * fanOut + out.offset);
      }
    }
    return weights;
  }

  async readBias(index: number, select: BlockBuffer): Promise<Float32Array> {
    const bias = new Float32Array(this.widths[index + 1]);
    for (const [j, out] of this.blocks[index + 1].entries()) bias.set(await readF32(this.device, select(this.layers[index].bias[j]), out.width), out.offset);
    return bias;
  }

  writeWeights(index: number, select: BlockBuffer, weights: Float32Array): void {
    const fanOut = this.widths[index + 1];
    for (const [i, inp] of this.blocks[index].entries()) {
      for (const [j, out] of this.blocks[index + 1].entries()) {
        const buffer = select(this.layers[index].weights[i][j]);
        for (let r = 0; r < inp.width; r++) {
          const start = (inp.offset + r) * fanOut + out.offset;
          this.device.queue.writeBuffer(buffer, r * out.width * F32, weights.buffer, weights.byteOffset + start * F32, out.width * F32);
        }
      }
    }
  }

  writeBias(index: number, select: BlockBuffer, bias: Float32Array): void {
    for (const [j, out] of this.blocks[index + 1].entries()) {
      this.device.queue.writeBuffer(select(this.layers[index].bias[j]), 0, bias.buffer, bias.byteOffset + out.offset * F32, out.width * F32);
    }
  }
}
