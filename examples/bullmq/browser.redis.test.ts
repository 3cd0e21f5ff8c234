// examples/bullmq as its user sees it, in Debian's Chromium: server.js (with the bridge, trackQueue) and two
// worker.js processes on the real Redis. The user generates a program and follows it across pages to its
// toast, sees a failed first attempt as one job retrying, and cancels a job a worker is running: the worker
// process's processor is aborted and BullMQ fails the job.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { eventually } from '@jobtracker/test-support/browser-assert';
import { CHROME_PATH, CHROMIUM_ARGS } from '@jobtracker/test-support/chromium';
import { Queue } from 'bullmq';
import { type Browser, chromium, type Page } from 'playwright-core';
import { badge, percentOf, trackerPercent } from '../e2e/harness.js';
import { exampleProcesses } from './example-processes.js';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const queueName = `example-browser-${randomUUID().slice(0, 8)}`;
const dir = mkdtempSync(join(tmpdir(), 'jobtracker-bullmq-browser-'));
/** How long worker.js takes for a program (6 steps): long enough to see it run and to cancel it on a loaded machine. */
const DURATION_MS = 6000;
const env = {
  ...process.env,
  BULLMQ_QUEUE: queueName,
  JOBTRACKER_WORKER_KEY: 'example-worker-key-0123456789',
  JOBTRACKER_SECRET: '',
  JOBTRACKER_DEMO_DURATION_MS: String(DURATION_MS),
};
const { start, killAll } = exampleProcesses(env);

/** What the tracker's cards showed, each animation frame, in every document the page loads. */
interface CardSeen {
  id: string;
  status: string;
  message: string;
}
const CARD_RECORDER = `(() => {
  if (!location.protocol.startsWith('http')) return;
  const seen = new Set();
  const check = () => {
    const cards = document.querySelector('job-tracker')?.shadowRoot?.querySelectorAll('[part="card"]') ?? [];
    for (const card of cards) {
      const message = (card.querySelector('[part="message"], [part="error"]')?.textContent ?? '').trim();
      const key = card.dataset.jobId + '|' + card.dataset.status + '|' + message;
      if (!seen.has(key)) {
        seen.add(key);
        window.__cardSeen({ id: card.dataset.jobId, status: card.dataset.status, message });
      }
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;

describe('examples/bullmq in a browser: BullMQ workers, the bridge, and the user', {
  timeout: 90_000,
}, () => {
  let base = '';
  let browser: Browser | undefined;
  const queue = new Queue(queueName, { connection: { host: '127.0.0.1', port: 6379 } });

  before(async () => {
    spawnSync(process.execPath, [here('../../scripts/ensure-redis.mjs')], { stdio: 'inherit' });
    const [server] = await Promise.all([
      start(
        './server.js',
        ['--port', '0', '--db', `file:${join(dir, 'jobs.db')}`],
        /listening on (http:\/\/\S+?)\/?\s/,
      ),
      start('./worker.js', [], /processing the/),
      start('./worker.js', [], /processing the/),
    ]);
    base = (server.match[1] as string).replace('localhost', '127.0.0.1');
    browser = await chromium.launch({ executablePath: CHROME_PATH, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    killAll();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    const keys = spawnSync('redis-cli', ['--scan', '--pattern', `bull:${queueName}:*`], { encoding: 'utf8' })
      .stdout.split('\n')
      .filter(Boolean);
    if (keys.length > 0) spawnSync('redis-cli', ['del', ...keys]);
    rmSync(dir, { recursive: true, force: true });
  });

  async function userPage(): Promise<{ page: Page; cards: CardSeen[] }> {
    const context = await (browser as Browser).newContext({ viewport: { width: 1200, height: 800 } });
    const cards: CardSeen[] = [];
    await context.exposeFunction('__cardSeen', (card: CardSeen) => void cards.push(card));
    await context.addInitScript(CARD_RECORDER);
    const page = await context.newPage();
    await page.goto(`${base}/`);
    return { page, cards };
  }
  const toast = (page: Page) => page.locator('job-tracker [part="toast"]');

  it('follows a program a BullMQ worker generates, across pages, to its toast and result', async () => {
    const { page } = await userPage();
    try {
      await page.getByRole('button', { name: 'Generate program', exact: true }).click();
      const card = page.locator('job-tracker [part="card"][data-status="running"]');
      await card.locator('[part="percent"]').waitFor({ timeout: 15_000 });
      const first = percentOf(await trackerPercent(page));
      assert.equal(await badge(page).textContent(), '1', 'the badge counts the running job');

      await page.getByRole('link', { name: /^Programs/ }).click();
      await page.waitForURL(`${base}/programs`);
      await page.locator('job-list[status="active"] [part="card"]').waitFor({ timeout: 10_000 });
      await page.locator('job-tracker [part="card"] [part="percent"]').waitFor({ timeout: 10_000 });
      assert.ok(
        percentOf(await trackerPercent(page)) >= first,
        'the card on Programs goes on from the progress seen',
      );
      assert.equal(await page.locator('job-tracker [part="card"]').count(), 1, 'one card');

      await toast(page).first().waitFor({ timeout: 20_000 });
      assert.equal(await toast(page).count(), 1, 'one toast');
      assert.match((await toast(page).textContent()) ?? '', /Q3 growth program/);
      await toast(page).locator('[part="view-link"]').click();
      await page.waitForURL(/\/programs\/[0-9a-z]{26}$/);
      assert.match((await page.locator('main').textContent()) ?? '', /is ready: 4 workstreams/);
    } finally {
      await page.context().close();
    }
  });

  it('shows a failed first attempt as the same job retrying, never as a failure, then its completion', async () => {
    const { page, cards } = await userPage();
    try {
      await page.getByRole('button', { name: /fails once/ }).click();
      await page.waitForURL(`${base}/`);
      await toast(page)
        .first()
        .waitFor({ timeout: 30_000 })
        .catch((error: unknown) => {
          throw new Error(`No completion toast; the cards seen: ${JSON.stringify(cards)}`, { cause: error });
        });
      assert.match((await toast(page).textContent()) ?? '', /Risky program/);
      const ids = new Set(cards.map((card) => card.id));
      assert.equal(ids.size, 1, `one card throughout: ${JSON.stringify(cards)}`);
      assert.ok(
        cards.some((card) => card.message === 'Retrying (attempt 2 of 3)'),
        `the retry was shown on the card: ${JSON.stringify(cards)}`,
      );
      assert.deepEqual(
        cards.filter((card) => card.status === 'failed'),
        [],
        'never a failed card',
      );
    } finally {
      await page.context().close();
    }
  });

  it('cancels a job a worker runs: its card leaves and the worker process aborts it', async () => {
    const { page, cards } = await userPage();
    try {
      await page.getByRole('button', { name: 'Generate program', exact: true }).click();
      const running = page.locator('job-tracker [part="card"][data-status="running"]');
      await running.locator('[part="percent"]').waitFor({ timeout: 15_000 });
      const id = (await running.getAttribute('data-job-id')) as string;
      const [active] = await queue.getActive();
      assert.ok(active, 'a worker runs it');
      await running.locator('[part="cancel-button"]').click();
      await page
        .locator(`job-tracker [part="card"][data-job-id="${id}"]`)
        .waitFor({ state: 'detached', timeout: 10_000 });

      // The worker's processor got the abort: it threw the example's UnrecoverableError before its end.
      let state = '';
      await eventually(
        async () => {
          state = await queue.getJobState(active.id as string);
          return state === 'failed' || state === 'completed';
        },
        DURATION_MS + 5000,
        'the BullMQ job ends',
      );
      const ended = await queue.getJob(active.id as string);
      assert.equal(state, 'failed', 'BullMQ fails the cancelled job, it does not complete it');
      assert.equal(ended?.failedReason, 'Cancelled by its user.');
      assert.equal(ended?.attemptsMade, 1, 'and does not retry it');
      assert.ok(
        (ended?.finishedOn ?? 0) - (ended?.processedOn ?? 0) < DURATION_MS,
        'the work stopped before its end',
      );
      const job = (await (await fetch(`${base}/api/jobs/${id}`)).json()) as { job: { status: string } };
      assert.equal(job.job.status, 'cancelled', 'the tracked job stays cancelled');
      await page.waitForTimeout(500);
      assert.equal(await page.locator('job-tracker [part="card"]').count(), 0, 'no card comes back');
      assert.deepEqual(
        cards.filter((card) => card.status === 'failed'),
        [],
        'the worker’s failure is not shown as a failed card',
      );
    } finally {
      await page.context().close();
    }
  });
});
