// Bias of a dense layer: y[r, c] += b[c] (forward) and db[c] (+)= sum_r dy[r, c] (backward).
// Matrices may be column blocks of a wider buffer: element (r, c) lives at offset + r * ld + c.
// Mirrors src/reference/bias.ts.

// Workgroup shapes, set by the host (src/gpu/kernels/bias.ts), whose dispatch counts use the same numbers.
// add: WG invocations x PER_THREAD elements. grad: TX adjacent columns (coalesced loads) x (WG / TX) row
// lanes; the host picks TX per layer width so that narrow layers do not idle lanes and mid-size ones still
// spread over enough workgroups; each lane sums every (WG / TX)-th row, then the lanes are tree-reduced.
override WG: u32;
override PER_THREAD: u32;
override TX: u32;

struct Params {
  rows: u32,
  cols: u32,
  mat_offset: u32,  // elements
  ld: u32,          // row stride of y / dy, elements
  vec_offset: u32,  // elements
  accumulate: u32,  // bias_grad: 1 adds to db, 0 overwrites it
}

@group(0) @binding(0) var<uniform> params: Params;
@group(0) @binding(1) var<storage, read_write> y: array<f32>;   // [rows, ld] at mat_offset (add)
@group(0) @binding(2) var<storage, read> bias: array<f32>;      // [cols] at vec_offset (add)
@group(0) @binding(3) var<storage, read> dy: array<f32>;        // [rows, ld] at mat_offset (grad)
@group(0) @binding(4) var<storage, read_write> db: array<f32>;  // [cols] at vec_offset (grad)

var<workgroup> partial: array<f32, WG>;  // [WG / TX, TX]

// One invocation per element (4 per thread), linear over rows * cols so any shape fills the workgroups.
@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
       @builtin(local_invocation_index) lid: u32) {
  let total = params.rows * params.cols;
  let base = linear_workgroup(wid, nwg) * (WG * PER_THREAD) + lid;
  for (var k = 0u; k < PER_THREAD; k++) {
    let i = base + k * WG;
    if (i >= total) { return; }
    let r = i / params.cols;
    let c = i - r * params.cols;
    let at = params.mat_offset + r * params.ld + c;
    y[at] = y[at] + bias[params.vec_offset + c];
  }
}

// One workgroup per block of TX columns, all rows. NOTE: f32 sums; lane sums run over rows / (WG / TX)
// terms and the tree adds log2(WG / TX) levels, so the rounding error stays near that many ULPs of sum |dy|.
@compute @workgroup_size(TX, WG / TX)
fn grad(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_id) lid: vec3<u32>) {
  let block = linear_workgroup(wid, nwg);
  if (block * TX >= params.cols) { return; }  // folding spares: the whole workgroup leaves together
  let lanes = WG / TX;
  let c = block * TX + lid.x;
  let in_range = c < params.cols;
  var sum = 0.0;
  if (in_range) {
    var at = params.mat_offset + lid.y * params.ld + c;
    let step = lanes * params.ld;
    for (var r = lid.y; r < params.rows; r += lanes) {
      sum += dy[at];
      at += step;
    }
  }
  let slot = lid.y * TX + lid.x;
  partial[slot] = sum;
  workgroupBarrier();
  for (var half = lanes / 2u; half > 0u; half /= 2u) {
    if (lid.y < half) {
      partial[slot] += partial[slot + half * TX];
    }
    workgroupBarrier();
  }
  if (lid.y == 0u && in_range) {
    let out = params.vec_offset + c;
    var total = partial[lid.x];
    if (params.accumulate != 0u) { total = db[out] + total; }
    db[out] = total;
  }
}
