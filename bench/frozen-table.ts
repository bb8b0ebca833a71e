// `npm run frozen-table -- [steps] [window] [preset,preset...]`: the README's comparison of "dead on the probe set" with "frozen" (and
// revived, thawed), per hidden layer, for the stationary ReLU presets, each trained twice from the same seed: as the
// preset is (dropout 0.5 in layer 1, below layer 2) and with layer 1's dropout off. Only the dropout of the layer
// below changes, so a difference in layer 2 between the two rows is what that dropout does. Prints a Markdown table.
import { PRESETS, parseRunConfig, type PresetName, type RunConfig } from '../src/config';
import { runData } from '../src/data';
import { openRun } from '../src/engine/open-run';
import { acquireNodeGpu } from '../src/gpu/dawn';
import type { GpuContext } from '../src/gpu/device';
import { summarizeUnitHistory, type LayerHistorySummary } from '../src/report/seed-answer';

const PRESETS_SHOWN: readonly PresetName[] = ['dropout_only', 'lr_too_high', 'negative_bias', 'leaky_relu_cure'];

async function train(gpu: GpuContext, config: RunConfig, steps: number): Promise<{ layers: LayerHistorySummary[]; probeRows: number }> {
  const run = await openRun(gpu, { config, data: runData(config) });
  try {
    const { trainer, observatory } = run;
    // Read every snapshot as it comes so none is skipped (the statistics on the GPU do not depend on it).
    const reader = (async () => {
      for await (const _ of observatory.snapshots());
    })();
    while (trainer.step < steps) await trainer.train(Math.min(config.snapshot.every, steps - trainer.step));
    observatory.close();
    await reader;
    const layers: LayerHistorySummary[] = [];
    for (let l = 1; l <= config.hidden.length; l++) {
      const training = { record: await observatory.readTrainRecord(l), step: trainer.step, window: observatory.frozenWindow };
      layers.push(summarizeUnitHistory(await observatory.readUnitHistory(l), config.hidden[l - 1].width, training));
    }
    return { layers, probeRows: run.probe.samples };
  } finally {
    run.destroy();
  }
}

function cells(s: LayerHistorySummary): string {
  const t = s.training!;
  return [s.deadNow, t.frozenNow, t.deadNotFrozen, t.frozenNotDead, s.revivedUnits, t.thawedUnits].join(' | ');
}

async function main(): Promise<void> {
  const steps = Number(process.argv[2] ?? 1000);
  const window = Number(process.argv[3] ?? 100);
  const only = process.argv[4]?.split(',');
  const presets = only ? PRESETS_SHOWN.filter((p) => only.includes(p)) : PRESETS_SHOWN;
  const gpu = await acquireNodeGpu();
  // Rows are printed as they are measured, so a long run that is stopped keeps what it did.
  let header = false;
  for (const preset of presets) {
    for (const below of ['on', 'off'] as const) {
      const base = PRESETS[preset].config;
      const hidden = base.hidden.map((h, l) => (l === 0 && below === 'off' ? { ...h, dropout: 0 } : h));
      const config = parseRunConfig({ ...base, hidden, steps, snapshot: { ...base.snapshot, frozenWindow: window } });
      const started = performance.now();
      const { layers, probeRows } = await train(gpu, config, steps);
      console.error(`${preset}, layer 1 dropout ${below}: ${((performance.now() - started) / 1000).toFixed(0)} s`);
      if (!header) {
        header = true;
        console.log(
          `After ${steps.toLocaleString('en-US')} steps, W = ${window}, probe = all ${probeRows.toLocaleString('en-US')} training rows; 512 units per layer.`,
        );
        console.log('');
        console.log(
          '| preset | dropout in layer 1 (below L2) | L1 dead on probe | L1 frozen | L1 dead, not frozen | L1 frozen, not dead | L1 revived | L1 thawed | L2 dead on probe | L2 frozen | L2 dead, not frozen | L2 frozen, not dead | L2 revived | L2 thawed |',
        );
        console.log('| --- | --- |' + ' ---: |'.repeat(12));
      }
      console.log(`| ${preset} | ${below === 'on' ? '0.5' : 'off'} | ${cells(layers[0])} | ${cells(layers[1])} |`);
    }
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(1);
  },
);
