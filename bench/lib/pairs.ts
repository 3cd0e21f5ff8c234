/**
 * Interleaved windows of ours and a baseline, compared pair by pair: a single run's ratio moves with the
 * neighbours' load, the median of the per-pair ratios much less, and the spread says how much it moved.
 */
import { roundTo } from './format.js';
import { percentile } from './report.js';

export interface PairedFigure {
  /** Median of our per-window values, and of the baseline's. */
  value: number;
  baseline: number;
  /** ours / baseline in each pair, in the order measured. */
  ratios: number[];
  /** Median of `ratios` (not value / baseline). */
  ratio: number;
}

export const median = (values: number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 === 1
    ? (sorted[Math.floor(middle)] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
};

/** Pairs `ours[i]` with `baseline[i]` (the same window of a round). */
export function paired(ours: number[], baseline: number[]): PairedFigure {
  if (ours.length !== baseline.length || ours.length === 0) throw new Error('windows must come in pairs');
  const ratios = ours.map((value, i) => value / (baseline[i] as number));
  return { value: median(ours), baseline: median(baseline), ratios, ratio: median(ratios) };
}

/** "median 1.32× over 5 pairs (1.10–1.61×: 1.32, 1.10, …)", for params and notes. */
export function spread(figure: PairedFigure): string {
  const finite = figure.ratios.filter(Number.isFinite);
  return (
    `median ${roundTo(figure.ratio, 2)}× over ${figure.ratios.length} pairs ` +
    `(${roundTo(percentile(finite, 0), 2)}–${roundTo(percentile(finite, 100), 2)}×: ` +
    `${figure.ratios.map((r) => roundTo(r, 2)).join(', ')})`
  );
}
