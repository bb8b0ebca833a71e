// Built-in synthetic data sets, generated on the host from the run's seed (Philox stream 'dataset'): the same seed
// gives bit-identical arrays. Inputs are scaled to about unit variance per coordinate, the scale He init assumes,
// so "dead at initialization" reflects the configuration and not a badly scaled data set.
//
//   teacher           x ~ N(0, I); y = relu(x·W1)·W2 + noise·N(0, I), W1 ~ N(0, 2/inputSize), W2 ~ N(0, 1/teacherWidth)
//                     (so y is of order one before the noise).
//   gaussian_mixture  centre_c ~ N(0, I); label = row mod classes (balanced);
//                     x = (centre_label + spread·N(0, I)) / sqrt(1 + spread²).
//   spirals           label = row mod 2; t ~ U[0, 1); r = 0.05 + 0.95·t; θ = 2π·turns·t + π·label;
//                     p = (r cos θ, r sin θ) + noise·N(0, I₂), scaled by √6 (unit variance per coordinate).
//                     inputSize = 2: x = p. inputSize = d > 2: x = p·P with P a random 2×d matrix whose rows are
//                     orthonormal times √(d/2): a random rotation of the plane into d dimensions, distances kept up
//                     to the common factor, every input coordinate carrying signal (no constant-zero inputs).
//   sparse            each x_ij is nonzero with probability density (N(0, 1/density), unit variance); labels =
//                     argmax_c (x·T)_c with a random linear teacher T ~ N(0, 1) [inputSize, classes]
//                     (a row with no nonzero gets label 0).

import { probeRowsFor, type RunConfig } from '../config/schema';
import { rngKey } from '../spec/rng-streams';
import { probeSet, type Dataset, type ProbeSet } from './dataset';
import { bitflipRunData } from './bitflip';
import { PhiloxStream } from './rng';

/** Sub-streams of the 'dataset' RNG stream. */
const SUB = { inputs: 0, weights1: 1, weights2: 2, noise: 3, centres: 4, projection: 5, mask: 6, values: 7 } as const;

/** A run's data set and its probe set (the observatory's fixed subset), both drawn from the run's seed. */
export function runData(config: RunConfig): { dataset: Dataset; probe: ProbeSet } {
  if (config.dataset.kind === 'slowly_changing') return bitflipRunData(config);
  const dataset = generateDataset(config);
  return { dataset, probe: probeSet(dataset, probeRowsFor(config.snapshot, dataset.samples).rows, config.seed) };
}

/** The data set a config describes. Throws for dataset.kind 'file' (load it with src/data/npy or csv). */
export function generateDataset(config: RunConfig): Dataset {
  const d = config.dataset;
  const key = rngKey(config.seed, 'dataset');
  const stream = (sub: number) => new PhiloxStream(key, sub);
  switch (d.kind) {
    case 'teacher':
      return teacher(d.samples, config.inputSize, config.outputSize, d.teacherWidth, d.noise, stream);
    case 'gaussian_mixture':
      return gaussianMixture(d.samples, config.inputSize, d.classes, d.spread, stream);
    case 'spirals':
      return spirals(d.samples, config.inputSize, d.turns, d.noise, stream);
    case 'sparse':
      return sparse(d.samples, config.inputSize, d.classes, d.density, stream);
    case 'slowly_changing':
      throw new Error('dataset.kind is "slowly_changing": it is streamed, generated on the GPU step by step (shaders/slowly_changing.wgsl), not from the host');
    case 'file':
      throw new Error(
        `dataset.kind is "file" (${d.name}): its arrays come from the loaded file (parseNpy / parseCsv, then datasetFromArrays), not from the seed`,
      );
  }
}

type Streams = (sub: number) => PhiloxStream;

function normals(n: number, std: number, rng: PhiloxStream): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = std * rng.normal();
  return out;
}

function teacher(samples: number, inputSize: number, outputSize: number, width: number, noise: number, stream: Streams): Dataset {
  const inputs = new Float32Array(samples * inputSize);
  const rx = stream(SUB.inputs);
  for (let i = 0; i < inputs.length; i++) inputs[i] = rx.normal();
  const w1 = normals(inputSize * width, Math.sqrt(2 / inputSize), stream(SUB.weights1)); // [inputSize, width]
  const w2 = normals(width * outputSize, Math.sqrt(1 / width), stream(SUB.weights2)); // [width, outputSize]
  const rn = stream(SUB.noise);
  const targets = new Float32Array(samples * outputSize);
  const h = new Float64Array(width);
  for (let s = 0; s < samples; s++) {
    h.fill(0);
    for (let i = 0; i < inputSize; i++) {
      const xi = inputs[s * inputSize + i];
      const row = i * width;
      for (let j = 0; j < width; j++) h[j] += xi * w1[row + j];
    }
    for (let o = 0; o < outputSize; o++) {
      let y = 0;
      for (let j = 0; j < width; j++) if (h[j] > 0) y += h[j] * w2[j * outputSize + o];
      targets[s * outputSize + o] = y + noise * rn.normal();
    }
  }
  return { inputs, targets, samples, inputSize, outputSize, kind: 'regression' };
}

function gaussianMixture(samples: number, inputSize: number, classes: number, spread: number, stream: Streams): Dataset {
  const centres = normals(classes * inputSize, 1, stream(SUB.centres));
  const rx = stream(SUB.inputs);
  const scale = 1 / Math.sqrt(1 + spread * spread);
  const inputs = new Float32Array(samples * inputSize);
  const labels = new Uint32Array(samples);
  for (let s = 0; s < samples; s++) {
    const c = s % classes;
    labels[s] = c;
    for (let i = 0; i < inputSize; i++) inputs[s * inputSize + i] = (centres[c * inputSize + i] + spread * rx.normal()) * scale;
  }
  return { inputs, targets: labels, samples, inputSize, outputSize: classes, kind: 'classification' };
}

/** Two orthonormal rows of length d (Gram–Schmidt on gaussian vectors). */
function orthonormalPair(d: number, rng: PhiloxStream): [Float64Array, Float64Array] {
  const norm = (v: Float64Array) => {
    let s = 0;
    for (let i = 0; i < d; i++) s += v[i] * v[i];
    return Math.sqrt(s);
  };
  const unit = (v: Float64Array) => {
    const n = norm(v);
    for (let i = 0; i < d; i++) v[i] /= n;
    return v;
  };
  const a = unit(normals(d, 1, rng));
  for (;;) {
    const b = normals(d, 1, rng);
    let dot = 0;
    for (let i = 0; i < d; i++) dot += a[i] * b[i];
    for (let i = 0; i < d; i++) b[i] -= dot * a[i];
    // Redraw in the (measure-zero, but finite-precision) case that b was parallel to a.
    if (norm(b) > 1e-6) return [a, unit(b)];
  }
}

function spirals(samples: number, inputSize: number, turns: number, noise: number, stream: Streams): Dataset {
  const rx = stream(SUB.inputs);
  const inputs = new Float32Array(samples * inputSize);
  const labels = new Uint32Array(samples);
  const unitScale = Math.sqrt(6); // E[(r cos θ)²] ≈ E[r²]/2 ≈ 1/6
  let pa: Float64Array | undefined;
  let pb: Float64Array | undefined;
  let embed = 1;
  if (inputSize > 2) {
    [pa, pb] = orthonormalPair(inputSize, stream(SUB.projection));
    embed = Math.sqrt(inputSize / 2);
  }
  for (let s = 0; s < samples; s++) {
    const label = s % 2;
    labels[s] = label;
    const t = rx.uniform();
    const r = 0.05 + 0.95 * t;
    const theta = 2 * Math.PI * turns * t + Math.PI * label;
    const px = (r * Math.cos(theta) + noise * rx.normal()) * unitScale;
    const py = (r * Math.sin(theta) + noise * rx.normal()) * unitScale;
    if (pa === undefined || pb === undefined) {
      inputs[s * 2] = px;
      inputs[s * 2 + 1] = py;
    } else {
      for (let i = 0; i < inputSize; i++) inputs[s * inputSize + i] = (px * pa[i] + py * pb[i]) * embed;
    }
  }
  return { inputs, targets: labels, samples, inputSize, outputSize: 2, kind: 'classification' };
}

function sparse(samples: number, inputSize: number, classes: number, density: number, stream: Streams): Dataset {
  const inputs = new Float32Array(samples * inputSize);
  const total = inputs.length;
  const rm = stream(SUB.mask);
  const rv = stream(SUB.values);
  const std = 1 / Math.sqrt(density);
  // Walk the nonzeros by geometric gaps, so the cost is proportional to their number, not to samples × inputSize.
  const logq = Math.log1p(-density);
  const gap = () => (density >= 1 ? 0 : Math.floor(Math.log(rm.openUniform()) / logq));
  for (let i = gap(); i < total; i += 1 + gap()) inputs[i] = std * rv.normal();
  const t = normals(inputSize * classes, 1, stream(SUB.weights1)); // [inputSize, classes]
  const labels = new Uint32Array(samples);
  const score = new Float64Array(classes);
  for (let s = 0; s < samples; s++) {
    score.fill(0);
    for (let i = 0; i < inputSize; i++) {
      const xi = inputs[s * inputSize + i];
      if (xi === 0) continue;
      for (let c = 0; c < classes; c++) score[c] += xi * t[i * classes + c];
    }
    let best = 0;
    for (let c = 1; c < classes; c++) if (score[c] > score[best]) best = c;
    labels[s] = best;
  }
  return { inputs, targets: labels, samples, inputSize, outputSize: classes, kind: 'classification' };
}
