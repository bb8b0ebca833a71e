// The body of the straight-line register-blocked kernel (`flat<R>x<C>-w<WG>`, entry point `matmul_flat`): the
// tile and lane layout of `matmul` (shaders/matmul.wgsl), with one variable per accumulator vec4 and per loaded
// vec4 instead of arrays, and no loop over rows or columns.
// NOTE (why generated): SwiftShader keeps a function-scope array in memory and, for an index that is not a
// constant, loads and stores it one SIMD lane at a time; the loops over rows and columns of `matmul` index its
// accumulator array that way on every multiply-add (5-10x slower there). WGSL has no unroll attribute, so the host
// writes those loops out. The 4 k of a step stay a loop: each row's A vec4 turns by a swizzle (free in
// SwiftShader's SoA registers) so that its next k is always `.x`, which keeps the body a quarter of the size and
// lavapipe's LLVM compile time near the looped kernels'.
// NOTE (bit-identity): each output element still gets fma(a[row, p], b[p, col], acc) for p = 0, 1, ... in order,
// and finish_tile does the k tail and store_c, as every configuration.

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

/** WGSL of `matmul_flat` for ROWS x (4 * COLS4) outputs per lane (appended after shaders/matmul_flat.wgsl). */
export function flatKernelSource(rows: number, cols4: number): string {
  const acc = (r: number, h: number) => `c${r}_${h}`;
  const lines = [
    '@compute @workgroup_size(WG)',
    'fn matmul_flat(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,',
    '               @builtin(local_invocation_index) lane: u32) {',
  ];
  const at = (depth: number, s: string) => lines.push(`${'  '.repeat(depth)}${s}`);
  at(1, 'let t = tile_of(wid, nwg);');
  at(1, 'if (!t.valid) { return; }');
  for (const h of range(cols4)) at(1, `let col${h} = t.col0 + 4u * (lane + ${h}u * WG);`);
  for (const r of range(rows)) for (const h of range(cols4)) at(1, `var ${acc(r, h)} = vec4<f32>();`);
  at(1, 'var k = 0u;');
  at(1, 'for (; k + 4u <= p.k; k += 4u) {');
  for (const r of range(rows)) at(2, `var a${r} = flat_a(t.row0 + ${r}u, k);`);
  at(2, 'for (var kk = 0u; kk < 4u; kk++) {');
  for (const h of range(cols4)) at(3, `let b${h} = flat_b(col${h}, k + kk);`);
  for (const r of range(rows)) {
    for (const h of range(cols4)) at(3, `${acc(r, h)} = fma(vec4<f32>(a${r}.x), b${h}, ${acc(r, h)});`);
    at(3, `a${r} = a${r}.yzwx;`);
  }
  at(2, '}');
  at(1, '}');
  at(1, 'var acc: array<array<vec4<f32>, COLS4>, ROWS>;');
  for (const r of range(rows)) for (const h of range(cols4)) at(1, `acc[${r}][${h}] = ${acc(r, h)};`);
  at(1, 'finish_tile(acc, t, lane, k);');
  lines.push('}');
  return lines.join('\n');
}
