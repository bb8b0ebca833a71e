// Node-only: TensorFlow.js with its WebGPU backend on the same Dawn `GPU` object (hence the same adapter)
// as our engine. Node 20 has no `navigator`; TF.js looks for navigator.gpu when the backend registers.
import type { GpuContext } from '../src/gpu/device';
import type { Tf } from './tfjs-mlp';

export async function loadTfjsNode(gpu: GpuContext): Promise<Tf> {
  const g = globalThis as { navigator?: { gpu?: GPU } };
  if (!g.navigator) Object.defineProperty(globalThis, 'navigator', { value: {}, configurable: true, writable: true });
  g.navigator!.gpu = gpu.handles.gpu;
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialize its WebGPU backend on this adapter');
  await tf.ready();
  return tf;
}

/**
 * Frees TF.js's tensors and destroys its WebGPU device: a Dawn device left alive keeps Node from exiting
 * (and must be gone before process.exit).
 */
export function releaseTfjsNode(tf: Tf): void {
  const backend = tf.findBackend('webgpu') as { device?: GPUDevice } | null;
  tf.disposeVariables();
  tf.engine().reset();
  backend?.device?.destroy();
}
