// The end-to-end harness: the example app (what `npm start` serves) as a child process on a free port
// with a temporary database, and Debian's Chromium through playwright-core. Each test file that calls
// `useExampleApp()` gets its own app, database and browser.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { CHROME_PATH, CHROMIUM_ARGS } from '@jobtracker/test-support/chromium';
import { type Browser, chromium, type Page } from 'playwright-core';

export interface ExampleApp {
  /** The app's origin, e.g. `http://127.0.0.1:41234`; it keeps its port across `restart`. */
  readonly base: string;
  readonly browser: Browser;
  /** SIGKILLs the app, as a crash would. */
  kill(): void;
  /** Starts the app again on its port and database. */
  restart(): Promise<void>;
  /** Where a picture goes: `docs/images` with `JOBTRACKER_SCREENSHOTS=1` (the README's), else a temporary folder. */
  screenshot(name: string): string;
  /** The API's JSON answer to a GET of `path` (under `/api`). */
  api<T>(path: string): Promise<T>;
}

/**
 * Registers hooks that start the example app and Chromium for this file, and make every test start with no
 * active job. `demoDurationMs` is how long the demo job of "Generate program" runs (6 s).
 */
export function useExampleApp({ demoDurationMs = 6000 }: { demoDurationMs?: number } = {}): ExampleApp {
  const dir = mkdtempSync(join(tmpdir(), 'jobtracker-e2e-'));
  let child: ChildProcess | undefined;
  let base = '';
  let browser: Browser | undefined;

  const start = async (port: number): Promise<string> => {
    const app = spawn(
      process.execPath,
      [fileURLToPath(new URL('../multi-page/server.js', import.meta.url))],
      {
        env: {
          ...process.env,
          PORT: String(port),
          JOBTRACKER_LEASE_MS: '2000',
          JOBTRACKER_DB: `file:${join(dir, 'e2e.db')}`,
          JOBTRACKER_DEMO_DURATION_MS: String(demoDurationMs),
          JOBTRACKER_SECRET: '',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    child = app;
    let output = '';
    return new Promise((resolve, reject) => {
      app.stdout?.on('data', (chunk) => {
        output += chunk;
        const match = /listening on (http:\/\/\S+?)\/\s/.exec(output);
        if (match?.[1]) resolve(match[1]);
      });
      app.stderr?.on('data', (chunk) => {
        output += chunk;
      });
      app.once('exit', (code) => reject(new Error(`the example app exited with ${code}: ${output}`)));
    });
  };

  const example: ExampleApp = {
    get base() {
      return base;
    },
    get browser() {
      if (!browser) throw new Error('The browser starts in the before hook.');
      return browser;
    },
    kill: () => child?.kill('SIGKILL'),
    restart: async () => {
      base = await start(Number(new URL(base).port));
    },
    screenshot: (name) =>
      process.env.JOBTRACKER_SCREENSHOTS
        ? fileURLToPath(new URL(`../../docs/images/${name}`, import.meta.url))
        : join(dir, name),
    api: async <T>(path: string) => (await (await fetch(`${base}/api${path}`)).json()) as T,
  };

  before(async () => {
    base = await start(0);
    browser = await chromium.launch({
      executablePath: CHROME_PATH,
      args: CHROMIUM_ARGS,
    });
  });

  after(async () => {
    await browser?.close();
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  // Every scene starts with no active job of the demo user, whatever an earlier scene left running.
  beforeEach(async () => {
    await settlesTo(
      async () => (await example.api<{ jobs: unknown[] }>('/jobs?status=active')).jobs.length,
      0,
      'no active job left by an earlier scene',
      30_000,
    );
  });

  return example;
}

export const trackerPercent = (page: Page) =>
  page
    .locator('job-tracker')
    .locator('[part="card"] [part="percent"]')
    .first()
    .textContent({ timeout: 10_000 });
/**
 * Takes the picture of `page` into `path` (see `ExampleApp.screenshot`) once the tracker's finite
 * transitions are over, so a progress bar's fill has reached the percentage printed beside it.
 */
export async function takePicture(page: Page, path: string): Promise<void> {
  await page
    .locator('job-tracker')
    .evaluate((tracker) =>
      Promise.all(
        (tracker.shadowRoot?.getAnimations() ?? [])
          .filter((animation) => animation.effect?.getTiming().iterations !== Number.POSITIVE_INFINITY)
          .map((animation) => animation.finished.catch(() => undefined)),
      ),
    );
  await page.screenshot({ path });
}

export const badge = (page: Page) => page.locator('job-badge').locator('[part="badge"]');
export const percentOf = (text: string | null) => Number.parseInt(text ?? '', 10);

/** Polls `read` until it returns `expected` (a count the server settles to), and fails with the last value. */
export async function settlesTo<T>(
  read: () => Promise<T>,
  expected: T,
  what: string,
  ms = 5000,
): Promise<void> {
  let last: T | undefined;
  await eventually(
    async () => {
      last = await read();
      return last === expected;
    },
    ms,
    what,
  ).catch(() => assert.equal(last, expected, what));
}
