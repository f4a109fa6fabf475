import { defineConfig } from 'vitest/config';

// Benchmarks run through vitest only to reuse the TypeScript test helpers (real processes on
// loopback); they print figures and assert nothing about speed.
export default defineConfig({
  test: {
    include: ['bench/**/*.bench-run.ts'],
    testTimeout: 1_800_000,
    hookTimeout: 300_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
