// The slowly-changing regression's fixed parts, drawn on the host from the run's seed (Philox stream 'dataset',
// sub-streams below): the teacher and the flipping bits of task 0. Everything else (the bits drawn every step,
// the flips at task switches, the targets) is generated on the GPU: shaders/bitflip.wgsl.
import type { RunConfig } from '../config/schema';
import { bitflipProbeRows, teacherLayout, type BitflipProblem } from '../spec/bitflip';
import type { Dataset, ProbeSet } from './dataset';
import { rngKey } from '../spec/rng-streams';
import { PhiloxStream } from './rng';

/** Sub-streams of the 'dataset' stream for this problem (apart from the other generators' 0-7). */
const SUB = { weights: 16, outWeights: 17, initialBits: 18 } as const;

const sign = (rng: PhiloxStream) => ((rng.u32() & 1) === 1 ? 1 : -1);

/** The teacher and task 0's flipping bits of a slowly_changing config. */
export function bitflipProblem(config: RunConfig): BitflipProblem {
  const d = config.dataset;
  if (d.kind !== 'slowly_changing') throw new Error(`dataset.kind is "${d.kind}", not "slowly_changing"`);
  return makeBitflipProblem(config.seed, config.inputSize, d.flipping, d.teacherWidth, d.beta);
}

export function makeBitflipProblem(seed: number, inputSize: number, flipping: number, teacherWidth: number, beta: number): BitflipProblem {
  const key = rngKey(seed, 'dataset');
  const layout = teacherLayout(inputSize, teacherWidth);
  const teacher = new Float32Array(layout.words);
  const weights = new PhiloxStream(key, SUB.weights);
  for (let i = 0; i < inputSize * teacherWidth; i++) teacher[i] = sign(weights);
  for (let h = 0; h < teacherWidth; h++) {
    let negatives = 0;
    for (let j = 0; j < inputSize; j++) if (teacher[j * teacherWidth + h] < 0) negatives++;
    // NOTE: tau is rounded to f32 once, here; the GPU and the CPU oracle compare against this same value.
    teacher[layout.tauOffset + h] = beta * inputSize - negatives;
  }
  const out = new PhiloxStream(key, SUB.outWeights);
  for (let h = 0; h <= teacherWidth; h++) teacher[layout.outWeightsOffset + h] = sign(out); // v, then c
  const bits = new PhiloxStream(key, SUB.initialBits);
  const initialBits = Uint32Array.from({ length: flipping }, () => bits.u32() & 1);
  return { inputSize, flipping, teacher, teacherWidth, initialBits };
}

/**
 * The run data of a slowly_changing config: nothing resident, the problem for the GPU, and a probe set of the
 * right shape whose inputs the GPU writes for the current task before every probe pass (so they start empty).
 */
export function bitflipRunData(config: RunConfig): { dataset: Dataset; probe: ProbeSet } {
  const problem = bitflipProblem(config);
  const { inputSize } = config;
  const dataset: Dataset = {
    inputs: new Float32Array(0),
    targets: new Float32Array(0),
    samples: 0,
    inputSize,
    outputSize: 1,
    kind: 'regression',
    bitflip: problem,
  };
  const { rows } = bitflipProbeRows(inputSize, problem.flipping, config.snapshot.probeSize);
  const probe: ProbeSet = {
    ...dataset,
    inputs: new Float32Array(rows * inputSize),
    targets: new Float32Array(rows),
    samples: rows,
    indices: Uint32Array.from({ length: rows }, (_, r) => r),
  };
  return { dataset, probe };
}
