import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default', './test/support/summary-reporter.ts'],
    // no test scan fetches the advisory feeds from the internet (the scans that test the fetch point it at loopback)
    env: { DETONATE_SKIP_DB_UPDATE: '1' },
  },
});
