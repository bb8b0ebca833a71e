// One training step as a fixed list of GPU dispatches (see src/engine/trainer.ts for the buffers):
//   begin_step -> gather batch -> [input dropout] -> per layer: Z = X·W + b, A = act(Z), Y = dropout(A)
//   -> loss -> backward in reverse (dW = Xᵀ·dZ, db = Σ dZ, dX = dZ·Wᵀ) -> optimizer -> end_step.
// Wide layers are grids of column blocks: products over split inputs accumulate block by block.
// With fuseEpilogues, act and dropout run in the epilogue of the product that completes Z (forward) and of the
// dX product into the layer (backward), so a hidden layer costs no elementwise dispatch of its own.
// Non-stationary data and the cures for loss of plasticity add their dispatches from ./continual-graph.ts.
import type { Dispatch } from '../gpu/dispatch';
import type { EpilogueDropout, MatmulEpilogue } from '../gpu/kernels/matmul';
import { rngKey } from '../spec/rng-streams';
import { bitflipBatch, cbpActivity, curesAfterOptimizer, outputReset, permuteBatch, relabelBatch } from './continual-graph';
import type { ModelSpec } from './model-spec';
import type { ActivationBlock, ContinualBuffers, Kernels, TrainingData, WeightLayer } from './model-buffers';

/** What the step graph is built from: the trainer's buffers and kernels. */
export interface StepGraphInput {
  device: GPUDevice;
  spec: ModelSpec;
  kernels: Kernels;
  data: TrainingData;
  stepState: GPUBuffer;
  lossHistory: GPUBuffer;
  lossHistoryCapacity: number;
  /** Per activation (0 = input, 1..L hidden, L+1 logits), its column blocks. */
  blocks: readonly ActivationBlock[][];
  layers: readonly WeightLayer[];
  /** Task state and cures (./continual-graph.ts). */
  continual: ContinualBuffers;
  /** Allocates a storage buffer the trainer owns. */
  alloc(label: string, elements: number): GPUBuffer;
  /** Registers a dispatch the trainer destroys with itself. */
  keep(dispatch: Dispatch): Dispatch;
  /**
   * Fuse each hidden layer's activation and dropout into the matmul epilogues (forward: the product completing
   * Z; backward: the dX product into it), instead of separate dispatches. The same bits either way.
   */
  fuseEpilogues: boolean;
}

/**
 * Builds the dispatch list of one training step, encoded identically for every step: what runs, in which
 * order, on which buffers. Returns the step up to end_step, and end_step itself (the observatory records
 * its per-step work between the two), and the buffer the step's batch targets land in.
 */
export function buildTrainingStep(t: StepGraphInput): { body: Dispatch[]; end: Dispatch; batchTargets: GPUBuffer } {
  const { spec, kernels: k, stepState, data } = t;
  const batch = spec.batch;
  const hiddenCount = spec.hidden.length;
  const classification = spec.loss === 'softmax_ce';
  const targetSize = classification ? 1 : spec.outputSize;
  const steps: Dispatch[] = [];
  const add = (d: Dispatch) => steps.push(t.keep(d));
  const fused = t.fuseEpilogues;

  const continual = { spec, kernels: k, stepState, continual: t.continual };
  const tasks = spec.tasks;
  const batchTargets = t.alloc('batch.targets', batch * targetSize);
  const rowLoss = t.alloc('batch.rowLoss', batch);

  const schedule = k.schedule.prepare('Trainer.schedule', stepState, spec.schedule);
  t.keep(schedule.begin);
  t.keep(schedule.end);
  steps.push(schedule.begin);

  // The batch: generated (slowly-changing regression) or gathered from the resident data set; with permuted
  // inputs it lands in a scratch buffer first and the task's permutation writes it into the input.
  const input = t.blocks[0][0];
  const batchInputs = tasks?.permuteInputs ? t.alloc('batch.unpermuted', batch * spec.inputSize) : input.z;
  if (data.bitflip) add(bitflipBatch(continual, batchInputs, batchTargets));
  else {
    const dataBuffers = {
      inputs: t.alloc('data.inputs', data.inputs.length),
      targets: t.alloc('data.targets', data.targets.length),
    };
    for (const [buffer, array] of [
      [dataBuffers.inputs, data.inputs],
      [dataBuffers.targets, data.targets],
    ] as const) {
      t.device.queue.writeBuffer(buffer, 0, array.buffer, array.byteOffset, array.byteLength);
    }
    add(
      k.gather.prepare({
        label: 'Trainer.gather',
        key: rngKey(spec.seed, 'batchOrder'),
        stepState,
        batch,
        samples: data.samples,
        inputSize: spec.inputSize,
        targetSize,
        inputs: dataBuffers.inputs,
        targets: dataBuffers.targets,
        indices: t.alloc('batch.indices', batch),
        batchInputs,
        batchTargets,
      }),
    );
  }
  if (tasks?.permuteInputs) add(permuteBatch(continual, batchInputs, input.z));
  if (tasks?.shuffleLabels) add(relabelBatch(continual, batchTargets));
  if (tasks?.resetOutput) outputReset(continual, t.blocks, t.layers).forEach(add);
  if (spec.inputDropout > 0) {
    add(
      k.dropout.prepareForward({
        label: 'Trainer.inputDropout',
        p: spec.inputDropout,
        key: rngKey(spec.seed, 'dropout', 0),
        stepState,
        rows: batch,
        cols: spec.inputSize,
        input: { buffer: input.z, ld: spec.inputSize },
        output: { buffer: input.y, ld: spec.inputSize },
      }),
    );
  }

  // Forward.
  for (let l = 1; l <= hiddenCount + 1; l++) {
    const layer = t.layers[l - 1];
    const inputs = t.blocks[l - 1];
    t.blocks[l].forEach((out, j) => {
      inputs.forEach((inp, i) => {
        add(
          k.matmul.prepare({
            label: `Trainer.forward${l}.${i}.${j}`,
            variant: 'nn',
            m: batch,
            n: out.width,
            k: inp.width,
            a: { buffer: inp.y, ld: inp.width },
            b: { buffer: layer.weights[i][j].value, ld: out.width },
            c: { buffer: out.z, ld: out.width },
            bias: i === 0 ? { buffer: layer.bias[j].value } : undefined,
            accumulate: i > 0,
            // The last input block completes Z: A = act(Z) and Y = dropout(A) are computed as it is stored.
            epilogue: fused && l <= hiddenCount && i === inputs.length - 1 ? forwardEpilogue(t, l, out) : undefined,
          }),
        );
      });
      if (l > hiddenCount) return;
      if (fused) {
        if (spec.continualBackprop) add(cbpActivity(continual, l, out, out.h ?? out.y));
        return;
      }
      const hidden = spec.hidden[l - 1];
      add(
        k.activation.prepareForward({
          label: `Trainer.act${l}.${j}`,
          activation: hidden.activation,
          z: out.z,
          a: out.h ?? out.y,
          count: batch * out.width,
        }),
      );
      if (spec.continualBackprop) add(cbpActivity(continual, l, out, out.h ?? out.y));
      if (out.h) add(k.dropout.prepareForward(dropoutArgs(t, l, out, out.h, out.y)));
    });
  }

  // Loss: the logits are the last activation's single block; dL/dlogits goes to its y buffer.
  const logits = t.blocks[hiddenCount + 1][0];
  add(
    k.loss.prepare({
      label: 'Trainer.loss',
      kind: spec.loss,
      logits: logits.z,
      targets: batchTargets,
      rows: batch,
      cols: spec.outputSize,
      grad: logits.y,
      rowLoss,
      stepState,
      history: { buffer: t.lossHistory, capacity: t.lossHistoryCapacity },
    }),
  );

  // Backward, output layer first. For layer l, dZ of block j sits in blocks[l][j].y.
  for (let l = hiddenCount + 1; l >= 1; l--) {
    const layer = t.layers[l - 1];
    const inputs = t.blocks[l - 1];
    const outputs = t.blocks[l];
    // Fused, dZ of a hidden layer was written by the dX product of the layer above (its epilogue).
    if (l <= hiddenCount && !fused) {
      const hidden = spec.hidden[l - 1];
      outputs.forEach((out, j) => {
        if (out.h) add(k.dropout.prepareBackward(dropoutArgs(t, l, out, out.g, out.h)));
        add(
          k.activation.prepareBackward({
            label: `Trainer.actBackward${l}.${j}`,
            activation: hidden.activation,
            z: out.z,
            gradOut: out.h ?? out.g,
            gradIn: out.y,
            count: batch * out.width,
          }),
        );
      });
    }
    outputs.forEach((out, j) => {
      inputs.forEach((inp, i) => {
        add(
          k.matmul.prepare({
            label: `Trainer.gradW${l}.${i}.${j}`,
            variant: 'tn',
            m: inp.width,
            n: out.width,
            k: batch,
            a: { buffer: inp.y, ld: inp.width },
            b: { buffer: out.y, ld: out.width },
            c: { buffer: layer.weights[i][j].grad, ld: out.width },
          }),
        );
      });
      add(
        k.bias.prepareGrad({
          label: `Trainer.gradB${l}.${j}`,
          dy: { buffer: out.y, ld: out.width },
          rows: batch,
          cols: out.width,
          db: { buffer: layer.bias[j].grad },
        }),
      );
    });
    if (l === 1) continue; // no gradient needed for the data
    inputs.forEach((inp, i) => {
      outputs.forEach((out, j) => {
        add(
          k.matmul.prepare({
            label: `Trainer.gradX${l}.${i}.${j}`,
            variant: 'nt',
            m: batch,
            n: inp.width,
            k: out.width,
            a: { buffer: out.y, ld: out.width },
            b: { buffer: layer.weights[i][j].value, ld: out.width },
            c: { buffer: inp.g, ld: inp.width },
            accumulate: j > 0,
            // The last output block completes dX: dropout backward and act' turn it into dZ of the layer below.
            epilogue: fused && j === outputs.length - 1 ? backwardEpilogue(t, l - 1, inp) : undefined,
          }),
        );
      });
    });
  }

  // Optimizer. Weight decay applies to weights only, never to biases (as in the run schema).
  const biasOptimizer = { ...spec.optimizer, weightDecay: 0 };
  t.layers.forEach((layer, l) => {
    const blocks = [...layer.weights.flat().map((b) => [b, spec.optimizer] as const), ...layer.bias.map((b) => [b, biasOptimizer] as const)];
    for (const [block, optimizer] of blocks) {
      add(
        k.optimizer.prepare({
          label: `Trainer.optimizer${l + 1}`,
          spec: optimizer,
          param: block.value,
          grad: block.grad,
          state1: block.state[0],
          state2: block.state[1],
          count: block.count,
          stepState,
        }),
      );
    }
  });

  curesAfterOptimizer(continual, t).forEach(add);

  return { body: steps, end: schedule.end, batchTargets };
}

function dropoutArgs(t: StepGraphInput, l: number, block: ActivationBlock, input: GPUBuffer, output: GPUBuffer) {
  return {
    label: `Trainer.dropout${l}.${block.offset}`,
    p: t.spec.hidden[l - 1].dropout,
    key: rngKey(t.spec.seed, 'dropout', l),
    stepState: t.stepState,
    rows: t.spec.batch,
    cols: block.width,
    unitOffset: block.offset,
    input: { buffer: input, ld: block.width },
    output: { buffer: output, ld: block.width },
  };
}

/** The dropout of hidden layer l's block in a fused epilogue (none when the layer has no dropout). */
function epilogueDropout(t: StepGraphInput, l: number, block: ActivationBlock): EpilogueDropout | undefined {
  const p = t.spec.hidden[l - 1].dropout;
  return p > 0 ? { p, key: rngKey(t.spec.seed, 'dropout', l), stepState: t.stepState, unitOffset: block.offset } : undefined;
}

/** Z -> Y of hidden layer l's block; A = act(Z) is kept in h only where continual backprop reads it. */
function forwardEpilogue(t: StepGraphInput, l: number, block: ActivationBlock): MatmulEpilogue {
  const dropout = epilogueDropout(t, l, block);
  const h = dropout && t.spec.continualBackprop ? block.h : undefined;
  return { kind: 'forward', activation: t.spec.hidden[l - 1].activation, dropout, y: block.y, ...(h ? { h } : {}) };
}

/** dY (accumulated in g) -> dZ (in y, as the unfused step leaves it) of hidden layer l's block. */
function backwardEpilogue(t: StepGraphInput, l: number, block: ActivationBlock): MatmulEpilogue {
  return { kind: 'backward', activation: t.spec.hidden[l - 1].activation, dropout: epilogueDropout(t, l, block), z: block.z, dz: block.y };
}
