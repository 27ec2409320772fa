import { defineConfig } from 'vitest/config';

// The AWS tier: `npm run test:aws`. One moto_server for the run (tests/aws/global-setup.ts);
// the files run one after another, each in its own queues and pools.
export default defineConfig({
  test: {
    include: ['tests/aws/**/*.test.ts'],
    globalSetup: ['tests/aws/global-setup.ts'],
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
