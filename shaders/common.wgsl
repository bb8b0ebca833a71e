// Helpers every kernel may use. The loader (src/gpu/shaders.ts) prepends this file to each module.

// Dispatches larger than maxComputeWorkgroupsPerDimension are folded over x and y on the host
// (src/gpu/dispatch.ts foldWorkgroups); this recovers the linear workgroup index.
fn linear_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}
