#!/usr/bin/env node
// The package's command (`npx deadunits`, `npm run deadunits --`): the CLI is TypeScript that imports WGSL
// files as text (`x.wgsl?raw`), so before loading it this registers tsx (TypeScript) and the same `?raw`
// loader the npm scripts use (scripts/wgsl-loader.mjs). Hooks run last-registered first, as with
// `node --import tsx --import ./scripts/register-wgsl.mjs`.
import { register } from 'node:module';
import { register as registerTsx } from 'tsx/esm/api';

registerTsx();
register('../scripts/wgsl-loader.mjs', import.meta.url);
await import('../src/cli/main.ts');
