import { defineConfig } from 'vitest/config';

// The default tier (`npm test`): everything but the tiers with their own config: the packaged
// zips (vitest.package.config.ts), moto (vitest.aws.config.ts) and the IaC (vitest.iac.config.ts).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/package/**', 'tests/aws/**', 'tests/iac/**', 'node_modules/**'],
    testTimeout: 20_000,
    restoreMocks: true,
    // On Node 20: the AWS SDK's Node version warning once a run, not once per worker.
    globalSetup: ['tests/setup/aws-sdk-node-warning.ts'],
  },
});
