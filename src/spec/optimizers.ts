// The optimizers the update kernel implements (shaders/optimizer.wgsl; semantics and CPU oracle in
// src/reference/optimizer.ts) and the checks on their hyperparameters.

export type OptimizerSpec =
  | { kind: 'sgd'; weightDecay?: number }
  | { kind: 'momentum'; momentum: number; nesterov?: boolean; weightDecay?: number }
  | { kind: 'adam' | 'adamw'; beta1: number; beta2: number; eps: number; weightDecay?: number };

/** Optimizer state buffers of `count` f32 each: momentum (1) or Adam's m and v (2). */
export function optimizerStateCount(spec: OptimizerSpec): 0 | 1 | 2 {
  return spec.kind === 'sgd' ? 0 : spec.kind === 'momentum' ? 1 : 2;
}

/** Throws a RangeError naming the first hyperparameter out of range. */
export function validateOptimizerSpec(spec: OptimizerSpec): void {
  const check = (name: string, v: number, ok: boolean) => {
    if (!Number.isFinite(v) || !ok) throw new RangeError(`optimizer ${spec.kind}: ${name} = ${v} is out of range`);
  };
  const wd = spec.weightDecay ?? 0;
  check('weightDecay', wd, wd >= 0);
  if (spec.kind === 'momentum') check('momentum', spec.momentum, spec.momentum >= 0 && spec.momentum < 1);
  if (spec.kind === 'adam' || spec.kind === 'adamw') {
    check('beta1', spec.beta1, spec.beta1 >= 0 && spec.beta1 < 1);
    check('beta2', spec.beta2, spec.beta2 >= 0 && spec.beta2 < 1);
    check('eps', spec.eps, spec.eps > 0);
  }
}
