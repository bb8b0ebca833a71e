// `npm run bench [-- options]`: the benchmark suite in Node on Dawn (see bench/suite.ts; bench.html runs the
// same suite in a browser). Prints each case as it finishes, then the table and ratios, and writes the
// result JSON atomically to bench/out/ (or --out, or bench/results/ with --save).
// `npm run bench -- --compare a.json b.json` validates two result files and prints them side by side.
import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError } from 'commander';
import { acquireNodeGpu } from '../src/gpu/dawn';
import { cliKernelPolicy, KERNELS_HELP, parseKernelsFlag } from '../src/cli/kernels-option';
import { addSuiteFlags, listFlag, writeResultFile, type SuiteFlags } from './cli-options';
import { compareResults, formatComparison } from './compare';
import { caseRow, formatResult } from './report';
import { markdownSummary } from './summary';
import { benchResultFromJson, parseGroups, type BenchResult } from './schema';
import { runSuite } from './suite';
import { loadTfjsNode, releaseTfjsNode } from './tfjs-node';
import type { Tf } from './tfjs-mlp';

interface Options extends SuiteFlags {
  compare?: string[];
  summary?: string[];
  kernels?: string;
}

async function compare(files: string[]): Promise<void> {
  if (files.length !== 2) throw new InvalidArgumentError(`--compare takes exactly two result files, got ${files.length}`);
  const [a, b] = await Promise.all(files.map(async (file) => benchResultFromJson(await readFile(file, 'utf8'), file)));
  console.log(formatComparison(compareResults(a, b)));
}

async function summary(files: string[]): Promise<void> {
  const results = await Promise.all(files.map(async (file) => benchResultFromJson(await readFile(file, 'utf8'), file)));
  console.log(markdownSummary(results));
}

async function bench(options: Options): Promise<void> {
  const groups = options.only ? parseGroups(options.only) : undefined;
  // The training cases run the tuned kernels (remembered in the user's cache, as the CLI's); the matmul cases time every candidate.
  const gpu = await acquireNodeGpu({ kernels: cliKernelPolicy(options.kernels) });
  gpu.onError((e) => console.error(`GPU error: ${e.message}`));
  let result: BenchResult;
  let tf: Tf | null = null;
  try {
    let tfUnavailable = 'disabled with --no-tfjs';
    if (options.tfjs) {
      try {
        tf = await loadTfjsNode(gpu);
      } catch (error) {
        tfUnavailable = `could not load TF.js's WebGPU backend: ${(error as Error).message}`;
        console.error(`warning: ${tfUnavailable}`);
      }
    }
    result = await runSuite(
      gpu,
      { host: 'node', node: process.version },
      {
        quick: options.quick,
        groups,
        cases: listFlag(options.cases),
        matmulCandidates: listFlag(options.candidates),
        tf,
        tfUnavailable,
        notes: options.note,
        onProgress: ({ done, total, label }) => {
          if (done < total) console.error(`[${done + 1}/${total}] ${label}`);
        },
        onCases: (cases) => {
          for (const c of cases) console.error(`    ${caseRow(c).join('  ')}`);
        },
      },
    );
  } finally {
    if (tf) releaseTfjsNode(tf);
    gpu.device.destroy();
  }
  console.log(`\n${formatResult(result)}`);
  const file = await writeResultFile(result, options, 'bench');
  console.log(`results: ${file}`);
}

const program = addSuiteFlags(
  new Command().name('npm run bench --').description('deadunits benchmark suite on Dawn (WebGPU for Node); bench.html runs the same suite in a browser'),
)
  .option('--compare <files...>', 'print two result files side by side (validated) instead of running')
  .option('--summary <files...>', 'print a markdown table of the ratios and medians of result files (for the README)')
  .option('--kernels <auto|name>', KERNELS_HELP, parseKernelsFlag);

async function main(): Promise<void> {
  program.parse();
  const options = program.opts<Options>();
  if (options.compare) await compare(options.compare);
  else if (options.summary) await summary(options.summary);
  else await bench(options);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error instanceof Error && error.name !== 'Error' ? `${error.name}: ${error.message}` : error);
    process.exit(1);
  },
);
