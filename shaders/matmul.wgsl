// C = op(A)·op(B) (+ bias[j]) (+ C), with fused activation/dropout epilogues (store_c): the GEMMs of the forward pass (nn: Y = X·W), of dX (nt: dY·Wᵀ)
// and of dW (tn: Xᵀ·dY). Every matrix is a row-major sub-block: element (i, j) sits at off + i*ld + j.
//
// Design (why it looks unlike a GPU GEMM): on the CPU adapters (lavapipe, SwiftShader) every invocation is
// one SIMD lane, and a load whose address differs per lane runs as a scalar loop over the lanes, costing tens
// of multiply-adds. So the kernel keeps workgroup memory and barriers out entirely and minimises per-lane
// loads: each invocation holds a ROWS x 8 block of C in registers (ROWS rows shared by the whole workgroup,
// 8 columns of its own); per k it loads its 8 B values once (reused ROWS times) and gets the ROWS A values
// either from a load every lane makes at the same address (entry point `matmul`), or from a 4-k panel each
// lane loads for a different k and shares with subgroupShuffle, a register permute (`matmul_subgroups`,
// in shaders/matmul_subgroups.wgsl, appended to this file by the host only where the device has subgroups).
// NOTE (compile time): llvmpipe compiles on first dispatch; each pipeline takes LLVM ~10-30 s cold (then
// Mesa's disk cache serves it), so keep loops rolled where unrolling buys nothing (see the epilogue).
// vec4 loads (ALIGNED) need every offset and ld to be a multiple of 4; the host picks the pipeline.
//
// Tiles: a workgroup of WG lanes covers ROWS rows x (8*WG) columns; lane l owns columns
// col0 + 4l + {0..3} and col0 + 4(WG+l) + {0..3}. Rows past m are clamped for loads and never stored.

override VARIANT: u32 = 0u;        // 0: nn, 1: nt (B stored [n,k]), 2: tn (A stored [k,m])
override ALIGNED: bool = false;    // vec4 views usable: offsets and lds multiples of 4
override WG: u32;                 // lanes per workgroup, all sharing the same rows (set by the host)
// The tile shape is a set of `const`s the host prepends (src/gpu/kernels/matmul-configs.ts, one per kernel
// configuration): function-scope arrays need const sizes, which override constants cannot give.
//   ROWS, COLS4       register-blocked kernels: rows per tile, vec4s of columns per lane
//   TM, TN, TX, TY, TK  workgroup-tiled kernel (shaders/matmul_tiled.wgsl)

struct Params {
  m: u32, n: u32, k: u32,
  lda: u32, ldb: u32, ldc: u32,
  a_off: u32, b_off: u32, c_off: u32, bias_off: u32,
  tiles_n: u32, tiles: u32,
  has_bias: u32, accumulate: u32,
  // The fused epilogue (EPILOGUE_*), applied where the product is complete; see store_c.
  epilogue: u32,
  act_kind: u32,         // KIND_* of shaders/activation_fn.wgsl
  act_alpha: f32,
  dropout: u32,          // 1: apply the layer's dropout mask (shaders/dropout_mask.wgsl)
  drop_threshold: u32,   // round(p * 2^24)
  drop_scale: f32,       // fround(1 / (1 - p))
  drop_key0: u32,
  drop_key1: u32,
  unit_offset: u32,      // global unit index of column 0 (the mask is defined per global unit)
  write_h: u32,          // forward: also store act(Z) before dropout
}

const EPILOGUE_NONE: u32 = 0u;
// Forward of a hidden layer: C = Z as always, then Y = dropout(act(Z)) (and H = act(Z) where asked).
const EPILOGUE_FORWARD: u32 = 1u;
// dX into a hidden layer below: dZ = act'(Z) ⊙ dropout_backward(C) goes to out_y; C itself is not stored.
const EPILOGUE_BACKWARD: u32 = 2u;

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;         // nn/nt: [m, k] (ld lda); tn: [k, m]
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;  // the same buffer as a, in vec4s (ALIGNED only)
@group(0) @binding(3) var<storage, read> b: array<f32>;         // nn/tn: [k, n] (ld ldb); nt: [n, k]
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;  // the same buffer as b, in vec4s (ALIGNED only)
@group(0) @binding(5) var<storage, read> bias: array<f32>;      // [n] (any buffer when has_bias = 0)
@group(0) @binding(6) var<storage, read_write> c: array<f32>;   // [m, n] (ld ldc)
// The epilogue's operands, laid out like c (c_off, ldc); each is a small unused buffer where the epilogue is off.
@group(0) @binding(7) var<storage, read> z_in: array<f32>;          // backward: Z of the layer below [m, n]
@group(0) @binding(8) var<storage, read_write> out_h: array<f32>;   // forward: act(Z) [m, n] (write_h only)
@group(0) @binding(9) var<storage, read_write> out_y: array<f32>;   // forward: Y; backward: dZ [m, n]
// StepState (shaders/step_state.wgsl): `step` selects the dropout mask
@group(0) @binding(10) var<storage, read> step_state: StepState;

// A block of ROWS rows x 4 consecutive k, as ROWS vec4s over k. Rows past m repeat row m-1.
fn load_a_panel(row0: u32, k: u32) -> array<vec4<f32>, ROWS> {
  var out: array<vec4<f32>, ROWS>;
  let last = p.m - 1u;
  if (VARIANT == 2u) {
    // Stored [k, m]: read along m, 4 rows at a time, and transpose in registers (free: vec4s are SoA).
    for (var q = 0u; q < ROWS / 4u; q++) {
      var t: array<vec4<f32>, 4>;
      for (var kk = 0u; kk < 4u; kk++) {
        let base = p.a_off + (k + kk) * p.lda + row0 + 4u * q;
        if (ALIGNED && row0 + 4u * q + 3u <= last) {
          t[kk] = a4[base / 4u];
        } else {
          let r = row0 + 4u * q;
          let i0 = p.a_off + (k + kk) * p.lda;
          t[kk] = vec4<f32>(a[i0 + min(r, last)], a[i0 + min(r + 1u, last)], a[i0 + min(r + 2u, last)], a[i0 + min(r + 3u, last)]);
        }
      }
      for (var i = 0u; i < 4u; i++) {
        out[4u * q + i] = vec4<f32>(t[0][i], t[1][i], t[2][i], t[3][i]);
      }
    }
  } else {
    for (var r = 0u; r < ROWS; r++) {
      let base = p.a_off + min(row0 + r, last) * p.lda + k;
      if (ALIGNED) {
        out[r] = a4[base / 4u];
      } else {
        out[r] = vec4<f32>(a[base], a[base + 1u], a[base + 2u], a[base + 3u]);
      }
    }
  }
  return out;
}

// This lane's 8 columns of B at 4 consecutive k: [kk][half] = vec4 over 4 columns.
fn load_b_panel(col0: u32, lane: u32, k: u32) -> array<array<vec4<f32>, COLS4>, 4> {
  var out: array<array<vec4<f32>, COLS4>, 4>;
  for (var h = 0u; h < COLS4; h++) {
    let col = col0 + 4u * (lane + h * WG);
    if (VARIANT == 1u) {
      // Stored [n, k]: read along k for each column, transpose in registers.
      var t: array<vec4<f32>, 4>;
      for (var j = 0u; j < 4u; j++) {
        let base = p.b_off + min(col + j, p.n - 1u) * p.ldb + k;
        if (ALIGNED) {
          t[j] = b4[base / 4u];
        } else {
          t[j] = vec4<f32>(b[base], b[base + 1u], b[base + 2u], b[base + 3u]);
        }
      }
      for (var kk = 0u; kk < 4u; kk++) {
        out[kk][h] = vec4<f32>(t[0][kk], t[1][kk], t[2][kk], t[3][kk]);
      }
    } else {
      for (var kk = 0u; kk < 4u; kk++) {
        // Columns past n read whatever lies there (robust access keeps it in the buffer); they are never stored.
        let base = p.b_off + (k + kk) * p.ldb + col;
        if (ALIGNED) {
          out[kk][h] = b4[base / 4u];
        } else {
          out[kk][h] = vec4<f32>(b[base], b[base + 1u], b[base + 2u], b[base + 3u]);
        }
      }
    }
  }
  return out;
}

// Single-k versions for the K tail (K % 4, or K % 32 with subgroups): scalar loads, clamped indices.
fn load_a_col(row0: u32, k: u32) -> array<f32, ROWS> {
  var out: array<f32, ROWS>;
  for (var r = 0u; r < ROWS; r++) {
    let row = min(row0 + r, p.m - 1u);
    if (VARIANT == 2u) {
      out[r] = a[p.a_off + k * p.lda + row];
    } else {
      out[r] = a[p.a_off + row * p.lda + k];
    }
  }
  return out;
}

fn load_b_row(col0: u32, lane: u32, k: u32) -> array<vec4<f32>, COLS4> {
  var out: array<vec4<f32>, COLS4>;
  for (var h = 0u; h < COLS4; h++) {
    let col = col0 + 4u * (lane + h * WG);
    for (var j = 0u; j < 4u; j++) {
      let cj = min(col + j, p.n - 1u);
      if (VARIANT == 1u) {
        out[h][j] = b[p.b_off + cj * p.ldb + k];
      } else {
        out[h][j] = b[p.b_off + k * p.ldb + cj];
      }
    }
  }
  return out;
}

fn fma_panel(acc: ptr<function, array<array<vec4<f32>, COLS4>, ROWS>>, ap: array<vec4<f32>, ROWS>, bp: array<array<vec4<f32>, COLS4>, 4>) {
  for (var kk = 0u; kk < 4u; kk++) {
    for (var r = 0u; r < ROWS; r++) {
      for (var h = 0u; h < COLS4; h++) {
        (*acc)[r][h] = fma(vec4<f32>(ap[r][kk]), bp[kk][h], (*acc)[r][h]);
      }
    }
  }
}

struct Tile { row0: u32, col0: u32, valid: bool }

fn tile_of(wid: vec3<u32>, nwg: vec3<u32>) -> Tile {
  let tile = linear_workgroup(wid, nwg);
  return Tile((tile / p.tiles_n) * ROWS, (tile % p.tiles_n) * (4u * COLS4 * WG), tile < p.tiles);
}

// Whatever k-blocks remain from `k` on (4 at a time, then one at a time), then the epilogue:
// + bias[j], + C when accumulating, and the store of what lies inside [m, n].
fn finish_tile(acc_in: array<array<vec4<f32>, COLS4>, ROWS>, t: Tile, lane: u32, k_start: u32) {
  var acc = acc_in;
  var k = k_start;
  for (; k + 4u <= p.k; k += 4u) {
    fma_panel(&acc, load_a_panel(t.row0, k), load_b_panel(t.col0, lane, k));
  }
  for (; k < p.k; k++) {
    let ac = load_a_col(t.row0, k);
    let br = load_b_row(t.col0, lane, k);
    for (var r = 0u; r < ROWS; r++) {
      for (var h = 0u; h < COLS4; h++) {
        acc[r][h] = fma(vec4<f32>(ac[r]), br[h], acc[r][h]);
      }
    }
  }
  // NOTE (compile time): a runtime trip count keeps this loop rolled. Unrolled, its ROWS * 4 * COLS4 scalar
  // stores (each a loop over the SIMD lanes in llvmpipe) made LLVM take minutes per pipeline.
  let rows = min(ROWS, p.m - t.row0);
  for (var r = 0u; r < rows; r++) {
    for (var h = 0u; h < COLS4; h++) {
      let col = t.col0 + 4u * (lane + h * WG);
      for (var j = 0u; j < 4u; j++) {
        if (col + j >= p.n) { break; }
        store_c(t.row0 + r, col + j, acc[r][h][j]);
      }
    }
  }
}

// The epilogue every kernel configuration shares: C[row, col] = acc (+ bias[col]) (+ C[row, col]), in this order,
// then the fused epilogue, if any.
// NOTE (bit-identity): with acc = fma(a[row, p], b[p, col], acc) for p = 0, 1, ..., k-1 from acc = 0, this
// fixes every rounding of an output element, so all configurations give the same bits (tests/gpu/matmul.test.ts).
// The fused epilogues call the same functions as shaders/activation.wgsl and shaders/dropout.wgsl on the same
// f32 values, so a fused step gives the same bits as the unfused one (tests/gpu/fused-epilogue.test.ts).
fn store_c(row: u32, col: u32, acc: f32) {
  let idx = p.c_off + row * p.ldc + col;
  var v = acc;
  if (p.has_bias != 0u) { v += bias[p.bias_off + col]; }
  if (p.accumulate != 0u) { v += c[idx]; }
  if (p.epilogue == EPILOGUE_BACKWARD) {
    // As the unfused step: dropout backward (g -> h), then the activation backward (z, h -> dZ).
    var g = v;
    if (p.dropout != 0u) { g = dropout_scaled(g, p.drop_scale, epilogue_keep(row, col)); }
    out_y[idx] = activation_backward_of(p.act_kind, p.act_alpha, z_in[idx], g);
    return;
  }
  c[idx] = v;
  if (p.epilogue == EPILOGUE_FORWARD) {
    // As the unfused step: the activation (z -> h or y), then dropout (h -> y).
    let h = activation_of(p.act_kind, p.act_alpha, v);
    if (p.dropout != 0u) {
      if (p.write_h != 0u) { out_h[idx] = h; }
      out_y[idx] = dropout_scaled(h, p.drop_scale, epilogue_keep(row, col));
    } else {
      out_y[idx] = h;
    }
  }
}

// The Philox words of the last (row, group of 4 units) this invocation asked for: a lane stores 4 adjacent
// columns in a row, so one Philox call (the dropout kernel's cost per 4 units) serves them all.
var<private> keep_cache_key: vec2<u32> = vec2<u32>(0xFFFFFFFFu, 0xFFFFFFFFu);
var<private> keep_cache: vec4<bool>;

// dropout.wgsl's keep flag of batch row `row`, unit unit_offset + col, at this step.
fn epilogue_keep(row: u32, col: u32) -> bool {
  let unit = p.unit_offset + col;
  let key = vec2<u32>(row, unit >> 2u);
  if (any(key != keep_cache_key)) {
    keep_cache_key = key;
    keep_cache = dropout_keeps(dropout_mask_words(unit >> 2u, row, step_state.step, vec2<u32>(p.drop_key0, p.drop_key1)), p.drop_threshold);
  }
  return keep_cache[unit & 3u];
}

// Portable entry point: every lane loads the A values itself (the same address in all lanes).
@compute @workgroup_size(WG)
fn matmul(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
          @builtin(local_invocation_index) lane: u32) {
  let t = tile_of(wid, nwg);
  if (!t.valid) { return; }
  var acc: array<array<vec4<f32>, COLS4>, ROWS>;
  finish_tile(acc, t, lane, 0u);
}
