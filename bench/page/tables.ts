// HTML tables of cases, ratios and comparisons, built with DOM calls (no innerHTML: values come from files
// the user loads). The rows are the same as the CLI's (bench/report.ts, bench/compare.ts).
import type { Comparison } from '../compare';
import { CASE_HEADERS, RATIO_HEADERS, caseRow, ratioRow } from '../report';
import type { CaseResult, Ratio } from '../schema';
import { formatNumber } from '../timing';

export function fillTable(table: HTMLTableElement, headers: string[], rows: string[][], classOf?: (row: string[], index: number) => string): void {
  table.replaceChildren();
  const head = table.createTHead().insertRow();
  for (const h of headers) {
    const th = document.createElement('th');
    th.textContent = h;
    head.append(th);
  }
  const body = table.createTBody();
  rows.forEach((row, index) => {
    const tr = body.insertRow();
    const cls = classOf?.(row, index);
    if (cls) tr.className = cls;
    for (const cell of row) tr.insertCell().textContent = cell;
  });
}

export function renderCases(table: HTMLTableElement, cases: readonly CaseResult[]): void {
  fillTable(table, CASE_HEADERS, cases.map(caseRow), (_, i) => `impl-${cases[i].impl}`);
}

export function renderRatios(table: HTMLTableElement, ratios: readonly Ratio[]): void {
  fillTable(
    table,
    ['#', ...RATIO_HEADERS],
    ratios.map((r, i) => [String(i + 1), ...ratioRow(r)]),
    (_, i) => {
      const r = ratios[i];
      return r.goal === undefined ? '' : r.value >= r.goal ? 'meets-goal' : 'misses-goal';
    },
  );
}

const show = (x: number | null, suffix = '') => (x === null ? '-' : `${formatNumber(x)}${suffix}`);

export function renderComparison(table: HTMLTableElement, c: Comparison): void {
  const rows = [
    ...c.cases.map((r) => [r.label, r.unit, show(r.a), show(r.b), r.ratio === null ? '-' : `${r.ratio.toFixed(2)}×`]),
    ...c.ratios.map((r) => [r.name, 'ratio', show(r.a, '×'), show(r.b, '×'), r.a !== null && r.b !== null ? `${(r.b / r.a).toFixed(2)}×` : '-']),
  ];
  fillTable(table, ['case', 'unit', 'A', 'B', 'B/A'], rows);
}
