// Finiteness check of a tensor: counts the elements that are NaN or ±Infinity and records the lowest index
// of one, so a diverged run can say which layer went bad first. Mirrors src/reference/finite.ts.
//
// NOTE: the data is read as raw u32 bits and tested on the exponent field (all ones = NaN or Inf). A float
// comparison such as `x != x` may be folded away by a compiler that assumes no NaNs; bits cannot be.

// Elements per workgroup: WG invocations x PER_THREAD; set by the host (src/gpu/kernels/finite.ts).
override WG: u32;
override PER_THREAD: u32;
const EXPONENT: u32 = 0x7f800000u;

struct Params {
  count: u32,   // elements to check
  offset: u32,  // first element in data
  slot: u32,    // result slot: result[2 * slot] = bad count, result[2 * slot + 1] = lowest bad index
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> data: array<u32>;                 // [count] f32 bits at offset
@group(0) @binding(2) var<storage, read_write> result: array<atomic<u32>>; // [slots, 2]: count, first (0xffffffff = none)

// One invocation per element (4 per thread), linear so any length fills the workgroups. Bad elements are
// rare (none in a healthy run), so the atomics cost nothing on the normal path; counts and minimum are
// order-independent, so the result is deterministic.
@compute @workgroup_size(WG)
fn count_nonfinite(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let base = linear_workgroup(wid, nwg) * (WG * PER_THREAD) + lid;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + k * WG;
    if (i >= params.count) { return; }
    if ((data[params.offset + i] & EXPONENT) == EXPONENT) {
      atomicAdd(&result[2u * params.slot], 1u);
      atomicMin(&result[2u * params.slot + 1u], i);
    }
  }
}
