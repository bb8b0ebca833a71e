// The activation functions a layer can use, as the kernel receives them (shaders/activation.wgsl).

export type ActivationKind = 'relu' | 'leaky_relu' | 'elu' | 'gelu' | 'identity';

export interface ActivationSpec {
  kind: ActivationKind;
  /** Leaky ReLU slope for z <= 0 (default 0.01) or ELU alpha (default 1.0); ignored by the others. */
  alpha?: number;
}

/** The WGSL override value of each kind (shaders/activation.wgsl KIND_*). */
export const ACTIVATION_KIND_CODES: Readonly<Record<ActivationKind, number>> = {
  identity: 0,
  relu: 1,
  leaky_relu: 2,
  elu: 3,
  gelu: 4,
};

/** alpha as the GPU sees it (an f32 uniform), with the per-kind default. */
export function activationAlpha(spec: ActivationSpec): number {
  const fallback = spec.kind === 'elu' ? 1.0 : 0.01;
  return Math.fround(spec.alpha ?? fallback);
}
