// TF.js for the page, loaded on demand (a separate chunk: the page draws before it arrives, and only
// bench.html ever pulls TF.js into a bundle). Its WebGPU backend asks navigator.gpu for an adapter, the
// same one the browser gave our engine.
import type { Tf } from '../tfjs-mlp';

export async function loadTfjsBrowser(): Promise<Tf> {
  const tf = await import('@tensorflow/tfjs');
  await import('@tensorflow/tfjs-backend-webgpu');
  if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not initialize its WebGPU backend in this browser');
  await tf.ready();
  return tf;
}
