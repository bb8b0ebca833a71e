// Inverted dropout: y = keep ? x * scale : 0. The keep decision is a pure function of
// (key, step, sample, unit), so the mask is never stored: backward recomputes it from the same inputs.
// Mirrors src/reference/dropout.ts bit for bit.
//
// The mask is shaders/dropout_mask.wgsl's: one Philox4x32-10 call at counter (unit >> 2, sample, step, 0)
// serves the 4 adjacent units 4g .. 4g+3, so each invocation handles one such group of one row. Keep is an
// exact integer comparison, so CPU and GPU cannot disagree about a mask bit; x * scale is one correctly
// rounded f32 multiply.

struct DropoutParams {
  rows: u32,
  cols: u32,            // units in this block
  unit_offset: u32,     // global unit index of the block's first column
  groups_per_row: u32,  // Philox groups of 4 units that intersect [unit_offset, unit_offset + cols)
  in_offset: u32,       // elements
  in_ld: u32,
  out_offset: u32,
  out_ld: u32,
  threshold: u32,       // round(p * 2^24)
  scale: f32,           // fround(1 / (1 - p))
  key0: u32,
  key1: u32,
  sample: u32,          // mask_bits only: the batch row whose mask is exported
  invocations: u32,     // rows * groups_per_row (apply) or word count (mask_bits)
}

@group(0) @binding(0) var<uniform> params: DropoutParams;
// StepState (shaders/step_state.wgsl), advanced on the GPU each step: `step` selects the mask
@group(0) @binding(1) var<storage, read> step_state: StepState;
// [rows, in_ld] row-major from in_offset; columns [0, cols) are this block's units
@group(0) @binding(2) var<storage, read> src: array<f32>;
// [rows, out_ld] row-major from out_offset
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;
// [ceil(cols / 32)] u32 words: bit (u % 32) of word (u / 32) set <=> block column u is dropped
@group(0) @binding(4) var<storage, read_write> bits: array<u32>;

// Invocations per workgroup, set by the host (src/gpu/kernels/dropout.ts) from its dispatch constant.
override WG: u32;

// Keep flags of units 4·group .. 4·group + 3 for one sample at this step (shaders/dropout_mask.wgsl).
fn keeps_of(sample: u32, group: u32) -> vec4<bool> {
  return dropout_keeps(dropout_mask_words(group, sample, step_state.step, vec2<u32>(params.key0, params.key1)), params.threshold);
}

fn dropout_apply(index: u32) {
  if (index >= params.invocations) {
    return;
  }
  let row = index / params.groups_per_row;
  let group = (params.unit_offset >> 2u) + index % params.groups_per_row;
  let keeps = keeps_of(row, group);
  for (var j = 0u; j < 4u; j++) {
    let unit = group * 4u + j;
    if (unit < params.unit_offset || unit - params.unit_offset >= params.cols) {
      continue;
    }
    let col = unit - params.unit_offset;
    let x = src[params.in_offset + row * params.in_ld + col];
    dst[params.out_offset + row * params.out_ld + col] = dropout_scaled(x, params.scale, keeps[j]);
  }
}

// dst = mask ⊙ src · scale
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  dropout_apply(linear_workgroup(wid, nwg) * WG + lid);
}

// dX = mask ⊙ dY · scale: the same formula with the same mask (same key, step, sample, unit).
@compute @workgroup_size(WG)
fn backward(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  dropout_apply(linear_workgroup(wid, nwg) * WG + lid);
}

// One invocation per output word (32 units of one sample): the per-unit "dropped this step" bitmap.
@compute @workgroup_size(WG)
fn mask_bits(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
             @builtin(local_invocation_index) lid: u32) {
  let w = linear_workgroup(wid, nwg) * WG + lid;
  if (w >= params.invocations) {
    return;
  }
  var word = 0u;
  var cached = 0xFFFFFFFFu;  // no group: unit >> 2 < 2^30
  var keeps = vec4<bool>();
  for (var b = 0u; b < 32u; b++) {
    let col = w * 32u + b;
    if (col >= params.cols) {
      break;
    }
    let unit = params.unit_offset + col;
    if ((unit >> 2u) != cached) {
      cached = unit >> 2u;
      keeps = keeps_of(params.sample, cached);
    }
    if (!keeps[unit & 3u]) {
      word |= 1u << b;
    }
  }
  bits[w] = word;
}
