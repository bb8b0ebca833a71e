// `deadunits borndead`: Monte-Carlo estimate of P(a freshly initialized network is dead), with a Wilson
// confidence interval. A trial is the network a run with seed s starts from (s = --seed, --seed + 1, ...), fed
// --probe standard normal probe inputs; it is dead when every unit of the last hidden layer has pre-activation
// <= 0 on every probe input (for leaky_relu / elu / gelu this is the observatory's "dead-like" test).
import cliProgress from 'cli-progress';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  ACTIVATIONS,
  type ActivationKind,
  DEFAULT_ALPHA,
  formatRange,
  inRange,
  LIMITS,
  PRESET_NAMES,
  presetConfig,
  type PresetName,
  type Range,
  type RunConfig,
  WEIGHT_INIT_KINDS,
  type WeightInitKind,
} from '../../config';
import { acquireCliGpu } from '../kernels-option';
import type { InitScheme } from '../../spec/init-schemes';
import { BornDeadRunner, type BornDeadSpec } from '../../engine/borndead';
import { wilsonInterval } from '../../engine/borndead-stats';

export const BORNDEAD_LIMITS = {
  probe: { min: 1, max: 4096, int: true },
  trials: { min: 1, max: 1e9, int: true },
  confidence: { min: 0, max: 1, minOpen: true, maxOpen: true },
  batch: { min: 1, max: 4096, int: true },
} as const satisfies Record<string, Range>;

/** A commander argument parser for a number in `range`; the error names the range (commander adds the flag). */
export function numberIn(range: Range): (value: string) => number {
  return (value) => {
    const v = value.trim() === '' ? NaN : Number(value);
    if (!inRange(v, range)) throw new InvalidArgumentError(`expected ${range.int ? 'an integer' : 'a number'} in ${formatRange(range)}.`);
    return v;
  };
}

export interface BornDeadFlags {
  preset?: PresetName;
  width: number;
  depth: number;
  inputs: number;
  activation: ActivationKind;
  alpha?: number;
  init: WeightInitKind;
  std?: number;
  limit?: number;
  bias: number;
  probe: number;
  trials: number;
  seed: number;
  confidence: number;
  batch?: number;
  json?: boolean;
  progress: 'auto' | 'bar' | 'lines' | 'none';
}

/** The trial network the flags describe; cross-flag rules (--std with normal only, ...) are checked here. */
export function bornDeadSpecFromFlags(f: BornDeadFlags): BornDeadSpec {
  if (f.std !== undefined && f.init !== 'normal') throw new InvalidArgumentError(`--std applies only to --init normal (got --init ${f.init})`);
  if (f.limit !== undefined && f.init !== 'uniform') throw new InvalidArgumentError(`--limit applies only to --init uniform (got --init ${f.init})`);
  if (f.init === 'normal' && f.std === undefined) throw new InvalidArgumentError('--init normal needs --std');
  if (f.init === 'uniform' && f.limit === undefined) throw new InvalidArgumentError('--init uniform needs --limit');
  if (f.alpha !== undefined) {
    if (f.activation !== 'leaky_relu' && f.activation !== 'elu')
      throw new InvalidArgumentError(`--alpha applies only to leaky_relu and elu (got --activation ${f.activation})`);
    const r = f.activation === 'leaky_relu' ? LIMITS.leakyAlpha : LIMITS.eluAlpha;
    if (!inRange(f.alpha, r)) throw new InvalidArgumentError(`--alpha ${f.alpha} is not in ${formatRange(r)} (alpha of ${f.activation})`);
  }
  const weights: InitScheme =
    f.init === 'normal' ? { kind: 'normal', std: f.std! } : f.init === 'uniform' ? { kind: 'uniform', limit: f.limit! } : { kind: f.init };
  const alpha = f.activation === 'leaky_relu' || f.activation === 'elu' ? (f.alpha ?? DEFAULT_ALPHA[f.activation]) : undefined;
  return {
    inputSize: f.inputs,
    probeRows: f.probe,
    hidden: Array.from({ length: f.depth }, () => ({ width: f.width, activation: { kind: f.activation, alpha }, weights, bias: f.bias })),
  };
}

/** The hidden layers of a run configuration as born-dead trial layers (dropout plays no part at initialization). */
export function bornDeadSpecFromConfig(config: RunConfig, probeRows: number): BornDeadSpec {
  return {
    inputSize: config.inputSize,
    probeRows,
    hidden: config.hidden.map((h) => ({ width: h.width, activation: h.activation, weights: h.init.weights, bias: h.init.bias.value })),
  };
}

/** Flags that describe the network, which --preset replaces. */
const NETWORK_FLAGS = ['width', 'depth', 'inputs', 'activation', 'alpha', 'init', 'std', 'limit', 'bias'] as const;

const LINE_SECONDS = 5;

/** A bar with trials/s and ETA on a terminal, plain lines otherwise. */
function progressReporter(mode: BornDeadFlags['progress'], total: number): { update(done: number): void; stop(): void } {
  const tty = mode === 'bar' || (mode === 'auto' && process.stderr.isTTY);
  if (mode === 'none') return { update() {}, stop() {} };
  const started = performance.now();
  if (tty) {
    const bar = new cliProgress.SingleBar(
      { format: 'borndead {bar} {percentage}% | {value}/{total} trials | {rate} trials/s | ETA {eta_formatted}', stream: process.stderr, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, 0, { rate: '-' });
    return {
      update: (done) => bar.update(done, { rate: (done / ((performance.now() - started) / 1000)).toFixed(0) }),
      stop: () => bar.stop(),
    };
  }
  // A line per 10 % of the trials, and at least one every LINE_SECONDS.
  let nextTenth = 1;
  let lastLine = started;
  return {
    update(done) {
      const now = performance.now();
      if (done * 10 < nextTenth * total && now - lastLine < LINE_SECONDS * 1000) return;
      while (nextTenth * total <= done * 10) nextTenth++;
      lastLine = now;
      const rate = done / ((now - started) / 1000);
      console.error(`borndead: ${done}/${total} trials, ${rate.toFixed(0)} trials/s, ETA ${((total - done) / rate).toFixed(0)} s`);
    },
    stop() {},
  };
}

/** `2 -> 16 x 3 relu he_normal b=0`, or layer by layer when the layers differ. */
export function describeNetwork(spec: BornDeadSpec): string {
  const layer = (h: BornDeadSpec['hidden'][number]) => {
    const w = h.weights;
    const init = w.kind === 'normal' ? `normal(${w.std})` : w.kind === 'uniform' ? `uniform(${w.limit})` : w.kind;
    return `${h.width} ${h.activation.kind}${h.activation.alpha === undefined ? '' : `(${h.activation.alpha})`} ${init} b=${h.bias}`;
  };
  const layers = spec.hidden.map(layer);
  const same = layers.every((l) => l === layers[0]);
  return `${spec.inputSize} -> ${same ? `${layers.length} x ${layers[0]}` : layers.join(' -> ')}`;
}

export function borndeadCommand(): Command {
  const L = LIMITS;
  return new Command('borndead')
    .description(
      'Estimate the probability that a freshly initialized network is dead: its last hidden layer outputs zero ' +
        '(pre-activation <= 0 for every unit) on every probe input. Trials run in batches on the GPU.',
    )
    .addOption(
      new Option('--preset <name>', "take the network (input size, every hidden layer's width, activation and init) from a preset").choices(PRESET_NAMES),
    )
    .addOption(new Option('--width <n>', `units per hidden layer ${formatRange(L.width)}`).argParser(numberIn(L.width)).default(32))
    .addOption(new Option('--depth <n>', `hidden layers ${formatRange(L.depth)}`).argParser(numberIn(L.depth)).default(4))
    .addOption(new Option('--inputs <n>', `input size ${formatRange(L.inputSize)}`).argParser(numberIn(L.inputSize)).default(32))
    .addOption(new Option('--activation <kind>', 'activation of every hidden layer').choices(ACTIVATIONS).default('relu'))
    .addOption(
      new Option(
        '--alpha <a>',
        `leaky_relu slope ${formatRange(L.leakyAlpha)} or elu alpha ${formatRange(L.eluAlpha)} (default ${DEFAULT_ALPHA.leaky_relu} / ${DEFAULT_ALPHA.elu})`,
      ).argParser(Number),
    )
    .addOption(new Option('--init <kind>', 'weight init').choices(WEIGHT_INIT_KINDS).default('he_normal'))
    .addOption(new Option('--std <s>', `std of --init normal ${formatRange(L.initStd)}`).argParser(numberIn(L.initStd)))
    .addOption(new Option('--limit <a>', `limit of --init uniform ${formatRange(L.initLimit)}`).argParser(numberIn(L.initLimit)))
    .addOption(new Option('--bias <b>', `constant bias init ${formatRange(L.biasValue)}`).argParser(numberIn(L.biasValue)).default(0))
    .addOption(
      new Option('--probe <rows>', `probe inputs per trial, standard normal ${formatRange(BORNDEAD_LIMITS.probe)}`)
        .argParser(numberIn(BORNDEAD_LIMITS.probe))
        .default(256),
    )
    .addOption(new Option('--trials <n>', `networks to draw ${formatRange(BORNDEAD_LIMITS.trials)}`).argParser(numberIn(BORNDEAD_LIMITS.trials)).default(1000))
    .addOption(new Option('--seed <s>', `seed of trial 0; trial t uses seed + t (mod 2^32) ${formatRange(L.seed)}`).argParser(numberIn(L.seed)).default(1))
    .addOption(
      new Option('--confidence <level>', `two-sided level of the Wilson interval ${formatRange(BORNDEAD_LIMITS.confidence)}`)
        .argParser(numberIn(BORNDEAD_LIMITS.confidence))
        .default(0.95),
    )
    .addOption(
      new Option('--batch <n>', `trials per GPU submit ${formatRange(BORNDEAD_LIMITS.batch)} (default: as many as fit 64 MiB buffers, at most 4096)`).argParser(
        numberIn(BORNDEAD_LIMITS.batch),
      ),
    )
    .addOption(new Option('--progress <mode>', 'progress: a bar on a terminal, lines otherwise').choices(['auto', 'bar', 'lines', 'none']).default('auto'))
    .option('--json', 'print the result as one JSON object')
    .addHelpText(
      'after',
      `
Trial t is the network a run with seed (--seed + t) starts from: the same Philox streams as the trainer's
init. Its probe inputs are standard normal: x[r, i] = N(0, 1) from the stream rngKey(seed, 'probeSet', 1)
(with --preset too: a run's own probe rows come from its data set, so its answer can differ a little).

Examples:
  $ deadunits borndead --preset deep_narrow --trials 5000                # is that preset born dead?
  $ deadunits borndead --width 3 --depth 16 --inputs 2 --trials 5000      # the same shape from flags
  $ deadunits borndead --width 64 --depth 4 --bias -1 --init normal --std 0.05
  $ deadunits borndead --width 1 --depth 1 --probe 1 --trials 10000 --json   # P(dead) = 1/2 exactly`,
    )
    .addHelpText('after', '\nExit status: 0 done, 2 bad input, 130 interrupted by SIGINT (the trials done so far are reported).')
    .action(async (flags: BornDeadFlags, command: Command) => {
      let spec: BornDeadSpec;
      try {
        if (flags.preset !== undefined) {
          const given = NETWORK_FLAGS.filter((f) => command.getOptionValueSource(f) === 'cli');
          if (given.length) throw new InvalidArgumentError(`--preset sets the network; it cannot be combined with ${given.map((f) => `--${f}`).join(', ')}`);
          spec = bornDeadSpecFromConfig(presetConfig(flags.preset), flags.probe);
        } else spec = bornDeadSpecFromFlags(flags);
      } catch (error) {
        if (error instanceof InvalidArgumentError) command.error(`error: ${error.message}`, { exitCode: 2, code: 'deadunits.invalidFlags' });
        throw error;
      }
      const gpu = await acquireCliGpu();
      try {
        const runner = await BornDeadRunner.create(gpu);
        const progress = progressReporter(flags.json && flags.progress === 'auto' ? 'none' : flags.progress, flags.trials);
        const controller = new AbortController();
        const stop = () => controller.abort();
        process.once('SIGINT', stop);
        let result;
        try {
          result = await runner.run({
            spec,
            trials: flags.trials,
            seed: flags.seed,
            batchTrials: flags.batch,
            signal: controller.signal,
            onProgress: (done) => progress.update(done),
          });
        } finally {
          progress.stop();
          process.off('SIGINT', stop);
        }
        // Interrupted: report the trials done (an estimate all the same), and exit as interrupted.
        if (result.trials < flags.trials) process.exitCode = 130;
        const ci = wilsonInterval(result.dead, result.trials, flags.confidence);
        const a = gpu.adapter;
        const adapter = [a.vendor, a.architecture, a.description].filter(Boolean).join(' / ') + (a.isSoftware ? ' (software)' : '');
        const trialsPerSecond = result.trials / result.seconds;
        if (flags.json) {
          console.log(
            JSON.stringify(
              {
                spec,
                seed: flags.seed,
                trials: result.trials,
                requestedTrials: flags.trials,
                dead: result.dead,
                estimate: ci.estimate,
                low: ci.low,
                high: ci.high,
                confidence: ci.level,
                interval: 'wilson',
                seconds: result.seconds,
                trialsPerSecond,
                adapter,
              },
              null,
              2,
            ),
          );
        } else {
          const act = spec.hidden[spec.hidden.length - 1].activation.kind;
          console.log(`network:  ${describeNetwork(spec)}${flags.preset ? ` (preset ${flags.preset})` : ''}; ${flags.probe} standard normal probe inputs`);
          console.log(
            `trials:   ${result.trials}${result.trials < flags.trials ? ` of ${flags.trials} (interrupted)` : ''}, seeds ${flags.seed}..${(flags.seed + result.trials - 1) >>> 0}`,
          );
          console.log(
            `dead:     ${result.dead} (${act === 'relu' ? 'last hidden layer outputs zero on every probe input' : 'dead-like: every last-layer pre-activation <= 0 on every probe input'})`,
          );
          console.log(`P(dead):  ${ci.estimate.toFixed(4)}, ${(ci.level * 100).toPrecision(3)}% Wilson interval [${ci.low.toFixed(4)}, ${ci.high.toFixed(4)}]`);
          console.log(`speed:    ${trialsPerSecond.toFixed(0)} trials/s (${result.seconds.toFixed(2)} s) on ${adapter}`);
        }
      } finally {
        gpu.device.destroy();
      }
    });
}
