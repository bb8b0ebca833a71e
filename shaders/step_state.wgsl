// The training step counter and what is derived from it, one buffer on the GPU so that the CPU can record
// thousands of steps without writing a byte. shaders/schedule.wgsl writes it (begin_step, end_step); dropout,
// loss, optimizer, gather and unitstats read it. The host side is STEP_STATE in src/spec/step-state.ts
// (tests/unit/wgsl-contract.test.ts checks they agree). The loader (src/gpu/shaders.ts) prepends this file
// to every module.

struct StepState {
  step: u32,              // 0-based index of the step being computed (completed steps after end_step)
  lr: f32,                // scheduled learning rate for this step
  bias_correction1: f32,  // 1 - beta1^(step+1)
  bias_correction2: f32,  // 1 - beta2^(step+1)
  // Running powers beta^step. NOTE: f32 pow(0.999, 2) is off by ~1e-4 relative after the 1 - x cancellation;
  // a running product is exact per step (IEEE multiply) and reproducible bit for bit by the CPU reference.
  beta1_power: f32,
  beta2_power: f32,
}
