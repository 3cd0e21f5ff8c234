import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/browser-assert';
import type { Page } from 'playwright-core';
import { badge, percentOf, settlesTo, takePicture, trackerPercent, useExampleApp } from './harness.js';

const example = useExampleApp();
const openStreams = async () => (await example.api<{ streams: number }>('/health')).streams;

describe('the seed story in a real browser (examples/multi-page)', () => {
  it('follows a started job across full page loads, disables Generate meanwhile, and shows one toast that links to the result', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${example.base}/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="card"]').first().waitFor({ timeout: 10_000 });

    const seen: number[] = [];
    for (const path of ['/programs', '/settings']) {
      await page.goto(`${example.base}${path}`);
      await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
      seen.push(percentOf(await trackerPercent(page)));
      assert.equal(await badge(page).textContent(), '1', `the badge counts the job on ${path}`);
      if (path === '/programs')
        await page.locator('job-list[status="active"] [part="card"]').first().waitFor({ timeout: 5000 });
      await page.waitForTimeout(700);
    }
    assert.ok(seen[1] !== undefined && seen[0] !== undefined && seen[1] > seen[0], `progress rises: ${seen}`);

    await page.goto(`${example.base}/`);
    const generate = page.getByRole('button', { name: 'Generate program' });
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') === 'true',
      null,
      { timeout: 5000 },
    );
    assert.equal(await generate.isDisabled(), true, 'Generate is disabled while the job runs');
    const buttonStatus = page.locator('job-button').first().locator('[part="status"]');
    await eventually(
      async () => /Working… \d+\s?%/.test((await buttonStatus.textContent()) ?? ''),
      5000,
      'the button shows the job’s progress',
    );
    assert.ok(
      percentOf(((await buttonStatus.textContent()) ?? '').replace(/^\D+/, '')) >= (seen[1] ?? 0),
      'the button’s progress is the job’s, not a restart',
    );
    await takePicture(page, example.screenshot('analysis-running.png'));

    const toast = page.locator('job-tracker [part="toast"]');
    await toast.first().waitFor({ timeout: 15_000 });
    await page.waitForTimeout(1000);
    assert.equal(await toast.count(), 1, 'exactly one toast');
    await page.waitForFunction(
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') !== 'true',
      null,
      { timeout: 5000 },
    );
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5000 });
    assert.equal(await badge(page).isVisible(), false, 'the badge hides at zero');
    await takePicture(page, example.screenshot('toast.png'));
    await toast.locator('[part="view-link"]').click();
    await page.waitForURL(/\/programs\/[0-9a-z]{26}$/);
    assert.match((await page.locator('main').textContent()) ?? '', /is ready/);
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5000 });
    await page.waitForTimeout(1000);
    assert.equal(
      await page.locator('job-tracker [part="toast"]').count(),
      0,
      'the completion is announced once, not again on the next page',
    );
    await context.close();
  });

  it('shows a failing job’s error in the tracker, and Retry runs it again to completion', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${example.base}/`);
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
    // The demo's failure is transient: its retry completes.
    const toast = page.locator('job-tracker [part="toast"]');
    await toast.first().waitFor({ timeout: 15_000 });
    assert.match((await toast.first().textContent()) ?? '', /Risky program/);
    // Another browser never offers to retry what has been retried.
    const elsewhere = await (await example.browser.newContext()).newPage();
    await elsewhere.goto(`${example.base}/programs`);
    await elsewhere.locator('job-list [part="card"]').first().waitFor({ timeout: 10_000 });
    assert.equal(
      await elsewhere.locator('job-tracker [part="card"][data-status="failed"]').count(),
      0,
      'the retried failure is not shown as a failure in another browser',
    );
    await elsewhere.context().close();
    await context.close();
  });

  it('shows the running job after a reload before the first network answer', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${example.base}/`);
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
      () => document.querySelector('job-button button')?.getAttribute('aria-disabled') !== 'true',
      null,
      { timeout: 20_000 },
    );
    await context.close();
  });

  it('keeps one server connection for two tabs, and hands over when the leading tab closes', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    // Which tab asks the API for what: the leader alone holds the stream and polls nothing.
    const streamRequests = new Map<Page, { lastEventId: string | undefined; since: string | null }[]>();
    const pollRequests = new Map<Page, number>();
    const watch = (page: Page) => {
      streamRequests.set(page, []);
      pollRequests.set(page, 0);
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (url.pathname === '/api/jobs' && request.method() === 'GET')
          pollRequests.set(page, (pollRequests.get(page) ?? 0) + 1);
        if (url.pathname === '/api/jobs/stream')
          streamRequests.get(page)?.push({
            lastEventId: request.headers()['last-event-id'],
            since: url.searchParams.get('since'),
          });
      });
      return page;
    };
    const first = watch(await context.newPage());
    await first.goto(`${example.base}/programs`);
    const second = watch(await context.newPage());
    await second.goto(`${example.base}/settings`);
    await settlesTo(openStreams, 1, 'one stream for two tabs', 10_000);
    await second.getByRole('link', { name: 'Analysis' }).click();
    await second.getByRole('button', { name: 'Generate program' }).click();
    const risen: Record<string, number[]> = { first: [], second: [] };
    for (const [name, page] of [
      ['first', first],
      ['second', second],
    ] as const) {
      await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
      risen[name]?.push(percentOf(await trackerPercent(page)));
    }
    await first.waitForTimeout(1000);
    for (const [name, page] of [
      ['first', first],
      ['second', second],
    ] as const) {
      risen[name]?.push(percentOf(await trackerPercent(page)));
      const [start, later] = risen[name] ?? [];
      assert.ok(
        start !== undefined && later !== undefined && later > start,
        `the ${name} tab updates: ${start} → ${later}`,
      );
    }
    const streamsOf = (page: Page) => streamRequests.get(page)?.length ?? 0;
    const [leader, follower] = streamsOf(first) > 0 ? [first, second] : [second, first];
    assert.ok(streamsOf(leader) > 0, 'one tab holds the stream');
    assert.equal(streamsOf(follower), 0, 'the other tab opened no stream of its own');
    assert.equal(pollRequests.get(follower), 0, 'and polled nothing');

    await leader.close();
    await eventually(async () => streamsOf(follower) > 0, 10_000, 'the remaining tab takes the stream over');
    const takeover = streamRequests.get(follower)?.[0];
    const resumedFrom = takeover?.lastEventId ?? takeover?.since ?? '';
    assert.match(resumedFrom, /^[1-9]\d*$/, `the new leader resumes from the pair's cursor (${resumedFrom})`);
    const before = percentOf(await trackerPercent(follower));
    await follower.waitForTimeout(1500);
    assert.ok(percentOf(await trackerPercent(follower)) > before, 'the remaining tab keeps updating');
    await settlesTo(openStreams, 1, 'still one stream after the handover');
    await follower.locator('job-tracker [part="toast"]').first().waitFor({ timeout: 15_000 });
    await context.close();
  });

  it('says it is reconnecting while the server is down, then shows the true final state', async () => {
    const context = await example.browser.newContext({ viewport: { width: 1200, height: 800 } });
    const page = await context.newPage();
    await page.goto(`${example.base}/`);
    await page.getByRole('button', { name: 'Generate program' }).click();
    await page.locator('job-tracker [part="percent"]').first().waitFor({ timeout: 10_000 });
    const [running] = (await example.api<{ jobs: { id: string }[] }>('/jobs?status=active')).jobs;
    assert.ok(running, 'the job runs');
    example.kill();
    await page.locator('job-tracker [part="connection"]').waitFor({ timeout: 20_000 });
    assert.match((await page.locator('job-tracker [part="connection"]').textContent()) ?? '', /Reconnecting/);
    await example.restart();
    await page.locator('job-tracker [part="toast"]').first().waitFor({ timeout: 30_000 });
    // The toast can paint a moment before the stream's `ready` marks the connection live.
    await page.locator('job-tracker [part="connection"]').waitFor({ state: 'detached', timeout: 5000 });
    const final = await example.api<{ job: { status: string } }>(`/jobs/${running.id}`);
    assert.equal(final.job.status, 'completed', 'the server finished the job after its restart');
    assert.equal(
      new URL(
        (await page.locator('job-tracker [part="toast"] [part="view-link"]').first().getAttribute('href')) ??
          '',
        example.base,
      ).pathname,
      `/programs/${running.id}`,
      'the toast is that job’s',
    );
    await page.locator('job-badge[count="0"]').waitFor({ state: 'attached', timeout: 5000 });
    assert.equal(
      await page
        .locator(
          'job-tracker [part="card"][data-status="running"], job-tracker [part="card"][data-status="pending"]',
        )
        .count(),
      0,
      'no card left running',
    );
    await context.close();
  });
});
