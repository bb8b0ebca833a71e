import { defineConfig } from 'vitest/config';

export default defineConfig({
  build: { target: 'es2022' },
  test: {
    include: ['tests/**/*.test.ts'],
    // One Dawn device per test file; software Vulkan is slow, and two cores are all CI has.
    pool: 'forks',
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
