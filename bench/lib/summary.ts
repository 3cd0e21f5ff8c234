/**
 * BENCHMARKS.md's opening table: every figure that has a target (the issue's, from targets.ts, or the
 * one the script recorded), from the latest result line of each script, with its baseline, ratio,
 * target, met/missed and, for a missed one, what limits it in one sentence.
 */
import { significant } from './format.js';
import type { BenchResult, Figure } from './report.js';
import { TARGETS, type Target } from './targets.js';

export interface SummaryRow {
  bench: string;
  label: string;
  figure?: Figure;
  target: string;
  /** undefined: not measured in the latest run of its script. */
  met?: boolean;
  why?: string;
}

const firstNamed = (result: BenchResult | undefined, name: string) =>
  result?.figures.find((f) => f.name === name && f.target !== undefined) ??
  result?.figures.find((f) => f.name === name);

function fromTarget(target: Target, result: BenchResult | undefined): SummaryRow | null {
  const figure = firstNamed(result, target.figure);
  const text = target.target ?? figure?.target;
  if (!text) return null;
  const met = figure ? (target.check ? target.check(figure) : figure.met) : undefined;
  return {
    bench: target.bench,
    label: target.label ?? target.figure,
    ...(figure ? { figure } : {}),
    target: text,
    ...(met === undefined ? {} : { met }),
    ...(met === false ? { why: figure?.reason ?? target.why ?? 'not yet explained in the run’s notes' } : {}),
  };
}

/** The rows, scripts in `order`: the issue's targets first within each script, then the scripts' own. */
export function summaryRows(latest: Map<string, BenchResult>, order: readonly string[]): SummaryRow[] {
  const benches = [...order, ...TARGETS.map((t) => t.bench).filter((b) => !order.includes(b))];
  return [...new Set(benches)].flatMap((bench) => {
    const result = latest.get(bench);
    const mine = TARGETS.filter((t) => t.bench === bench);
    const rows = mine.flatMap((t) => fromTarget(t, result) ?? []);
    const covered = new Set(mine.map((t) => t.figure));
    const seen = new Set<string>();
    for (const figure of result?.figures ?? []) {
      if (figure.target === undefined || covered.has(figure.name) || seen.has(figure.name)) continue;
      seen.add(figure.name);
      // A long name's parenthesis stays in the section below: the summary has to fit a screen.
      const label = figure.name.replace(/ \([^)]*\)$/, '');
      const row = fromTarget({ bench, figure: figure.name, label }, result);
      if (row) rows.push(row);
    }
    return rows;
  });
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** The rows as one Markdown table, then the reason for each missed one as a numbered line under it. */
export function summaryTable(rows: SummaryRow[]): string {
  const reasons: string[] = [];
  const head = ['script', 'figure', 'value', 'baseline (same run)', 'ratio', 'target', 'status'];
  const lines = rows.map(({ bench, label, figure, target, met, why }) => {
    if (met === false) reasons.push(`${reasons.length + 1}. ${label}: ${why}`);
    return [
      bench,
      label,
      figure ? `${significant(figure.value)} ${figure.unit}` : 'not measured yet',
      figure?.baseline ? `${significant(figure.baseline.value)} ${figure.unit}` : '',
      figure?.ratio === undefined ? '' : `${figure.ratio.toFixed(2)}×`,
      target,
      met === undefined ? '–' : met ? 'met' : `**missed** (${reasons.length})`,
    ];
  });
  const table = [head, head.map(() => '---'), ...lines].map((row) => `| ${row.map(cell).join(' | ')} |`);
  return [...table, '', 'What limits each missed one:', '', ...reasons].join('\n');
}
