#!/usr/bin/env node
// The command line's entry for `npx cognito-user-sync`: runs the TypeScript sources through tsx.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/bin.ts');
