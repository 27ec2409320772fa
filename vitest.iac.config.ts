import { defineConfig } from 'vitest/config';

// The IaC tier, apart from `npm test`: template.yaml and terraform/ linted, validated and rendered
// (tests/iac/validate and sam-template: `npm run test:iac`), then deployed to the moto emulator
// and destroyed (tests/iac/deploy-*: `npm run test:deploy`, which builds dist/ first). It needs
// cfn-lint, aws-sam-translator, terraform with a local hashicorp/aws provider, moto and the aws
// CLI. Each deploy file starts its own moto and works in its own scratch copy, so the files run side
// by side: most of a deployment's time is the provider waiting for SQS and IAM, not work.
export default defineConfig({
  test: {
    include: ['tests/iac/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 420_000,
    fileParallelism: true,
    maxWorkers: 4,
  },
});
