// Builds what `npm pack` ships (run by `npm run build:package`, and by prepack): compiled JavaScript, so an
// installed deadunits needs neither TypeScript nor tsx.
//   lib/cli.js      the command line (bin/deadunits.mjs runs it when the package has no src/)
//   lib/index.js    the library entry (src/lib/index.ts): import { openRun, Trainer } from 'deadunits'
//   lib/types/      its declarations (tsc, tsconfig.package.json)
// Vite bundles both for Node with every WGSL shader inlined (the `?raw` imports); dependencies stay imports.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { build } from 'vite';

const root = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const external = [...Object.keys(pkg.dependencies), ...builtinModules, ...builtinModules.map((m) => `node:${m}`)];

rmSync(join(root, 'lib'), { recursive: true, force: true });
await build({
  root,
  configFile: false,
  logLevel: 'warn',
  build: {
    ssr: true,
    target: 'node20',
    outDir: 'lib',
    emptyOutDir: false,
    minify: false,
    sourcemap: false,
    rollupOptions: {
      input: { cli: join(root, 'src/cli/main.ts'), index: join(root, 'src/lib/index.ts') },
      external: (id) => external.some((e) => id === e || id.startsWith(`${e}/`)),
      output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
    },
  },
});

const require = createRequire(import.meta.url);
const tsc = require.resolve('typescript/bin/tsc');
execFileSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.package.json')], { stdio: 'inherit', cwd: root });
// The sources import extensionless paths (moduleResolution Bundler); a consumer on node16 / nodenext needs the
// .js a Node ESM import would name: `from '../config'` becomes `from '../config/index.js'`.
const typesDir = join(root, 'lib/types');
for (const file of readdirSync(typesDir, { recursive: true })) {
  if (!file.endsWith('.d.ts')) continue;
  const path = join(typesDir, file);
  const text = readFileSync(path, 'utf8').replace(/(from\s+|import\()(['"])(\.{1,2}\/[^'"]*)\2/g, (whole, head, quote, spec) => {
    const base = join(dirname(path), spec);
    if (spec.endsWith('.js') && existsSync(`${base.slice(0, -3)}.d.ts`)) return whole;
    if (existsSync(`${base}.d.ts`)) return `${head}${quote}${spec}.js${quote}`;
    if (existsSync(join(base, 'index.d.ts'))) return `${head}${quote}${spec}/index.js${quote}`;
    throw new Error(`${path}: cannot resolve ${spec}`);
  });
  writeFileSync(path, text);
}
// The declarations use the WebGPU types (GPUDevice, ...): consumers get them with the package (@webgpu/types).
const types = join(typesDir, 'lib/index.d.ts');
writeFileSync(types, `/// <reference types="@webgpu/types" />\n${readFileSync(types, 'utf8')}`);
console.log('build-package: lib/cli.js, lib/index.js, lib/types/lib/index.d.ts');
