import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { significant } from './format.js';

/** One measured figure, next to the baseline it was measured against in the same run. */
export interface Figure {
  /** What was measured, e.g. "idle SSE". */
  name: string;
  value: number;
  /** e.g. "KB/h", "bytes", "ms", "req/s". */
  unit: string;
  /** The baseline measured in the same run, when the question has one. */
  baseline?: { name: string; value: number };
  /** value / baseline.value, filled in by `figure()`. */
  ratio?: number;
  /** The target, in words, e.g. "≤ 25 KB/h". */
  target?: string;
  /** Whether the target holds; undefined when the figure has no target. */
  met?: boolean;
  /** When the target is missed: what limits it, in one measured sentence (BENCHMARKS.md's summary). */
  reason?: string;
}

/** What one bench script measured in one run. */
export interface BenchResult {
  /** The script's name: `npm run bench -- <name>`. */
  bench: string;
  title: string;
  startedAt: string;
  durationMs: number;
  /** Counts, durations and settings the figures depend on. */
  params: Record<string, string | number | boolean>;
  figures: Figure[];
  /** Markdown for BENCHMARKS.md: what the figures mean for a user and what limits them physically. */
  explanation: string;
  /** Measured reasons for any missed target, and what would fix them. */
  notes?: string[];
}

export const RESULTS_FILE = fileURLToPath(new URL('../results.jsonl', import.meta.url));

/** Builds a figure, computing the ratio against its baseline. */
export function figure(
  name: string,
  value: number,
  unit: string,
  extra: { baseline?: { name: string; value: number }; target?: string; met?: boolean; reason?: string } = {},
): Figure {
  const ratio = extra.baseline && extra.baseline.value !== 0 ? value / extra.baseline.value : undefined;
  return { name, value, unit, ...extra, ...(ratio === undefined ? {} : { ratio }) };
}

/** The figures as a Markdown table (also readable in a terminal). */
export function table(figures: Figure[]): string {
  const rows = figures.map((f) => [
    f.name,
    `${significant(f.value)} ${f.unit}`,
    f.baseline ? `${f.baseline.name}: ${significant(f.baseline.value)} ${f.unit}` : '',
    f.ratio === undefined ? '' : `${f.ratio.toFixed(2)}×`,
    f.target ?? '',
    f.met === undefined ? '' : f.met ? 'met' : '**missed**',
  ]);
  const head = ['figure', 'value', 'baseline (same run)', 'ratio', 'target', ''];
  return [head, head.map(() => '---'), ...rows].map((row) => `| ${row.join(' | ')} |`).join('\n');
}

/** The Markdown note on a benchmark's method, meaning and physical limits (text that does not change per run). */
export const notesFile = (bench: string): string => `bench/notes/${bench}.md`;

/** Prints the result and appends it to bench/results.jsonl, from which `npm run bench` writes BENCHMARKS.md. */
export function report(result: BenchResult): void {
  console.log(`\n## ${result.title}\n\n${table(result.figures)}\n`);
  console.log(`method, meaning and physical limits: ${notesFile(result.bench)}`);
  for (const note of result.notes ?? []) console.log(`note: ${note}`);
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  appendFileSync(RESULTS_FILE, `${JSON.stringify({ ...result, machine: machine() })}\n`);
}

/** Reads every result recorded so far, oldest first. */
export function readResults(): (BenchResult & { machine: string })[] {
  if (!existsSync(RESULTS_FILE)) return [];
  return readFileSync(RESULTS_FILE, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line));
}

/** This machine in one line: CPU, cores, memory, OS and Node. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  const gib = (os.totalmem() / 2 ** 30).toFixed(0);
  return `${cpu}, ${os.availableParallelism()} cores, ${gib} GiB, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** Starts a stopwatch; `since()` gives milliseconds as a float. */
export const stopwatch = () => {
  const start = process.hrtime.bigint();
  return () => Number(process.hrtime.bigint() - start) / 1e6;
};

/** Reads a count from the environment (e.g. BENCH_CONNECTIONS), with a default. */
export function envNumber(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`${name} must be a non-negative number, got "${raw}"`);
  return value;
}

/** A comma-separated list of positive rates from the environment (e.g. BENCH_LATENCY_RATES="200,2000"). */
export function envRates(name: string, fallback: string): number[] {
  return (process.env[name] || fallback).split(',').map((rate) => {
    const value = Number(rate);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`${name}: bad rate "${rate}"`);
    return value;
  });
}

/** A count from the environment: `envNumber` rounded to a whole number, at least 1. */
export const envCount = (name: string, fallback: number): number =>
  Math.max(1, Math.round(envNumber(name, fallback)));

/** Percentile (0..100) of a list of numbers, by nearest rank. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
