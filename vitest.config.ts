import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Real processes and sockets: keep parallelism modest on 2-core machines.
    maxWorkers: 2,
    minWorkers: 1,
    // CI also writes a JSON report that .ci/run turns into a plain 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.cache/vitest-report.json' }]] : ['default']
  }
});
