// A run configuration on one line, for listings (inspect, sweep): the network, the training and the data,
// plus the preset it equals where it equals one exactly.
import { PRESET_NAMES, PRESETS, type PresetName, type RunConfig } from '../config';

function layer(h: RunConfig['hidden'][number]): string {
  const act = h.activation.alpha === undefined ? h.activation.kind : `${h.activation.kind}(${h.activation.alpha})`;
  const w = h.init.weights;
  const init = w.kind === 'normal' ? `normal(${w.std})` : w.kind === 'uniform' ? `uniform(${w.limit})` : w.kind;
  return `${h.width} ${act}${h.dropout ? ` p=${h.dropout}` : ''} ${init}${h.init.bias.value ? ` b=${h.init.bias.value}` : ''}`;
}

/** E.g. `32 -> 512 relu p=0.5 he_normal -> 10; softmax_ce, momentum lr 0.01, batch 64, 100000 steps, seed 1, gaussian_mixture(4096)`. */
export function configSummary(config: RunConfig): string {
  const net = [String(config.inputSize), ...config.hidden.map(layer), String(config.outputSize)].join(' -> ');
  const train = `${config.loss}, ${config.optimizer.kind} lr ${config.lr}${config.schedule.kind === 'constant' ? '' : ` ${config.schedule.kind}`}, batch ${config.batchSize}, ${config.steps} steps, seed ${config.seed}`;
  return `${net}; ${train}, ${dataSummary(config)}${regimeSummary(config)}`;
}

function dataSummary(config: RunConfig): string {
  const d = config.dataset;
  if (d.kind === 'file') return `file(${d.name})`;
  if (d.kind === 'slowly_changing') return `slowly_changing(${config.inputSize - 1} bits, ${d.flipping} flipping)`;
  return `${d.kind}(${d.samples})`;
}

/** Task switches and cures, where the run has them: `, tasks of 10000 steps (permuted inputs), continual backprop 0.0001`. */
function regimeSummary(config: RunConfig): string {
  const parts: string[] = [];
  const t = config.tasks;
  if (t.every > 0) {
    const changes = [t.permuteInputs && 'permuted inputs', t.shuffleLabels && 'shuffled labels', t.resetOutput && 'output reset'].filter(Boolean);
    parts.push(`tasks of ${t.every} steps${changes.length ? ` (${changes.join(', ')})` : ''}`);
  }
  if (config.continualBackprop.replacementRate > 0) parts.push(`continual backprop ${config.continualBackprop.replacementRate}`);
  const sp = config.shrinkPerturb;
  if (sp.shrink > 0 || sp.noise > 0) parts.push(`shrink ${sp.shrink} perturb ${sp.noise}${sp.every > 1 ? ` every ${sp.every}` : ''}`);
  return parts.map((p) => `, ${p}`).join('');
}

/** The preset this config equals field for field, if any. */
export function matchingPreset(config: RunConfig): PresetName | undefined {
  const text = JSON.stringify(config);
  return PRESET_NAMES.find((name) => JSON.stringify(PRESETS[name].config) === text);
}
