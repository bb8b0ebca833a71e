// The workgroup-memory tiled entry point of shaders/matmul.wgsl (appended to it by the host), of the kind
// TF.js's WebGPU backend uses: the workgroup stages a BM x TK panel of A and a TK x BN panel of B in workgroup
// memory as vec4s, then each lane accumulates a TM x TN block of C from them, 4 k at a time. Same Params,
// bindings and epilogue as the register-blocked kernel, and the same order of multiply-adds along k (store_c).
//
// Tiles: TX x TY lanes (WG = TX * TY), BM = TM * TY rows x BN = TN * TX columns per workgroup. Lane (tx, ty)
// owns rows row0 + ty + TY * i and the vec4s of columns col0 + 4 * (tx + TX * h) + {0..3}, so the lanes of one
// SIMD register (consecutive tx) share every A value and read consecutive B vec4s. Loads from global memory
// follow the stored layout, so neighbouring lanes read neighbouring addresses (coalesced on GPUs).

const BM: u32 = TM * TY;
const BN: u32 = TN * TX;
const TK4: u32 = TK / 4u;   // vec4s of k per row of the A panel
const BN4: u32 = BN / 4u;   // vec4s of columns per row of the B panel
const TN4: u32 = TN / 4u;   // vec4s of columns per lane

var<workgroup> tile_a: array<vec4<f32>, BM * TK4>;  // [BM, TK/4]: op(A)[row0 + r, k0 + 4q .. + 3] at r * TK4 + q
var<workgroup> tile_b: array<vec4<f32>, TK * BN4>;  // [TK, BN/4]: op(B)[k0 + kk, col0 + 4c .. + 3] at kk * BN4 + c

// Stages the panels of k0 .. k0 + kn. Rows and columns past the matrix are clamped (or, for columns of B read as
// vec4s, whatever robust access returns): they land only in rows and columns never stored. A vec4 that would
// reach past k is read as scalars with clamped k, so no vec4 straddles the end of a buffer.
fn stage_panels(row0: u32, col0: u32, k0: u32, kn: u32, lane: u32) {
  let last_row = p.m - 1u;
  let last_col = p.n - 1u;
  if (VARIANT == 2u) {
    // A stored [k, m]: 4 loads along k per (row, q); consecutive lanes read consecutive rows.
    for (var i = lane; i < BM * TK4; i += WG) {
      let r = i % BM;
      let q = i / BM;
      if (4u * q >= kn) { break; }
      let col = p.a_off + min(row0 + r, last_row);
      let k = k0 + 4u * q;
      let last_k = p.k - 1u;
      tile_a[r * TK4 + q] = vec4<f32>(a[col + k * p.lda], a[col + min(k + 1u, last_k) * p.lda], a[col + min(k + 2u, last_k) * p.lda],
                                      a[col + min(k + 3u, last_k) * p.lda]);
    }
  } else {
    // A stored [m, k]: a vec4 along k per (row, q).
    for (var i = lane; i < BM * TK4; i += WG) {
      let r = i / TK4;
      let q = i % TK4;
      if (4u * q >= kn) { continue; }
      let row = p.a_off + min(row0 + r, last_row) * p.lda;
      let k = k0 + 4u * q;
      if (ALIGNED && 4u * q + 4u <= kn) {
        tile_a[i] = a4[(row + k) / 4u];
      } else {
        let last_k = p.k - 1u;
        tile_a[i] = vec4<f32>(a[row + k], a[row + min(k + 1u, last_k)], a[row + min(k + 2u, last_k)], a[row + min(k + 3u, last_k)]);
      }
    }
  }
  if (VARIANT == 1u) {
    // B stored [n, k]: 4 loads across columns per (k, c); consecutive lanes read consecutive k.
    for (var i = lane; i < TK * BN4; i += WG) {
      let kk = i % TK;
      let cq = i / TK;
      if (kk >= kn) { continue; }
      let c0 = col0 + 4u * cq;
      let k = p.b_off + k0 + kk;
      tile_b[kk * BN4 + cq] = vec4<f32>(b[k + min(c0, last_col) * p.ldb], b[k + min(c0 + 1u, last_col) * p.ldb],
                                        b[k + min(c0 + 2u, last_col) * p.ldb], b[k + min(c0 + 3u, last_col) * p.ldb]);
    }
  } else {
    // B stored [k, n]: a vec4 along n per (k, c).
    for (var i = lane; i < kn * BN4; i += WG) {
      let kk = i / BN4;
      let cq = i % BN4;
      let base = p.b_off + (k0 + kk) * p.ldb + col0 + 4u * cq;
      if (ALIGNED) {
        tile_b[i] = b4[base / 4u];
      } else {
        let c0 = col0 + 4u * cq;
        let row = p.b_off + (k0 + kk) * p.ldb;
        tile_b[i] = vec4<f32>(b[row + min(c0, last_col)], b[row + min(c0 + 1u, last_col)], b[row + min(c0 + 2u, last_col)], b[row + min(c0 + 3u, last_col)]);
      }
    }
  }
}

// acc[i][h] += A[row i, k] * B[k, columns h] for one k of the panel: component kk of av, row kk_b of tile_b.
fn fma_row(acc: ptr<function, array<array<vec4<f32>, TN4>, TM>>, av: array<vec4<f32>, TM>, kk: u32, kk_b: u32, tx: u32) {
  var bv: array<vec4<f32>, TN4>;
  for (var h = 0u; h < TN4; h++) { bv[h] = tile_b[kk_b * BN4 + tx + TX * h]; }
  for (var i = 0u; i < TM; i++) {
    for (var h = 0u; h < TN4; h++) { (*acc)[i][h] = fma(vec4<f32>(av[i][kk]), bv[h], (*acc)[i][h]); }
  }
}

@compute @workgroup_size(WG)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_index) lane: u32) {
  let tile = linear_workgroup(wid, nwg);
  // Uniform per workgroup, so returning keeps the barriers below in uniform control flow.
  if (tile >= p.tiles) { return; }
  let row0 = (tile / p.tiles_n) * BM;
  let col0 = (tile % p.tiles_n) * BN;
  let tx = lane % TX;
  let ty = lane / TX;
  var acc: array<array<vec4<f32>, TN4>, TM>;
  for (var k0 = 0u; k0 < p.k; k0 += TK) {
    // NOTE (bit-identity): the last panel is short rather than zero-padded: fma(0, 0, -0) is +0, so padding
    // could flip the sign of a zero sum, and every configuration must round exactly alike.
    let kn = min(TK, p.k - k0);
    stage_panels(row0, col0, k0, kn, lane);
    workgroupBarrier();
    // Whole vec4s of k: one A load per row serves 4 k.
    let kq = kn / 4u;
    for (var q = 0u; q < kq; q++) {
      var av: array<vec4<f32>, TM>;
      for (var i = 0u; i < TM; i++) { av[i] = tile_a[(ty + TY * i) * TK4 + q]; }
      for (var kk = 0u; kk < 4u; kk++) { fma_row(&acc, av, kk, 4u * q + kk, tx); }
    }
    if (4u * kq < kn) {
      // The k tail of the last panel (K % 4).
      var av: array<vec4<f32>, TM>;
      for (var i = 0u; i < TM; i++) { av[i] = tile_a[(ty + TY * i) * TK4 + kq]; }
      for (var kk = 0u; kk < kn - 4u * kq; kk++) { fma_row(&acc, av, kk, 4u * kq + kk, tx); }
    }
    workgroupBarrier();
  }
  for (var i = 0u; i < TM; i++) {
    let row = row0 + ty + TY * i;
    if (row >= p.m) { break; }
    for (var h = 0u; h < TN4; h++) {
      let col = col0 + 4u * (tx + TX * h);
      for (var j = 0u; j < 4u; j++) {
        if (col + j >= p.n) { break; }
        store_c(row, col + j, acc[i][h][j]);
      }
    }
  }
}
