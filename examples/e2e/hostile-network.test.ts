import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/browser-assert';
import type { Page, Request } from 'playwright-core';
import { badge, useExampleApp } from './harness.js';
import { type StreamProxy, startStreamProxy } from './stream-proxy.js';

// Issue 13: however the event stream fails on the way (reset, refused, cut after its headers, buffered),
// the page polls within seconds and shows the true state, and takes the stream back once it works again.
// A 3 s job ends on polling alone, before the first background retry of the stream (5 s after falling back).
const example = useExampleApp({ demoDurationMs: 3000 });
let proxy: StreamProxy;

const STREAM = '**/api/jobs/stream*';

interface StreamAttempt {
  sentAt: number;
  status?: number;
  /** When the request failed or its body ended: what a broken stream does. */
  endedAt?: number;
}

/** Which stream attempts and polls the page makes, and when. */
function watchRequests(page: Page) {
  const streams = new Map<Request, StreamAttempt>();
  const polls: number[] = [];
  const isStream = (url: string) => new URL(url).pathname === '/api/jobs/stream';
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (isStream(request.url())) streams.set(request, { sentAt: Date.now() });
    else if (url.pathname === '/api/jobs' && url.searchParams.has('since')) polls.push(Date.now());
  });
  page.on('response', (response) => {
    const attempt = streams.get(response.request());
    if (attempt) attempt.status = response.status();
  });
  const ended = (request: Request) => {
    const attempt = streams.get(request);
    if (attempt) attempt.endedAt = Date.now();
  };
  page.on('requestfailed', ended);
  page.on('requestfinished', ended);
  return { streams: () => [...streams.values()], polls };
}

/** Makes the page's client wake as on focus: a polling client polls at once, a live stream needs nothing. */
const wake = (page: Page) => page.evaluate(() => dispatchEvent(new Event('focus')));

/**
 * Opens `/` at `origin` with the stream broken by `breakStream`, starts a job, and checks that the page polls
 * and shows the job to its true end; then mends the stream and checks that the client takes it back.
 */
async function followJobThroughBrokenStream(
  origin: string,
  breakStream: (page: Page) => Promise<void>,
  mendStream: (page: Page) => Promise<void>,
): Promise<string> {
  const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
  try {
    const page = await context.newPage();
    const seen = watchRequests(page);
    await breakStream(page);
    await page.goto(`${origin}/`);

    // The stream fails, and a poll follows at once.
    const failedAt = await eventually(
      () => seen.streams()[0]?.endedAt,
      10_000,
      'the first stream attempt to fail',
    );
    const firstPoll = await eventually(() => seen.polls[0], 5000, 'a first poll');
    assert.ok(
      firstPoll - failedAt < 1000,
      `the first poll came ${firstPoll - failedAt} ms after the stream failed`,
    );

    // A job started now shows its progress and ends, on polls alone.
    const [created] = await Promise.all([
      page.waitForResponse(
        (response) =>
          response.request().method() === 'POST' && new URL(response.url()).pathname === '/api/jobs',
      ),
      page.getByRole('button', { name: 'Generate program' }).click(),
    ]);
    const { job } = (await created.json()) as { job: { id: string } };
    await page.locator('job-tracker [part="card"][data-status="running"] [part="percent"]').first().waitFor({
      timeout: 10_000,
    });
    assert.equal(
      await page.locator('job-tracker [part="connection"]').count(),
      0,
      'no "Reconnecting…" while polls answer',
    );

    // The true final state: the job the server completed shows as completed.
    await page
      .locator(`job-tracker [part="toast"] [part="view-link"][href$="/programs/${job.id}"]`)
      .waitFor({ timeout: 15_000 });
    assert.equal(
      (await example.api<{ job: { status: string } }>(`/jobs/${job.id}`)).job.status,
      'completed',
      'the server completed the job',
    );
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') !== 'true',
      null,
      { timeout: 5000 },
    );
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5000 });
    assert.equal(await badge(page).isVisible(), false, 'the badge hides at zero');
    assert.equal(
      await page
        .locator(
          'job-tracker [part="card"][data-status="running"], job-tracker [part="card"][data-status="pending"]',
        )
        .count(),
      0,
      'no card left running',
    );
    assert.ok(
      seen.streams().every((attempt) => attempt.endedAt !== undefined),
      'no stream attempt held while the stream was broken',
    );
    const polled = seen.polls.length;
    await wake(page);
    await eventually(() => seen.polls.length > polled, 2000, 'a polling page to poll at once on focus');

    // Mended: a background retry takes the stream back, and the page stops polling.
    const mendedAt = Date.now();
    await mendStream(page);
    // The polls of the first 5 s are counted only now, so that the mend comes before the next retry.
    await page.waitForTimeout(Math.max(0, failedAt + 5000 - Date.now()));
    // The poll that the focus asked for is not counted.
    const pollsWithin5s = seen.polls.filter((at, i) => at <= failedAt + 5000 && i !== polled).length;
    assert.ok(pollsWithin5s >= 2, `${pollsWithin5s} polls within 5 s of the stream failing`);
    const taken = await eventually(
      () => seen.streams().find((attempt) => attempt.sentAt > mendedAt && attempt.status === 200),
      35_000,
      'a stream attempt that succeeds after the fault is gone',
    );
    await page.waitForTimeout(500);
    const pollsWhileLive = seen.polls.length;
    for (let i = 0; i < 3; i++) {
      await wake(page);
      await page.waitForTimeout(300);
    }
    assert.equal(seen.polls.length, pollsWhileLive, 'a focus makes no poll: the page is live on the stream');
    assert.equal(taken.endedAt, undefined, 'the stream stays open');
    return (
      `first poll ${firstPoll - failedAt} ms after the stream failed, ${pollsWithin5s} polls within 5 s, ` +
      `${seen.streams().length - 1} stream attempts after the first, the stream back ${taken.sentAt - firstPoll} ms after falling back`
    );
  } finally {
    await context.close();
  }
}

describe('a stream broken on the way (issue 13): the page polls, shows the true final state, and takes the stream back', () => {
  before(async () => {
    proxy = await startStreamProxy(example.base);
  });
  after(async () => {
    await proxy?.close();
  });

  for (const reason of ['connectionreset', 'failed', 'connectionrefused'] as const) {
    it(`falls back when every stream request is aborted with ${reason}`, async (t) => {
      const summary = await followJobThroughBrokenStream(
        example.base,
        async (page) => {
          await page.route(STREAM, (route) => route.abort(reason));
        },
        (page) => page.unroute(STREAM),
      );
      t.diagnostic(summary);
    });
  }

  for (const [fault, how] of [
    ['close', 'closes every stream right after its headers'],
    ['buffer', 'buffers the stream’s body'],
  ] as const) {
    it(`falls back when a proxy ${how}`, async (t) => {
      const summary = await followJobThroughBrokenStream(
        proxy.url,
        async () => {
          proxy.fault = fault;
        },
        async () => {
          proxy.fault = 'pass';
        },
      );
      t.diagnostic(summary);
    });
  }
});
