// C = op(A)·op(B) (+ bias[j]) (+ C): the GEMMs of the forward pass (nn: Y = X·W), of dX (nt: dY·Wᵀ)
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
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;         // nn/nt: [m, k] (ld lda); tn: [k, m]
@group(0) @binding(2) var<storage, read> a4: array<vec4<f32>>;  // the same buffer as a, in vec4s (ALIGNED only)
@group(0) @binding(3) var<storage, read> b: array<f32>;         // nn/tn: [k, n] (ld ldb); nt: [n, k]
@group(0) @binding(4) var<storage, read> b4: array<vec4<f32>>;  // the same buffer as b, in vec4s (ALIGNED only)
@group(0) @binding(5) var<storage, read> bias: array<f32>;      // [n] (any buffer when has_bias = 0)
@group(0) @binding(6) var<storage, read_write> c: array<f32>;   // [m, n] (ld ldc)

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

// The epilogue every kernel configuration shares: C[row, col] = acc (+ bias[col]) (+ C[row, col]), in this order.
// NOTE (bit-identity): with acc = fma(a[row, p], b[p, col], acc) for p = 0, 1, ..., k-1 from acc = 0, this
// fixes every rounding of an output element, so all configurations give the same bits (tests/gpu/matmul.test.ts).
fn store_c(row: u32, col: u32, acc: f32) {
  let idx = p.c_off + row * p.ldc + col;
  var v = acc;
  if (p.has_bias != 0u) { v += bias[p.bias_off + col]; }
  if (p.accumulate != 0u) { v += c[idx]; }
  c[idx] = v;
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
