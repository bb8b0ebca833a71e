// Two results side by side: cases matched by id (same shape, same implementation), B's median over A's,
// and each run's own ratios next to each other. Used by `npm run bench -- --compare a.json b.json` and the page.
import type { BenchResult } from './schema';
import { adapterLine } from './report';
import { formatNumber, formatTable } from './timing';

export interface CaseComparison {
  id: string;
  label: string;
  unit: string;
  /** Medians; null where that run lacks the case. */
  a: number | null;
  b: number | null;
  /** b / a where both exist: > 1 means B is faster (every unit is higher-is-better). */
  ratio: number | null;
}

export interface RatioComparison {
  name: string;
  a: number | null;
  b: number | null;
}

export interface Comparison {
  a: string;
  b: string;
  cases: CaseComparison[];
  ratios: RatioComparison[];
  /** Reasons the comparison may mislead (quick vs full, different schema of timing...). */
  warnings: string[];
}

export function compareResults(a: BenchResult, b: BenchResult): Comparison {
  const warnings: string[] = [];
  if (a.quick !== b.quick) warnings.push('one run is a quick smoke run (tiny shapes), the other a full one: their cases do not match');
  const bById = new Map(b.cases.map((c) => [c.id, c]));
  const aIds = new Set(a.cases.map((c) => c.id));
  const cases: CaseComparison[] = a.cases.map((ca) => {
    const cb = bById.get(ca.id);
    if (cb && cb.timing !== ca.timing) warnings.push(`${ca.id}: timed by ${ca.timing} in A but ${cb.timing} in B`);
    return { id: ca.id, label: ca.label, unit: ca.unit, a: ca.median, b: cb?.median ?? null, ratio: cb ? cb.median / ca.median : null };
  });
  for (const cb of b.cases) {
    if (!aIds.has(cb.id)) cases.push({ id: cb.id, label: cb.label, unit: cb.unit, a: null, b: cb.median, ratio: null });
  }
  const names = [...new Set([...a.ratios.map((r) => r.name), ...b.ratios.map((r) => r.name)])];
  const ratios = names.map((name) => ({
    name,
    a: a.ratios.find((r) => r.name === name)?.value ?? null,
    b: b.ratios.find((r) => r.name === name)?.value ?? null,
  }));
  return { a: adapterLine(a), b: adapterLine(b), cases, ratios, warnings };
}

const show = (x: number | null, suffix = '') => (x === null ? '-' : `${formatNumber(x)}${suffix}`);

export function formatComparison(c: Comparison): string {
  const parts = [`A: ${c.a}`, `B: ${c.b}`, ''];
  parts.push(
    formatTable(
      ['case', 'unit', 'A', 'B', 'B/A'],
      c.cases.map((r) => [r.label, r.unit, show(r.a), show(r.b), r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`]),
    ),
  );
  if (c.ratios.length)
    parts.push(
      '',
      formatTable(
        ['ratio', 'A', 'B'],
        c.ratios.map((r) => [r.name, show(r.a, '×'), show(r.b, '×')]),
      ),
    );
  for (const w of c.warnings) parts.push(`warning: ${w}`);
  return parts.join('\n');
}
