import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { type BenchResult, machine, notesFile, readResults, table } from './lib/report.js';
import { summaryRows, summaryTable } from './lib/summary.js';

/** Every benchmark, in the order `npm run bench` runs them. Each is bounded by its own counts and by `timeoutMs`. */
export const BENCHES = [
  { name: 'bundle-size', file: 'bundle-size.ts', timeoutMs: 180_000 },
  { name: 'bytes-per-hour', file: 'bytes-per-hour.ts', timeoutMs: 150_000 },
  { name: 'connections', file: 'connections.ts', timeoutMs: 600_000 },
  { name: 'latency', file: 'latency.ts', timeoutMs: 300_000 },
  { name: 'ingest', file: 'ingest.ts', timeoutMs: 90_000 },
  { name: 'scale-out', file: 'scale-out.ts', timeoutMs: 150_000 },
  { name: 'polling', file: 'polling.ts', timeoutMs: 60_000 },
  { name: 'first-paint', file: 'first-paint.ts', timeoutMs: 60_000 },
  { name: 'main-thread', file: 'main-thread.ts', timeoutMs: 420_000 },
] as const;

const OUTPUT = fileURLToPath(new URL('../BENCHMARKS.md', import.meta.url));
const BIOME = createRequire(import.meta.url).resolve('@biomejs/biome/bin/biome');

function runOne(file: string, timeoutMs: number): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--expose-gc',
        '--conditions=jobtracker-source',
        '--import',
        'tsx',
        fileURLToPath(new URL(file, import.meta.url)),
      ],
      { stdio: 'inherit' },
    );
    const timer = setTimeout(() => {
      console.error(`bench: ${file} ran past ${timeoutMs / 1000} s; stopping it`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code ?? 1);
    });
  });
}

function markdown(results: Map<string, BenchResult & { machine: string }>, command: string): string {
  const sections = BENCHES.flatMap(({ name }) => {
    const result = results.get(name);
    if (!result) return [`## ${name}\n\nNot measured yet: \`npm run bench -- ${name}\`.\n`];
    const params = Object.entries(result.params)
      .map(([key, value]) => `${key} = ${value}`)
      .join(', ');
    const notes = (result.notes ?? []).map((note) => `- ${note}`).join('\n');
    return [
      `## ${result.title}\n`,
      `\`npm run bench -- ${name}\` · ${result.startedAt} · ${(result.durationMs / 1000).toFixed(0)} s · ${params}\n`,
      `${table(result.figures)}\n`,
      `${result.explanation.trim()}\n`,
      `Method, meaning and physical limits: [${notesFile(name)}](${notesFile(name)}).\n`,
      notes ? `${notes}\n` : '',
    ];
  });
  const machines = [...new Set([...results.values()].map((result) => result.machine))];
  return [
    '# Benchmarks\n',
    'Every target, from the latest run of each script (targets: `bench/lib/targets.ts`, from the issues); a',
    'missed one says what limits it in one sentence, and the sections below give the measured details.\n',
    `${summaryTable(
      summaryRows(
        results,
        BENCHES.map((bench) => bench.name),
      ),
    )}\n`,
    '## How these are measured\n',
    'Every figure is measured next to its baseline in the same run, on the same machine, and given as a',
    'ratio against it: these machines are shared and absolute times drift between runs. Nothing here is',
    'asserted by `npm test` except the bundle-size budget (`scripts/check-size.mjs`).\n',
    `- Command: \`${command}\` (one script: \`npm run bench -- <name>\`; counts through the env vars each section names)`,
    `- Machine: ${machines.join('; ') || machine()}`,
    '- Traffic: loopback only. Results: `bench/results.jsonl` (one line per script run); this file shows the latest of each.\n',
    ...sections,
  ].join('\n');
}

// `--report-only`: rewrite BENCHMARKS.md from the recorded results without running a script.
const reportOnly = process.argv.includes('--report-only');
const wanted = process.argv.slice(2).filter((arg) => arg !== '--report-only');
const unknown = wanted.filter((name) => !BENCHES.some((bench) => bench.name === name));
if (unknown.length > 0) {
  console.error(`bench: unknown ${unknown.join(', ')}; choose from ${BENCHES.map((b) => b.name).join(', ')}`);
  process.exit(2);
}
const started = Date.now();
const failed: string[] = [];
for (const bench of BENCHES) {
  if (reportOnly) break;
  if (wanted.length > 0 && !wanted.includes(bench.name)) continue;
  console.log(`\n=== bench: ${bench.name} ===`);
  if ((await runOne(bench.file, bench.timeoutMs)) !== 0) failed.push(bench.name);
}
const latest = new Map(readResults().map((result) => [result.bench, result]));
writeFileSync(OUTPUT, markdown(latest, 'npm run bench'));
// The repository's formatter owns Markdown too (npm test checks it): write the file the way it would.
spawnSync(process.execPath, [BIOME, 'format', '--write', OUTPUT], { stdio: 'inherit' });
console.log(`\nbench: wrote BENCHMARKS.md in ${((Date.now() - started) / 1000).toFixed(0)} s`);
if (failed.length > 0) {
  console.error(`bench: failed: ${failed.join(', ')}`);
  process.exit(1);
}
