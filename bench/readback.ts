// Readback bandwidth through a staging ring, the Observatory's mechanism: copy a storage buffer into a
// free MAP_READ slot, map it, copy the bytes out, unmap, with `ring` slots in flight so the GPU never waits
// for the reader. Sizes: a snapshot of the 1M-unit layer (three bitmaps of 2^20 bits) and larger blocks.
// Wall clock by nature (mapping is host work); MB = 10^6 bytes.
import { makeCase, type CaseResult } from './schema';
import type { BenchTask, SuiteContext } from './task';
import { timeWall } from './timing';

const RING = 3;

interface ReadbackPlan {
  bytes: number;
  what: string;
}

function plans(quick: boolean): ReadbackPlan[] {
  if (quick)
    return [
      { bytes: 64 * 1024, what: '64 KiB' },
      { bytes: 1024 * 1024, what: '1 MiB' },
    ];
  return [
    { bytes: (3 * (1 << 20)) / 8, what: 'snapshot of the 1M-unit layer (3 bitmaps)' },
    { bytes: 4 << 20, what: '4 MiB' },
    { bytes: 64 << 20, what: '64 MiB' },
  ];
}

export function readbackTasks(ctx: SuiteContext): BenchTask[] {
  return plans(ctx.quick).map((plan) => ({ group: 'readback', label: `readback ${plan.what}`, run: () => measureReadback(ctx, plan) }));
}

async function measureReadback(ctx: SuiteContext, plan: ReadbackPlan): Promise<{ cases: CaseResult[] }> {
  const { device } = ctx.gpu;
  const source = device.createBuffer({
    label: 'bench.readback.source',
    size: plan.bytes,
    usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
  });
  const slots = Array.from({ length: RING }, (_, i) =>
    device.createBuffer({ label: `bench.readback.slot${i}`, size: plan.bytes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
  );
  device.queue.writeBuffer(source, 0, new Uint8Array(plan.bytes).fill(0xa5));
  let checksum = 0;
  let copies = 0;
  try {
    const run = async (rounds: number) => {
      const busy: (Promise<void> | undefined)[] = new Array(RING);
      for (let r = 0; r < rounds; r++) {
        const i = r % RING;
        await busy[i];
        const encoder = device.createCommandEncoder({ label: 'bench.readback' });
        encoder.copyBufferToBuffer(source, 0, slots[i], 0, plan.bytes);
        device.queue.submit([encoder.finish()]);
        busy[i] = slots[i].mapAsync(GPUMapMode.READ).then(() => {
          // The copy out of the mapped range is part of what a reader pays (SnapshotRing.take in src/engine/snapshot-ring.ts does the same).
          const bytes = new Uint8Array(slots[i].getMappedRange().slice(0));
          checksum += bytes[bytes.length - 1];
          copies++;
          slots[i].unmap();
        });
      }
      await Promise.all(busy);
    };
    // At least a ring's worth of copies per sample, so the ring is actually in flight.
    const t = await timeWall(run, { warmup: 1, samples: ctx.quick ? 3 : 5, minSampleMs: ctx.quick ? 10 : 200, start: RING });
    // Every byte read back is 0xa5: anything else means the copy did not happen.
    if (checksum !== 0xa5 * copies) throw new Error(`readback ${plan.what}: read back wrong bytes (checksum ${checksum} after ${copies} copies)`);
    const c = makeCase({
      id: `readback.${plan.bytes}`,
      group: 'readback',
      impl: 'deadunits',
      label: `staging ring, ${plan.what}`,
      params: { bytes: plan.bytes, ring: RING },
      unit: 'MB/s',
      timing: 'wall',
      samples: t.samplesMs.map((ms) => plan.bytes / (ms * 1e3)),
      derived: { copiesPerSample: t.inner },
    });
    return { cases: [c] };
  } finally {
    source.destroy();
    for (const slot of slots) slot.destroy();
  }
}
