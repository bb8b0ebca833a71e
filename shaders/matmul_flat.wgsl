// Loads of the straight-line entry point `matmul_flat` (src/gpu/kernels/matmul-flat.ts writes its body for each
// tile shape and appends it after this file, which is appended to shaders/matmul.wgsl). Same Params, bindings,
// tiles, k-tail and epilogue (finish_tile, store_c) as `matmul`, and the same order of multiply-adds along k.

// op(A)[row, k .. k + 3] as a vec4 over k; rows past m repeat row m-1 (never stored).
fn flat_a(row: u32, k: u32) -> vec4<f32> {
  let r = min(row, p.m - 1u);
  if (VARIANT == 2u) {
    // Stored [k, m]: one scalar per k (a vec4 load is four lane loads on a CPU adapter anyway).
    let i = p.a_off + k * p.lda + r;
    return vec4<f32>(a[i], a[i + p.lda], a[i + 2u * p.lda], a[i + 3u * p.lda]);
  }
  let i = p.a_off + r * p.lda + k;
  if (ALIGNED) { return a4[i / 4u]; }
  return vec4<f32>(a[i], a[i + 1u], a[i + 2u], a[i + 3u]);
}

// op(B)[k, col .. col + 3] as a vec4 over columns. Columns past n are clamped (nt) or read whatever robust access
// returns (nn, tn); they are never stored.
fn flat_b(col: u32, k: u32) -> vec4<f32> {
  if (VARIANT == 1u) {
    let last = p.n - 1u;
    let i = p.b_off + k;
    return vec4<f32>(b[i + min(col, last) * p.ldb], b[i + min(col + 1u, last) * p.ldb], b[i + min(col + 2u, last) * p.ldb],
                     b[i + min(col + 3u, last) * p.ldb]);
  }
  let i = p.b_off + k * p.ldb + col;
  if (ALIGNED) { return b4[i / 4u]; }
  return vec4<f32>(b[i], b[i + 1u], b[i + 2u], b[i + 3u]);
}
