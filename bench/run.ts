// `npm run bench`: acquires the device, prints the adapter, runs each section, prints its table and
// writes everything to bench/out/bench-<time>.json. Add a section by appending to SECTIONS.
import { mkdirSync, writeFileSync } from 'node:fs';
import { acquireNodeGpu } from '../src/gpu/dawn.js';
import { benchMatmul } from './matmul.js';
import { benchTrain } from './train.js';
import { benchMonitoring } from './monitoring.js';
import type { Section, SectionResult } from './timing.js';

const SECTIONS: Section[] = [
  { name: 'matmul', run: benchMatmul },
  { name: 'train', run: benchTrain },
  { name: 'monitoring', run: benchMonitoring },
];

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const gpu = await acquireNodeGpu();
  gpu.onError((e) => console.error(`GPU error: ${e.message}`));
  const { adapter } = gpu;
  console.log(`adapter: ${adapter.vendor} / ${adapter.architecture} / ${adapter.device} (${adapter.description})`);
  console.log(`software: ${adapter.isSoftware}; features: ${adapter.features.join(', ')}\n`);

  const results: Record<string, SectionResult> = {};
  try {
    for (const section of SECTIONS) {
      if (only.length && !only.includes(section.name)) continue;
      const started = performance.now();
      const result = await section.run(gpu);
      results[section.name] = result;
      console.log(`== ${result.title} ==\n${result.table}`);
      for (const note of result.notes ?? []) console.log(`  ${note}`);
      console.log(`  (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
    }
  } finally {
    const outDir = new URL('./out/', import.meta.url);
    mkdirSync(outDir, { recursive: true });
    const file = new URL(`bench-${new Date().toISOString().replace(/[:.]/g, '-')}.json`, outDir);
    writeFileSync(file, JSON.stringify({ date: new Date().toISOString(), adapter, sections: results }, null, 2));
    console.log(`results: ${file.pathname}`);
    gpu.device.destroy();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
