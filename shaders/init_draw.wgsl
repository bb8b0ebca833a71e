// The init distributions' draws, shared by shaders/init.wgsl (one matrix per dispatch) and shaders/borndead.wgsl
// (one matrix per trial, many trials per dispatch). Element i of a matrix initialised from the Philox stream
// `key` draws from counter (i >> 2, 0, 0, 0) (uniform) or (i >> 1, 1, 0, 0) (normal). Mirrors src/reference/init.ts.
// Re-initialisations during training (task resets, continual backprop) draw the same way with counter word 2
// set to `draw` (the task or the step), so each draws fresh numbers: init_*_draw_at.

const INIT_PI: f32 = 3.14159265358979;

// NOTE: exact: u has 24 bits, so 2u - 1 = (k - 2^23) / 2^23 is exact in f32 (even if contracted into an FMA),
// and the product with limit is one correctly rounded multiply: bit-identical to the reference.
fn init_uniform_draw(key: vec2<u32>, i: u32, limit: f32) -> f32 {
  return init_uniform_draw_at(key, i, 0u, limit);
}

fn init_uniform_draw_at(key: vec2<u32>, i: u32, draw: u32, limit: f32) -> f32 {
  let words = philox4x32_10(vec4<u32>(i >> 2u, 0u, draw, 0u), key);
  let u = philox_unit_float(words[i & 3u]);
  return (2.0 * u - 1.0) * limit;
}

// Box-Muller, cosine branch only, one (u1, u2) word pair per element.
fn init_normal_draw(key: vec2<u32>, i: u32, stddev: f32) -> f32 {
  return init_normal_draw_at(key, i, 0u, stddev);
}

fn init_normal_draw_at(key: vec2<u32>, i: u32, draw: u32, stddev: f32) -> f32 {
  let words = philox4x32_10(vec4<u32>(i >> 1u, 1u, draw, 0u), key);
  let pair = (i & 1u) * 2u;
  let u1 = philox_open_unit_float(words[pair]);
  let u2 = philox_unit_float(words[pair + 1u]);
  // NOTE: max() guards log(1) returning a tiny positive value on some GPUs (sqrt of a negative is NaN).
  let r = sqrt(max(-2.0 * log(u1), 0.0));
  // NOTE: cos(2πu) = -cos(π(2u - 1)): the argument stays in [-π, π), the range where WGSL bounds cos's error.
  let z = -r * cos(INIT_PI * (2.0 * u2 - 1.0));
  return z * stddev;
}
