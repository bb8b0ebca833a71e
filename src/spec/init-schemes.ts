// The weight and bias initialisations a layer can ask for, and what the init kernel draws for each
// (shaders/init.wgsl; CPU oracle: src/reference/init.ts).

export type InitScheme =
  | { kind: 'he_normal' | 'he_uniform' | 'xavier_normal' | 'xavier_uniform' | 'torch_uniform' }
  | { kind: 'normal'; std: number }
  | { kind: 'uniform'; limit: number }
  | { kind: 'constant'; value: number };

/** What the kernel actually draws: (2u - 1) * scale, z * scale, or a constant. */
export interface InitDraw {
  distribution: 'uniform' | 'normal' | 'constant';
  /** f32: the uniform limit, the normal std, or the constant. */
  scale: number;
}

/**
 * He (Kaiming) for ReLU: std = sqrt(2 / fanIn), limit = sqrt(6 / fanIn).
 * Xavier (Glorot): std = sqrt(2 / (fanIn + fanOut)), limit = sqrt(6 / (fanIn + fanOut)).
 * PyTorch's nn.Linear default (kaiming_uniform with a = sqrt(5)): limit = 1 / sqrt(fanIn), so a layer widened
 * keeps the scale PyTorch would give it.
 * Computed in f64, then rounded once to f32 (the uniform the kernel receives).
 */
export function initDraw(scheme: InitScheme, fanIn: number, fanOut: number): InitDraw {
  const fan = (name: string, v: number) => {
    if (!Number.isInteger(v) || v <= 0) throw new RangeError(`init ${scheme.kind}: ${name} must be a positive integer, got ${v}`);
    return v;
  };
  const finite = (name: string, v: number, min: number) => {
    if (!Number.isFinite(v) || v < min) throw new RangeError(`init ${scheme.kind}: ${name} must be finite and >= ${min}, got ${v}`);
    return Math.fround(v);
  };
  switch (scheme.kind) {
    case 'he_normal':
      return { distribution: 'normal', scale: Math.fround(Math.sqrt(2 / fan('fanIn', fanIn))) };
    case 'he_uniform':
      return { distribution: 'uniform', scale: Math.fround(Math.sqrt(6 / fan('fanIn', fanIn))) };
    case 'torch_uniform':
      return { distribution: 'uniform', scale: Math.fround(1 / Math.sqrt(fan('fanIn', fanIn))) };
    case 'xavier_normal':
      return { distribution: 'normal', scale: Math.fround(Math.sqrt(2 / (fan('fanIn', fanIn) + fan('fanOut', fanOut)))) };
    case 'xavier_uniform':
      return { distribution: 'uniform', scale: Math.fround(Math.sqrt(6 / (fan('fanIn', fanIn) + fan('fanOut', fanOut)))) };
    case 'normal':
      return { distribution: 'normal', scale: finite('std', scheme.std, 0) };
    case 'uniform':
      return { distribution: 'uniform', scale: finite('limit', scheme.limit, 0) };
    case 'constant':
      return { distribution: 'constant', scale: finite('value', scheme.value, -Infinity) };
    default: {
      const never: never = scheme;
      throw new RangeError(`unknown init scheme ${JSON.stringify(never)}`);
    }
  }
}
