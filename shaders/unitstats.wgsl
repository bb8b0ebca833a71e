// The dead-unit observatory: per-unit statistics that tell "dropped" from "dead" from "revived".
// Mirrors src/reference/unitstats.ts bit for bit (everything here is integer: counts, bits, steps).
//
// - Dead at snapshot s: pre-activation z <= 0 on EVERY probe row (probe pass without dropout), every row finite.
//   dead_scan_* count the probe rows with z > 0 per unit and pack "count == 0" into a bitmap.
// - Non-finite at snapshot s: z is NaN or ±Inf on some probe row. Its own state, never dead: the run diverged.
//   (shaders/frozen.wgsl adds the training batch's non-finite units and the frozen state.)
// - Dropped at step t: masked by dropout for batch row 0 (the dropout kernel's mask: the formula of
//   shaders/dropout_mask.wgsl, shared with shaders/dropout.wgsl).
// - Revived: dead at an earlier snapshot, alive now. history_update keeps the transitions per unit.
//
// Bitmaps: bit (u % 32) of word (u / 32) for global unit u; bits past the layer width are 0.
// Counts and bits are integers, so atomics leave no trace of scheduling order: results are deterministic.

// 8 words per unit. NEVER (0xFFFFFFFF) marks "no such step yet".
struct UnitHistory {
  first_death_step: u32,   // snapshot step of the first alive -> dead transition
  deaths: u32,             // alive -> dead transitions (a unit dead at its first snapshot counts one)
  revivals: u32,           // dead -> alive transitions
  last_change_step: u32,   // snapshot step of the latest transition
  was_dead: u32,           // 1 if dead at the latest snapshot
  drop_run: u32,           // steps in a row, up to the latest, in which sample 0 dropped the unit
  longest_drop_run: u32,   // max of drop_run over all steps seen
  _pad: u32,
}

struct Params {
  rows: u32,           // dead_scan: probe rows; dropped_fraction: batch rows
  cols: u32,           // units in the block (history_update, reset_history: the whole layer)
  unit_offset: u32,    // global unit index of the block's first column (dead_scan: a multiple of 32)
  z_offset: u32,       // elements
  ld: u32,             // row stride of z, elements
  col_tiles: u32,      // dead_scan: ceil(cols / 32)
  chunk_rows: u32,     // dead_scan: rows per workgroup, a multiple of SCAN_LANES
  chunks: u32,         // dead_scan: ceil(rows / chunk_rows)
  threshold: u32,      // round(p * 2^24), as dropout
  key0: u32,
  key1: u32,
  counts_offset: u32,  // history_update, clear_counts: first of the layer's counters
  invocations: u32,    // work items: workgroups (dead_scan_count), groups of 4 units, units or words
  single_pass: u32,    // dead_scan_count: 1 => one workgroup owns each column's whole count: store counts and words
}

const NEVER: u32 = 0xFFFFFFFFu;

@group(0) @binding(0) var<uniform> params: Params;
// StepState (shaders/step_state.wgsl): `step` is the step being computed during a step, the number of completed steps after end_step
@group(0) @binding(1) var<storage, read> step_state: StepState;
// [rows, ld] row-major from z_offset: probe pre-activations (f32, read as bits); columns [0, cols) are this block's units
@group(0) @binding(2) var<storage, read> z: array<u32>;
// [layer width] u32, global unit index: probe rows with z > 0
@group(0) @binding(3) var<storage, read_write> active_counts: array<atomic<u32>>;
// [ceil(layer width / 32)] words: dead units
@group(0) @binding(4) var<storage, read_write> dead_bits: array<u32>;
// [ceil(layer width / 32)] words: units dropped for sample 0 (DropoutKernel.prepareMaskBits)
@group(0) @binding(5) var<storage, read> dropped_bits: array<u32>;
// [layer width] UnitHistory, global unit index
@group(0) @binding(6) var<storage, read_write> history: array<UnitHistory>;
// [ceil(layer width / 32)] words: revived units (alive now, dead at an earlier snapshot)
@group(0) @binding(7) var<storage, read_write> revived_bits: array<u32>;
// [counts_offset + 4] u32: per-layer totals (dead, revived, ever dead, dropped), accumulated
@group(0) @binding(8) var<storage, read_write> counts: array<atomic<u32>>;
// [layer width] u32, global unit index: batch rows that dropped the unit
@group(0) @binding(9) var<storage, read_write> dropped_counts: array<u32>;
// [ceil(layer width / 32)] words: units with a non-finite probe pre-activation (dead_scan_*)
@group(0) @binding(10) var<storage, read_write> nonfinite_bits: array<atomic<u32>>;

// ---------------------------------------------------------------------------------------------------
// Dead scan: a column reduction like the bias gradient. A workgroup is 32 adjacent columns (one bitmap
// word; a row of 32 lanes loads 128 contiguous bytes) x 8 row lanes, over a chunk of chunk_rows rows.
// With one chunk the workgroup owns its columns' whole counts and writes counts and the word itself;
// with several (tall probe sets on narrow blocks, so that enough workgroups run, or a probe set walked in
// slices of rows by the engine) chunks add into zeroed counts with u32 atomics and dead_scan_pack makes
// the words afterwards.

// Workgroup shapes, all set by the host (src/gpu/kernels/unitstats.ts), whose dispatch counts use the same
// numbers. SCAN_TILE is 32 (a tile's dead flags are one bitmap word); WG, the invocations of the 1-D entry
// points, is a multiple of 32 (whole bitmap words per workgroup).
override SCAN_TILE: u32;
override SCAN_LANES: u32;
override WG: u32;

var<workgroup> scan_partial: array<u32, SCAN_TILE * SCAN_LANES>;  // [SCAN_LANES, SCAN_TILE]
var<workgroup> scan_word: atomic<u32>;
var<workgroup> scan_nonfinite_word: atomic<u32>;

const EXPONENT: u32 = 0x7f800000u;

// Per row: 1 if z > 0 and finite; NONFINITE_ROW (never added to counts) if NaN or ±Inf.
// NOTE: tested on the raw bits (exponent all ones), before any float comparison: WGSL lets a compiler
// assume no NaN, and NaN > 0 being false once made an all-NaN column read as dead.
const NONFINITE_ROW: u32 = 0x10000u;

fn row_flags(at: u32) -> u32 {
  let bits = z[at];
  if ((bits & EXPONENT) == EXPONENT) { return NONFINITE_ROW; }
  return select(0u, 1u, bitcast<f32>(bits) > 0.0);
}

@compute @workgroup_size(SCAN_TILE, SCAN_LANES)
fn dead_scan_count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = linear_workgroup(wid, nwg);
  if (tile >= params.invocations) { return; }  // folding spares: the whole workgroup leaves together
  let col_tile = tile % params.col_tiles;
  let chunk = tile / params.col_tiles;
  let c = col_tile * SCAN_TILE + lid.x;
  let in_range = c < params.cols;
  var n = 0u;
  var nonfinite = false;
  if (in_range) {
    let end = min(params.rows, (chunk + 1u) * params.chunk_rows);
    var r = chunk * params.chunk_rows + lid.y;
    let stride = SCAN_LANES * params.ld;
    var at = params.z_offset + r * params.ld + c;
    // Four independent loads in flight per lane: the scan is bound by memory latency, not arithmetic.
    // Flags add: the low 16 bits count active rows (at most 4 per iteration here), bit 16 up non-finite ones.
    while (r + 3u * SCAN_LANES < end) {
      let f = row_flags(at) + row_flags(at + stride) + row_flags(at + 2u * stride) + row_flags(at + 3u * stride);
      n += f & 0xFFFFu;
      nonfinite = nonfinite || f >= NONFINITE_ROW;
      r += 4u * SCAN_LANES;
      at += 4u * stride;
    }
    while (r < end) {
      let f = row_flags(at);
      n += f & 0xFFFFu;
      nonfinite = nonfinite || f >= NONFINITE_ROW;
      r += SCAN_LANES;
      at += stride;
    }
  }
  scan_partial[lid.y * SCAN_TILE + lid.x] = n;
  if (nonfinite) {
    atomicOr(&scan_nonfinite_word, 1u << lid.x);
  }
  workgroupBarrier();
  if (lid.y == 0u && in_range) {
    var total = 0u;
    for (var y = 0u; y < SCAN_LANES; y++) {
      total += scan_partial[y * SCAN_TILE + lid.x];
    }
    let unit = params.unit_offset + c;
    if (params.single_pass == 1u) {
      atomicStore(&active_counts[unit], total);
      if (total == 0u) {
        atomicOr(&scan_word, 1u << lid.x);
      }
    } else {
      atomicAdd(&active_counts[unit], total);
    }
  }
  let word = (params.unit_offset >> 5u) + col_tile;
  if (params.single_pass == 1u) {
    workgroupBarrier();
    if (lid.x == 0u && lid.y == 0u) {
      let nonfinite_word = atomicLoad(&scan_nonfinite_word);
      dead_bits[word] = atomicLoad(&scan_word) & ~nonfinite_word;
      atomicStore(&nonfinite_bits[word], nonfinite_word);
    }
  } else if (lid.x == 0u && lid.y == 0u) {
    // Chunks OR into the word dead_scan_clear zeroed; dead_scan_pack reads it.
    let nonfinite_word = atomicLoad(&scan_nonfinite_word);
    if (nonfinite_word != 0u) {
      atomicOr(&nonfinite_bits[word], nonfinite_word);
    }
  }
}

// Zeroes the block's counts before chunks add into them (several chunks only).
@compute @workgroup_size(WG)
fn dead_scan_clear(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let c = linear_workgroup(wid, nwg) * WG + lid;
  if (c < params.cols) {
    atomicStore(&active_counts[params.unit_offset + c], 0u);
    if ((c & 31u) == 0u) {
      atomicStore(&nonfinite_bits[(params.unit_offset + c) >> 5u], 0u);
    }
  }
}

var<workgroup> pack_words: array<atomic<u32>, WG / 32u>;

// One invocation per unit of the block, WG / 32 words per workgroup: dead <=> no active probe row and no non-finite one.
@compute @workgroup_size(WG)
fn dead_scan_pack(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg * WG >= params.cols) { return; }
  let c = wg * WG + lid;
  if (c < params.cols && atomicLoad(&active_counts[params.unit_offset + c]) == 0u) {
    atomicOr(&pack_words[lid >> 5u], 1u << (lid & 31u));
  }
  workgroupBarrier();
  let w = wg * (WG / 32u) + lid;
  if (lid < WG / 32u && w * 32u < params.cols) {
    let word = (params.unit_offset >> 5u) + w;
    dead_bits[word] = atomicLoad(&pack_words[lid]) & ~atomicLoad(&nonfinite_bits[word]);
  }
}

// ---------------------------------------------------------------------------------------------------
// History at a snapshot, one invocation per unit of the whole layer. The snapshot is labelled with
// step_state.step: encoded after a step's end_step, that is the number of completed steps.

var<workgroup> history_words: array<atomic<u32>, WG / 16u>;  // [0, WG / 32): revived, [WG / 32, WG / 16): ever dead
var<workgroup> history_totals: array<atomic<u32>, 4>;

fn valid_bits(w: u32) -> u32 {
  let left = params.cols - w * 32u;
  return select((1u << left) - 1u, 0xFFFFFFFFu, left >= 32u);
}

@compute @workgroup_size(WG)
fn history_update(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let wg = linear_workgroup(wid, nwg);
  if (wg * WG >= params.cols) { return; }
  let u = wg * WG + lid;
  if (u < params.cols) {
    let snapshot = step_state.step;
    let dead = ((dead_bits[u >> 5u] >> (u & 31u)) & 1u) != 0u;
    var h = history[u];
    let was_dead = h.was_dead != 0u;
    if (dead && !was_dead) {
      h.deaths += 1u;
      h.last_change_step = snapshot;
      if (h.first_death_step == NEVER) {
        h.first_death_step = snapshot;
      }
    } else if (!dead && was_dead) {
      h.revivals += 1u;
      h.last_change_step = snapshot;
    }
    h.was_dead = select(0u, 1u, dead);
    history[u] = h;
    let ever = h.first_death_step != NEVER;
    let bit = 1u << (lid & 31u);
    if (ever && !dead) {
      atomicOr(&history_words[lid >> 5u], bit);
    }
    if (ever) {
      atomicOr(&history_words[WG / 32u + (lid >> 5u)], bit);
    }
  }
  workgroupBarrier();
  let w = wg * (WG / 32u) + lid;
  if (lid < WG / 32u && w * 32u < params.cols) {
    let valid = valid_bits(w);
    let revived = atomicLoad(&history_words[lid]);
    revived_bits[w] = revived;
    atomicAdd(&history_totals[0], countOneBits(dead_bits[w] & valid));
    atomicAdd(&history_totals[1], countOneBits(revived));
    atomicAdd(&history_totals[2], countOneBits(atomicLoad(&history_words[WG / 32u + lid])));
    atomicAdd(&history_totals[3], countOneBits(dropped_bits[w] & valid));
  }
  workgroupBarrier();
  if (lid < 4u) {
    let total = atomicLoad(&history_totals[lid]);
    if (total != 0u) {
      atomicAdd(&counts[params.counts_offset + lid], total);
    }
  }
}

// Every unit "never dead, never dropped": the state before the first step.
@compute @workgroup_size(WG)
fn reset_history(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let u = linear_workgroup(wid, nwg) * WG + lid;
  if (u < params.cols) {
    history[u] = UnitHistory(NEVER, 0u, 0u, NEVER, 0u, 0u, 0u, 0u);
  }
}

// Zeroes counts[counts_offset, counts_offset + invocations) before the layers' history updates add.
@compute @workgroup_size(WG)
fn clear_counts(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lid: u32) {
  let i = linear_workgroup(wid, nwg) * WG + lid;
  if (i < params.invocations) {
    atomicStore(&counts[params.counts_offset + i], 0u);
  }
}

// ---------------------------------------------------------------------------------------------------
// Dropout masks, recomputed with the dropout kernel's own formula (shaders/dropout_mask.wgsl): groups of
// 4 units, those that intersect [unit_offset, unit_offset + cols).

fn drops_of(group: u32, row: u32) -> vec4<bool> {
  return !dropout_keeps(dropout_mask_words(group, row, step_state.step, vec2<u32>(params.key0, params.key1)), params.threshold);
}

fn in_block(unit: u32) -> bool {
  return unit >= params.unit_offset && unit - params.unit_offset < params.cols;
}

// Per training step (encoded inside the step, so step_state.step is the step being computed): the
// run of consecutive drops of each unit for sample 0. One invocation per group of 4 units.
@compute @workgroup_size(WG)
fn drop_run(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
            @builtin(local_invocation_index) lid: u32) {
  let g = linear_workgroup(wid, nwg) * WG + lid;
  if (g >= params.invocations) { return; }
  let group = (params.unit_offset >> 2u) + g;
  let drops = drops_of(group, 0u);
  for (var j = 0u; j < 4u; j++) {
    let unit = group * 4u + j;
    if (!in_block(unit)) { continue; }
    let dropped = drops[j];
    // NOTE: wraps only after 2^32 drops in a row, i.e. never for p < 1.
    let run = select(0u, history[unit].drop_run + 1u, dropped);
    history[unit].drop_run = run;
    history[unit].longest_drop_run = max(history[unit].longest_drop_run, run);
  }
}

// Rows of the batch that dropped each unit at step_state.step (fraction = count / rows); encode it
// inside the step whose masks it describes. A workgroup is FRACTION_GROUPS groups of 4 units x FRACTION_LANES
// row lanes (set by the host).
override FRACTION_GROUPS: u32;
override FRACTION_LANES: u32;

var<workgroup> fraction_partial: array<vec4<u32>, FRACTION_GROUPS * FRACTION_LANES>;  // [FRACTION_LANES, FRACTION_GROUPS]

@compute @workgroup_size(FRACTION_GROUPS, FRACTION_LANES)
fn dropped_fraction(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_id) lid: vec3<u32>) {
  let wg = linear_workgroup(wid, nwg);
  if (wg * FRACTION_GROUPS >= params.invocations) { return; }
  let g = wg * FRACTION_GROUPS + lid.x;
  let group = (params.unit_offset >> 2u) + g;
  var n = vec4<u32>();
  if (g < params.invocations) {
    for (var r = lid.y; r < params.rows; r += FRACTION_LANES) {
      n += select(vec4<u32>(0u), vec4<u32>(1u), drops_of(group, r));
    }
  }
  fraction_partial[lid.y * FRACTION_GROUPS + lid.x] = n;
  workgroupBarrier();
  if (lid.y == 0u && g < params.invocations) {
    var total = vec4<u32>();
    for (var y = 0u; y < FRACTION_LANES; y++) {
      total += fraction_partial[y * FRACTION_GROUPS + lid.x];
    }
    for (var j = 0u; j < 4u; j++) {
      let unit = group * 4u + j;
      if (in_block(unit)) {
        dropped_counts[unit] = total[j];
      }
    }
  }
}
