// Headless Chromium for the end-to-end tests and `npm run bench:chromium`: Debian's /usr/bin/chromium (or
// DEADUNITS_CHROMIUM) with WebGPU on (SwiftShader without a GPU), driven by playwright-core. Never a downloaded
// browser: scripts/setup-chromium.sh installs the one used here. Also the Vite dev server bench.html runs under.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium } from 'playwright-core';
import { createServer, type ViteDevServer } from 'vite';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** WebGPU on; no background traffic (these machines refuse it, and Chromium would keep retrying). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function chromiumPath(): string {
  const path = process.env.DEADUNITS_CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(path)) throw new Error(`no Chromium at ${path}: run scripts/setup-chromium.sh (as root on Debian) or set DEADUNITS_CHROMIUM`);
  return path;
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath(), args: CHROMIUM_ARGS });
}

/** Vite's dev server for bench.html on 127.0.0.1 and a free port; `base` is its origin. */
export async function serveBenchPage(): Promise<{ server: ViteDevServer; base: string }> {
  const server = await createServer({
    root: ROOT,
    logLevel: 'error',
    server: { port: 0, host: '127.0.0.1' },
    // Pre-bundle what the page imports, so the dev server does not reload it mid-run to add a dependency.
    optimizeDeps: { entries: ['bench.html'], include: ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-webgpu', 'uplot'] },
  });
  await server.listen();
  return { server, base: `http://127.0.0.1:${(server.httpServer!.address() as { port: number }).port}` };
}
