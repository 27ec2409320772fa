import { defineConfig } from 'vitest/config';

// The packaged-zip tier: `npm run test:package` builds dist/ first, then runs these under
// vitest while the zips themselves run under Node 22, the Lambda runtime.
export default defineConfig({
  test: {
    include: ['tests/package/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 180_000,
  },
});
