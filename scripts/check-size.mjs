#!/usr/bin/env node
// Checks the browser bundles against size-budget.json (run `rollup -c` first; npm test does). A budget is
//   - "file": one file, or one file matched by a name with `*` (a chunk's hash), weighed alone;
//   - "entry": what a page fetches before the entry runs: the entry and every chunk it imports statically,
//     each compressed on its own (as a server sends them) and added up; its dynamic import()s are not counted.
// Every .js file in a folder of "everyFileBudgeted" must match a "file" budget or be part of an "entry".
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('..', import.meta.url));
const { budgets, everyFileBudgeted = [] } = JSON.parse(readFileSync(join(root, 'size-budget.json'), 'utf8'));

/** gzip -9 and brotli 11 of some bytes. */
const compressed = (bytes) => ({
  min: bytes.length,
  gzip: gzipSync(bytes, { level: 9 }).length,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
});

/**
 * The relative modules an ES module imports statically (`import … from "…"`, `import "…"`, `export … from "…"`),
 * read from rollup's output; `import("…")` is dynamic and left out.
 */
function staticImports(code) {
  const found = [];
  const pattern = /(?:^|[;}\s])(?:import|export)\s*(?:[\w$*{}\s,]*?\bfrom\s*)?(["'])(\.{1,2}\/[^"']+)\1/g;
  for (const match of code.matchAll(pattern)) found.push(match[2]);
  return found;
}

/** The entry file and every file it reaches through static imports, as paths from the repository root. */
function staticGraph(entry, read = (path) => readFileSync(join(root, path), 'utf8')) {
  const files = [];
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.shift();
    if (files.includes(file)) continue;
    files.push(file);
    for (const specifier of staticImports(read(file)))
      pending.push(posix.join(posix.dirname(file), specifier));
  }
  return files;
}

/** The one file a name with `*` matches (one folder level; `*` stands for any characters but `/`). */
function matchOne(pattern) {
  const folder = dirname(pattern);
  const name = new RegExp(
    `^${pattern
      .slice(folder.length + 1)
      .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
      .replace(/\*/g, '[^/]*')}$`,
  );
  const matches = readdirSync(join(root, folder)).filter((file) => name.test(file));
  if (matches.length !== 1)
    throw new Error(`${pattern} matches ${matches.length} files (${matches.join(', ') || 'none'}), not one`);
  return posix.join(folder, matches[0]);
}

let over = 0;
const budgeted = new Set();
for (const budget of budgets) {
  let files;
  try {
    files = budget.entry
      ? staticGraph(budget.entry)
      : [budget.file.includes('*') ? matchOne(budget.file) : budget.file];
  } catch (error) {
    console.error(`✗ ${budget.name}: ${error.message}. Build the bundles with "npx rollup -c".`);
    over++;
    continue;
  }
  for (const file of files) budgeted.add(file);
  const sizes = files
    .map((file) => compressed(readFileSync(join(root, file))))
    .reduce((a, b) => ({ min: a.min + b.min, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }));
  const what =
    files.length > 1
      ? `${files.length} files: ${files.map((file) => posix.basename(file)).join(' + ')}`
      : posix.basename(files[0]);
  for (const kind of ['gzip', 'brotli']) {
    const limit = budget[kind];
    if (limit === undefined) continue;
    const ok = sizes[kind] <= limit;
    if (!ok) over++;
    console.log(
      `${ok ? '✓' : '✗'} ${budget.name}: ${sizes[kind]} B ${kind} (budget ${limit} B; ${sizes.min} B minified, ${what})`,
    );
  }
}
for (const folder of everyFileBudgeted) {
  for (const name of readdirSync(join(root, folder)).filter((file) => file.endsWith('.js'))) {
    const file = posix.join(folder, name);
    if (budgeted.has(file)) continue;
    console.error(`✗ ${file} has no budget: add one to size-budget.json.`);
    over++;
  }
}
if (over > 0) {
  console.error(`${over} size budget(s) exceeded or missing.`);
  process.exit(1);
}
