// Task switches on the GPU: task k covers steps [k·T, (k+1)·T). What changes with the task is a pure function
// of (key, k), recomputed where it is needed, never stored and never read back:
//   permute_columns  out[r, c] = in[r, π_k(c)]: a fresh permutation of the input features per task
//   relabel          y[r] = π_k(y[r]): a fresh relabelling of the classes per task (in place)
//   reset_block      at the first step of every task k >= 1, a parameter block is drawn afresh from its init
//                    distribution (counter word 2 = k, see init_draw.wgsl) and its optimizer state zeroed
// π_k is a keyed Feistel permutation of [0, n): 4 balanced rounds over the smallest even number of bits that
// holds n - 1, each round function a Philox word under counter (half, k, round, 0), and "cycle walking" (apply
// again until the value falls below n), which keeps it a permutation of [0, n). Mirrors src/reference/tasks.ts.

struct TaskParams {
  rows: u32,
  cols: u32,         // permute_columns: features; relabel: classes; reset_block: block columns
  task_every: u32,   // T >= 1 (permute, relabel: 0 means one task, task 0)
  completed: u32,    // 1: the task of the last completed step (a probe pass between steps); 0: of the step running
  key0: u32,
  key1: u32,
  global_cols: u32,  // reset_block: columns of the whole matrix (the RNG index is global, as in init.wgsl)
  row_offset: u32,
  col_offset: u32,
  kind: u32,         // reset_block: INIT_UNIFORM | INIT_NORMAL | INIT_CONSTANT
  scale: f32,        // uniform limit, normal std, or the constant
  states: u32,       // reset_block: optimizer state buffers to zero (0, 1 or 2)
}

const INIT_UNIFORM: u32 = 0u;
const INIT_NORMAL: u32 = 1u;
const FEISTEL_ROUNDS: u32 = 4u;

@group(0) @binding(0) var<storage, read> state: StepState;
@group(0) @binding(1) var<uniform> params: TaskParams;
@group(0) @binding(2) var<storage, read> src: array<f32>;             // permute_columns: [rows, cols]
@group(0) @binding(3) var<storage, read_write> dst: array<f32>;       // permute_columns: [rows, cols]
@group(0) @binding(4) var<storage, read_write> labels: array<u32>;    // relabel: [rows]
@group(0) @binding(5) var<storage, read_write> param: array<f32>;     // reset_block: [rows, cols] dense block
@group(0) @binding(6) var<storage, read_write> state1: array<f32>;    // reset_block: [rows, cols] (states >= 1)
@group(0) @binding(7) var<storage, read_write> state2: array<f32>;    // reset_block: [rows, cols] (states == 2)

override TASKS_WG: u32;

fn task_key() -> vec2<u32> {
  return vec2<u32>(params.key0, params.key1);
}

fn current_task() -> u32 {
  var t = state.step;
  if (params.completed == 1u && t > 0u) { t -= 1u; }
  if (params.task_every == 0u) { return 0u; }
  return t / params.task_every;
}

fn task_permute(x: u32, n: u32, task: u32) -> u32 {
  if (n <= 1u) { return 0u; }
  var bits = 32u - countLeadingZeros(n - 1u);
  bits += bits & 1u;
  let half = bits / 2u;
  let mask = (1u << half) - 1u;
  var y = x;
  loop {
    var l = y >> half;
    var r = y & mask;
    for (var round = 0u; round < FEISTEL_ROUNDS; round++) {
      let f = philox4x32_10(vec4<u32>(r, task, round, 0u), task_key()).x & mask;
      let next = l ^ f;
      l = r;
      r = next;
    }
    y = (l << half) | r;
    if (y < n) { break; }
  }
  return y;
}

// One thread per feature column: π_k(c) once, then every row.
@compute @workgroup_size(TASKS_WG)
fn permute_columns(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                   @builtin(local_invocation_index) lid: u32) {
  let c = linear_workgroup(wid, nwg) * TASKS_WG + lid;
  if (c >= params.cols) { return; }
  let source_col = task_permute(c, params.cols, current_task());
  for (var r = 0u; r < params.rows; r++) {
    dst[r * params.cols + c] = src[r * params.cols + source_col];
  }
}

@compute @workgroup_size(TASKS_WG)
fn relabel(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
           @builtin(local_invocation_index) lid: u32) {
  let r = linear_workgroup(wid, nwg) * TASKS_WG + lid;
  if (r >= params.rows) { return; }
  labels[r] = task_permute(labels[r], params.cols, current_task());
}

@compute @workgroup_size(TASKS_WG)
fn reset_block(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
               @builtin(local_invocation_index) lid: u32) {
  let t = state.step;
  if (params.task_every == 0u || t == 0u || t % params.task_every != 0u) { return; }
  let index = linear_workgroup(wid, nwg) * TASKS_WG + lid;
  if (index >= params.rows * params.cols) { return; }
  let task = t / params.task_every;
  let i = (params.row_offset + index / params.cols) * params.global_cols + params.col_offset + index % params.cols;
  var value = params.scale;
  if (params.kind == INIT_UNIFORM) {
    value = init_uniform_draw_at(task_key(), i, task, params.scale);
  } else if (params.kind == INIT_NORMAL) {
    value = init_normal_draw_at(task_key(), i, task, params.scale);
  }
  param[index] = value;
  if (params.states >= 1u) { state1[index] = 0.0; }
  if (params.states >= 2u) { state2[index] = 0.0; }
}
