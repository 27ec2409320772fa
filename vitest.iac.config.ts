import { defineConfig } from 'vitest/config';

// The IaC tier, apart from `npm test`: template.yaml and terraform/ linted, validated and rendered
// (tests/iac/validate and sam-template: `npm run test:iac`), then deployed to the moto emulator
// and destroyed (tests/iac/deploy-*: `npm run test:deploy`, which builds dist/ first). It needs
// cfn-lint, aws-sam-translator, terraform with a local hashicorp/aws provider, moto and the aws
// CLI. Each deploy file applies whole stacks, so files run one at a time.
export default defineConfig({
  test: {
    include: ['tests/iac/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 420_000,
    fileParallelism: false,
  },
});
