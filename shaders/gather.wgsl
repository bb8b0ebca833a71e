// Minibatch selection on the GPU: sampling with replacement. Sample b of step t is
// floor(u32 * samples / 2^32) of Philox word (b & 3) at counter (b >> 2, t, 0, 0) under the
// 'batchOrder' key: stateless, so any step's batch can be recomputed (the CPU reference does).
// Mirrors src/reference/gather.ts.

struct Params {
  batch: u32,
  samples: u32,
  input_size: u32,
  target_size: u32,  // f32 targets per sample (regression) or 1 (class labels, stored as u32 bits)
  key0: u32,
  key1: u32,
}

@group(0) @binding(0) var<storage, read> state: StepState;
@group(0) @binding(1) var<uniform> params: Params;
@group(0) @binding(2) var<storage, read_write> indices: array<u32>;     // [batch] chosen sample per row
@group(0) @binding(3) var<storage, read> inputs: array<f32>;            // [samples, input_size]
@group(0) @binding(4) var<storage, read> targets: array<u32>;           // [samples, target_size] (f32 or u32 bits)
@group(0) @binding(5) var<storage, read_write> batch_inputs: array<f32>;  // [batch, input_size]
@group(0) @binding(6) var<storage, read_write> batch_targets: array<u32>; // [batch, target_size]

// Invocations per workgroup of each entry point, set by the host (src/gpu/kernels/gather.ts).
override CHOOSE_WG: u32;
override COPY_WG: u32;

@compute @workgroup_size(CHOOSE_WG)
fn choose(@builtin(global_invocation_id) gid: vec3<u32>) {
  let b = gid.x;
  if (b >= params.batch) { return; }
  let words = philox4x32_10(vec4<u32>(b >> 2u, state.step, 0u, 0u), vec2<u32>(params.key0, params.key1));
  indices[b] = mul_hi_u32(words[b & 3u], params.samples);
}

// One thread per (row, column) of the batch; targets ride along in the first target_size threads of each row.
@compute @workgroup_size(COPY_WG)
fn copy_rows(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * COPY_WG + lid;
  let width = max(params.input_size, params.target_size);
  if (i >= params.batch * width) { return; }
  let row = i / width;
  let col = i % width;
  let sample = indices[row];
  if (col < params.input_size) {
    batch_inputs[row * params.input_size + col] = inputs[sample * params.input_size + col];
  }
  if (col < params.target_size) {
    batch_targets[row * params.target_size + col] = targets[sample * params.target_size + col];
  }
}
