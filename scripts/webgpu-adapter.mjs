// Asks Dawn (npm package `webgpu`) for a WebGPU adapter, as the CLI and the GPU tests will: prints the adapter and
// exits 0, or exits 1 when there is none, 2 when the package cannot be loaded (npm ci has not run yet).
// DEADUNITS_DAWN options apply, as in src/gpu/dawn.ts. Used by scripts/setup-webgpu.sh.
let webgpu;
try {
  webgpu = await import('webgpu');
} catch {
  process.exit(2);
}
// Dawn can hang on a broken driver: give up after a minute.
setTimeout(() => process.exit(1), 60_000).unref();
process.env.XDG_RUNTIME_DIR ??= '/tmp';
Object.assign(globalThis, webgpu.globals);
const options = (process.env.DEADUNITS_DAWN ?? '')
  .split(',')
  .map((s) => s.trim())
  .filter(Boolean);
const adapter = await webgpu
  .create(options)
  .requestAdapter()
  .catch(() => null);
if (!adapter) process.exit(1);
const info = adapter.info ?? {};
console.log([info.vendor, info.architecture, info.description].filter(Boolean).join(' / ') || 'an adapter');
process.exit(0);
