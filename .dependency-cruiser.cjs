// The layering of deadunits, checked by dependency-cruiser (`npm run lint:deps`, part of `npm test`).
//
//   config → spec → gpu → engine → {io, report, data} → {cli, ui} → bench
//   src/lib (the package's library entry) sits beside bench: it re-exports the engine, the data, io and the CLI's
//   run job; nothing imports it.
//
// A module may import its own layer and any layer to its left, never one to its right.
// - {io, report, data} do not import each other: none of them needs another today (checkpoints, metrics/charts and
//   data sets are independent sinks and sources around the engine), and keeping them apart keeps each one usable
//   without the others. If one ever needs another, move the shared piece down (to spec or engine) rather than
//   opening the sibling edge.
// - data sits above engine only by position: the engine takes a TrainingData, it never imports src/data, and data
//   may import the engine's types but needs nothing from it today.
// - cli and ui are two hosts of the same engine: neither imports the other.
// - src/reference is the CPU oracle for the tests: tests may import it, no production module may (it would stop
//   being an independent check of the GPU code). The shared constants both sides need live in src/spec. The oracle
//   itself takes from gpu/engine only types (the interfaces it is checked through: MatmulVariant, ModelSpec,
//   TrainingData) and the pure model description src/engine/model-spec.ts (activationWidths), never running code.
// - Node-only code (node:* built-ins, the `webgpu` package, src/gpu/dawn.ts) must not be reachable from the
//   browser entries (src/ui, bench/page), so the page bundle never pulls it in.
// - Tests may import anything; nothing outside tests imports tests.
const { builtinModules } = require('node:module');

/** Layer folders, lowest first, with the layers each one may import (besides itself). */
const LAYERS = {
  'src/config': [],
  'src/spec': ['src/config'],
  'src/gpu': ['src/config', 'src/spec'],
  'src/engine': ['src/config', 'src/spec', 'src/gpu'],
  'src/io': ['src/config', 'src/spec', 'src/gpu', 'src/engine'],
  'src/report': ['src/config', 'src/spec', 'src/gpu', 'src/engine'],
  'src/data': ['src/config', 'src/spec', 'src/gpu', 'src/engine'],
  'src/cli': ['src/config', 'src/spec', 'src/gpu', 'src/engine', 'src/io', 'src/report', 'src/data'],
  'src/ui': ['src/config', 'src/spec', 'src/gpu', 'src/engine', 'src/io', 'src/report', 'src/data'],
  'src/lib': ['src/config', 'src/spec', 'src/gpu', 'src/engine', 'src/io', 'src/report', 'src/data', 'src/cli'],
  bench: ['src/config', 'src/spec', 'src/gpu', 'src/engine', 'src/io', 'src/report', 'src/data', 'src/cli', 'src/ui'],
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const folder = (f) => `^${escape(f)}/`;
const anyOf = (folders) => `^(${folders.map(escape).join('|')})/`;
const allLayers = Object.keys(LAYERS);

const layerRules = allLayers.map((layer) => {
  const allowed = new Set([layer, ...LAYERS[layer]]);
  const forbiddenLayers = allLayers.filter((l) => !allowed.has(l));
  return {
    name: `layer-${layer.replace('src/', '')}`,
    severity: 'error',
    comment: `${layer} may import only ${[...allowed].join(', ')} (config → spec → gpu → engine → {io, report, data} → {cli, ui} → bench).`,
    from: { path: folder(layer) },
    to: { path: anyOf(forbiddenLayers) },
  };
});

const NODE_ONLY = [`^(${builtinModules.map(escape).join('|')})$`, '(^|/)node_modules/webgpu/', '^src/gpu/dawn\\.ts$'];

module.exports = {
  forbidden: [
    ...layerRules,
    {
      name: 'reference-is-test-only',
      severity: 'error',
      comment: 'src/reference is the CPU oracle of the tests; production code shares constants through src/spec instead.',
      from: { path: '^(src|bench)/', pathNot: '^src/reference/' },
      to: { path: '^src/reference/' },
    },
    {
      name: 'reference-stays-independent',
      severity: 'error',
      comment:
        'The oracle runs none of the code it checks: from src/gpu and src/engine it may take types (the interfaces it is ' +
        'checked through) and the pure model description src/engine/model-spec.ts, nothing that computes.',
      from: { path: '^src/reference/' },
      to: { path: '^src/(gpu|engine)/', pathNot: '^src/engine/model-spec\\.ts$', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'reference-below-the-hosts',
      severity: 'error',
      comment: 'The oracle is a layer under the sinks and the hosts: it imports none of them.',
      from: { path: '^src/reference/' },
      to: { path: anyOf(['src/io', 'src/report', 'src/data', 'src/cli', 'src/ui', 'bench']) },
    },
    {
      name: 'not-in-a-layer',
      severity: 'error',
      comment: 'Every production folder belongs to a layer: add a new folder to LAYERS in .dependency-cruiser.cjs.',
      from: { path: '^src/', pathNot: anyOf([...allLayers, 'src/reference']) },
      to: {},
    },
    {
      name: 'no-node-in-browser',
      severity: 'error',
      comment: 'The page (src/ui, bench/page) runs in a browser: Node built-ins, the webgpu package and src/gpu/dawn.ts must not be reachable from it.',
      from: { path: '^(src/ui|bench/page)/' },
      to: { path: NODE_ONLY, reachable: true },
    },
    {
      name: 'not-to-tests',
      severity: 'error',
      comment: 'Production and bench code must not import test helpers.',
      from: { pathNot: '^tests/' },
      to: { path: '^tests/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycles, type-only ones included: a cycle means two modules are one.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve to a file or an installed package.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'src-not-to-dev-dep',
      severity: 'error',
      comment: 'src/ ships (the CLI and the page): it must not import a devDependency.',
      from: { path: '^src/' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports count for the layering and the cycles: they couple modules just the same.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // Worktrees link node_modules; keep its paths as node_modules/... so the rules above match them.
    preserveSymlinks: true,
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: { text: { highlightFocused: true } },
  },
};
