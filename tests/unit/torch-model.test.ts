// PyTorch state dicts (safetensors) to and from this engine's layers, without a GPU: the transposes, the module
// indices of the nn.Sequential, and an error naming the tensor for every way a file can fail to be an MLP.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkModelShapes, readTorchMlpFile, shapeConfigLikeModel } from '../../src/cli/init-from';
import { parseRunConfig } from '../../src/config';
import { encodeSafetensors, type Tensor } from '../../src/io/safetensors';
import { torchMlpFromSafetensors, torchSequentialSource, torchStateDict } from '../../src/io/torch-model';

const f32 = (shape: number[], f = (i: number) => i / 10): Tensor => ({
  dtype: 'F32',
  shape,
  data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => f(i)),
});

describe('PyTorch state dicts', () => {
  it('reads Linear layers in module order, transposing [out, in] to [in, out]; any prefix, any gaps between indices', () => {
    const bytes = encodeSafetensors({
      'net.0.weight': f32([3, 2]),
      'net.0.bias': f32([3]),
      'net.3.weight': f32([4, 3]),
      'net.3.bias': f32([4]),
      'net.10.weight': f32([2, 4]),
      'net.10.bias': f32([2]),
    });
    const m = torchMlpFromSafetensors(bytes, 'm.safetensors');
    expect(m).toMatchObject({ inputSize: 2, widths: [3, 4], outputSize: 2, names: ['net.0.weight', 'net.3.weight', 'net.10.weight'] });
    // PyTorch W[o][i] (o = 0..2, i = 0..1) = (2o + i) / 10, here W[i][o].
    expect(Array.from(m.layers[0].weights)).toEqual([0, 2, 4, 1, 3, 5].map((v) => Math.fround(v / 10)));
  });

  it('writes what it reads, under the indices of the nn.Sequential it prints', () => {
    const config = parseRunConfig({
      inputSize: 2,
      hidden: [
        { width: 3, dropout: 0.5, activation: { kind: 'leaky_relu' } },
        { width: 4, activation: { kind: 'gelu' } },
      ],
      outputSize: 2,
      inputDropout: 0.1,
      dataset: { kind: 'gaussian_mixture', classes: 2 },
    });
    expect(torchSequentialSource(config)).toBe(
      "nn.Sequential(nn.Dropout(0.1), nn.Linear(2, 3), nn.LeakyReLU(0.01), nn.Dropout(0.5), nn.Linear(3, 4), nn.GELU(approximate='tanh'), nn.Linear(4, 2))",
    );
    const layers = [
      { weights: f32([2, 3]).data as Float32Array, bias: f32([3]).data as Float32Array },
      { weights: f32([3, 4], (i) => -i).data as Float32Array, bias: f32([4]).data as Float32Array },
      { weights: f32([4, 2]).data as Float32Array, bias: f32([2], () => 7).data as Float32Array },
    ];
    const back = torchMlpFromSafetensors(torchStateDict(config, layers));
    expect(back.names).toEqual(['1.weight', '4.weight', '6.weight']);
    expect(back.layers).toEqual(layers);
  });

  it.each([
    [{ '0.weight': f32([3, 2]) }, '"0.weight" has no "0.bias"'],
    [
      { '0.weight': f32([3, 2]), '0.bias': f32([3]), '2.weight': f32([2, 4]), '2.bias': f32([2]) },
      'tensor "2.weight" is [2, 4]: its in size 4 is not the out size 3 of "0.weight"',
    ],
    [{ '0.weight': f32([3, 2]), '0.bias': f32([2]), '2.weight': f32([2, 3]), '2.bias': f32([2]) }, 'tensor "0.bias" has shape [2]; expected [3]'],
    [{ '0.weight': f32([3, 2]), '0.bias': f32([3]), 'bn.running_mean': f32([3]) }, 'tensor "bn.running_mean" is not a Linear layer'],
    [{ '0.weight': f32([3, 2]), '0.bias': f32([3]) }, 'one Linear layer has no hidden layer to look at'],
    [{ '0.weight': f32([3, 2], () => NaN), '0.bias': f32([3]), '2.weight': f32([2, 3]), '2.bias': f32([2]) }, 'tensor "0.weight": element 0 is NaN'],
    [
      { '0.weight': { dtype: 'I32', shape: [3, 2], data: new Int32Array(6) }, '0.bias': f32([3]), '2.weight': f32([2, 3]), '2.bias': f32([2]) },
      'tensor "0.weight" is I32; Linear weights must be F32 or F64 (save model.float().state_dict())',
    ],
  ] as [Record<string, Tensor>, string][])('refuses a file that is not an MLP: %#', (tensors, message) => {
    expect(() => torchMlpFromSafetensors(encodeSafetensors(tensors), 'm.safetensors')).toThrow(`m.safetensors: ${message}`);
  });

  it('refuses a half-precision state dict (F16, BF16) saying how to save one it reads, from bytes and from a file', async () => {
    for (const dtype of ['F16', 'BF16']) {
      const json = JSON.stringify({ '0.weight': { dtype, shape: [2, 2], data_offsets: [0, 8] }, '0.bias': { dtype, shape: [2], data_offsets: [8, 12] } });
      const text = json + ' '.repeat((8 - (json.length % 8)) % 8);
      const bytes = new Uint8Array(8 + text.length + 12);
      new DataView(bytes.buffer).setBigUint64(0, BigInt(text.length), true);
      bytes.set(new TextEncoder().encode(text), 8);
      const message = `dtype "${dtype}" is not one of F64, F32, U32, I32, U8 (Linear weights must be F32 or F64: save model.float().state_dict())`;
      expect(() => torchMlpFromSafetensors(bytes, 'h.safetensors')).toThrow(message);
      const dir = await mkdtemp(join(tmpdir(), 'deadunits-half-'));
      try {
        await writeFile(join(dir, 'h.safetensors'), bytes);
        await expect(readTorchMlpFile(join(dir, 'h.safetensors'))).rejects.toThrow(message);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });

  it("checks a file's layers from its header before reading any weight (a wrong file is refused without reading it)", async () => {
    // Weights full of NaN: reading them would fail on the NaN, so a message about shapes proves nothing was read.
    const bad = (shape: number[]) => f32(shape, () => NaN);
    const tensors = { '0.weight': bad([3, 2]), '0.bias': bad([3]), '2.weight': bad([2, 4]), '2.bias': bad([2]) };
    const dir = await mkdtemp(join(tmpdir(), 'deadunits-layout-'));
    try {
      const path = join(dir, 'm.safetensors');
      await writeFile(path, encodeSafetensors(tensors));
      await expect(readTorchMlpFile(path)).rejects.toThrow('tensor "2.weight" is [2, 4]: its in size 4 is not the out size 3 of "0.weight"');
      await writeFile(path, encodeSafetensors({ ...tensors, '2.weight': bad([2, 3]) }));
      await expect(
        readTorchMlpFile(path, () => {
          throw new Error('refused by its layout');
        }),
      ).rejects.toThrow('refused by its layout');
      await expect(readTorchMlpFile(path)).rejects.toThrow('tensor "0.weight": element 0 is NaN');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a deadunits checkpoint by what it is', () => {
    const bytes = encodeSafetensors({ 'layers.1.weight': f32([2, 3]) }, { format: 'deadunits-checkpoint' });
    expect(() => torchMlpFromSafetensors(bytes, 'c.safetensors')).toThrow(/c\.safetensors is a deadunits checkpoint, not a PyTorch state dict/);
  });

  it('shapes a configuration like the model, or names every field that differs', () => {
    const model = torchMlpFromSafetensors(
      encodeSafetensors({
        '0.weight': f32([6, 2]),
        '0.bias': f32([6]),
        '2.weight': f32([5, 6]),
        '2.bias': f32([5]),
        '4.weight': f32([3, 5]),
        '4.bias': f32([3]),
      }),
      'm.safetensors',
    );
    const raw: Record<string, unknown> = { hidden: [{ width: 64, dropout: 0.3 }], dataset: { kind: 'gaussian_mixture', classes: 10 } };
    shapeConfigLikeModel(raw, model);
    const config = parseRunConfig(raw);
    expect(config).toMatchObject({
      inputSize: 2,
      hidden: [
        { width: 6, dropout: 0.3 },
        { width: 5, dropout: 0.3 },
      ],
      outputSize: 3,
      dataset: { classes: 3 },
    });
    expect(() => checkModelShapes(config, model, 'm.safetensors')).not.toThrow();
    const other = parseRunConfig({ inputSize: 4, hidden: [{ width: 6 }, { width: 7 }], dataset: { kind: 'gaussian_mixture', classes: 3 } });
    expect(() => checkModelShapes(other, model, 'm.safetensors')).toThrow(
      /hidden\[1\]\.width: 7, but m\.safetensors has 5 \(2\.weight\)\n {2}inputSize: 4, but m\.safetensors has 2/,
    );
  });
});
