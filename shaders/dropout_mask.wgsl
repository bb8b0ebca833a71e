// Dropout's mask: the one formula behind shaders/dropout.wgsl (apply, mask bits), the fused epilogues of
// shaders/matmul.wgsl and shaders/unitstats.wgsl (drop runs, dropped fraction), mirrored by dropoutKeep in src/reference/dropout.ts. Concatenated after
// shaders/philox.wgsl by src/gpu/shaders.ts (usesDropoutMask).
//
// One Philox call at counter (group, row, step, 0), group = unit >> 2, gives the words of units 4g .. 4g + 3
// (word unit & 3) of one batch row at one step, under the layer's key.
// NOTE: keep <=> (word >> 8) >= threshold with threshold = round(p * 2^24): an exact integer comparison.

fn dropout_mask_words(group: u32, row: u32, step: u32, key: vec2<u32>) -> vec4<u32> {
  return philox4x32_10(vec4<u32>(group, row, step, 0u), key);
}

fn dropout_keeps(words: vec4<u32>, threshold: u32) -> vec4<bool> {
  return (words >> vec4<u32>(8u)) >= vec4<u32>(threshold);
}

// Inverted dropout of one element: x * scale where kept, else 0 (forward and backward alike).
// NOTE: one correctly rounded f32 multiply, the same in the dropout kernel and the fused matmul epilogues.
fn dropout_scaled(x: f32, scale: f32, keep: bool) -> f32 {
  return select(0.0, x * scale, keep);
}
