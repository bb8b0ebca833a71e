// Text and row views of results, shared by the CLI (console tables) and the page (HTML tables).
import type { BenchResult, CaseResult, Ratio } from './schema';
import { formatNumber, formatTable } from './timing';

export function adapterLine(result: BenchResult): string {
  const a = result.adapter;
  const host = result.host === 'node' ? `Node ${result.node}` : result.userAgent;
  // Browsers may leave device and description empty (privacy): print only what is there.
  const name = [a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' / ') || 'unnamed adapter';
  return `${name}${a.isSoftware ? ' (software adapter)' : ''} — ${host}`;
}

/** Spread as ±half the p10..p90 range relative to the median, e.g. "±4.1 %". */
export function spreadText(c: CaseResult): string {
  return `±${((50 * (c.p90 - c.p10)) / c.median).toFixed(1)} %`;
}

export function caseRow(c: CaseResult): string[] {
  const gflops = c.derived?.gflops;
  const extras = [
    ...(gflops !== undefined ? [`${formatNumber(gflops)} GFLOP/s`] : []),
    // A training step's dispatches and modelled bytes (src/engine/step-traffic.ts).
    ...(typeof c.params.dispatchesPerStep === 'number' ? [`${c.params.dispatchesPerStep} dispatches`] : []),
    ...(typeof c.params.bytesPerStep === 'number' ? [`${formatNumber(c.params.bytesPerStep / 1e6)} MB`] : []),
  ];
  return [c.label, formatNumber(c.median), c.unit + (extras.length ? ` (${extras.join(', ')})` : ''), spreadText(c), String(c.samples.length), c.timing];
}
export const CASE_HEADERS = ['case', 'median', 'unit', 'p10-p90', 'n', 'timing'];

export function ratioRow(r: Ratio): string[] {
  const verdict = r.goal === undefined ? '' : r.value >= r.goal ? `meets goal ≥ ${r.goal}` : `MISSES goal ≥ ${r.goal}`;
  return [r.name, `${r.value.toFixed(2)}×`, verdict];
}
export const RATIO_HEADERS = ['ratio', 'value', 'goal'];

export function formatResult(result: BenchResult): string {
  const parts = [`adapter: ${adapterLine(result)}`, `features: ${result.adapter.features.join(', ')}`];
  if (result.tfjs) parts.push(`TF.js ${result.tfjs.version} (${result.tfjs.backend} backend${result.tfjs.adapter ? ` on ${result.tfjs.adapter}` : ''})`);
  parts.push('', formatTable(CASE_HEADERS, result.cases.map(caseRow)));
  if (result.ratios.length) parts.push('', formatTable(RATIO_HEADERS, result.ratios.map(ratioRow)));
  for (const note of result.notes) parts.push(`note: ${note}`);
  parts.push(`${result.quick ? 'QUICK run (tiny shapes; not a measurement). ' : ''}${result.durationSeconds.toFixed(0)} s`);
  return parts.join('\n');
}
