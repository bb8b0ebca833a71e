import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

/** Tests that drive the built page in headless Chromium. */
const E2E_TESTS = ['tests/e2e/**/*.test.ts', 'tests/**/*.e2e.test.ts'];
/**
 * Tests that need a WebGPU adapter in Node (Dawn). Every other test is a unit test: it must pass on a machine where
 * no adapter can be had. Most CLI tests run the bin on Dawn; the ones listed in the `!(...)` only parse and write.
 */
const GPU_TESTS = ['tests/gpu/**/*.test.ts', 'tests/cli/!(main|run-options|run-outputs|sweep-plan).test.ts', 'tests/**/*.gpu.test.ts'];
/**
 * Tests against a real batch scheduler on this machine (a one-node Slurm: scripts/slurm-local.sh, root only). Not
 * part of `npm test`: `npm run test:cluster` runs them, and CI does, as root.
 */
const CLUSTER_TESTS = ['tests/cluster/**/*.test.ts'];

export default defineConfig({
  build: {
    target: 'es2022',
    // Two pages: the simulator (index.html) and the benchmark suite (bench.html).
    rollupOptions: { input: { main: resolve(import.meta.dirname, 'index.html'), bench: resolve(import.meta.dirname, 'bench.html') } },
  },
  // The engine runs in a module Worker (WebGPU works in dedicated workers).
  worker: { format: 'es' },
  server: { host: '127.0.0.1' },
  preview: { host: '127.0.0.1' },
  test: {
    // One Dawn device per test file; software Vulkan is slow, and two cores are all CI has.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Suites by what a test needs (`npm run test:unit`, `test:gpu`, `test:e2e`, `npm test` runs these three; and
    // `test:cluster`, which needs root).
    projects: [
      { extends: true, test: { name: 'unit', include: ['tests/**/*.test.ts'], exclude: [...GPU_TESTS, ...E2E_TESTS, ...CLUSTER_TESTS] } },
      { extends: true, test: { name: 'gpu', include: GPU_TESTS } },
      { extends: true, test: { name: 'e2e', include: E2E_TESTS } },
      { extends: true, test: { name: 'cluster', include: CLUSTER_TESTS } },
    ],
  },
});
