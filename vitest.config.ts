import { defineConfig } from 'vitest/config';

// Cluster tests start real daemons: one test file at a time keeps a 2-core machine responsive, and
// generous timeouts absorb slow disks without ever asserting on speed.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    pool: 'forks',
    reporters: ['default'],
  },
});
