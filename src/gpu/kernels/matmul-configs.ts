// The family of matmul kernel configurations the autotuner chooses from (src/gpu/tuning/), by name:
//   reg<R>x<C>-w<WG>         register-blocked (shaders/matmul.wgsl `matmul`): R rows x C columns per lane, WG lanes
//   flat<R>x<C>-w<WG>        the same tiles written out by the host without arrays or loops over rows and columns
//                             (`matmul_flat`, src/gpu/kernels/matmul-flat.ts): SwiftShader indexes arrays lane by lane
//   sg<S>-<R>x<C>-w<WG>      the same with A panels shared by S lanes through subgroupShuffle (`matmul_subgroups`)
//   wgmem<TM>x<TN>-<TX>x<TY>-k<TK>  workgroup-memory tiles, TF.js-style (`matmul_tiled`): TM x TN outputs per lane,
//                             TX x TY lanes, k staged TK at a time
// Every configuration accumulates each output element in the same order along k (see store_c in the shader), so
// which one runs never changes a bit of the result: tuning is a speed choice only.

export type MatmulConfig =
  | { kind: 'reg'; rows: number; cols: number; wg: number }
  | { kind: 'flat'; rows: number; cols: number; wg: number }
  | { kind: 'sg'; share: number; rows: number; cols: number; wg: number }
  | { kind: 'wgmem'; tm: number; tn: number; tx: number; ty: number; tk: number };

/** What decides which configurations an adapter can run and which are worth timing. */
export interface MatmulCapabilities {
  isSoftware: boolean;
  /** SwiftShader (Chromium's CPU adapter) has a candidate list of its own: see SWIFTSHADER_CANDIDATES. */
  isSwiftShader: boolean;
  hasSubgroups: boolean;
  subgroupMinSize: number;
  subgroupMaxSize: number;
  maxInvocationsPerWorkgroup: number;
  maxWorkgroupStorageSize: number;
}

export function configName(c: MatmulConfig): string {
  switch (c.kind) {
    case 'reg':
      return `reg${c.rows}x${c.cols}-w${c.wg}`;
    case 'flat':
      return `flat${c.rows}x${c.cols}-w${c.wg}`;
    case 'sg':
      return `sg${c.share}-${c.rows}x${c.cols}-w${c.wg}`;
    case 'wgmem':
      return `wgmem${c.tm}x${c.tn}-${c.tx}x${c.ty}-k${c.tk}`;
  }
}

const NAME_PATTERNS: Array<[RegExp, (n: number[]) => MatmulConfig]> = [
  [/^reg(\d+)x(\d+)-w(\d+)$/, ([rows, cols, wg]) => ({ kind: 'reg', rows, cols, wg })],
  [/^flat(\d+)x(\d+)-w(\d+)$/, ([rows, cols, wg]) => ({ kind: 'flat', rows, cols, wg })],
  [/^sg(\d+)-(\d+)x(\d+)-w(\d+)$/, ([share, rows, cols, wg]) => ({ kind: 'sg', share, rows, cols, wg })],
  [/^wgmem(\d+)x(\d+)-(\d+)x(\d+)-k(\d+)$/, ([tm, tn, tx, ty, tk]) => ({ kind: 'wgmem', tm, tn, tx, ty, tk })],
];

/** The configuration a name spells, or a message saying what is wrong with it. */
export function parseConfigName(name: string): MatmulConfig | string {
  for (const [pattern, build] of NAME_PATTERNS) {
    const match = pattern.exec(name);
    if (!match) continue;
    const config = build(match.slice(1).map(Number));
    return configShapeError(config) ?? config;
  }
  return `"${name}" is not a matmul kernel name (reg<R>x<C>-w<WG>, flat<R>x<C>-w<WG>, sg<S>-<R>x<C>-w<WG> or wgmem<TM>x<TN>-<TX>x<TY>-k<TK>, e.g. ${DEFAULT_NAMES})`;
}

const isPow2 = (x: number) => Number.isInteger(x) && x >= 1 && (x & (x - 1)) === 0;

/** Why a configuration cannot be compiled at all, whatever the adapter (null when it can). */
function configShapeError(c: MatmulConfig): string | null {
  const name = configName(c);
  if (c.kind === 'wgmem') {
    if (![c.tm, c.tx, c.ty, c.tk].every(isPow2) || c.tm > 8 || ![4, 8].includes(c.tn) || c.tk < 4 || c.tk > 64) {
      return `${name}: TM must be a power of two up to 8, TN 4 or 8, TX and TY powers of two, TK a power of two in [4, 64]`;
    }
    return null;
  }
  // The register-blocked kernel works in vec4s of columns and transposes A (tn) 4 rows at a time.
  if (![4, 8, 16, 32].includes(c.rows) || ![4, 8, 16].includes(c.cols) || !isPow2(c.wg)) {
    return `${name}: rows must be 4, 8, 16 or 32, columns 4, 8 or 16, and the workgroup size a power of two`;
  }
  if (c.kind === 'sg' && ![4, 8].includes(c.share)) return `${name}: subgroup sharing must be 4 or 8 lanes`;
  return null;
}

/** Lanes per workgroup. */
export function configWorkgroupSize(c: MatmulConfig): number {
  return c.kind === 'wgmem' ? c.tx * c.ty : c.wg;
}

/** Output tile of one workgroup: [rows, cols]. */
export function configTile(c: MatmulConfig): [number, number] {
  return c.kind === 'wgmem' ? [c.tm * c.ty, c.tn * c.tx] : [c.rows, c.cols * c.wg];
}

/** Why this adapter cannot run the configuration, or null when it can. */
export function unsupportedReason(c: MatmulConfig, caps: MatmulCapabilities): string | null {
  const name = configName(c);
  const shape = configShapeError(c);
  if (shape) return shape;
  const wg = configWorkgroupSize(c);
  if (wg > caps.maxInvocationsPerWorkgroup) return `${name}: ${wg} lanes per workgroup, the adapter allows ${caps.maxInvocationsPerWorkgroup}`;
  if (c.kind === 'wgmem') {
    const bytes = 4 * c.tk * (c.tm * c.ty + c.tn * c.tx);
    if (bytes > caps.maxWorkgroupStorageSize) return `${name}: ${bytes} bytes of workgroup memory, the adapter allows ${caps.maxWorkgroupStorageSize}`;
  }
  if (c.kind === 'sg') {
    if (!caps.hasSubgroups) return `${name}: the device has no subgroups`;
    if (caps.subgroupMinSize < c.share) return `${name}: shares across ${c.share} lanes, the adapter's subgroups may have ${caps.subgroupMinSize}`;
    // A partial subgroup would shuffle from lanes that do not exist.
    if (c.wg % caps.subgroupMaxSize !== 0) return `${name}: ${c.wg} lanes is not a multiple of the adapter's subgroup size ${caps.subgroupMaxSize}`;
  }
  return null;
}

/** The WGSL `const`s shaders/matmul.wgsl expects from the host for this configuration (unused ones are harmless). */
export function configHeader(c: MatmulConfig): string {
  const reg = c.kind === 'wgmem' ? { rows: 4, cols: 4 } : c;
  const tiled = c.kind === 'wgmem' ? c : { tm: 1, tn: 1, tx: 1, ty: 1, tk: 1 };
  const consts: Array<[string, number]> = [
    ['ROWS', reg.rows],
    ['COLS4', reg.cols / 4],
    ['TM', tiled.tm],
    ['TN', tiled.tn],
    ['TX', tiled.tx],
    ['TY', tiled.ty],
    ['TK', tiled.tk],
  ];
  return consts.map(([name, value]) => `const ${name}: u32 = ${value}u;`).join('\n');
}

const parse = (name: string): MatmulConfig => {
  const c = parseConfigName(name);
  if (typeof c === 'string') throw new Error(c);
  return c;
};

/**
 * The configurations worth timing on an adapter, best guess first (the pick when nothing is tuned).
 * NOTE: on CPU adapters (lavapipe, SwiftShader) a lane is a SIMD lane and a per-lane load costs tens of
 * multiply-adds: few lanes with big register blocks, and subgroup shuffles where subgroups allow, win there;
 * on GPUs the classic shapes (64-256 lanes, workgroup-memory tiles) are the candidates.
 */
export function candidateConfigs(caps: MatmulCapabilities): MatmulConfig[] {
  const list = caps.isSwiftShader ? SWIFTSHADER_CANDIDATES : caps.isSoftware ? SOFTWARE_CANDIDATES : GPU_CANDIDATES;
  return list.map(parse).filter((c) => unsupportedReason(c, caps) === null);
}

/**
 * Candidates on CPU adapters. The first supported one is the pick without tuning: the engine's kernels before
 * tuning existed (subgroup path where subgroups have 8 lanes, else the portable one), so an untuned run is as fast
 * as it was.
 */
export const SOFTWARE_CANDIDATES: readonly string[] = ['sg8-16x8-w8', 'reg16x8-w8', 'sg4-16x8-w8', 'reg8x8-w8', 'reg16x4-w16', 'wgmem4x4-8x8-k16'];
/**
 * Candidates on SwiftShader: the straight-line kernels, 5-10x the looped ones there (src/gpu/kernels/matmul-flat.ts),
 * and the portable kernel the engine ran before. Not on lavapipe, where they are no faster and LLVM takes longer to
 * compile them.
 */
export const SWIFTSHADER_CANDIDATES: readonly string[] = ['flat8x16-w8', 'flat16x8-w8', 'flat16x8-w4', 'reg16x8-w8'];
/** Candidates on GPUs, the engine's kernels before tuning first. */
export const GPU_CANDIDATES: readonly string[] = ['sg8-16x8-w64', 'reg16x8-w64', 'reg8x8-w64', 'wgmem4x4-8x8-k16', 'wgmem4x4-16x16-k16', 'wgmem8x8-8x8-k16'];
/** Every configuration the tuner may pick on some adapter (the bit-identity test runs each one it can). */
export const MATMUL_FAMILY: readonly string[] = [...new Set([...SOFTWARE_CANDIDATES, ...SWIFTSHADER_CANDIDATES, ...GPU_CANDIDATES])];

const DEFAULT_NAMES = 'reg16x8-w8, sg8-16x8-w8, wgmem4x4-8x8-k16';
