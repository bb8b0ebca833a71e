// A markdown summary of result files for the README: one column per run, one row per ratio (with its goal),
// then the headline figures. `npm run bench -- --summary bench/results/*.json`.
import type { BenchResult } from './schema';
import { formatNumber } from './timing';

/** Short column title: adapter, host and date; software and quick runs say so. */
export function runTitle(r: BenchResult): string {
  const a = r.adapter;
  const name = [a.vendor, a.architecture, a.device || a.description].filter(Boolean).join(' ') || 'unnamed adapter';
  const host = r.host === 'node' ? 'Node/Dawn' : browserName(r.userAgent ?? '');
  const labels = [a.isSoftware ? 'software' : '', r.quick ? 'quick smoke run' : ''].filter(Boolean);
  return `${name}, ${host}, ${r.startedAt.slice(0, 10)}${labels.length ? ` (${labels.join(', ')})` : ''}`;
}

/** The browser's name and major version from a user agent, e.g. "Chrome 156". */
export function browserName(userAgent: string): string {
  for (const [name, pattern] of [
    ['Edge', /Edg\/(\d+)/],
    ['Firefox', /Firefox\/(\d+)/],
    ['Chrome', /Chrome\/(\d+)/],
    ['Safari', /Version\/(\d+)[.\d]* .*Safari/],
  ] as const) {
    const m = pattern.exec(userAgent);
    if (m) return `${name} ${m[1]}`;
  }
  return 'browser';
}

const cell = (s: string) => s.replace(/\|/g, '\\|');

export function markdownSummary(results: readonly BenchResult[]): string {
  const header = `| ratio | goal | ${results.map((r) => cell(runTitle(r))).join(' | ')} |`;
  const rule = `| --- | --- | ${results.map(() => '---').join(' | ')} |`;
  const names = [...new Set(results.flatMap((r) => r.ratios.map((x) => x.name)))];
  const rows = names.map((name) => {
    const goal = results.flatMap((r) => r.ratios).find((x) => x.name === name && x.goal !== undefined)?.goal;
    const values = results.map((r) => {
      const ratio = r.ratios.find((x) => x.name === name);
      if (!ratio) return '–';
      const verdict = ratio.goal === undefined ? '' : ratio.value >= ratio.goal ? ' ✓' : ' ✗';
      return `${ratio.value.toFixed(2)}×${verdict}`;
    });
    return `| ${cell(name)} | ${goal === undefined ? '' : `≥ ${goal}×`} | ${values.join(' | ')} |`;
  });
  const ids = [...new Set(results.flatMap((r) => r.cases.map((c) => c.id)))];
  const caseRows = ids.map((id) => {
    const first = results.flatMap((r) => r.cases).find((c) => c.id === id)!;
    const values = results.map((r) => {
      const c = r.cases.find((x) => x.id === id);
      return c ? formatNumber(c.median) : '–';
    });
    return `| ${cell(first.label)} | ${first.unit}, ${first.timing} | ${values.join(' | ')} |`;
  });
  return [
    header,
    rule,
    ...rows,
    '',
    `| case (median) | unit, timing | ${results.map((r) => cell(runTitle(r))).join(' | ')} |`,
    `| --- | --- | ${results.map(() => '---').join(' | ')} |`,
    ...caseRows,
  ].join('\n');
}
