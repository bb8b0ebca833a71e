// Slowly-changing regression ("the bit-flipping problem"), generated on the GPU step by step: nothing of it
// is resident but the teacher (a few KiB) and the task's flipping bits. Layout and meaning: src/spec/bitflip.ts.
// Mirrors src/reference/bitflip.ts bit for bit: inputs are 0/1, the teacher's weights ±1, its thresholds the
// same f32 values, so every sum here is a small integer, exact in f32 in any order.
//
// Philox under key rngKey(seed, 'bitflip'), counter word 3 naming the use:
//   the random bits of batch row b at step t:  (b, t, block, 0), bit k of the block = word k / 32, bit k % 32
//   the random bits of probe row r:            (r, 0, block, 1)
//   the bit that flips when task k begins:     (k, 0, 0, 2), word 0, scaled to [0, flipping)

struct BitflipParams {
  rows: u32,            // batch rows (inputs, targets) or probe rows (probe)
  input_size: u32,      // m + 1
  flipping: u32,        // bits [0, flipping) are the task's
  teacher_width: u32,
  task_every: u32,      // steps per task; 0 = one task, nothing ever flips
  exhaustive: u32,      // probe: 1 = row r's random bits are the binary digits of r
  key0: u32,
  key1: u32,
}

@group(0) @binding(0) var<storage, read> state: StepState;
@group(0) @binding(1) var<uniform> params: BitflipParams;
// [flipping] 0 or 1: the current task's flipping bits (task state, checkpointed)
@group(0) @binding(2) var<storage, read_write> flip_bits: array<u32>;
// W [input_size, teacher_width] row-major, then tau [teacher_width], v [teacher_width], c [1]
@group(0) @binding(3) var<storage, read> teacher: array<f32>;
// [rows, input_size]: the batch (or probe) inputs
@group(0) @binding(4) var<storage, read_write> inputs: array<f32>;
// [rows]: the teacher's output for each row
@group(0) @binding(5) var<storage, read_write> targets: array<f32>;

override INPUTS_WG: u32;
override TARGETS_WG: u32;

fn bitflip_key() -> vec2<u32> {
  return vec2<u32>(params.key0, params.key1);
}

// Random bit k (0-based among the m - flipping drawn bits) of row `row` under counter words (row, c1, ·, c3).
fn random_bit(row: u32, c1: u32, c3: u32, k: u32) -> u32 {
  let words = philox4x32_10(vec4<u32>(row, c1, k >> 7u, c3), bitflip_key());
  return (words[(k >> 5u) & 3u] >> (k & 31u)) & 1u;
}

// Runs first in every step: when step t begins task k = t / task_every (k >= 1), one flipping bit flips.
@compute @workgroup_size(1)
fn switch_task() {
  let t = state.step;
  if (params.task_every == 0u || params.flipping == 0u || t == 0u || t % params.task_every != 0u) { return; }
  let task = t / params.task_every;
  let j = mul_hi_u32(philox4x32_10(vec4<u32>(task, 0u, 0u, 2u), bitflip_key()).x, params.flipping);
  flip_bits[j] = 1u - flip_bits[j];
}

fn input_bit(row: u32, col: u32, probe: bool) -> f32 {
  let m = params.input_size - 1u;
  if (col == m) { return 1.0; }
  if (col < params.flipping) { return f32(flip_bits[col]); }
  let k = col - params.flipping;
  if (!probe) { return f32(random_bit(row, state.step, 0u, k)); }
  if (params.exhaustive == 1u) { return f32((row >> k) & 1u); }
  return f32(random_bit(row, 0u, 1u, k));
}

// One thread per (row, column) of the step's batch.
@compute @workgroup_size(INPUTS_WG)
fn batch_inputs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * INPUTS_WG + lid;
  if (i >= params.rows * params.input_size) { return; }
  inputs[i] = input_bit(i / params.input_size, i % params.input_size, false);
}

// One thread per (row, column) of the probe set: the current task's inputs.
@compute @workgroup_size(INPUTS_WG)
fn probe_inputs(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * INPUTS_WG + lid;
  if (i >= params.rows * params.input_size) { return; }
  inputs[i] = input_bit(i / params.input_size, i % params.input_size, true);
}

var<workgroup> partial: array<f32, TARGETS_WG>;

// One workgroup per row: each thread evaluates teacher units h = lid, lid + TARGETS_WG, ...; then a tree sum.
@compute @workgroup_size(TARGETS_WG)
fn teacher_targets(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg);
  let n = params.input_size;
  let width = params.teacher_width;
  var sum = 0.0;
  if (row < params.rows) {
    for (var h = lid; h < width; h += TARGETS_WG) {
      var z = 0.0;
      for (var j = 0u; j < n; j++) {
        z += inputs[row * n + j] * teacher[j * width + h];
      }
      if (z > teacher[n * width + h]) {
        sum += teacher[n * width + width + h];
      }
    }
  }
  partial[lid] = sum;
  workgroupBarrier();
  for (var stride = TARGETS_WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) {
      partial[lid] += partial[lid + stride];
    }
    workgroupBarrier();
  }
  if (lid == 0u && row < params.rows) {
    targets[row] = partial[0] + teacher[n * width + 2u * width];
  }
}
