// Your own model, both ways, checked by PyTorch itself (Debian's python3-torch): a model PyTorch saved is probed
// (`inspect --probe`) and trained from (`run --init-from`), and what `export --torch` writes loads with
// load_state_dict(strict) into the nn.Sequential the command prints, giving the run's dead units on the probe rows
// and the outputs our own forward pass computes from the exported weights.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseNpy } from '../../src/data';
import { decodeSafetensors } from '../../src/io/safetensors';
import { runPython } from '../python';
import { runCli } from './run-cli';
import { removeTempDirs, tempDir } from './run-fixtures';

/** A minimal safetensors writer and reader for Python: the `safetensors` package is not in Debian 12. */
const SAFETENSORS_PY = `
import json, struct
import numpy as np, torch
def save_file(tensors, path):
    header, off, blobs = {}, 0, []
    for k, t in tensors.items():
        b = t.detach().contiguous().numpy().astype("<f4").tobytes()
        header[k] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        off += len(b); blobs.append(b)
    h = json.dumps(header).encode(); h += b" " * ((8 - len(h) % 8) % 8)
    open(path, "wb").write(struct.pack("<Q", len(h)) + h + b"".join(blobs))
def load_file(path):
    raw = open(path, "rb").read(); n = struct.unpack("<Q", raw[:8])[0]; header = json.loads(raw[8:8 + n]); data = raw[8 + n:]
    out = {}
    for k, v in header.items():
        if k == "__metadata__": continue
        assert v["dtype"] == "F32", v
        a, b = v["data_offsets"]
        out[k] = torch.from_numpy(np.frombuffer(data[a:b], dtype="<f4").reshape(v["shape"]).copy())
    return out
`;

const MAKE = `${SAFETENSORS_PY}
import sys
out = sys.argv[1]
torch.manual_seed(0)
rng = np.random.default_rng(3)
x = rng.normal(size=(64, 5)).astype(np.float32)
np.save(f"{out}/x.npy", x)
np.save(f"{out}/y.npy", ((x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0.3)))
m = torch.nn.Sequential(torch.nn.Linear(5, 16), torch.nn.ReLU(), torch.nn.Linear(16, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
with torch.no_grad():
    m[0].bias[:4] = -8.0   # units 0-3 of the first layer: dead on every input
    m[2].bias[5] = -30.0   # and unit 5 of the second
save_file(m.state_dict(), f"{out}/model.safetensors")
`;

/** Loads a state dict into the given nn.Sequential source, runs the probe rows, prints dead units (and margins) and outputs. */
const PROBE = `${SAFETENSORS_PY}
import sys
from torch import nn
seq, weights, inputs = sys.argv[1], sys.argv[2], sys.argv[3]
model = eval(seq)
model.load_state_dict(load_file(weights), strict=True)
model.eval()
x = torch.from_numpy(np.load(inputs))
dead, margins, h = [], [], x
with torch.no_grad():
    for module in model:
        h = module(h)
        if isinstance(module, nn.Linear) and module is not model[-1]:
            top = h.max(0).values
            dead.append((top <= 0).nonzero().flatten().tolist())
            margins.append(top.abs().tolist())
print(json.dumps({"dead": dead, "margins": margins, "outputs": h.numpy().astype(float).ravel().tolist(), "torch": torch.__version__}))
`;

interface TorchProbe {
  dead: number[][];
  margins: number[][];
  outputs: number[];
  torch: string;
}

/** Unit u of a layer may disagree only where its largest pre-activation is within float rounding of 0. */
function expectSameDead(ours: number[][], torch: TorchProbe): void {
  expect(ours.length).toBe(torch.dead.length);
  ours.forEach((layer, l) => {
    const differ = [...new Set([...layer, ...torch.dead[l]])].filter((u) => layer.includes(u) !== torch.dead[l].includes(u));
    const unexplained = differ.filter((u) => torch.margins[l][u] > 1e-5);
    expect(unexplained, `layer ${l + 1}: dead here ${layer}, in PyTorch ${torch.dead[l]}`).toEqual([]);
  });
}

afterAll(removeTempDirs);

describe('your own PyTorch model', () => {
  it('inspect --probe finds the dead units PyTorch finds, without training', async () => {
    const dir = await tempDir('torch-probe');
    runPython(['numpy', 'torch'], MAKE, [dir]);
    const r = await runCli(['inspect', '--probe', join(dir, 'x.npy'), join(dir, 'model.safetensors'), '--out', join(dir, 'probe')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('L1: 4 of 16 units dead on 64 probe rows');
    const found = JSON.parse(await readFile(join(dir, 'probe', 'dead-units.json'), 'utf8')) as { layers: { deadUnits: number[] }[] };
    const seq = 'nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Linear(16, 8), nn.ReLU(), nn.Linear(8, 3))';
    const torch = JSON.parse(runPython(['numpy', 'torch'], PROBE, [seq, join(dir, 'model.safetensors'), join(dir, 'x.npy')])) as TorchProbe;
    expect(torch.dead[0].slice(0, 4)).toEqual([0, 1, 2, 3]);
    expect(torch.dead[1]).toContain(5);
    expectSameDead(
      found.layers.map((l) => l.deadUnits),
      torch,
    );
    expect(await readFile(join(dir, 'probe', 'report.md'), 'utf8')).toMatch(/\| L1 \| 16 \| 4 \(25\.0 %\) \| 0, 1, 2, 3 \|/);
    const map = parseNpy(await readFile(join(dir, 'probe', 'maps', 'L1', 'step-0000000000.npy')));
    expect(Array.from(map.data.slice(0, 4))).toEqual([1, 1, 1, 1]);
  });

  it('run --init-from trains from it; export --torch loads into the printed nn.Sequential with the same dead units and outputs', async () => {
    const dir = await tempDir('torch-run');
    runPython(['numpy', 'torch'], MAKE, [dir]);
    const out = join(dir, 'run');
    const args = ['--data', join(dir, 'x.npy'), '--targets', join(dir, 'y.npy'), '--steps', '20', '--every', '10', '--set', 'batchSize=16'];
    const run = await runCli(['run', '--init-from', join(dir, 'model.safetensors'), ...args, '--unit-maps', 'npy', '--out', out, '--progress', 'none']);
    expect(run.code, run.stderr).toBe(0);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ inputSize: 5, hidden: [{ width: 16 }, { width: 8 }], outputSize: 3, initFrom: { path: join(dir, 'model.safetensors') } });
    // The step-0 maps are the PyTorch model's: its dead units before any training.
    const step0 = parseNpy(await readFile(join(out, 'maps', 'L1', 'step-0000000000.npy')));
    expect(Array.from(step0.data.slice(0, 4))).toEqual([1, 1, 1, 1]);

    const exp = await runCli(['export', '--torch', out]);
    expect(exp.code, exp.stderr).toBe(0);
    const file = join(out, 'export', 'model-0000000020.safetensors');
    expect(exp.stdout).toContain(`wrote ${file} (step 20)`);
    const seq = /load it into: (.*)$/m.exec(exp.stdout)![1];
    expect(seq).toBe('nn.Sequential(nn.Linear(5, 16), nn.ReLU(), nn.Dropout(0.5), nn.Linear(16, 8), nn.ReLU(), nn.Dropout(0.5), nn.Linear(8, 3))');
    const torch = JSON.parse(runPython(['numpy', 'torch'], PROBE, [seq, file, join(dir, 'x.npy')])) as TorchProbe;

    // The run's probe set is all 64 rows (probe size 256): its last maps are the dead units PyTorch sees.
    const ours: number[][] = [];
    for (const l of [1, 2]) {
      const codes = parseNpy(await readFile(join(out, 'maps', `L${l}`, 'step-0000000020.npy'))).data;
      ours.push(Array.from(codes.keys()).filter((u) => codes[u] === 1));
    }
    expectSameDead(ours, torch);
    // inspect --probe on the run folder (its latest checkpoint, read tensor by tensor) finds the same units.
    const probed = await runCli(['inspect', '--probe', join(dir, 'x.npy'), out, '--out', join(dir, 'probe')]);
    expect(probed.code, probed.stderr).toBe(0);
    const found = JSON.parse(await readFile(join(dir, 'probe', 'dead-units.json'), 'utf8')) as { layers: { deadUnits: number[] }[] };
    expect(found.layers.map((l) => l.deadUnits)).toEqual(ours);

    // Outputs: a float64 forward pass over the exported tensors ([out, in], as PyTorch holds them).
    const { tensors } = decodeSafetensors(new Uint8Array(await readFile(file)));
    const x = parseNpy(await readFile(join(dir, 'x.npy')));
    let h = Array.from({ length: 64 }, (_, r) => Array.from(x.data.slice(r * 5, r * 5 + 5)));
    for (const [i, name] of ['0', '3', '6'].entries()) {
      const [outs, ins] = tensors[`${name}.weight`].shape;
      const w = tensors[`${name}.weight`].data;
      const b = tensors[`${name}.bias`].data;
      h = h.map((row) =>
        Array.from({ length: outs }, (_, o) => {
          let z = b[o];
          for (let k = 0; k < ins; k++) z += row[k] * w[o * ins + k];
          return i < 2 ? Math.max(0, z) : z;
        }),
      );
    }
    const mine = h.flat();
    const worst = mine.reduce((m, v, i) => Math.max(m, Math.abs(v - torch.outputs[i]) / (1 + Math.abs(v))), 0);
    expect(worst, `worst relative output difference (PyTorch ${torch.torch})`).toBeLessThan(1e-5);
  });

  it('names the field when the model does not fit the configuration', async () => {
    const dir = await tempDir('torch-mismatch');
    runPython(['numpy', 'torch'], MAKE, [dir]);
    const r = await runCli(['run', '--init-from', join(dir, 'model.safetensors'), '--set', 'hidden[1].width=9', '--steps', '10', '--out', join(dir, 'run')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/hidden\[1\]\.width: 9, but .*model\.safetensors has 8 \(2\.weight\)/);
  });
});
