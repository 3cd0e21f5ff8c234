// Browser tests: `packages/*/src/**/*.browser.test.ts` and `test/integration/**/*.browser.test.ts` run
// with mocha in Debian's Chromium (`node scripts/ensure-chromium.mjs` installs it), against a real
// jobtracker server that the `jobtracker-server` plugin below starts on a free loopback port. `npm test`
// runs this after `tsc -b`, which builds the server's `dist` that the plugin imports.
import { fileURLToPath } from 'node:url';
// Built by `tsc -b` (as the server's `dist` below): this config runs in plain Node.
import { CHROME_PATH, CHROMIUM_ARGS } from '@jobtracker/test-support/chromium';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { defaultReporter } from '@web/test-runner';
import { chromeLauncher } from '@web/test-runner-chrome';

const root = fileURLToPath(new URL('.', import.meta.url));
const SECRET = 'browser-test-secret';
const WORKER_KEY = 'browser-test-worker';

/** Starts the real job API for the tests and answers `/__jobtracker/config` and `/__jobtracker/token`. */
function jobtrackerServer() {
  /** @type {{ url: string; close(): Promise<void> } | undefined} */
  let server;
  /** @type {((claims: { sub: string; expiresInSeconds?: number }, secret: string) => string) | undefined} */
  let sign;
  const json = (value) => ({
    body: JSON.stringify(value),
    type: 'json',
    headers: { 'Cache-Control': 'no-store' },
  });
  return {
    name: 'jobtracker-server',
    async serverStart() {
      const entry = new URL('./packages/server/dist/index.js', import.meta.url);
      let api;
      try {
        api = await import(entry.href);
      } catch (error) {
        throw new Error(
          `Cannot load the server build (${fileURLToPath(entry)}): run \`npx tsc -b\` first.\n${error}`,
        );
      }
      sign = api.signToken;
      server = await api.startServer({
        port: 0,
        hostname: '127.0.0.1',
        db: ':memory:',
        secret: SECRET,
        workerKey: WORKER_KEY,
        corsOrigins: ['*'],
        engine: { progressFlushMs: 100 },
        heartbeatMs: 1000,
        onError: () => {},
      });
    },
    async serverStop() {
      await server?.close();
      server = undefined;
    },
    serve(context) {
      if (context.path === '/__jobtracker/config') {
        if (!server) context.throw(503, 'The jobtracker test server is not running.');
        return json({ apiUrl: `${server.url}/api`, workerKey: WORKER_KEY });
      }
      if (context.path === '/__jobtracker/token') {
        const query = new URL(context.url, 'http://localhost').searchParams;
        const sub = query.get('sub');
        const ttl = query.get('ttl') ?? '600';
        if (!sub) context.throw(400, 'sub is required.');
        if (!/^-?\d+$/.test(ttl)) context.throw(400, 'ttl must be a whole number of seconds.');
        return json({ token: sign({ sub, expiresInSeconds: Number(ttl) }, SECRET) });
      }
    },
  };
}

/**
 * `executeServerCommand('set-safe-area-insets', { top, right, bottom, left } | null)`: what
 * `env(safe-area-inset-*)` gives in the test's page, as on a phone with a notch (Chromium's DevTools protocol).
 */
function safeAreaInsetsCommand() {
  // One DevTools session per page, kept: an override ends with the session that set it.
  const sessions = new WeakMap();
  return {
    name: 'safe-area-insets-command',
    async executeCommand({ command, payload, session }) {
      if (command !== 'set-safe-area-insets') return undefined;
      const page = session.browser.getPage(session.id);
      if (!sessions.has(page)) sessions.set(page, await page.createCDPSession());
      await sessions.get(page).send('Emulation.setSafeAreaInsetsOverride', { insets: payload ?? {} });
      return true;
    },
  };
}

/** Counts tests over all sessions; a session that failed outside any test (e.g. its file did not load) counts as one failure. */
function countTests(sessions) {
  const counts = { passed: 0, failed: 0, skipped: 0 };
  const walk = (suite) => {
    for (const test of suite.tests) {
      if (test.skipped) counts.skipped++;
      else if (test.passed) counts.passed++;
      else counts.failed++;
    }
    for (const child of suite.suites) walk(child);
  };
  for (const session of sessions) {
    const failedBefore = counts.failed;
    if (session.testResults) walk(session.testResults);
    if (session.passed !== true && counts.failed === failedBefore) counts.failed++;
  }
  return counts;
}

/**
 * Prints `browser: N passed, N failed[, N skipped]` alone on the last line, for CI: the runner's own
 * summary sits on its progress-bar line. It is written on exit, after the runner's terminal has stopped
 * redrawing, so nothing overwrites it.
 */
function summaryLineReporter() {
  return {
    stop({ sessions }) {
      const { passed, failed, skipped } = countTests(sessions);
      const line = `browser: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
      process.once('exit', () => process.stdout.write(`\n${line}\n`));
    },
  };
}

export default {
  rootDir: root,
  // Absolute, so the config works from any working directory.
  files: [`${root}packages/*/src/**/*.browser.test.ts`, `${root}test/integration/**/*.browser.test.ts`],
  nodeResolve: { exportConditions: ['jobtracker-source', 'browser'] },
  plugins: [
    esbuildPlugin({ ts: true, target: 'es2022', define: { 'process.env.NODE_ENV': '"development"' } }),
    jobtrackerServer(),
    safeAreaInsetsCommand(),
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: CHROME_PATH,
        headless: true,
        args: ['--headless', ...CHROMIUM_ARGS],
      },
    }),
  ],
  concurrency: 1,
  testFramework: { config: { timeout: 10_000 } },
  testsFinishTimeout: 180_000,
  reporters: [defaultReporter(), summaryLineReporter()],
};
