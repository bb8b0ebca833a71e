// The subgroup entry point of shaders/matmul.wgsl (appended to it, with `enable subgroups;`, by the host
// when the device has the feature): SHARE lanes each load the A panel of a different 4-k block and every lane
// takes all SHARE panels by subgroupShuffle, so A costs one per-lane load per 4*SHARE k instead of one per 4 k.

// Lanes that share their A panels (4 or 8), set by the host.
// NOTE: needs subgroups of at least SHARE lanes (the host checks subgroupMinSize, and that WG is a multiple of
// subgroupMaxSize so no subgroup is partial); lanes SHARE.. of a wider subgroup load duplicates of lanes
// 0..SHARE-1's panels, which nobody reads.
override SHARE: u32;

@compute @workgroup_size(WG)
fn matmul_subgroups(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
                    @builtin(local_invocation_index) lane: u32, @builtin(subgroup_invocation_id) sg_lane: u32) {
  let t = tile_of(wid, nwg);
  if (!t.valid) { return; }
  var acc: array<array<vec4<f32>, COLS4>, ROWS>;
  let kq = 4u * (sg_lane % SHARE);
  var k = 0u;
  for (; k + 4u * SHARE <= p.k; k += 4u * SHARE) {
    let mine = load_a_panel(t.row0, k + kq);
    // NOTE (compile time): a rolled loop with subgroupShuffle (its lane id may vary) instead of SHARE unrolled
    // subgroupBroadcasts with constant ids: the unrolled body took LLVM about a minute per pipeline on lavapipe.
    for (var s = 0u; s < SHARE; s++) {
      var ap: array<vec4<f32>, ROWS>;
      for (var r = 0u; r < ROWS; r++) { ap[r] = subgroupShuffle(mine[r], s); }
      fma_panel(&acc, ap, load_b_panel(t.col0, lane, k + 4u * s));
    }
  }
  finish_tile(acc, t, lane, k);
}
