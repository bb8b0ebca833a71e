import { describe, it } from 'vitest';
import { SHARED_SOURCES } from '../../src/gpu/shaders';
import { philox4x32 } from '../../src/reference/philox';
import { PHILOX_KAT } from '../philox-vectors';
import { expectBitExact, useGpu } from './harness';

// A test-only entry point around the shared RNG: out[i] = philox4x32_10(counters[i], keys[i]).
const KAT_KERNEL = `
@group(0) @binding(0) var<storage, read> counters: array<vec4<u32>>;   // [n]
@group(0) @binding(1) var<storage, read> keys: array<vec2<u32>>;       // [n]
@group(0) @binding(2) var<storage, read_write> out: array<vec4<u32>>;  // [n]
@compute @workgroup_size(64)
fn main(@builtin(global_invocation_id) gid: vec3<u32>) {
  if (gid.x < arrayLength(&out)) { out[gid.x] = philox4x32_10(counters[gid.x], keys[gid.x]); }
}`;

describe('philox4x32-10 on the GPU', () => {
  const t = useGpu();

  async function runPhilox(counters: number[][], keys: number[][]): Promise<Uint32Array> {
    const { device } = t;
    const module = device.createShaderModule({ label: 'PhiloxKat', code: SHARED_SOURCES.philox + KAT_KERNEL });
    const pipeline = device.createComputePipeline({ label: 'PhiloxKat.main', layout: 'auto', compute: { module } });
    const n = counters.length;
    const out = t.zeros('out', n * 4);
    const bind = device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: [t.u32('counters', counters.flat()), t.u32('keys', keys.flat()), out].map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bind);
    pass.dispatchWorkgroups(Math.ceil(n / 64));
    pass.end();
    device.queue.submit([encoder.finish()]);
    return t.readU32(out, n * 4);
  }

  it('reproduces the Random123 known-answer vectors bit for bit', async () => {
    const got = await runPhilox(
      PHILOX_KAT.map((v) => [...v.counter]),
      PHILOX_KAT.map((v) => [...v.key]),
    );
    expectBitExact(
      got,
      PHILOX_KAT.flatMap((v) => v.expected),
      'philox KAT',
    );
  });

  it('agrees with the TS reference on 1000 pseudo-random counters and keys', async () => {
    const counters: number[][] = [];
    const keys: number[][] = [];
    for (let i = 0; i < 1000; i++) {
      const c = philox4x32([i, 0, 0, 1], [99, 1]);
      counters.push([...c]);
      keys.push([c[0] ^ c[2], c[1] ^ c[3]].map((w) => w >>> 0));
    }
    const got = await runPhilox(counters, keys);
    const expected = counters.flatMap((c, i) => [...philox4x32(c as [number, number, number, number], keys[i] as [number, number])]);
    expectBitExact(got, expected, 'philox vs reference');
  });
});
