// `npm run demo [preset] [steps]`: trains a preset MLP on this machine's WebGPU adapter (Dawn) with the
// observatory on, and prints what it did: the adapter, the network, then at regular snapshots the loss,
// throughput and, per hidden layer, how many units are dead, dropped (sample 0) and revived.
import { PRESET_NAMES, PRESETS, type PresetName } from '../config';
import { runData } from '../data';
import { acquireCliGpu } from './kernels-option';
import { modelSpecFromConfig } from '../engine/from-config';
import type { Snapshot } from '../engine/observatory';
import { openRun } from '../engine/open-run';

function usage(message: string): never {
  console.error(`${message}\nusage: npm run demo -- [preset] [steps]\npresets: ${PRESET_NAMES.join(', ')}`);
  process.exit(2);
}

function describe(snapshot: Snapshot, rate: number): string {
  const losses = snapshot.losses;
  const loss = losses.length ? (losses.reduce((sum, v) => sum + v, 0) / losses.length).toFixed(4) : '   -  ';
  const layers = snapshot.layers.map((l, i) => `L${i + 1} ${l.counts.dead}/${l.counts.dropped}/${l.counts.revived}`).join('  ');
  return `step ${String(snapshot.step).padStart(8)}  loss ${loss}  ${snapshot.step ? `${rate.toFixed(0).padStart(4)} steps/s` : '           '}  ${layers}`;
}

async function main(): Promise<void> {
  const [presetArg = 'dropout_only', stepsArg = '500'] = process.argv.slice(2);
  if (!(PRESET_NAMES as readonly string[]).includes(presetArg)) usage(`unknown preset "${presetArg}"`);
  const steps = Number(stepsArg);
  if (!Number.isInteger(steps) || steps < 1 || steps > 1e7) usage(`steps must be an integer in [1, 10000000], got "${stepsArg}"`);

  const preset = PRESETS[presetArg as PresetName];
  const config = preset.config;
  const spec = modelSpecFromConfig(config);
  const gpu = await acquireCliGpu();
  const a = gpu.adapter;
  console.log(
    `adapter: ${[a.vendor, a.architecture, a.description].filter(Boolean).join(' / ')}${a.isSoftware ? ' (software: 100-1000x slower than a GPU)' : ''}`,
  );
  console.log(`preset:  ${preset.title}\n         ${preset.description}`);
  const shape = [spec.inputSize, ...spec.hidden.map((h) => `${h.width} ${h.activation.kind}${h.dropout ? ` p=${h.dropout}` : ''}`), spec.outputSize].join(
    ' -> ',
  );
  console.log(`network: ${shape}; ${spec.loss}, ${spec.optimizer.kind} lr ${config.lr}, batch ${spec.batch}, seed ${spec.seed}`);

  const reports = 10;
  const every = Math.max(1, Math.round(steps / reports));
  const run = await openRun(gpu, { config, data: runData(config), snapshotEvery: every });
  const { trainer, observatory, probe } = run;
  console.log(`observatory: a snapshot every ${every} steps on ${probe.samples} probe inputs; per layer dead/dropped/revived units`);
  try {
    const started = performance.now();
    const print = (snapshot: Snapshot | null) => snapshot && console.log(describe(snapshot, trainer.step / ((performance.now() - started) / 1000)));
    print(await observatory.next()); // step 0: the network before training
    // Chunks start at multiples of `every`, so each full chunk ends with exactly one snapshot.
    while (trainer.step < steps) {
      await trainer.train(Math.min(every, steps - trainer.step));
      if (trainer.step % every === 0) print(await observatory.next());
    }
    const widths = spec.hidden.map((h) => h.width).join(', ');
    console.log(
      `dead: pre-activation <= 0 on every probe input; dropped: masked for sample 0 at that step; revived: dead at an earlier snapshot, alive now (layer widths ${widths})`,
    );
  } finally {
    run.destroy();
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
