// Frozen units: the training-mode statistic that tells "dead on the probe set" from "cannot learn".
// Mirrors src/reference/frozen.ts bit for bit (everything here is integer: steps, bits, counts).
//
// - Active at training step t: the unit's pre-activation Z, as trained (dropout of the layer below on), is
//   > 0 on at least one batch row (an OR over rows). Only then can a ReLU unit's incoming weights and bias
//   receive a non-zero gradient: relu'(z) = 0 for z <= 0 exactly (shaders/activation.wgsl). For activations
//   whose derivative is not 0 below zero (leaky, ELU, GELU, identity) every finite row counts as active
//   (gated = 0): such units always receive gradient and never freeze.
// - Non-finite at step t: some batch row's Z is NaN or ±Inf. Its own state: never active, never frozen.
// - Frozen at a snapshot after t completed steps: t >= W and no step of [t - W, t - 1] was active or
//   non-finite, and the unit is not non-finite at the snapshot.
// - Thaw: an active step after W or more steps without an active or non-finite one (a frozen unit came back).
//
// NOTE: non-finite is tested on the raw bits (exponent all ones): a float test such as x != x may be folded
// away by a compiler that assumes no NaN. "z > 0" is the float comparison relu's derivative uses.

// 4 words per unit. NEVER (0xFFFFFFFF) marks "no such step yet".
struct TrainRecord {
  last_active_step: u32,     // latest training step with Z > 0 on some batch row
  first_nonfinite_step: u32, // first training step with a non-finite Z on some batch row
  last_nonfinite_step: u32,  // latest such step
  thaws: u32,                // active steps that ended a stretch of >= W inactive steps
}

struct FrozenParams {
  rows: u32,         // train_scan: batch rows
  cols: u32,         // units in the block (frozen_pack, reset_record: the whole layer)
  unit_offset: u32,  // global unit index of the block's first column
  z_offset: u32,     // elements
  ld: u32,           // row stride of z, elements
  gated: u32,        // 1: active <=> z > 0 (relu); 0: active <=> z finite
  window: u32,       // W, steps (>= 1)
  counts_offset: u32,// frozen_pack: counts[counts_offset + 0] += frozen, [+ 1] += non-finite
  invocations: u32,  // workgroups (train_scan) or units
}

const NEVER: u32 = 0xFFFFFFFFu;
const EXPONENT: u32 = 0x7f800000u;

@group(0) @binding(0) var<uniform> params: FrozenParams;
// StepState (shaders/step_state.wgsl): `step` is the step being computed inside a step, the number of completed steps after end_step
@group(0) @binding(1) var<storage, read> step_state: StepState;
// [rows, ld] row-major from z_offset: training pre-activations of the block, as the step computed them
@group(0) @binding(2) var<storage, read> z: array<u32>;
// [layer width] TrainRecord, global unit index
@group(0) @binding(3) var<storage, read_write> record: array<TrainRecord>;
// [ceil(layer width / 32)] words: in, the probe's non-finite units; out, probe or last training step non-finite
@group(0) @binding(4) var<storage, read_write> nonfinite_bits: array<u32>;
// [ceil(layer width / 32)] words: out, frozen units
@group(0) @binding(5) var<storage, read_write> frozen_bits: array<u32>;
// [ceil(layer width / 32)] words: the probe's dead units; non-finite ones are cleared (states are exclusive)
@group(0) @binding(6) var<storage, read_write> dead_bits: array<u32>;
// per-layer totals, accumulated: [counts_offset] frozen, [counts_offset + 1] non-finite
@group(0) @binding(7) var<storage, read_write> counts: array<atomic<u32>>;

// The latest step that was active or non-finite, as i64-free arithmetic: NEVER when neither happened.
fn last_live(r: TrainRecord) -> u32 {
  if (r.last_active_step == NEVER) { return r.last_nonfinite_step; }
  if (r.last_nonfinite_step == NEVER) { return r.last_active_step; }
  return max(r.last_active_step, r.last_nonfinite_step);
}

// W or more steps without an active or non-finite one before step t (steps 0 .. t-1 seen).
fn quiet_for_window(live: u32, t: u32) -> bool {
  if (live == NEVER) { return t >= params.window; }
  return t - live > params.window;
}

// ---------------------------------------------------------------------------------------------------
// Per training step, per column block: a column reduction of flags. A workgroup is 32 adjacent columns x 8
// row lanes over all batch rows (batches are small: one pass, no atomics); lane row 0 folds the step into
// the record. Encode inside the step (step_state.step = the step being computed), after the forward pass.

// Workgroup shapes, set by the host (src/gpu/kernels/frozen.ts), whose dispatch counts use the same numbers.
// SCAN_TILE is 32 and WG a multiple of 32 (whole bitmap words per workgroup).
override SCAN_TILE: u32;
override SCAN_LANES: u32;
override WG: u32;
const FLAG_ACTIVE: u32 = 1u;
const FLAG_NONFINITE: u32 = 2u;

var<workgroup> scan_flags: array<u32, SCAN_TILE * SCAN_LANES>;  // [SCAN_LANES, SCAN_TILE]

fn flags_of(at: u32) -> u32 {
  let bits = z[at];
  if ((bits & EXPONENT) == EXPONENT) { return FLAG_NONFINITE; }
  let positive = params.gated == 0u || bitcast<f32>(bits) > 0.0;
  return select(0u, FLAG_ACTIVE, positive);
}

@compute @workgroup_size(SCAN_TILE, SCAN_LANES)
fn train_scan(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
              @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = linear_workgroup(wid, nwg);
  if (tile >= params.invocations) { return; }  // folding spares: the whole workgroup leaves together
  let c = tile * SCAN_TILE + lid.x;
  let in_range = c < params.cols;
  var f = 0u;
  if (in_range) {
    var at = params.z_offset + lid.y * params.ld + c;
    let stride = SCAN_LANES * params.ld;
    // Both flags set: nothing more to learn from this column (the common case for live units is early exit).
    for (var r = lid.y; r < params.rows && f != (FLAG_ACTIVE | FLAG_NONFINITE); r += SCAN_LANES) {
      f |= flags_of(at);
      at += stride;
    }
  }
  scan_flags[lid.y * SCAN_TILE + lid.x] = f;
  workgroupBarrier();
  if (lid.y != 0u || !in_range) { return; }
  for (var y = 1u; y < SCAN_LANES; y++) {
    f |= scan_flags[y * SCAN_TILE + lid.x];
  }
  let t = step_state.step;
  let unit = params.unit_offset + c;
  var r = record[unit];
  if ((f & FLAG_ACTIVE) != 0u) {
    if (quiet_for_window(last_live(r), t)) {
      r.thaws += 1u;
    }
    r.last_active_step = t;
  }
  if ((f & FLAG_NONFINITE) != 0u) {
    if (r.first_nonfinite_step == NEVER) {
      r.first_nonfinite_step = t;
    }
    r.last_nonfinite_step = t;
  }
  record[unit] = r;
}

// ---------------------------------------------------------------------------------------------------
// At a snapshot after t = step_state.step completed steps, one invocation per unit of the whole layer
// (after the probe's dead scan, before the history update, which then sees dead bits without non-finite
// units): the frozen and non-finite bitmaps and their totals.

var<workgroup> pack_words: array<atomic<u32>, WG / 16u>;  // [0, WG / 32): frozen, [WG / 32, WG / 16): non-finite
var<workgroup> pack_totals: array<atomic<u32>, 2>;

@compute @workgroup_size(WG)
fn frozen_pack(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg * WG >= params.cols) { return; }
  let u = wg * WG + lid;
  let t = step_state.step;
  if (u < params.cols) {
    let r = record[u];
    let probe_nonfinite = ((nonfinite_bits[u >> 5u] >> (u & 31u)) & 1u) != 0u;
    let nonfinite = probe_nonfinite || (t > 0u && r.last_nonfinite_step == t - 1u);
    let frozen = !nonfinite && quiet_for_window(last_live(r), t);
    let bit = 1u << (lid & 31u);
    if (frozen) {
      atomicOr(&pack_words[lid >> 5u], bit);
      atomicAdd(&pack_totals[0], 1u);
    }
    if (nonfinite) {
      atomicOr(&pack_words[WG / 32u + (lid >> 5u)], bit);
      atomicAdd(&pack_totals[1], 1u);
    }
  }
  workgroupBarrier();
  let w = wg * (WG / 32u) + lid;
  if (lid < WG / 32u && w * 32u < params.cols) {
    let nonfinite = atomicLoad(&pack_words[WG / 32u + lid]);
    frozen_bits[w] = atomicLoad(&pack_words[lid]);
    nonfinite_bits[w] = nonfinite;
    dead_bits[w] = dead_bits[w] & ~nonfinite;
  }
  if (lid < 2u) {
    let total = atomicLoad(&pack_totals[lid]);
    if (total != 0u) {
      atomicAdd(&counts[params.counts_offset + lid], total);
    }
  }
}

// Every unit "never active, never non-finite, never thawed": the state before the first step.
@compute @workgroup_size(WG)
fn reset_record(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let u = linear_workgroup(wid, nwg) * WG + lid;
  if (u < params.cols) {
    record[u] = TrainRecord(NEVER, NEVER, NEVER, 0u);
  }
}
