// End-to-end plumbing: build the app with Vite's JS API into a fresh folder, serve it with `vite preview` on 127.0.0.1
// and a free port, and launch Debian's headless Chromium (or DEADUNITS_CHROMIUM) with SwiftShader WebGPU. Never a
// downloaded browser: playwright-core only drives the one installed by scripts/setup-chromium.sh.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, preview, type PreviewServer } from 'vite';

export { launchChromium } from '../../bench/headless-chromium';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ARTIFACTS = join(ROOT, 'tests/e2e/artifacts');

export interface AppServer {
  url: string;
  close(): Promise<void>;
}

/** Builds the app (production build, both pages) into a temporary folder and serves it. */
export async function serveBuiltApp(): Promise<AppServer> {
  const outDir = await mkdtemp(join(tmpdir(), 'deadunits-e2e-'));
  await build({ root: ROOT, logLevel: 'error', build: { outDir, emptyOutDir: true, chunkSizeWarningLimit: 4096 } });
  let server: PreviewServer;
  try {
    server = await preview({ root: ROOT, logLevel: 'error', build: { outDir }, preview: { host: '127.0.0.1', port: 0, strictPort: false, open: false } });
  } catch (error) {
    await rm(outDir, { recursive: true, force: true });
    throw error;
  }
  const address = server.httpServer.address();
  if (!address || typeof address === 'string') throw new Error('vite preview did not report a TCP port');
  return {
    url: `http://127.0.0.1:${address.port}/`,
    async close() {
      await new Promise<void>((done) => server.httpServer.close(() => done()));
      await rm(outDir, { recursive: true, force: true });
    },
  };
}
