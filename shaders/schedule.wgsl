// The training step counter and everything derived from it, kept on the GPU so that the CPU can
// record thousands of steps without writing a byte: `begin_step` fills StepState for step t
// (learning rate after warm-up and schedule, Adam bias corrections), `end_step` advances t.
// StepState itself is declared in shaders/step_state.wgsl.
// Mirrors src/reference/schedule.ts.

struct Params {
  kind: u32,          // 0 constant, 1 step decay, 2 cosine
  base_lr: f32,
  warmup_steps: u32,  // linear warm-up over the first warmup_steps steps (0 = none)
  total_steps: u32,   // cosine horizon, counted after warm-up
  decay_every: u32,   // step decay: multiply by gamma every decay_every steps after warm-up
  gamma: f32,
  min_lr: f32,        // cosine floor
  beta1: f32,
  beta2: f32,
}

@group(0) @binding(0) var<storage, read_write> state: StepState;
@group(0) @binding(1) var<uniform> params: Params;

const PI: f32 = 3.14159265358979;

fn scheduled_lr(t: u32) -> f32 {
  if (t < params.warmup_steps) {
    return params.base_lr * f32(t + 1u) / f32(params.warmup_steps);
  }
  let after = t - params.warmup_steps;
  switch params.kind {
    case 1u: {
      return params.base_lr * pow(params.gamma, f32(after / params.decay_every));
    }
    case 2u: {
      let progress = min(f32(after) / f32(max(params.total_steps, 1u)), 1.0);
      return params.min_lr + (params.base_lr - params.min_lr) * 0.5 * (1.0 + cos(PI * progress));
    }
    default: {
      return params.base_lr;
    }
  }
}

@compute @workgroup_size(1)
fn begin_step() {
  let t = state.step;
  state.lr = scheduled_lr(t);
  state.bias_correction1 = 1.0 - state.beta1_power * params.beta1;
  state.bias_correction2 = 1.0 - state.beta2_power * params.beta2;
}

@compute @workgroup_size(1)
fn end_step() {
  state.beta1_power = state.beta1_power * params.beta1;
  state.beta2_power = state.beta2_power * params.beta2;
  state.step = state.step + 1u;
}
