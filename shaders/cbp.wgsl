// Continual backprop (Dohare et al.'s generate-and-test) on the GPU, per hidden layer, with no readback:
//   activity      during the forward pass: mean |a| over the batch rows, per unit (a = act(Z), before dropout)
//   outgoing      after the optimizer: Σ |w| over the unit's outgoing weights, block by block (row blocks of W_{l+1})
//   utility       age += 1; power *= decay (= decay^age); u = decay·u + (1 - decay)·activity·outgoing;
//                 score = u / (1 - power) (the bias-corrected utility), kept as its bits
//   select        one workgroup: eligible = units with age >= maturity; acc += rate·eligible (fixed point, 32
//                 fraction bits: exact integer arithmetic); r = whole part (at most max_replace); then r times the
//                 eligible unit of lowest (score, index) is chosen: its age, utility and power are reset
//   reset_units   the chosen units' incoming weights drawn from the layer's init (counter word 2 = step), their
//                 bias set to its init value, their outgoing weights zeroed; the optimizer state of each zeroed
// Scores are non-negative, so their bits order as the numbers do; (bits, index) is a strict total order and the
// choice is the same whatever the reduction order. Mirrors src/reference/cbp.ts (selection bit for bit).

struct CbpParams {
  rows: u32,          // activity: batch rows; reset_units: rows of the parameter block
  cols: u32,          // activity, outgoing, reset_units: columns of the block
  ld: u32,            // row stride of the block, elements
  unit_offset: u32,   // global index of the layer unit the block's first column (activity, incoming) or row (outgoing) is
  accumulate: u32,    // outgoing: 0 for the first column block of W_{l+1}, 1 for the next ones (they add)
  inv_rows: f32,      // activity: 1 / rows, rounded to f32 on the host
  units: u32,         // units of the layer
  decay: f32,
  maturity: u32,
  rate_fixed: u32,    // replacement rate · 2^32, rounded
  max_replace: u32,
  mode: u32,          // reset_units: MODE_INCOMING | MODE_BIAS | MODE_OUTGOING
  row_offset: u32,    // reset_units incoming: global row of the block's first row (the RNG index)
  kind: u32,          // reset_units incoming: INIT_UNIFORM | INIT_NORMAL | INIT_CONSTANT
  scale: f32,         // the uniform limit, the normal std or the constant (bias: its init value)
  states: u32,        // optimizer state buffers to zero (0, 1 or 2)
  key0: u32,
  key1: u32,
}

// Per unit of the layer (6 words). `score` holds the f32 bits of the bias-corrected utility, or CHOSEN.
struct CbpUnit {
  utility: f32,
  power: f32,
  age: u32,
  score: u32,
  activity: f32,
  outgoing: f32,
}

const MODE_INCOMING: u32 = 0u;
const MODE_BIAS: u32 = 1u;
const MODE_OUTGOING: u32 = 2u;
const INIT_UNIFORM: u32 = 0u;
const INIT_NORMAL: u32 = 1u;
const CHOSEN: u32 = 0xFFFFFFFFu;
const NONE: u32 = 0xFFFFFFFFu;
// selection words: [0] units chosen this step, [1] whole part of the accumulator, [2] its fraction (· 2^32),
// [3] eligible units this step, [4 ..] the chosen units in the order chosen
const SEL_COUNT: u32 = 0u;
const SEL_WHOLE: u32 = 1u;
const SEL_FRACTION: u32 = 2u;
const SEL_ELIGIBLE: u32 = 3u;
const SEL_CHOSEN: u32 = 4u;

@group(0) @binding(0) var<storage, read> state: StepState;
@group(0) @binding(1) var<uniform> params: CbpParams;
@group(0) @binding(2) var<storage, read> acts: array<f32>;              // activity: [rows, ld] act(Z) of a column block
@group(0) @binding(3) var<storage, read_write> block: array<f32>;       // outgoing: a block of W_{l+1}; reset_units: the block reset
@group(0) @binding(4) var<storage, read_write> state1: array<f32>;      // reset_units: optimizer state of `block` (states >= 1)
@group(0) @binding(5) var<storage, read_write> state2: array<f32>;      // reset_units: (states == 2)
@group(0) @binding(6) var<storage, read_write> units: array<CbpUnit>;   // [units]
@group(0) @binding(7) var<storage, read_write> selection: array<u32>;   // [4 + max_replace]

override CBP_WG: u32;
// select runs as one workgroup; a power of two for its tree reductions.
override SELECT_WG: u32;

fn cbp_index(wid: vec3<u32>, nwg: vec3<u32>, lid: u32) -> u32 {
  return linear_workgroup(wid, nwg) * CBP_WG + lid;
}

// One thread per column (unit) of an activation block: sequential over rows, then · (1 / rows).
@compute @workgroup_size(CBP_WG)
fn activity(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let c = cbp_index(wid, nwg, lid);
  if (c >= params.cols) { return; }
  var sum = 0.0;
  for (var r = 0u; r < params.rows; r++) {
    sum += abs(acts[r * params.ld + c]);
  }
  units[params.unit_offset + c].activity = sum * params.inv_rows;
}

// One thread per row (unit of layer l) of a block of W_{l+1}: Σ |w| over the block's columns, added to the
// previous column blocks' sum in dispatch order.
@compute @workgroup_size(CBP_WG)
fn outgoing(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let r = cbp_index(wid, nwg, lid);
  if (r >= params.rows) { return; }
  var sum = 0.0;
  for (var c = 0u; c < params.cols; c++) {
    sum += abs(block[r * params.ld + c]);
  }
  let u = params.unit_offset + r;
  if (params.accumulate == 1u) {
    units[u].outgoing = units[u].outgoing + sum;
  } else {
    units[u].outgoing = sum;
  }
}

@compute @workgroup_size(CBP_WG)
fn utility(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let u = cbp_index(wid, nwg, lid);
  if (u >= params.units) { return; }
  var unit = units[u];
  unit.age = select(unit.age + 1u, unit.age, unit.age == 0xFFFFFFFFu);
  unit.power = unit.power * params.decay;
  let contribution = unit.activity * unit.outgoing;
  unit.utility = params.decay * unit.utility + (1.0 - params.decay) * contribution;
  unit.score = bitcast<u32>(unit.utility / (1.0 - unit.power));
  units[u] = unit;
}

var<workgroup> reduce_key: array<u32, SELECT_WG>;
var<workgroup> reduce_index: array<u32, SELECT_WG>;
var<workgroup> replacements: u32;
var<workgroup> winner_shared: u32;

fn eligible(u: u32) -> bool {
  return units[u].age >= params.maturity && units[u].score != CHOSEN;
}

// (key, index) of a is below b's.
fn below(key_a: u32, index_a: u32, key_b: u32, index_b: u32) -> bool {
  return key_a < key_b || (key_a == key_b && index_a < index_b);
}

@compute @workgroup_size(SELECT_WG)
fn select_units(@builtin(local_invocation_index) lid: u32) {
  // How many units are mature.
  var count = 0u;
  for (var u = lid; u < params.units; u += SELECT_WG) {
    if (eligible(u)) { count += 1u; }
  }
  reduce_index[lid] = count;
  workgroupBarrier();
  for (var stride = SELECT_WG / 2u; stride > 0u; stride /= 2u) {
    if (lid < stride) { reduce_index[lid] += reduce_index[lid + stride]; }
    workgroupBarrier();
  }
  if (lid == 0u) {
    let mature = reduce_index[0];
    // acc += rate · mature in 64-bit fixed point (whole, fraction · 2^32).
    let low = params.rate_fixed * mature;
    let fraction = selection[SEL_FRACTION] + low;
    let carry = select(0u, 1u, fraction < low);
    selection[SEL_FRACTION] = fraction;
    selection[SEL_WHOLE] = selection[SEL_WHOLE] + mul_hi_u32(params.rate_fixed, mature) + carry;
    selection[SEL_ELIGIBLE] = mature;
    replacements = min(selection[SEL_WHOLE], params.max_replace);
  }
  let r = workgroupUniformLoad(&replacements);
  var chosen = 0u;
  for (var k = 0u; k < r; k++) {
    var key = NONE;
    var index = NONE;
    for (var u = lid; u < params.units; u += SELECT_WG) {
      if (eligible(u) && below(units[u].score, u, key, index)) {
        key = units[u].score;
        index = u;
      }
    }
    reduce_key[lid] = key;
    reduce_index[lid] = index;
    workgroupBarrier();
    for (var stride = SELECT_WG / 2u; stride > 0u; stride /= 2u) {
      if (lid < stride && below(reduce_key[lid + stride], reduce_index[lid + stride], reduce_key[lid], reduce_index[lid])) {
        reduce_key[lid] = reduce_key[lid + stride];
        reduce_index[lid] = reduce_index[lid + stride];
      }
      workgroupBarrier();
    }
    if (lid == 0u) { winner_shared = reduce_index[0]; }
    let winner = workgroupUniformLoad(&winner_shared);
    if (winner == NONE) { break; }
    if (lid == 0u) {
      selection[SEL_CHOSEN + chosen] = winner;
      units[winner].score = CHOSEN;
      units[winner].age = 0u;
      units[winner].utility = 0.0;
      units[winner].power = 1.0;
    }
    chosen += 1u;
    storageBarrier();
  }
  if (lid == 0u) {
    selection[SEL_COUNT] = chosen;
    selection[SEL_WHOLE] = selection[SEL_WHOLE] - chosen;
  }
}

// One thread per (chosen slot, element of the unit's span in this block): incoming weights are a column of a
// W_l block (span = its rows), the bias one element, outgoing weights a row of a W_{l+1} block (span = its columns).
@compute @workgroup_size(CBP_WG)
fn reset_units(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let t = cbp_index(wid, nwg, lid);
  var span = params.cols;
  if (params.mode == MODE_INCOMING) { span = params.rows; } else if (params.mode == MODE_BIAS) { span = 1u; }
  let slot = t / span;
  if (slot >= params.max_replace || slot >= selection[SEL_COUNT]) { return; }
  let unit = selection[SEL_CHOSEN + slot];
  let width = select(params.cols, params.rows, params.mode == MODE_OUTGOING);
  if (unit < params.unit_offset || unit >= params.unit_offset + width) { return; }
  let local = unit - params.unit_offset;
  let e = t % span;
  var index = 0u;
  var value = 0.0;
  if (params.mode == MODE_INCOMING) {
    index = e * params.ld + local;
    let i = (params.row_offset + e) * params.units + unit;
    let key = vec2<u32>(params.key0, params.key1);
    value = params.scale;
    if (params.kind == INIT_UNIFORM) {
      value = init_uniform_draw_at(key, i, state.step, params.scale);
    } else if (params.kind == INIT_NORMAL) {
      value = init_normal_draw_at(key, i, state.step, params.scale);
    }
  } else if (params.mode == MODE_BIAS) {
    index = local;
    value = params.scale;
  } else {
    index = local * params.ld + e;
  }
  block[index] = value;
  if (params.states >= 1u) { state1[index] = 0.0; }
  if (params.states >= 2u) { state2[index] = 0.0; }
}
