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
