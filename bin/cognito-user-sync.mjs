#!/usr/bin/env node
// The command line's entry for `npx cognito-user-sync`. Installed from the package, it runs the
// compiled dist/cli.mjs; in a checkout of the sources, it runs them through tsx (a dev dependency).
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/bin.ts', import.meta.url))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/bin.ts');
} else {
  await import('../dist/cli.mjs');
}
