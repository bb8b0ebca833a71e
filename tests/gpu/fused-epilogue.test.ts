// FUSING NEVER CHANGES NUMBERS: the matmul epilogues that run a hidden layer's activation and dropout
// (src/engine/step-graph.ts fuseEpilogues) give the same bits as the separate activation and dropout kernels,
// - per product: forward (Z, H, Y) and backward (dZ) against the unfused GPU composition, bit for bit, and against
//   the CPU reference composition (src/reference matmul -> activation -> dropout) within the matmul's error bound;
// - per training run: a few steps fused vs unfused, weights and losses bit-identical,
// on shapes that are not multiples of any tile, with every activation, dropout on and off, single-block and
// sharded layers and a block whose unit offset (6) splits a dropout mask group, for one configuration of every matmul kernel kind
// (reg, sg where the adapter has subgroups, wgmem, flat).
import { beforeAll, describe, expect, it } from 'vitest';
import { Trainer } from '../../src/engine/trainer';
import type { ModelSpec } from '../../src/engine/model-spec';
import { ActivationKernel } from '../../src/gpu/kernels/activation';
import { DropoutKernel } from '../../src/gpu/kernels/dropout';
import {
  candidateConfigs,
  configName,
  parseConfigName,
  SOFTWARE_CANDIDATES,
  SWIFTSHADER_CANDIDATES,
  unsupportedReason,
} from '../../src/gpu/kernels/matmul-configs';
import { matmulCapabilities, MatmulKernel, type MatmulArgs, type MatmulEpilogue } from '../../src/gpu/kernels/matmul';
import type { Dispatch } from '../../src/gpu/dispatch';
import { activationBackward, activationForward } from '../../src/reference/activation';
import { dropoutBackward, dropoutForward } from '../../src/reference/dropout';
import { matmulReference } from '../../src/reference/matmul';
import type { ActivationSpec } from '../../src/spec/activations';
import { dropoutScale } from '../../src/spec/dropout-rate';
import { rngKey } from '../../src/spec/rng-streams';
import { STEP_STATE_WORDS } from '../../src/spec/step-state';
import { smallClassification, smallSpec } from '../engine-fixtures';
import { expectBitExact, randomArray, runDispatches, useGpu, writeStepState } from './harness';

const ACTIVATIONS: ActivationSpec[] = [{ kind: 'relu' }, { kind: 'leaky_relu', alpha: 0.1 }, { kind: 'elu', alpha: 0.7 }, { kind: 'gelu' }];
const bitsOf = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const u = 2 ** -24;

/** One configuration of each kernel kind this adapter runs (reg, sg where subgroups exist, wgmem). */
function oneOfEachKind(names: string[]): string[] {
  const seen = new Map<string, string>();
  for (const name of names) {
    const kind = name.replace(/\d.*$/, '');
    if (!seen.has(kind)) seen.set(kind, name);
  }
  return [...seen.values()];
}

describe('fused matmul epilogues', () => {
  const t = useGpu();
  let configs: string[] = [];
  const matmuls = new Map<string, MatmulKernel>();
  let activation: ActivationKernel;
  let dropout: DropoutKernel;

  beforeAll(async () => {
    // The adapter's own candidates first, then the CPU adapters' lists (small workgroups, cheap to compile
    // anywhere) for the kinds this adapter's list lacks (e.g. flat on lavapipe).
    const caps = matmulCapabilities(t.gpu);
    const runs = (name: string) => {
      const c = parseConfigName(name);
      return typeof c !== 'string' && unsupportedReason(c, caps) === null;
    };
    configs = oneOfEachKind([...candidateConfigs(caps).map(configName), ...SOFTWARE_CANDIDATES, ...SWIFTSHADER_CANDIDATES].filter(runs));
    for (const name of configs) matmuls.set(name, await MatmulKernel.create(t.gpu, { kernels: name }));
    activation = await ActivationKernel.create(t.gpu);
    dropout = await DropoutKernel.create(t.gpu);
  });

  it('runs one configuration of every kernel kind', () => {
    expect(new Set(configs.map((n) => n.replace(/\d.*$/, '')))).toEqual(
      new Set(t.gpu.hasSubgroups ? ['reg', 'sg', 'wgmem', 'flat'] : ['reg', 'wgmem', 'flat']),
    );
  });

  // A layer block of 70 units at global offset 6 (the mask's groups of 4 straddle the block's edges), 13 batch
  // rows; the product is completed in two passes over the other dimension (17 + 20), as sharded layers do.
  const M = 13;
  const N = 70;
  const K = [17, 20];
  const UNIT_OFFSET = 6;
  const STEP = 5;
  const KEY = rngKey(99, 'dropout', 2);

  async function stepState(): Promise<GPUBuffer> {
    const buffer = t.zeros('stepState', STEP_STATE_WORDS);
    writeStepState(t.device, buffer, { step: STEP });
    return buffer;
  }

  async function run(dispatches: Dispatch[]): Promise<void> {
    runDispatches(t.device, 'fused test', dispatches);
    dispatches.forEach((d) => d.destroy());
  }

  describe.each(ACTIVATIONS.flatMap((a) => [0, 0.3].map((p) => [`${a.kind}, dropout ${p}`, a, p] as const)))('%s', (_, act, p) => {
    it('forward: Z, H and Y equal the matmul + activation + dropout kernels bit for bit, and the CPU composition', async () => {
      const x = K.map((k, i) => randomArray(M * k, 11 + i));
      const w = K.map((k, i) => randomArray(k * N, 21 + i, 0.4));
      const bias = randomArray(N, 31, 0.2);
      const state = await stepState();
      const biasBuffer = t.f32('bias', bias);
      const xs = x.map((a, i) => t.f32(`x${i}`, a));
      const ws = w.map((a, i) => t.f32(`w${i}`, a));
      const drop = p > 0 ? { p, key: KEY, stepState: state, unitOffset: UNIT_OFFSET } : undefined;
      const product = (kernel: MatmulKernel, z: GPUBuffer, epilogue?: MatmulEpilogue): Dispatch[] =>
        K.map((k, i): Dispatch => {
          const args: MatmulArgs = {
            label: `Fused.forward${i}`,
            variant: 'nn',
            m: M,
            n: N,
            k,
            a: { buffer: xs[i], ld: k },
            b: { buffer: ws[i], ld: N },
            c: { buffer: z, ld: N },
            bias: i === 0 ? { buffer: biasBuffer } : undefined,
            accumulate: i > 0,
            epilogue: i === K.length - 1 ? epilogue : undefined,
          };
          return kernel.prepare(args);
        });

      // Unfused, with the first configuration: Z, then act (into h, or y without dropout), then dropout.
      const [zU, hU, yU] = ['zU', 'hU', 'yU'].map((l) => t.zeros(l, M * N));
      const unfused = product(matmuls.get(configs[0])!, zU);
      unfused.push(activation.prepareForward({ label: 'Fused.act', activation: act, z: zU, a: p > 0 ? hU : yU, count: M * N }));
      if (drop) {
        const ref = { buffer: hU, ld: N };
        unfused.push(dropout.prepareForward({ label: 'Fused.dropout', ...drop, rows: M, cols: N, input: ref, output: { buffer: yU, ld: N } }));
      }
      await run(unfused);
      const [z, h, y] = await Promise.all([zU, hU, yU].map((b) => t.readF32(b, M * N)));

      for (const name of configs) {
        const [zF, hF, yF] = ['zF', 'hF', 'yF'].map((l) => t.zeros(l, M * N));
        await run(product(matmuls.get(name)!, zF, { kind: 'forward', activation: act, dropout: drop, h: p > 0 ? hF : undefined, y: yF }));
        expectBitExact(bitsOf(await t.readF32(zF, M * N)), bitsOf(z), `${name} Z`);
        expectBitExact(bitsOf(await t.readF32(yF, M * N)), bitsOf(y), `${name} Y`);
        if (p > 0) expectBitExact(bitsOf(await t.readF32(hF, M * N)), bitsOf(h), `${name} H`);
      }

      // The CPU composition. The products differ from the GPU's by at most the f32 dot-product bound
      // gamma_k * sum |x||w| (+ |bias|); the activations are 1-Lipschitz up to max(1, alpha, 1.13 for gelu) and
      // dropout scales by 1/(1-p); the GPU's exp adds a few ulps of the result (relative).
      const zRef = new Float32Array(M * N);
      K.forEach((k, i) =>
        matmulReference({
          variant: 'nn',
          m: M,
          n: N,
          k,
          a: x[i],
          lda: k,
          b: w[i],
          ldb: N,
          c: zRef,
          ldc: N,
          bias: i === 0 ? bias : undefined,
          accumulate: i > 0,
        }),
      );
      const aRef = activationForward(act, zRef);
      const yRef = p > 0 ? dropoutForward({ p, key: KEY, step: STEP, rows: M, cols: N, unitOffset: UNIT_OFFSET, input: aRef }) : aRef;
      const kTotal = K[0] + K[1];
      const gamma = ((kTotal + 2) * u) / (1 - (kTotal + 2) * u);
      const lipschitz = Math.max(1, act.alpha ?? 1, 1.13);
      const scale = p > 0 ? dropoutScale(p) : 1;
      for (let r = 0; r < M; r++) {
        for (let c = 0; c < N; c++) {
          let magnitude = Math.abs(bias[c]);
          K.forEach((k, i) => {
            for (let q = 0; q < k; q++) magnitude += Math.abs(x[i][r * k + q] * w[i][q * N + c]);
          });
          const e = r * N + c;
          const bound = (gamma * magnitude * lipschitz + 8 * u * Math.abs(aRef[e])) * scale + 1e-30;
          if (Math.abs(y[e] - yRef[e]) > bound) throw new Error(`Y [${r}, ${c}]: GPU ${y[e]}, CPU ${yRef[e]}, bound ${bound}`);
        }
      }
    });

    it('backward: dZ equals the matmul + dropout backward + activation backward kernels bit for bit, and the CPU composition', async () => {
      // dX = dY·Wᵀ of the layer above (its 37 units in two blocks of 17 and 20), into this block of 70 units.
      const dy = K.map((k, i) => randomArray(M * k, 41 + i));
      const w = K.map((k, i) => randomArray(N * k, 51 + i, 0.4)); // [N, k]: W of the layer above, rows = this block
      const zData = randomArray(M * N, 61, 2);
      const state = await stepState();
      const dys = dy.map((a, i) => t.f32(`dy${i}`, a));
      const ws = w.map((a, i) => t.f32(`w${i}`, a));
      const z = t.f32('z', zData);
      const drop = p > 0 ? { p, key: KEY, stepState: state, unitOffset: UNIT_OFFSET } : undefined;
      const product = (kernel: MatmulKernel, g: GPUBuffer, epilogue?: MatmulEpilogue): Dispatch[] =>
        K.map((k, j) =>
          kernel.prepare({
            label: `Fused.backward${j}`,
            variant: 'nt',
            m: M,
            n: N,
            k,
            a: { buffer: dys[j], ld: k },
            b: { buffer: ws[j], ld: k },
            c: { buffer: g, ld: N },
            accumulate: j > 0,
            epilogue: j === K.length - 1 ? epilogue : undefined,
          }),
        );

      // Unfused as the step graph encodes it: dX into g, dropout backward g -> h, act backward (z, h) -> y.
      const [gU, hU, dzU] = ['gU', 'hU', 'dzU'].map((l) => t.zeros(l, M * N));
      const unfused = product(matmuls.get(configs[0])!, gU);
      if (drop) {
        const args = { label: 'Fused.dropoutBackward', ...drop, rows: M, cols: N, input: { buffer: gU, ld: N }, output: { buffer: hU, ld: N } };
        unfused.push(dropout.prepareBackward(args));
      }
      unfused.push(activation.prepareBackward({ label: 'Fused.actBackward', activation: act, z, gradOut: p > 0 ? hU : gU, gradIn: dzU, count: M * N }));
      await run(unfused);
      const dz = await t.readF32(dzU, M * N);

      for (const name of configs) {
        const [gF, dzF] = ['gF', 'dzF'].map((l) => t.zeros(l, M * N));
        await run(product(matmuls.get(name)!, gF, { kind: 'backward', activation: act, dropout: drop, z, dz: dzF }));
        expectBitExact(bitsOf(await t.readF32(dzF, M * N)), bitsOf(dz), `${name} dZ`);
      }

      const gRef = new Float32Array(M * N);
      K.forEach((k, j) => matmulReference({ variant: 'nt', m: M, n: N, k, a: dy[j], lda: k, b: w[j], ldb: k, c: gRef, ldc: N, accumulate: j > 0 }));
      const hRef = p > 0 ? dropoutBackward({ p, key: KEY, step: STEP, rows: M, cols: N, unitOffset: UNIT_OFFSET, dY: gRef }) : gRef;
      const dzRef = activationBackward(act, zData, hRef);
      // Same bound as forward: |act'| <= max(1, alpha, 1.13 for gelu), the derivative's own error relative.
      const kTotal = K[0] + K[1];
      const gamma = ((kTotal + 1) * u) / (1 - (kTotal + 1) * u);
      const lipschitz = Math.max(1, act.alpha ?? 1, 1.13);
      const scale = p > 0 ? dropoutScale(p) : 1;
      for (let r = 0; r < M; r++) {
        for (let c = 0; c < N; c++) {
          let magnitude = 0;
          K.forEach((k, j) => {
            for (let q = 0; q < k; q++) magnitude += Math.abs(dy[j][r * k + q] * w[j][c * k + q]);
          });
          const e = r * N + c;
          const bound = gamma * magnitude * lipschitz * scale + 8 * u * Math.abs(dzRef[e]) + 1e-30;
          if (Math.abs(dz[e] - dzRef[e]) > bound) throw new Error(`dZ [${r}, ${c}]: GPU ${dz[e]}, CPU ${dzRef[e]}, bound ${bound}`);
        }
      }
    });
  });

  describe('training steps, fused vs unfused', () => {
    const data = smallClassification(60, 5, 3);
    // Two hidden layers of odd widths, whole or sharded into column blocks of 32 (37 = 32 + 5, 70 = 32 + 32 + 6:
    // products over split inputs and outputs, so the epilogues run on accumulating passes; the layout keeps
    // shards at multiples of 32 units, the kernel test above covers offsets inside a mask group).
    const CASES: Array<[string, ModelSpec]> = [
      [
        'relu (dropout) + leaky_relu, sharded',
        spec(
          [
            ['relu', 0.3],
            ['leaky_relu', 0],
          ],
          32,
        ),
      ],
      [
        'elu + gelu (dropout), single blocks',
        spec([
          ['elu', 0],
          ['gelu', 0.5],
        ]),
      ],
      [
        'gelu (dropout) + elu (dropout), sharded',
        spec(
          [
            ['gelu', 0.1],
            ['elu', 0.25],
          ],
          32,
        ),
      ],
      [
        'leaky_relu (dropout) + relu (dropout), continual backprop (reads act(Z))',
        {
          ...spec(
            [
              ['leaky_relu', 0.2],
              ['relu', 0.4],
            ],
            32,
          ),
          continualBackprop: { replacementRate: 0.05, decay: 0.9, maturity: 2 },
        },
      ],
    ];

    function spec(layers: Array<[ActivationSpec['kind'], number]>, shardColumns?: number): ModelSpec {
      const base = smallSpec();
      return {
        ...base,
        batch: 9,
        hidden: layers.map(([kind, dropout], i) => ({ ...base.hidden[i], width: [37, 70][i], activation: { kind }, dropout })),
        ...(shardColumns ? { shardColumns } : {}),
      };
    }

    it.each(CASES)('%s: weights and losses bit-identical with every kernel kind', async (_, s) => {
      for (const name of configs) {
        const gpu = { ...t.gpu, kernels: { ...t.gpu.kernels, matmul: name } };
        const results = [];
        for (const fuseEpilogues of [false, true]) {
          const trainer = await Trainer.create(gpu, s, data, { fuseEpilogues });
          const traffic = trainer.stepTraffic();
          await trainer.train(4);
          const params = await trainer.readParameters();
          results.push({ params, losses: await trainer.readLosses(0, 4), traffic });
          trainer.destroy();
        }
        const [unfused, fused] = results;
        // Fusion ran: each hidden block's activation (and dropout, where on) dispatches are gone, both ways.
        expect(fused.traffic.dispatches).toBeLessThan(unfused.traffic.dispatches);
        expect(fused.traffic.bytes).toBeLessThan(unfused.traffic.bytes);
        fused.params.forEach((layer, l) => {
          expectBitExact(bitsOf(layer.weights), bitsOf(unfused.params[l].weights), `${name} W${l + 1}`);
          expectBitExact(bitsOf(layer.bias), bitsOf(unfused.params[l].bias), `${name} b${l + 1}`);
        });
        expectBitExact(bitsOf(fused.losses), bitsOf(unfused.losses), `${name} losses`);
      }
    });
  });
});
