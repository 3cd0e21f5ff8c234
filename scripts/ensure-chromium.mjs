#!/usr/bin/env node
// Makes sure the browser tests (web-test-runner.config.mjs) have a Chromium: CHROME_PATH when set, else
// Debian's /usr/bin/chromium. When that is missing and we run as root where apt-get exists, it installs
// Debian's `chromium` package; otherwise it says how to. Browser downloads (Playwright's, Puppeteer's)
// do not work on this project's machines, so this never tries them.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, statSync } from 'node:fs';

const DEFAULT_PATH = '/usr/bin/chromium';
const fromEnv = process.env.CHROME_PATH || undefined;
const path = fromEnv ?? DEFAULT_PATH;

/** The browser's version line, or null when `file` is not a Chromium that starts. */
function chromiumVersion(file) {
  try {
    if (!statSync(file).isFile()) return null;
    accessSync(file, constants.X_OK);
  } catch {
    return null;
  }
  const result = spawnSync(file, ['--version'], { encoding: 'utf8', timeout: 30_000 });
  if (result.status !== 0) return null;
  return result.stdout.trim().split('\n').pop() || file;
}

const hasCommand = (command) => spawnSync(command, ['--version'], { stdio: 'ignore' }).status === 0;

const run = (command, args) => {
  console.log(`$ ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, {
    stdio: 'inherit',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  return result.status === 0;
};

const fail = (message) => {
  console.error(`\n✗ ${message}`);
  process.exit(1);
};

const found = chromiumVersion(path);
if (found) {
  console.log(`Chromium for the browser tests: ${path} (${found})`);
  process.exit(0);
}

if (fromEnv) {
  fail(
    `CHROME_PATH=${fromEnv} is not a Chromium that runs (missing, not executable, or "--version" failed).\n` +
      `  Point CHROME_PATH at a Chromium or Chrome binary, or unset it to use Debian's ${DEFAULT_PATH}\n` +
      '  (install it with: apt-get update && apt-get install -y chromium).',
  );
}

const isRoot = process.getuid?.() === 0;
if (!isRoot || !hasCommand('apt-get')) {
  fail(
    `No Chromium for the browser tests: ${DEFAULT_PATH} is missing (or does not start) and CHROME_PATH is not set.\n` +
      "  On Debian/Ubuntu install the distribution's browser:\n" +
      '    sudo apt-get update && sudo apt-get install -y chromium\n' +
      '  or set CHROME_PATH to a Chromium or Chrome binary.\n' +
      '  (Downloading a browser with Playwright or Puppeteer does not work on these machines.)',
  );
}

console.log(`${DEFAULT_PATH} is missing or does not start: installing Debian's chromium package.`);
if (!run('apt-get', ['install', '-y', 'chromium'])) {
  console.log('apt-get install failed; refreshing the package lists and trying again.');
  if (!run('apt-get', ['update']) || !run('apt-get', ['install', '-y', 'chromium'])) {
    fail('Could not install chromium with apt-get (see its output above).');
  }
}

const installed = chromiumVersion(DEFAULT_PATH);
if (!installed) fail(`apt-get installed chromium, but ${DEFAULT_PATH} still does not start.`);
console.log(`Chromium for the browser tests: ${DEFAULT_PATH} (${installed})`);
