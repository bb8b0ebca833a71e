// Node-only: the folder of the deadunits package, found from this module's own location. The same code runs as
// TypeScript in a checkout (src/cli/*.ts) and bundled in an installed package (lib/cli.js), at different depths.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let root: string | null = null;

/** The nearest folder above this module whose package.json is deadunits'. */
export function packageRoot(): string {
  if (root) return root;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file) && (JSON.parse(readFileSync(file, 'utf8')) as { name?: string }).name === 'deadunits') return (root = dir);
    if (dirname(dir) === dir) throw new Error(`no deadunits package.json above ${fileURLToPath(import.meta.url)}`);
  }
}

export function packageVersion(): string {
  return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
}

/** The `deadunits` command of this package (for commands that write scripts calling it). */
export function binPath(): string {
  return join(packageRoot(), 'bin', 'deadunits.mjs');
}
