import { defineConfig } from 'vitest/config';

// The default tier: everything but the packaged-zip tier (vitest.package.config.ts).
export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    exclude: ['tests/package/**', 'node_modules/**'],
    testTimeout: 20_000,
    restoreMocks: true,
  },
});
