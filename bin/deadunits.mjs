#!/usr/bin/env node
// The package's command (`deadunits` once installed, `npx deadunits`, `npm run deadunits --`).
// - An installed package (no src/): runs the compiled CLI, lib/cli.js (scripts/build-package.mjs), WGSL inlined.
// - A checkout (src/ present): runs the TypeScript sources, so an edit needs no build and a stale lib/ is never
//   used; tsx (a dev dependency) compiles them and scripts/wgsl-loader.mjs serves `x.wgsl?raw` imports as text,
//   exactly as Vite does. Hooks run last-registered first, as with `node --import tsx --import ./scripts/register-wgsl.mjs`.
import { existsSync } from 'node:fs';
import { register } from 'node:module';

const sources = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(sources)) {
  const { register: registerTsx } = await import('tsx/esm/api');
  registerTsx();
  register('../scripts/wgsl-loader.mjs', import.meta.url);
  await import(sources.href);
} else {
  await import('../lib/cli.js');
}
