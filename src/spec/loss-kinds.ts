// The losses the loss kernel computes (shaders/loss.wgsl; definitions in src/reference/loss.ts).

export type LossKind = 'softmax_ce' | 'mse';
