import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Browser, chromium, type Page } from 'playwright-core';
import { eventually } from '../../packages/sdk/src/testing/browser-assert.js';

const CHROME = process.env.CHROME_PATH || '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'jobtracker-e2e-'));
// The README's pictures come from this suite: `JOBTRACKER_SCREENSHOTS=1 npm test` writes them to docs/images.
const screenshot = (name: string) =>
  process.env.JOBTRACKER_SCREENSHOTS
    ? fileURLToPath(new URL(`../../docs/images/${name}`, import.meta.url))
    : join(dir, name);
let app: ChildProcess;
let base = '';
let browser: Browser;

/** Starts the example app (what `npm start` serves) on a free port with a temporary database. */
async function startApp(port = 0): Promise<string> {
  app = spawn(process.execPath, [fileURLToPath(new URL('../multi-page/server.js', import.meta.url))], {
    env: {
      ...process.env,
      PORT: String(port),
      JOBTRACKER_LEASE_MS: '2000',
      JOBTRACKER_DB: `file:${join(dir, 'e2e.db')}`,
      JOBTRACKER_DEMO_DURATION_MS: '6000',
      JOBTRACKER_SECRET: '',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
}

before(async () => {
  base = await startApp();
  browser = await chromium.launch({
    executablePath: CHROME,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-dev-shm-usage',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
});

after(async () => {
  await browser?.close();
  app?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const trackerPercent = (page: Page) =>
  page
    .locator('job-tracker')
    .locator('[part="card"] [part="percent"]')
    .first()
    .textContent({ timeout: 10_000 });
const badge = (page: Page) => page.locator('job-badge').locator('[part="badge"]');
const percentOf = (text: string | null) => Number.parseInt(text ?? '', 10);
const api = async <T>(path: string) => (await (await fetch(`${base}/api${path}`)).json()) as T;
const openStreams = async () => (await api<{ streams: number }>('/health')).streams;

/** Polls `read` until it returns `expected` (a count the server settles to), and fails with the last value. */
async function settlesTo<T>(read: () => Promise<T>, expected: T, what: string, ms = 5000): Promise<void> {
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

// Every scene starts with no active job of the demo user, whatever an earlier scene left running.
beforeEach(async () => {
  await settlesTo(
    async () => (await api<{ jobs: unknown[] }>('/jobs?status=active')).jobs.length,
    0,
    'no active job left by an earlier scene',
    30_000,
  );
});

describe('the seed story in a real browser (examples/multi-page)', () => {
  it('follows a started job across full page loads, disables Generate meanwhile, and shows one toast that links to the result', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="card"]').first().waitFor({ timeout: 10_000 });

    const seen: number[] = [];
    for (const path of ['/programs', '/settings']) {
      await page.goto(`${base}${path}`);
      await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
      seen.push(percentOf(await trackerPercent(page)));
      assert.equal(await badge(page).textContent(), '1', `the badge counts the job on ${path}`);
      await page.waitForTimeout(700);
    }
    assert.ok(
      seen[1] !== undefined && seen[0] !== undefined && seen[1] >= seen[0],
      `progress rises: ${seen}`,
    );

    await page.goto(`${base}/`);
    const generate = page.getByRole('button', { name: 'Generate program' });
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.hasAttribute('disabled'),
      null,
      { timeout: 5000 },
    );
    assert.equal(await generate.isDisabled(), true, 'Generate is disabled while the job runs');
    assert.match(
      (await page.locator('job-button').first().locator('[part="status"]').textContent()) ?? '',
      /Working/,
    );
    await page.screenshot({ path: screenshot('analysis-running.png') });

    const toast = page.locator('job-tracker [part="toast"]');
    await toast.first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1000);
    assert.equal(await toast.count(), 1, 'exactly one toast');
    await page.waitForFunction(
      () => !document.querySelector('job-button button')?.hasAttribute('disabled'),
      null,
      { timeout: 5000 },
    );
    await page.screenshot({ path: screenshot('toast.png') });
    await toast.locator('[part="view-link"]').click();
    await page.waitForURL(/\/programs\/[0-9a-z]{26}$/);
    assert.match((await page.locator('main').textContent()) ?? '', /is ready/);
    assert.equal(await badge(page).isVisible(), false, 'the badge hides at zero');
    await context.close();
  });

  it('shows a failing job’s error in the tracker, and Retry starts it again', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'Generate (fails at 40%)' }).click();
    const error = page.locator('job-tracker [part="card"][data-status="failed"] [part="error"]');
    await error.waitFor({ timeout: 15_000 });
    assert.match((await error.textContent()) ?? '', /stopped at 4\d%/);
    await page.locator('job-tracker [part="card"][data-status="failed"] [part="retry-button"]').click();
    await page
      .locator(
        'job-tracker [part="card"][data-status="running"], job-tracker [part="card"][data-status="pending"]',
      )
      .first()
      .waitFor({ timeout: 10_000 });
    assert.equal(
      await page.locator('job-tracker [part="card"][data-status="failed"]').count(),
      0,
      'the failed card gives way to the retry',
    );
    await context.close();
  });

  it('shows the running job after a reload before the first network answer', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    // From now on the API answers only after 3 s: what shows before that comes from the page's cache.
    let held = 0;
    await page.route('**/api/jobs**', async (route) => {
      held++;
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await route.continue().catch(() => {});
    });
    const reloadedAt = Date.now();
    await page.reload();
    await page.locator('job-tracker [part="card"]').first().waitFor({ timeout: 2500 });
    assert.ok(Date.now() - reloadedAt < 3000, 'shown before the delayed answer');
    assert.ok(held > 0, 'the API was asked and held back');
    await page.unroute('**/api/jobs**');
    await page.waitForFunction(
      () => !document.querySelector('job-button button')?.hasAttribute('disabled'),
      null,
      { timeout: 20_000 },
    );
    await context.close();
  });

  it('keeps one server connection for two tabs, and hands over when the leading tab closes', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const first = await context.newPage();
    await first.goto(`${base}/programs`);
    const second = await context.newPage();
    await second.goto(`${base}/settings`);
    await first.waitForTimeout(1500);
    await settlesTo(openStreams, 1, 'one stream for two tabs');
    await second.getByRole('link', { name: 'Analysis' }).click();
    await second.getByRole('button', { name: 'Generate program' }).click();
    for (const page of [first, second])
      await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    await first.close();
    const before = percentOf(await trackerPercent(second));
    await second.waitForTimeout(1500);
    assert.ok(percentOf(await trackerPercent(second)) > before, 'the remaining tab keeps updating');
    await settlesTo(openStreams, 1, 'still one stream after the handover');
    await second.locator('job-tracker [part="toast"]').first().waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('says it is reconnecting while the server is down, then shows the true final state', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    const port = Number(new URL(base).port);
    app.kill('SIGKILL');
    await page.locator('job-tracker [part="connection"]').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('job-tracker [part="connection"]').textContent()) ?? '', /Reconnecting/);
    base = await startApp(port);
    await page.locator('job-tracker [part="toast"]').first().waitFor({ timeout: 30_000 });
    // The toast can paint a moment before the stream's `ready` marks the connection live.
    await page.locator('job-tracker [part="connection"]').waitFor({ state: 'detached', timeout: 5000 });
    await context.close();
  });
});

describe('the seed story in the React example (client-side routing)', () => {
  it('follows a job across routes, disables Generate, and shows one toast that links to the result route', async () => {
    const context = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${base}/react/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    assert.equal(
      await page.locator('job-tracker [part="label"]').first().textContent(),
      'Program generation',
    );
    await page
      .locator('nav')
      .getByRole('link', { name: /Programs/ })
      .click();
    await page.waitForURL(`${base}/react/programs`);
    await page.locator('job-list [part="card"]').first().waitFor({ timeout: 10_000 });
    assert.equal(await badge(page).textContent(), '1');
    assert.match(
      (await page.locator('main h2').first().textContent()) ?? '',
      /In progress \(1\)/,
      'the SDK store in a React component',
    );
    await page.locator('nav').getByRole('link', { name: 'Analysis' }).click();
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.hasAttribute('disabled'),
      null,
      { timeout: 5000 },
    );
    const toast = page.locator('job-tracker [part="toast"]');
    await toast.first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1000);
    assert.equal(await toast.count(), 1, 'exactly one toast');
    await toast.locator('[part="view-link"]').click();
    await page.waitForURL(/\/react\/programs\/[0-9a-z]{26}$/);
    await page.getByText('is ready').waitFor({ timeout: 5000 });
    await context.close();
  });
});
