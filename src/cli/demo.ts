// `npm run demo [preset] [steps]`: trains a preset MLP on this machine's WebGPU adapter (Dawn) and
// prints what it did: the adapter, the network, the loss as it falls, throughput, and how many units of
// each hidden layer are dead (pre-activation <= 0 for every probe input) at the end.
import { PRESET_NAMES, PRESETS, type PresetName } from '../config';
import { generateDataset, probeSet } from '../data';
import { acquireNodeGpu } from '../gpu/dawn';
import { modelSpecFromConfig } from '../engine/from-config';
import { Trainer, type LayerParameters } from '../engine/trainer';
import { activationForward } from '../reference/activation';
import { matmulReference } from '../reference/matmul';
import type { ModelSpec } from '../engine/model-spec';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run demo -- [preset] [steps]\npresets: ${PRESET_NAMES.join(', ')}`);
  process.exit(2);
}

/** Dead units per hidden layer: the probe pass (no dropout) on the CPU from the trained parameters. */
function deadUnits(spec: ModelSpec, params: LayerParameters[], probe: Float32Array, rows: number): number[] {
  let x = probe;
  let width = spec.inputSize;
  return spec.hidden.map((layer, l) => {
    const z = new Float32Array(rows * layer.width);
    matmulReference({ variant: 'nn', m: rows, n: layer.width, k: width, a: x, lda: width, b: params[l].weights, ldb: layer.width, c: z, ldc: layer.width, bias: params[l].bias });
    let dead = 0;
    for (let u = 0; u < layer.width; u++) {
      let alive = false;
      for (let r = 0; r < rows && !alive; r++) alive = z[r * layer.width + u] > 0;
      if (!alive) dead++;
    }
    x = activationForward(layer.activation, z);
    width = layer.width;
    return dead;
  });
}

async function main(): Promise<void> {
  const [presetArg = 'dropout_only', stepsArg = '500'] = process.argv.slice(2);
  if (!(PRESET_NAMES as readonly string[]).includes(presetArg)) usage(`unknown preset "${presetArg}"`);
  const steps = Number(stepsArg);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1e7) usage(`steps must be an integer in [1, 10000000], got "${stepsArg}"`);

  const preset = PRESETS[presetArg as PresetName];
  const config = preset.config;
  const spec = modelSpecFromConfig(config);
  const gpu = await acquireNodeGpu();
  const a = gpu.adapter;
  console.log(`adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')}${a.isSoftware ? ' (software: 100-1000x slower than a GPU)' : ''}`);
  console.log(`preset:  ${preset.title}\n         ${preset.description}`);
  const shape = [spec.inputSize, ...spec.hidden.map((h) => `${h.width} ${h.activation.kind}${h.dropout ? ` p=${h.dropout}` : ''}`), spec.outputSize].join(' -> ');
  console.log(`network: ${shape}; ${spec.loss}, ${spec.optimizer.kind} lr ${config.lr}, batch ${spec.batch}, seed ${spec.seed}`);

  const dataset = generateDataset(config);
  const probe = probeSet(dataset, config.snapshot.probeSize, config.seed);
  const trainer = await Trainer.create(gpu, spec, dataset);
  const reports = 10;
  const started = performance.now();
  try {
    for (let r = 1; r <= reports; r++) {
      const target = Math.round((steps * r) / reports);
      await trainer.train(target - trainer.step);
      const window = Math.min(trainer.step, Math.max(1, Math.round(steps / reports)), trainer.lossHistoryCapacity);
      const losses = await trainer.readLosses(trainer.step - window, window);
      const mean = losses.reduce((s, v) => s + v, 0) / losses.length;
      const rate = trainer.step / ((performance.now() - started) / 1000);
      console.log(`step ${String(trainer.step).padStart(8)}  loss ${mean.toFixed(4)}  (${rate.toFixed(0)} steps/s)`);
    }
    const dead = deadUnits(spec, await trainer.readParameters(), probe.inputs, probe.samples);
    console.log(`after ${trainer.step} steps, dead units per hidden layer (pre-activation <= 0 on all ${probe.samples} probe inputs):`);
    spec.hidden.forEach((h, l) => console.log(`  layer ${l + 1}: ${dead[l]} of ${h.width} (${((100 * dead[l]) / h.width).toFixed(1)} %)`));
  } finally {
    trainer.destroy();
    gpu.device.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
