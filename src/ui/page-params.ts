// Page parameters beside the run configuration in the URL, and the toolbar's number fields: parsed here (no DOM), so
// that a bad value always gets a message naming the parameter and the allowed range.
import { parseConfigName } from '../gpu/kernels/matmul-configs';
import { MAX_STEPS_PER_FRAME } from './protocol';

/** URL parameters of the page that are not part of the run configuration (url-state leaves them alone). */
export const PAGE_PARAMS = ['spf', 'kernels'] as const;
/** No cap: the Worker sizes chunks of training by time (src/engine/chunk-pacer.ts). */
export const DEFAULT_STEPS_PER_FRAME: number | null = null;

const fmt = (n: number) => n.toLocaleString('en-US');

/** The cap on steps per frame from the page URL's `spf`: an integer in [1, MAX_STEPS_PER_FRAME], else the default and an error. */
export function stepsPerFrameFromUrl(search: string): { value: number | null; error?: string } {
  const text = new URLSearchParams(search).get('spf');
  if (text === null) return { value: DEFAULT_STEPS_PER_FRAME };
  const value = Number(text);
  if (text.trim() === '' || !Number.isInteger(value) || value < 1 || value > MAX_STEPS_PER_FRAME) {
    return {
      value: DEFAULT_STEPS_PER_FRAME,
      error: `URL parameter spf: ${JSON.stringify(text)} is not an integer in [1, ${MAX_STEPS_PER_FRAME}]; using ${DEFAULT_STEPS_PER_FRAME ?? 'no cap'}`,
    };
  }
  return { value };
}

/**
 * The matmul kernels from the page URL's `kernels`: 'auto' (absent: tuned per shape, remembered in IndexedDB) or one
 * configuration name forced on every product (src/gpu/kernels/matmul-configs.ts); a malformed name gives an error and auto.
 */
export function kernelsFromUrl(search: string): { value: string; error?: string } {
  const text = new URLSearchParams(search).get('kernels');
  if (text === null || text === 'auto') return { value: 'auto' };
  const parsed = parseConfigName(text);
  if (typeof parsed === 'string') return { value: 'auto', error: `URL parameter kernels: ${parsed}; using auto` };
  return { value: text };
}

/** `href` with `spf` set (or removed when it is the default). */
export function urlWithStepsPerFrame(href: string, stepsPerFrame: number | null): string {
  const url = new URL(href);
  if (stepsPerFrame === DEFAULT_STEPS_PER_FRAME || stepsPerFrame === null) url.searchParams.delete('spf');
  else url.searchParams.set('spf', String(stepsPerFrame));
  return url.toString();
}

/** A toolbar number: an integer in [1, max], or the message shown next to the field. */
export function parseToolbarInteger(text: string, max: number, what: string): { value?: number; error?: string } {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isInteger(value) || value < 1 || value > max)
    return { error: `${what}: ${JSON.stringify(text)} is not an integer in [1, ${fmt(max)}]` };
  return { value };
}

/** The toolbar's cap on steps per frame: empty for none, else an integer in [1, max] (or the message shown next to the field). */
export function parseStepsPerFrameCap(text: string, max: number): { value?: number | null; error?: string } {
  if (text.trim() === '') return { value: null };
  return parseToolbarInteger(text, max, 'steps per frame');
}
