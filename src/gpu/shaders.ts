// Turns shaders/*.wgsl into pipelines. WGSL has no #include, so shared code (common helpers, the StepState
// struct, the Philox RNG) is concatenated here, in one place. Pipelines are cached per device and override set.
import activationFn from '../../shaders/activation_fn.wgsl?raw';
import common from '../../shaders/common.wgsl?raw';
import dropoutMask from '../../shaders/dropout_mask.wgsl?raw';
import initDraw from '../../shaders/init_draw.wgsl?raw';
import philox from '../../shaders/philox.wgsl?raw';
import stepState from '../../shaders/step_state.wgsl?raw';

export const SHARED_SOURCES = { common, stepState, philox, dropoutMask, initDraw, activationFn } as const;

export interface PipelineSpec {
  /** Label prefix, e.g. 'Matmul'; the pipeline is labelled 'Matmul.forward'. */
  family: string;
  /** The kernel file's text (imported with ?raw). */
  source: string;
  entryPoint: string;
  /** Prepend shaders/philox.wgsl. */
  usesPhilox?: boolean;
  /** Prepend shaders/philox.wgsl and shaders/dropout_mask.wgsl (dropout's mask formula). */
  usesDropoutMask?: boolean;
  /** Prepend shaders/philox.wgsl and shaders/init_draw.wgsl (the init distributions' draws). */
  usesInitDraw?: boolean;
  /** Prepend shaders/activation_fn.wgsl (the activation functions and their derivatives). */
  usesActivation?: boolean;
  /** Values of the module's `override` constants (workgroup sizes among them: the host's dispatch math uses the same numbers). */
  constants?: Readonly<Record<string, number>>;
  /** WGSL extensions to `enable` (e.g. 'subgroups'); the directives go before every other line. */
  enables?: string[];
}

/** The shared snippets a kernel asked for, in dependency order, and a key naming that choice. */
function sharedSources(spec: PipelineSpec): { sources: string[]; key: string } {
  const names: Array<keyof typeof SHARED_SOURCES> = [];
  if (spec.usesPhilox || spec.usesDropoutMask || spec.usesInitDraw) names.push('philox');
  if (spec.usesDropoutMask) names.push('dropoutMask');
  if (spec.usesInitDraw) names.push('initDraw');
  if (spec.usesActivation) names.push('activationFn');
  return { sources: names.map((n) => SHARED_SOURCES[n]), key: names.join('+') };
}

const moduleCache = new WeakMap<GPUDevice, Map<string, GPUShaderModule>>();
const pipelineCache = new WeakMap<GPUDevice, Map<string, Promise<GPUComputePipeline>>>();

function shaderModule(device: GPUDevice, spec: PipelineSpec): GPUShaderModule {
  let modules = moduleCache.get(device);
  if (!modules) moduleCache.set(device, (modules = new Map()));
  const enables = (spec.enables ?? []).map((e) => `enable ${e};`).join('\n');
  const shared = sharedSources(spec);
  const key = `${spec.family}|${shared.key}|${enables}`;
  let module = modules.get(key);
  if (!module) {
    const code = [enables, common, stepState, ...shared.sources, spec.source].join('\n');
    module = device.createShaderModule({ label: spec.family, code });
    modules.set(key, module);
  }
  return module;
}

/** Compiles (once per device) and returns the pipeline; a WGSL error rejects with the kernel's label. */
export function computePipeline(device: GPUDevice, spec: PipelineSpec): Promise<GPUComputePipeline> {
  let pipelines = pipelineCache.get(device);
  if (!pipelines) pipelineCache.set(device, (pipelines = new Map()));
  const constants = spec.constants ?? {};
  const key = `${spec.family}.${spec.entryPoint}|${sharedSources(spec).key}|${(spec.enables ?? []).join(',')}|${JSON.stringify(Object.entries(constants).sort())}`;
  let pipeline = pipelines.get(key);
  if (!pipeline) {
    const label = `${spec.family}.${spec.entryPoint}`;
    const module = shaderModule(device, spec);
    pipeline = device
      .createComputePipelineAsync({ label, layout: 'auto', compute: { module, entryPoint: spec.entryPoint, constants } })
      .catch(async (error: Error) => {
        const info = await module.getCompilationInfo();
        const messages = info.messages
          .filter((m) => m.type === 'error')
          .map((m) => `  line ${m.lineNum}:${m.linePos}: ${m.message}`)
          .join('\n');
        throw new Error(`${label}: pipeline creation failed: ${error.message}${messages ? `\n${messages}` : ''}`);
      });
    pipelines.set(key, pipeline);
  }
  return pipeline;
}
