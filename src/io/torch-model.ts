// A PyTorch MLP as a safetensors state dict, both ways. Browser-safe.
//
// PyTorch: nn.Sequential of Linear layers (activations and Dropout in between hold no parameters), saved with
// safetensors.torch.save_file(model.state_dict(), "model.safetensors"): tensors "<i>.weight" [out, in] and
// "<i>.bias" [out], i the module's index in the Sequential (0, 2, 4 ... with one activation between Linears). A
// common prefix is allowed ("net.0.weight", from a model that holds the Sequential as `self.net`).
// Here: weight layers hold W [in, out] row-major (x @ W + b), so every weight matrix is transposed on the way.
import type { ActivationConfig, RunConfig } from '../config/schema';
import type { LayerParameters } from '../engine/trainer';
import { CHECKPOINT_FORMAT } from './checkpoint';
import { CheckpointError, decodeSafetensors, encodeSafetensors, type DecodedSafetensors, type Tensor } from './safetensors';

export interface TorchMlp extends TorchMlpLayout {
  /** Per weight layer (hidden layers, then output), in this engine's layout: weights [in, out], bias [out]. */
  layers: LayerParameters[];
}

const NAME = /^(.*?)(\d+)\.(weight|bias)$/;

/** [rows, cols] row-major → [cols, rows] row-major. */
export function transpose(data: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = data[r * cols + c];
  return out;
}

function checkFloatDtype(t: TensorHeader, file: string): void {
  if (t.dtype !== 'F32' && t.dtype !== 'F64')
    throw new CheckpointError(
      `${file}: tensor "${t.name}" is ${t.dtype}; Linear weights must be F32 or F64 (save model.float().state_dict())`,
      t.name,
      'dtype',
    );
}

function floats(name: string, t: Tensor, file: string): Float32Array {
  checkFloatDtype({ name, dtype: t.dtype, shape: t.shape }, file);
  const data = Float32Array.from(t.data);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new CheckpointError(`${file}: tensor "${name}": element ${i} is ${data[i]}; weights must be finite`, name, 'data');
  }
  return data;
}

/**
 * The Linear layers of a PyTorch nn.Sequential state dict, in order, checked: every "<i>.weight" 2-D with its
 * "<i>.bias", each layer's input size the previous layer's output size, nothing else in the file. Errors are
 * CheckpointErrors naming the file and the tensor.
 */
export function torchMlpFromSafetensors(bytes: Uint8Array, file = 'model.safetensors'): TorchMlp {
  let decoded: DecodedSafetensors;
  try {
    decoded = decodeSafetensors(bytes);
  } catch (error) {
    if (error instanceof CheckpointError) throw withTorchHint(new CheckpointError(`${file}: ${error.message}`, error.tensor, error.field));
    throw error;
  }
  checkNotCheckpoint(decoded.metadata, file);
  return torchMlpFromTensors(decoded.tensors, file);
}

/** A state dict of half-precision tensors (F16, BF16) is refused by the reader: say how PyTorch saves one we read. */
export function withTorchHint(error: CheckpointError): CheckpointError {
  if (error.field !== 'dtype') return error;
  return new CheckpointError(`${error.message} (Linear weights must be F32 or F64: save model.float().state_dict())`, error.tensor, error.field);
}

/** A deadunits checkpoint given where a PyTorch state dict belongs: CheckpointError saying what to do instead. */
export function checkNotCheckpoint(metadata: Record<string, string>, file: string): void {
  if (metadata.format === CHECKPOINT_FORMAT)
    throw new CheckpointError(
      `${file} is a deadunits checkpoint, not a PyTorch state dict: continue its run with \`deadunits resume\`, or convert it with \`deadunits export --torch\``,
      '__metadata__',
      'format',
    );
}

/** A tensor as the header describes it: enough to check a state dict's layers before reading any weight. */
export interface TensorHeader {
  name: string;
  dtype: Tensor['dtype'];
  shape: readonly number[];
}

/** The Linear layers of a state dict, from its header alone: names, sizes and the tensors that hold each layer. */
export interface TorchMlpLayout {
  inputSize: number;
  /** Widths of the hidden layers (every Linear but the last). */
  widths: number[];
  outputSize: number;
  /** The state-dict name of each Linear's weight, e.g. "0.weight", for messages. */
  names: string[];
  /** Per Linear, in order: its weight [out, in] and bias [out] tensor names. */
  linears: { weight: string; bias: string; out: number; in: number }[];
}

/**
 * Checks a state dict's tensors as an nn.Sequential of Linear layers, from names, dtypes and shapes only: every
 * "<i>.weight" 2-D F32/F64 with its "<i>.bias", each layer's input size the previous layer's output size, nothing
 * else. So a wrong file is refused before a byte of its weights is read. Errors are CheckpointErrors naming the
 * file and the tensor.
 */
export function torchMlpLayout(tensors: readonly TensorHeader[], file = 'model.safetensors'): TorchMlpLayout {
  const byName = new Map(tensors.map((t) => [t.name, t]));
  const modules = new Map<number, { weight?: string; bias?: string }>();
  let prefix: string | null = null;
  for (const { name } of tensors) {
    const m = NAME.exec(name);
    if (!m)
      throw new CheckpointError(
        `${file}: tensor "${name}" is not a Linear layer's "<index>.weight" or "<index>.bias" (expected the state dict of an nn.Sequential of Linear layers)`,
        name,
        'name',
      );
    if (prefix !== null && m[1] !== prefix)
      throw new CheckpointError(`${file}: tensor "${name}" does not share the prefix "${prefix}" of the others`, name, 'name');
    prefix = m[1];
    const entry = modules.get(Number(m[2])) ?? {};
    entry[m[3] as 'weight' | 'bias'] = name;
    modules.set(Number(m[2]), entry);
  }
  const indices = [...modules.keys()].sort((a, b) => a - b);
  if (indices.length === 0) throw new CheckpointError(`${file}: no tensors (expected "0.weight", "0.bias", ...)`, undefined, 'name');
  const linears: TorchMlpLayout['linears'] = [];
  const sizes: number[] = [];
  for (const index of indices) {
    const { weight, bias } = modules.get(index)!;
    const p = `${prefix}${index}`;
    if (!weight) throw new CheckpointError(`${file}: "${p}.bias" has no "${p}.weight"`, `${p}.bias`, 'name');
    if (!bias) throw new CheckpointError(`${file}: "${weight}" has no "${p}.bias" (Linear layers with bias=False are not supported)`, weight, 'name');
    const w = byName.get(weight)!;
    const b = byName.get(bias)!;
    if (w.shape.length !== 2 || w.shape[0] < 1 || w.shape[1] < 1)
      throw new CheckpointError(`${file}: tensor "${weight}" has shape [${w.shape.join(', ')}]; a Linear weight is [out, in]`, weight, 'shape');
    const [out, inp] = w.shape;
    if (b.shape.length !== 1 || b.shape[0] !== out)
      throw new CheckpointError(`${file}: tensor "${bias}" has shape [${b.shape.join(', ')}]; expected [${out}] (the out size of "${weight}")`, bias, 'shape');
    if (sizes.length > 0 && inp !== sizes[sizes.length - 1]) {
      throw new CheckpointError(
        `${file}: tensor "${weight}" is [${out}, ${inp}]: its in size ${inp} is not the out size ${sizes[sizes.length - 1]} of "${linears[linears.length - 1].weight}"`,
        weight,
        'shape',
      );
    }
    for (const t of [w, b]) checkFloatDtype(t, file);
    if (sizes.length === 0) sizes.push(inp);
    sizes.push(out);
    linears.push({ weight, bias, out, in: inp });
  }
  if (linears.length < 2) throw new CheckpointError(`${file}: one Linear layer has no hidden layer to look at (need at least two)`, linears[0].weight, 'name');
  return { inputSize: sizes[0], widths: sizes.slice(1, -1), outputSize: sizes[sizes.length - 1], names: linears.map((l) => l.weight), linears };
}

/** A Linear layer's weights in this engine's layout (weights [in, out], bias [out]) from its two tensors as read. */
export function linearParameters(linear: TorchMlpLayout['linears'][number], weight: Tensor, bias: Tensor, file: string): LayerParameters {
  return { weights: transpose(floats(linear.weight, weight, file), linear.out, linear.in), bias: floats(linear.bias, bias, file) };
}

/** As torchMlpFromSafetensors, for tensors already read (e.g. tensor by tensor from a file too big for one buffer). */
export function torchMlpFromTensors(tensors: Record<string, Tensor>, file = 'model.safetensors'): TorchMlp {
  const layout = torchMlpLayout(
    Object.entries(tensors).map(([name, t]) => ({ name, dtype: t.dtype, shape: t.shape })),
    file,
  );
  return { ...layout, layers: layout.linears.map((l) => linearParameters(l, tensors[l.weight], tensors[l.bias], file)) };
}

function activationModule(a: ActivationConfig): string {
  switch (a.kind) {
    case 'relu':
      return 'nn.ReLU()';
    case 'leaky_relu':
      return `nn.LeakyReLU(${a.alpha})`;
    case 'elu':
      return `nn.ELU(${a.alpha})`;
    case 'gelu':
      // NOTE: the GPU computes the tanh approximation (shaders/activation.wgsl).
      return "nn.GELU(approximate='tanh')";
  }
}

/** The nn.Sequential a configuration is, module by module (Dropout only where p > 0), and the index of each Linear. */
export function torchModules(config: Pick<RunConfig, 'inputSize' | 'hidden' | 'outputSize' | 'inputDropout'>): { modules: string[]; linear: number[] } {
  const modules: string[] = [];
  const linear: number[] = [];
  if (config.inputDropout > 0) modules.push(`nn.Dropout(${config.inputDropout})`);
  let fanIn = config.inputSize;
  for (const h of config.hidden) {
    linear.push(modules.length);
    modules.push(`nn.Linear(${fanIn}, ${h.width})`, activationModule(h.activation));
    if (h.dropout > 0) modules.push(`nn.Dropout(${h.dropout})`);
    fanIn = h.width;
  }
  linear.push(modules.length);
  modules.push(`nn.Linear(${fanIn}, ${config.outputSize})`);
  return { modules, linear };
}

/** Python that builds the module `torchStateDict` fits: `nn.Sequential(nn.Linear(4, 20), nn.ReLU(), ...)`. */
export function torchSequentialSource(config: Pick<RunConfig, 'inputSize' | 'hidden' | 'outputSize' | 'inputDropout'>): string {
  return `nn.Sequential(${torchModules(config).modules.join(', ')})`;
}

/**
 * The weights as the state dict of `torchSequentialSource(config)`, in safetensors: "<i>.weight" [out, in] and
 * "<i>.bias" [out], F32 (what torch's load_state_dict expects), plus string metadata.
 */
export function torchStateDict(
  config: Pick<RunConfig, 'inputSize' | 'hidden' | 'outputSize' | 'inputDropout'>,
  layers: readonly LayerParameters[],
  metadata: Record<string, string> = {},
): Uint8Array {
  const { linear } = torchModules(config);
  if (layers.length !== linear.length) throw new RangeError(`the configuration has ${linear.length} weight layers, got ${layers.length}`);
  const tensors: Record<string, Tensor> = {};
  layers.forEach((layer, l) => {
    const out = layer.bias.length;
    const inp = layer.weights.length / out;
    tensors[`${linear[l]}.weight`] = { dtype: 'F32', shape: [out, inp], data: transpose(layer.weights, inp, out) };
    tensors[`${linear[l]}.bias`] = { dtype: 'F32', shape: [out], data: Float32Array.from(layer.bias) };
  });
  return encodeSafetensors(tensors, { format: 'pt', architecture: torchSequentialSource(config), ...metadata });
}
