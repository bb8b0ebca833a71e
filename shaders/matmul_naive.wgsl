// The textbook tiled GEMM, kept as the benchmark floor (bench/matmul.ts) for shaders/matmul.wgsl:
// C = A·B, one output per invocation, TILE x TILE tiles of A and B staged in workgroup memory.

// Tile width and workgroup shape (TILE x TILE invocations), set by the host (src/gpu/kernels/matmul.ts).
override TILE: u32;

struct Params {
  m: u32, n: u32, k: u32,
  lda: u32, ldb: u32, ldc: u32,
  a_off: u32, b_off: u32, c_off: u32,
  tiles_n: u32, tiles: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;        // [m, k] (ld lda)
@group(0) @binding(2) var<storage, read> b: array<f32>;        // [k, n] (ld ldb)
@group(0) @binding(3) var<storage, read_write> c: array<f32>;  // [m, n] (ld ldc)

var<workgroup> tile_a: array<f32, TILE * TILE>;  // [TILE, TILE]
var<workgroup> tile_b: array<f32, TILE * TILE>;  // [TILE, TILE]

@compute @workgroup_size(TILE, TILE)
fn matmul_naive(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                @builtin(local_invocation_id) lid: vec3<u32>) {
  let tile = linear_workgroup(wid, nwg);
  // Uniform per workgroup, so returning keeps the barriers below in uniform control flow.
  if (tile >= p.tiles) { return; }
  let row = (tile / p.tiles_n) * TILE + lid.y;
  let col = (tile % p.tiles_n) * TILE + lid.x;
  var acc = 0.0;
  for (var k0 = 0u; k0 < p.k; k0 += TILE) {
    let ka = k0 + lid.x;
    let kb = k0 + lid.y;
    tile_a[lid.y * TILE + lid.x] = select(0.0, a[p.a_off + row * p.lda + ka], row < p.m && ka < p.k);
    tile_b[lid.y * TILE + lid.x] = select(0.0, b[p.b_off + kb * p.ldb + col], col < p.n && kb < p.k);
    workgroupBarrier();
    for (var kk = 0u; kk < TILE; kk++) {
      acc = fma(tile_a[lid.y * TILE + kk], tile_b[kk * TILE + lid.x], acc);
    }
    workgroupBarrier();
  }
  if (row < p.m && col < p.n) {
    c[p.c_off + row * p.ldc + col] = acc;
  }
}
