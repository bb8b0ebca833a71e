// What non-stationary training and its cures add to the training step (./step-graph.ts), as dispatches over
// the trainer's buffers, decided once when the step is built:
//   data      slowly_changing: the task switch, the batch and its teacher targets, generated on the GPU
//             (shaders/bitflip.wgsl) instead of the gather; permuted inputs / shuffled labels: the task's
//             permutation applied after the gather or the generator (shaders/tasks.wgsl)
//   start     at the first step of every task, the output layer drawn afresh (tasks.resetOutput)
//   forward   continual backprop: each hidden block's mean |activation| over the batch
//   end       after the optimizer: continual backprop (utility, selection, re-initialisation; shaders/cbp.wgsl),
//             then Shrink & Perturb (shaders/perturb.wgsl)
// and the probe set of the current task for the observatory. Nothing here reads back or costs a submit.
import { composeDispatches, type Dispatch } from '../gpu/dispatch';
import { CBP_SELECTION_HEADER, cbpInitialUnits, cbpMaxReplace } from '../spec/cbp';
import { rngKey } from '../spec/rng-streams';
import type { ActivationBlock, ContinualBuffers, Kernels, ModelBuffers, TrainingData, WeightLayer } from './model-buffers';
import { activationWidths, type ModelSpec } from './model-spec';

/** Which of the optional kernels a run needs. */
export function continualKernelsNeeded(spec: ModelSpec, data: TrainingData): { bitflip: boolean; tasks: boolean; cbp: boolean; perturb: boolean } {
  const t = spec.tasks;
  return {
    bitflip: data.bitflip !== undefined,
    tasks: t !== undefined && (t.permuteInputs || t.shuffleLabels || t.resetOutput),
    cbp: spec.continualBackprop !== undefined,
    perturb: spec.shrinkPerturb !== undefined,
  };
}

/** Allocates (and fills with their initial values) the buffers of the run's task state and cures. */
export function allocateContinual(
  device: GPUDevice,
  spec: ModelSpec,
  data: TrainingData,
  alloc: (label: string, elements: number) => GPUBuffer,
): ContinualBuffers {
  const out: ContinualBuffers = {};
  const write = (buffer: GPUBuffer, array: Uint32Array | Float32Array) => device.queue.writeBuffer(buffer, 0, array.buffer, array.byteOffset, array.byteLength);
  if (data.bitflip) {
    const problem = data.bitflip;
    const flipBits = alloc('task.flipBits', Math.max(1, problem.flipping));
    write(flipBits, problem.initialBits);
    const teacher = alloc('task.teacher', problem.teacher.length);
    write(teacher, problem.teacher);
    out.bitflip = { problem, flipBits, teacher };
  }
  const cbp = spec.continualBackprop;
  if (cbp) {
    out.cbp = spec.hidden.map((h, i) => {
      const maxReplace = cbpMaxReplace(cbp.replacementRate, h.width);
      const units = alloc(`cbp${i + 1}.units`, cbpInitialUnits(h.width).length);
      write(units, cbpInitialUnits(h.width));
      return { units, selection: alloc(`cbp${i + 1}.selection`, CBP_SELECTION_HEADER + maxReplace), maxReplace };
    });
  }
  return out;
}

interface GraphInput {
  spec: ModelSpec;
  kernels: Kernels;
  stepState: GPUBuffer;
  continual: ContinualBuffers;
}

/** The step's batch from the slowly-changing regression: inputs [batch, inputSize] and targets [batch]. */
export function bitflipBatch(g: GraphInput, inputs: GPUBuffer, targets: GPUBuffer): Dispatch {
  const b = g.continual.bitflip!;
  return g.kernels.bitflip!.prepareStep({
    label: 'Trainer.bitflip',
    batch: g.spec.batch,
    inputs,
    targets,
    ...bitflipProblem(g),
    flipBits: b.flipBits,
    teacher: b.teacher,
  });
}

function bitflipProblem(g: GraphInput) {
  const b = g.continual.bitflip!;
  return {
    inputSize: b.problem.inputSize,
    flipping: b.problem.flipping,
    teacherWidth: b.problem.teacherWidth,
    taskEvery: g.spec.tasks?.every ?? 0,
    key: rngKey(g.spec.seed, 'bitflip'),
    stepState: g.stepState,
    flipBits: b.flipBits,
    teacher: b.teacher,
  };
}

/** The task's permutation of the batch's input features: raw [batch, inputSize] -> inputs. */
export function permuteBatch(g: GraphInput, raw: GPUBuffer, inputs: GPUBuffer): Dispatch {
  return g.kernels.tasks!.preparePermuteColumns({
    label: 'Trainer.permuteInputs',
    key: rngKey(g.spec.seed, 'taskPermutation', 0),
    stepState: g.stepState,
    taskEvery: g.spec.tasks!.every,
    completed: false,
    rows: g.spec.batch,
    cols: g.spec.inputSize,
    src: raw,
    dst: inputs,
  });
}

/** The task's relabelling of the batch's class labels, in place. */
export function relabelBatch(g: GraphInput, labels: GPUBuffer): Dispatch {
  return g.kernels.tasks!.prepareRelabel({
    label: 'Trainer.shuffleLabels',
    key: rngKey(g.spec.seed, 'taskPermutation', 1),
    stepState: g.stepState,
    taskEvery: g.spec.tasks!.every,
    rows: g.spec.batch,
    classes: g.spec.outputSize,
    labels,
  });
}

/** At the first step of every task k >= 1: the output layer's weights and bias drawn afresh, their optimizer state zeroed. */
export function outputReset(g: GraphInput, blocks: readonly ActivationBlock[][], layers: readonly WeightLayer[]): Dispatch[] {
  const { spec } = g;
  const l = spec.hidden.length + 1;
  const widths = activationWidths(spec);
  const layer = layers[l - 1];
  const out = blocks[l][0];
  const common = { key: rngKey(spec.seed, 'taskReset', l), stepState: g.stepState, taskEvery: spec.tasks!.every, fanIn: widths[l - 1], fanOut: widths[l] };
  const tasks = g.kernels.tasks!;
  return [
    ...blocks[l - 1].map((inp, i) =>
      tasks.prepareResetBlock({
        ...common,
        label: `Trainer.resetOutputW${i}`,
        scheme: spec.outputInit.weights,
        rows: inp.width,
        cols: out.width,
        globalCols: widths[l],
        rowOffset: inp.offset,
        param: layer.weights[i][0].value,
        states: layer.weights[i][0].state,
      }),
    ),
    // NOTE: the bias is a constant, so it draws nothing; its own key would not matter.
    tasks.prepareResetBlock({
      ...common,
      label: 'Trainer.resetOutputB',
      scheme: spec.outputInit.bias,
      rows: 1,
      cols: out.width,
      globalCols: widths[l],
      param: layer.bias[0].value,
      states: layer.bias[0].state,
    }),
  ];
}

/** Continual backprop, during the forward pass: mean |act(Z)| over the batch of hidden layer l's block. */
export function cbpActivity(g: GraphInput, l: number, block: ActivationBlock, acts: GPUBuffer): Dispatch {
  const cbp = g.continual.cbp![l - 1];
  return g.kernels.cbp!.prepareActivity({
    label: `Trainer.cbpActivity${l}.${block.offset}`,
    units: g.spec.hidden[l - 1].width,
    unitState: cbp.units,
    acts: { buffer: acts, ld: block.width },
    rows: g.spec.batch,
    cols: block.width,
    unitOffset: block.offset,
  });
}

/**
 * After the optimizer: continual backprop on every hidden layer (first every layer's utility and choice, from the
 * weights as the optimizer left them; then, layer by layer, the re-initialisation: incoming, bias, outgoing, as
 * the authors' generate-and-test does), then Shrink & Perturb on every parameter block.
 */
export function curesAfterOptimizer(g: GraphInput, model: Pick<ModelBuffers, 'blocks' | 'layers'>): Dispatch[] {
  const { spec } = g;
  const { blocks, layers } = model;
  const widths = activationWidths(spec);
  const out: Dispatch[] = [];
  const cbp = spec.continualBackprop;
  if (cbp) {
    const k = g.kernels.cbp!;
    const hiddenCount = spec.hidden.length;
    for (let l = 1; l <= hiddenCount; l++) {
      const state = g.continual.cbp![l - 1];
      const units = widths[l];
      const layer = { units, unitState: state.units };
      blocks[l].forEach((rowBlock, j) => {
        blocks[l + 1].forEach((colBlock, c) => {
          out.push(
            k.prepareOutgoing({
              label: `Trainer.cbpOutgoing${l}.${j}.${c}`,
              ...layer,
              weights: { buffer: layers[l].weights[j][c].value, ld: colBlock.width },
              rows: rowBlock.width,
              cols: colBlock.width,
              unitOffset: rowBlock.offset,
              accumulate: c > 0,
            }),
          );
        });
      });
      out.push(k.prepareUtility({ label: `Trainer.cbpUtility${l}`, ...layer, decay: cbp.decay }));
      out.push(
        k.prepareSelect({
          label: `Trainer.cbpSelect${l}`,
          ...layer,
          maturity: cbp.maturity,
          rate: cbp.replacementRate,
          maxReplace: state.maxReplace,
          selection: state.selection,
        }),
      );
    }
    for (let l = 1; l <= hiddenCount; l++) {
      const state = g.continual.cbp![l - 1];
      const reset = { units: widths[l], unitState: state.units, stepState: g.stepState, selection: state.selection, maxReplace: state.maxReplace };
      const init = spec.hidden[l - 1].init;
      blocks[l].forEach((unitBlock, j) => {
        blocks[l - 1].forEach((inBlock, i) => {
          const w = layers[l - 1].weights[i][j];
          out.push(
            k.prepareReset({
              label: `Trainer.cbpIncoming${l}.${i}.${j}`,
              mode: 'incoming',
              ...reset,
              block: { buffer: w.value, ld: unitBlock.width },
              rows: inBlock.width,
              cols: unitBlock.width,
              states: w.state,
              unitOffset: unitBlock.offset,
              rowOffset: inBlock.offset,
              scheme: init.weights,
              fanIn: widths[l - 1],
              fanOut: widths[l],
              key: rngKey(spec.seed, 'cbpInit', l),
            }),
          );
        });
        const bias = layers[l - 1].bias[j];
        out.push(
          k.prepareReset({
            label: `Trainer.cbpBias${l}.${j}`,
            mode: 'bias',
            ...reset,
            block: { buffer: bias.value, ld: unitBlock.width },
            rows: 1,
            cols: unitBlock.width,
            states: bias.state,
            unitOffset: unitBlock.offset,
            value: init.bias.kind === 'constant' ? init.bias.value : 0,
          }),
        );
        blocks[l + 1].forEach((colBlock, c) => {
          const w = layers[l].weights[j][c];
          out.push(
            k.prepareReset({
              label: `Trainer.cbpOutgoing${l}.${j}.${c}.reset`,
              mode: 'outgoing',
              ...reset,
              block: { buffer: w.value, ld: colBlock.width },
              rows: unitBlock.width,
              cols: colBlock.width,
              states: w.state,
              unitOffset: unitBlock.offset,
            }),
          );
        });
      });
    }
  }
  const sp = spec.shrinkPerturb;
  if (sp) {
    const k = g.kernels.perturb!;
    layers.forEach((layer, index) => {
      const l = index + 1;
      const common = {
        key: rngKey(spec.seed, 'perturb', l),
        stepState: g.stepState,
        shrink: sp.shrink,
        noise: sp.noise,
        every: sp.every,
        globalCols: widths[l],
      };
      blocks[l].forEach((outBlock, j) => {
        blocks[l - 1].forEach((inBlock, i) => {
          out.push(
            k.prepare({
              ...common,
              label: `Trainer.perturbW${l}.${i}.${j}`,
              param: { buffer: layer.weights[i][j].value, ld: outBlock.width },
              rows: inBlock.width,
              cols: outBlock.width,
              rowOffset: inBlock.offset,
              colOffset: outBlock.offset,
            }),
          );
        });
        // The bias is row fanIn of the layer's RNG index space.
        out.push(
          k.prepare({
            ...common,
            label: `Trainer.perturbB${l}.${j}`,
            param: { buffer: layer.bias[j].value, ld: outBlock.width },
            rows: 1,
            cols: outBlock.width,
            rowOffset: widths[l - 1],
            colOffset: outBlock.offset,
          }),
        );
      });
    });
  }
  return out;
}

/**
 * The probe set of the task the last completed step trained on, rewritten before every probe pass: the
 * slowly-changing regression's current task (its flipping bits as they are now), and/or the fixed probe rows
 * `base` [rows, inputSize] under the task's input permutation. Undefined when the probe set does not change with
 * the task. `probe` is where the pass then reads (base itself when nothing needs keeping).
 */
export function probeForTask(
  g: GraphInput,
  base: GPUBuffer,
  rows: number,
  alloc: (label: string, elements: number) => GPUBuffer,
): { probe: GPUBuffer; refresh: Dispatch } | undefined {
  const permute = g.spec.tasks?.permuteInputs === true;
  const parts: Dispatch[] = [];
  if (g.continual.bitflip) {
    const problem = g.continual.bitflip.problem;
    const exhaustive = rows === 2 ** (problem.inputSize - 1 - problem.flipping);
    parts.push(g.kernels.bitflip!.prepareProbe({ label: 'Observatory.probeTask', rows, exhaustive, inputs: base, ...bitflipProblem(g) }));
  }
  let probe = base;
  if (permute) {
    probe = alloc('probePermuted', rows * g.spec.inputSize);
    parts.push(g.kernels.tasks!.preparePermuteColumns(probePermutation(g, base, probe, rows)));
  }
  return parts.length === 0 ? undefined : { probe, refresh: composeDispatches('Observatory.probeForTask', parts) };
}

function probePermutation(g: GraphInput, base: GPUBuffer, probe: GPUBuffer, rows: number) {
  return {
    label: 'Observatory.probePermutation',
    key: rngKey(g.spec.seed, 'taskPermutation', 0),
    stepState: g.stepState,
    taskEvery: g.spec.tasks!.every,
    completed: true,
    rows,
    cols: g.spec.inputSize,
    src: base,
    dst: probe,
  };
}
