// Loss and its gradient with respect to the logits, in two passes:
//   1. row_loss_small (one invocation per row, narrow outputs) or row_loss_wide (one workgroup per row):
//      row_loss[r] and grad[r, :];
//   2. mean_loss (one workgroup): history[step % capacity] = mean_r row_loss[r].
// The engine records many steps per submit and reads the history back rarely.
// The override KIND picks the loss. Mirrors src/reference/loss.ts.
//
// softmax_ce (KIND 0): row_loss[r] = -log softmax(logits[r])[t_r] = log(sum_c exp(l_c - m)) - (l_t - m),
//   m = max_c l_c (so exp never overflows and the largest term is exactly 1); loss = mean_r row_loss[r];
//   grad[r, c] = (softmax(logits[r])[c] - [c == t_r]) / rows.
//   A target t_r >= cols is an error: row_loss[r] = NaN (so the step's loss is NaN and the engine's
//   non-finite check stops the run) and the row's gradient is softmax / rows with no one-hot. The label is
//   never used as an index, so nothing out of bounds is read.
// mse (KIND 1): row_loss[r] = mean_c (y[r, c] - t[r, c])^2, so loss = mean over all rows * cols elements;
//   grad[r, c] = 2 (y[r, c] - t[r, c]) / (rows * cols).

override KIND: u32 = 0u;
const KIND_SOFTMAX_CE: u32 = 0u;
const KIND_MSE: u32 = 1u;

// Invocations per workgroup (row_loss_wide, mean_loss; a power of two for the tree reductions) and per
// row_loss_small workgroup, set by the host (src/gpu/kernels/loss.ts), whose dispatch counts use them.
override WG: u32;
override SMALL_WG: u32;

struct Params {
  rows: u32,
  cols: u32,
  capacity: u32,     // history length
  grad_scale: f32,   // softmax_ce: 1 / rows; mse: 2 / (rows * cols)
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read> logits: array<f32>;           // [rows, cols]
@group(0) @binding(2) var<storage, read> targets: array<u32>;          // softmax_ce: [rows] class; mse: [rows, cols] f32 bits
@group(0) @binding(3) var<storage, read_write> grad: array<f32>;       // [rows, cols] dLoss/dlogits
@group(0) @binding(4) var<storage, read_write> row_loss: array<f32>;   // [rows]
@group(0) @binding(5) var<storage, read> state: StepState;
@group(0) @binding(6) var<storage, read_write> history: array<f32>;    // [capacity] mean loss per step, a ring

var<workgroup> scratch: array<f32, WG>;

// A quiet NaN. Through a var: a NaN constant is a shader-creation error in WGSL.
fn nan() -> f32 {
  var bits = 0x7fc00000u;
  return bitcast<f32>(bits);
}

// Tree reductions over the workgroup; every invocation gets the result. Call from uniform control flow.
fn workgroup_sum(v: f32, lid: u32) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { scratch[lid] += scratch[lid + half]; }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();  // scratch is reused by the next reduction
  return total;
}

fn workgroup_max(v: f32, lid: u32) -> f32 {
  scratch[lid] = v;
  workgroupBarrier();
  for (var half = WG / 2u; half > 0u; half /= 2u) {
    if (lid < half) { scratch[lid] = max(scratch[lid], scratch[lid + half]); }
    workgroupBarrier();
  }
  let total = scratch[0];
  workgroupBarrier();
  return total;
}

// One row per invocation: for the usual handful of classes, a workgroup per row would idle most lanes.
@compute @workgroup_size(SMALL_WG)
fn row_loss_small(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                  @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg) * SMALL_WG + lid;
  if (row >= params.rows) { return; }
  let cols = params.cols;
  let base = row * cols;
  if (KIND == KIND_MSE) {
    var sum = 0.0;
    for (var c = 0u; c < cols; c++) {
      let d = logits[base + c] - bitcast<f32>(targets[base + c]);
      sum += d * d;
      grad[base + c] = d * params.grad_scale;
    }
    row_loss[row] = sum / f32(cols);
    return;
  }
  var m = logits[base];
  for (var c = 1u; c < cols; c++) { m = max(m, logits[base + c]); }
  // exp(l - m) parks in grad until the sum is known.
  var s = 0.0;
  for (var c = 0u; c < cols; c++) {
    let e = exp(logits[base + c] - m);
    grad[base + c] = e;
    s += e;
  }
  let inv_s = 1.0 / s;
  let t = targets[row];
  for (var c = 0u; c < cols; c++) {
    grad[base + c] = (grad[base + c] * inv_s - select(0.0, 1.0, c == t)) * params.grad_scale;
  }
  if (t < cols) {
    row_loss[row] = log(s) - (logits[base + t] - m);
  } else {
    row_loss[row] = nan();
  }
}

// One workgroup per row, for wide outputs (regression onto many units, many classes).
@compute @workgroup_size(WG)
fn row_loss_wide(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                 @builtin(local_invocation_index) lid: u32) {
  let row = linear_workgroup(wid, nwg);
  if (row >= params.rows) { return; }  // uniform: the whole workgroup leaves together
  let cols = params.cols;
  let base = row * cols;
  if (KIND == KIND_MSE) {
    var sum = 0.0;
    for (var c = lid; c < cols; c += WG) {
      let d = logits[base + c] - bitcast<f32>(targets[base + c]);
      sum += d * d;
      grad[base + c] = d * params.grad_scale;
    }
    let total = workgroup_sum(sum, lid);
    if (lid == 0u) { row_loss[row] = total / f32(cols); }
    return;
  }
  var local_max = logits[base];
  for (var c = lid; c < cols; c += WG) { local_max = max(local_max, logits[base + c]); }
  let m = workgroup_max(local_max, lid);
  var sum = 0.0;
  for (var c = lid; c < cols; c += WG) {
    let e = exp(logits[base + c] - m);
    grad[base + c] = e;  // read back below by this same invocation
    sum += e;
  }
  let s = workgroup_sum(sum, lid);
  let inv_s = 1.0 / s;
  let t = targets[row];
  for (var c = lid; c < cols; c += WG) {
    grad[base + c] = (grad[base + c] * inv_s - select(0.0, 1.0, c == t)) * params.grad_scale;
  }
  if (lid == 0u) {
    if (t < cols) {
      row_loss[row] = log(s) - (logits[base + t] - m);
    } else {
      row_loss[row] = nan();
    }
  }
}

// NOTE: each invocation sums every WG-th row in f32, then a tree: about rows / WG + log2(WG) roundings per term.
@compute @workgroup_size(WG)
fn mean_loss(@builtin(local_invocation_index) lid: u32) {
  var sum = 0.0;
  for (var r = lid; r < params.rows; r += WG) { sum += row_loss[r]; }
  let total = workgroup_sum(sum, lid);
  if (lid == 0u) {
    history[state.step % params.capacity] = total / f32(params.rows);
  }
}
