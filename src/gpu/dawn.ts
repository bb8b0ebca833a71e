// Node-only: a WebGPU adapter through Dawn (npm package `webgpu`). Never import this from browser code.
import { create, globals } from 'webgpu';
import { acquireGpu, type AcquireOptions, type GpuContext } from './device.js';
import { withQuietStderr } from './quiet-stderr';

const SETUP_HINT =
  'Dawn found no Vulkan driver. On a machine without a GPU install Mesa lavapipe >= 23 ' +
  '(Debian 12: `sudo npm run setup`, or `apt-get install -t bookworm-backports libvulkan1 mesa-vulkan-drivers`). ' +
  'To use another Vulkan driver, point VK_ICD_FILENAMES at its ICD json. If DEADUNITS_DAWN is set, check that it names an available adapter.';

// NOTE: Dawn's instance dies when its `GPU` object is garbage-collected, and every device made from it
// then crashes the process at the next GC ("std::system_error: Invalid argument"). So the instances
// live here for the life of the process.
const instances = new Map<string, GPU>();

/** Dawn's `GPU` object for these options, with the WebGPU globals (GPUBufferUsage, ...) installed. */
function nodeGpu(dawnOptions: string[]): GPU {
  const key = dawnOptions.join(',');
  let gpu = instances.get(key);
  if (!gpu) {
    Object.assign(globalThis, globals);
    // Mesa warns on every start without it; any writable folder will do.
    process.env.XDG_RUNTIME_DIR ??= '/tmp';
    gpu = create(dawnOptions);
    instances.set(key, gpu);
  }
  return gpu;
}

export interface DawnOptions extends AcquireOptions {
  /** Raw Dawn options, e.g. ['backend=vulkan', 'adapter=llvmpipe']. */
  dawn?: string[];
}

export async function acquireNodeGpu(options: DawnOptions = {}): Promise<GpuContext> {
  const dawn = options.dawn ?? envDawnOptions();
  const gpu = nodeGpu(dawn);
  // Dawn prints its adapter warnings during the synchronous part of requestAdapter: keep them from the user.
  const quiet = { requestAdapter: (o?: GPURequestAdapterOptions) => withQuietStderr(() => gpu.requestAdapter(o)) } as GPU;
  return acquireGpu(quiet, options, SETUP_HINT);
}

/** DEADUNITS_DAWN="backend=vulkan,adapter=SwiftShader" picks the adapter without code changes. */
function envDawnOptions(): string[] {
  const raw = process.env.DEADUNITS_DAWN;
  return raw
    ? raw
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean)
    : [];
}
