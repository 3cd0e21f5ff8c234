#!/usr/bin/env node
// Checks the browser bundles against size-budget.json (run `rollup -c` first; npm test does).
import { readFileSync } from 'node:fs';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const root = new URL('..', import.meta.url);
const { budgets } = JSON.parse(readFileSync(new URL('size-budget.json', root), 'utf8'));
let over = 0;
for (const budget of budgets) {
  let bytes;
  try {
    bytes = readFileSync(new URL(budget.file, root));
  } catch {
    console.error(`✗ ${budget.file} is missing: build it with "npx rollup -c".`);
    over++;
    continue;
  }
  const sizes = {
    gzip: gzipSync(bytes, { level: 9 }).length,
    brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length,
  };
  for (const kind of ['gzip', 'brotli']) {
    const limit = budget[kind];
    if (limit === undefined) continue;
    const ok = sizes[kind] <= limit;
    if (!ok) over++;
    console.log(
      `${ok ? '✓' : '✗'} ${budget.name}: ${sizes[kind]} B ${kind} (budget ${limit} B, ${bytes.length} B minified)`,
    );
  }
}
if (over > 0) {
  console.error(`${over} size budget(s) exceeded.`);
  process.exit(1);
}
