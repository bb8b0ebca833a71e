// From a validated run configuration (src/config) to the engine's kernel-level model description.
import type { RunConfig } from '../config/schema';
import type { InitScheme } from '../spec/init-schemes';
import type { OptimizerSpec } from '../spec/optimizers';
import type { LayerInit, ModelSpec } from './model-spec';

function layerInit(init: RunConfig['hidden'][number]['init']): LayerInit {
  return { weights: init.weights as InitScheme, bias: { kind: 'constant', value: init.bias.value } };
}

function optimizerSpec(config: RunConfig): OptimizerSpec {
  const weightDecay = config.weightDecay;
  const o = config.optimizer;
  switch (o.kind) {
    case 'sgd':
      return { kind: 'sgd', weightDecay };
    case 'momentum':
      return { kind: 'momentum', momentum: o.momentum, nesterov: o.nesterov, weightDecay };
    default:
      return { kind: o.kind, beta1: o.beta1, beta2: o.beta2, eps: o.eps, weightDecay };
  }
}

export function modelSpecFromConfig(config: RunConfig): ModelSpec {
  const optimizer = optimizerSpec(config);
  const s = config.schedule;
  const adam = optimizer.kind === 'adam' || optimizer.kind === 'adamw' ? optimizer : undefined;
  return {
    inputSize: config.inputSize,
    outputSize: config.outputSize,
    loss: config.loss,
    batch: config.batchSize,
    inputDropout: config.inputDropout,
    hidden: config.hidden.map((h) => ({
      width: h.width,
      activation: { kind: h.activation.kind, alpha: h.activation.alpha },
      dropout: h.dropout,
      init: layerInit(h.init),
    })),
    outputInit: layerInit(config.outputInit),
    optimizer,
    schedule: {
      kind: s.kind,
      baseLr: config.lr,
      warmupSteps: s.warmupSteps,
      totalSteps: Math.max(1, config.steps - s.warmupSteps),
      decayEvery: s.kind === 'step' ? s.every : 1,
      gamma: s.kind === 'step' ? s.gamma : 1,
      minLr: s.kind === 'cosine' ? s.minLr : 0,
      beta1: adam?.beta1 ?? 0.9,
      beta2: adam?.beta2 ?? 0.999,
    },
    seed: config.seed,
    stepsPerSubmit: config.stepsPerSubmit,
    shardColumns: config.shardColumns,
    tasks: config.tasks.every > 0 ? { ...config.tasks } : undefined,
    continualBackprop: config.continualBackprop.replacementRate > 0 ? { ...config.continualBackprop } : undefined,
    shrinkPerturb: config.shrinkPerturb.shrink > 0 || config.shrinkPerturb.noise > 0 ? { ...config.shrinkPerturb } : undefined,
    probeRows: config.snapshot.every > 0 ? config.snapshot.probeSize : 0,
  };
}
