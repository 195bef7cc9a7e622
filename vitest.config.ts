import { defineConfig } from 'vitest/config';

// Two projects: `unit` (pure, fast, no network) and `integration` (real PostgreSQL, Kafka, Debezium;
// the stack is found or started by test/integration/global-setup.ts and never skipped).
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // Property tests run thousands of cases; on a loaded 2-core machine 5 s was not always enough.
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          fileParallelism: false,
          testTimeout: 180_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
