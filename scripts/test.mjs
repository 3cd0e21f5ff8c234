#!/usr/bin/env node
// `npm test`: builds, lints, then runs every test suite: the browser tests (web test runner), then the
// node tests. Node's own runner goes last so that its closing summary is the last thing printed.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = new URL('..', import.meta.url).pathname;
const run = (command, args, { last = false } = {}) => {
  const started = Date.now();
  console.log(`\n$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { stdio: 'inherit', cwd: root });
  if (result.status !== 0) {
    console.error(
      `\n✗ ${command} ${args.slice(0, 2).join(' ')} failed (exit ${result.status ?? result.signal}).`,
    );
    process.exit(result.status || 1);
  }
  // The last step's own summary stays the last line (CI reads it).
  if (!last) console.log(`  (${((Date.now() - started) / 1000).toFixed(1)} s)`);
};

function findTests(dir, pattern, found = []) {
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) findTests(path, pattern, found);
    else if (pattern.test(name)) found.push(relative(root, path));
  }
  return found.sort();
}

run('npx', ['tsc', '-b']);
run('npx', ['biome', 'check', '--error-on-warnings', '.']);
run('npx', ['rollup', '-c', '--silent']);
run('node', ['scripts/check-size.mjs']);
run('npm', ['run', 'analyze', '--silent', '-w', '@jobtracker/widget']);
run('node', ['scripts/check-manifest.mjs']);

// Browser tests (web-test-runner.config.mjs runs `packages/*/src/**/*.browser.test.ts` and
// `test/integration/**/*.browser.test.ts` in Chromium against a real server). They need `tsc -b` above:
// the config imports the server's `dist`.
const browserTests = [
  ...findTests(join(root, 'packages'), /\.browser\.test\.ts$/),
  ...findTests(join(root, 'test', 'integration'), /\.browser\.test\.ts$/),
].filter((file) => /^(?:packages\/[^/]+\/src|test\/integration)\//.test(file));
if (browserTests.length > 0) {
  run('node', ['scripts/ensure-chromium.mjs']);
  run('npx', ['web-test-runner', '--config', 'web-test-runner.config.mjs']);
}

const nodeTests = ['packages', 'examples', 'test']
  .filter((dir) => {
    try {
      return statSync(join(root, dir)).isDirectory();
    } catch {
      return false;
    }
  })
  .flatMap((dir) => findTests(join(root, dir), /\.test\.ts$/))
  .filter((file) => !file.includes('/browser/') && !/\.browser\.test\.ts$/.test(file));

if (nodeTests.some((file) => /\.pg\.test\.ts$|^test\/scale-out\//.test(file))) {
  run('node', ['scripts/ensure-postgres.mjs']);
}

if (nodeTests.some((file) => /\.redis\.test\.ts$/.test(file))) {
  run('node', ['scripts/ensure-redis.mjs']);
}

if (nodeTests.length === 0) {
  console.error('No node test files found.');
  process.exit(1);
}
run(
  'node',
  [
    '--conditions=jobtracker-source',
    '--import',
    'tsx',
    '--test',
    '--test-reporter=spec',
    // Per file as well as per test: the consumers suite (npm installs from the tarballs, TypeScript, publint)
    // takes ~95 s on its own on a 2-core machine, too close to a 120 s limit.
    '--test-timeout=240000',
    '--test-force-exit',
    ...nodeTests,
  ],
  { last: true },
);
