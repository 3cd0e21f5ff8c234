/// <reference types="@jobtracker/test-support/mocha" />
import { JobTrackerHttpError } from '@jobtracker/sdk';
import { sendKeys } from '@web/test-runner-commands';
import type { JobCancelEvent, JobErrorEvent, JobRetryEvent } from '../shared/events.js';
import {
  card,
  clients,
  job,
  list,
  mounted,
  root,
  serverJob,
  serverJobs,
  setUpListTests,
  showsJobs,
} from '../testing/list.js';
import { userClient } from '../testing/user-client.js';
import { assert, assertEqual, claimJob, eventually, testUser } from '../testing/widget-env.js';

setUpListTests();

describe('<job-list>', () => {
  it('cancels an active job on the server from its Cancel button, firing job-cancel first', async () => {
    const user = await testUser('list-cancel');
    const type = `program.${user.user}`;
    const running = await job(user, { type, title: 'Q3 program' }, (w) => w.progress(10, 'Starting'));
    const element = list(user.client, { type });
    await showsJobs(element, [running]);
    const events: JobCancelEvent[] = [];
    document.body.addEventListener('job-cancel', (event) => events.push(event), { once: true });

    const button = card(element, running.id)?.querySelector<HTMLButtonElement>(
      'button[part~="cancel-button"]',
    );
    assert(button, 'a Cancel button');
    assertEqual(button.textContent?.trim(), 'Cancel', 'its text');
    button.click();
    assertEqual(
      events.map((event) => event.job.id),
      [running.id],
      'job-cancel fired (composed, bubbling) before the request',
    );
    await eventually(
      async () => (await serverJob(user, running.id)).status === 'cancelled',
      5000,
      'the cancel',
    );
    await showsJobs(element, [], 'the cancelled job to leave the active list');
  });

  it('retries a failed or cancelled job on the server from its Retry button, firing job-retry first', async () => {
    const user = await testUser('list-retry');
    const type = `program.${user.user}`;
    // Two scopes, so that the second retry is not deduplicated against the first one's new attempt.
    const failed = await job(user, { type, scope: 'q3', title: 'Q3 program' }, (w) =>
      w.fail('The model timed out'),
    );
    const cancelled = await job(user, { type, scope: 'q4', title: 'Q4 program' });
    await user.client.cancel(cancelled.id);
    const element = list(user.client, { type, status: 'failed,cancelled' });
    const active = list(user.client, { type });
    await showsJobs(element, [cancelled, failed]);
    const events: JobRetryEvent[] = [];
    const onRetry = (event: JobRetryEvent) => events.push(event);
    document.body.addEventListener('job-retry', onRetry);
    try {
      for (const original of [failed, cancelled]) {
        const button = card(element, original.id)?.querySelector<HTMLButtonElement>(
          'button[part~="retry-button"]',
        );
        assert(button, 'a Retry button');
        assertEqual(card(element, original.id)?.querySelector('[part~="cancel-button"]'), null, 'no Cancel');
        button.click();
        assertEqual(events.at(-1)?.job.id, original.id, 'job-retry fired before the request');
        const retry = await eventually(
          async () => (await serverJobs(user)).find((candidate) => candidate.retryOf === original.id),
          5000,
          'the new attempt on the server',
        );
        assertEqual(retry.status, 'pending', 'the new attempt waits for a worker');
        await eventually(() => card(active, retry.id), 5000, 'the new attempt in the active list');
        await eventually(
          () => card(element, original.id)?.querySelector('[part~="retry-button"]') === null,
          3000,
          'no second Retry for a job already retried',
        );
      }
    } finally {
      document.body.removeEventListener('job-retry', onRetry);
    }
  });

  it('shows an error and fires job-error when the server refuses an action', async () => {
    const user = await testUser('list-refused');
    const type = `program.${user.user}`;
    // A client that polls rarely, so it still shows the job as running after the server finished it.
    const client = userClient(user, {
      transport: 'poll',
      pollActiveMs: 60_000,
      pollIdleMs: 60_000,
    });
    clients.push(client);
    const running = await job(user, { type, title: 'Q3 program' });
    const element = list(client, { type });
    await showsJobs(element, [running]);
    const worker = await claimJob(type);
    await worker.complete({ summary: 'Done' });

    const errors: JobErrorEvent[] = [];
    element.addEventListener('job-error', (event) => errors.push(event));
    card(element, running.id)?.querySelector<HTMLButtonElement>('[part~="cancel-button"]')?.click();
    await eventually(() => errors.length === 1, 5000, 'job-error');
    const [event] = errors as [JobErrorEvent];
    assert(event.error instanceof JobTrackerHttpError, 'the SDK typed error');
    assertEqual(event.error.status, 409, 'the refusal status');
    assertEqual(event.job?.id, running.id, 'the job of the error');
    const notice = await eventually(
      () => root(element).querySelector('[part="action-error"]'),
      2000,
      'the notice',
    );
    assertEqual(notice.getAttribute('role'), 'alert', 'the notice role');
    assertEqual(notice.textContent?.trim(), 'Something went wrong.', 'the notice text');
    assertEqual((await serverJob(user, running.id)).status, 'completed', 'the job is untouched');
  });

  it('is operable from the keyboard: Tab reaches Cancel and Enter cancels the job', async () => {
    const user = await testUser('list-keyboard');
    const type = `program.${user.user}`;
    const older = await job(user, { type, title: 'Q2 program' }, (w) => w.progress(20, 'Writing'));
    const newer = await job(user, { type, title: 'Q3 program' });
    const before = document.createElement('button');
    before.textContent = 'Before the list';
    document.body.append(before);
    mounted.push(before);
    const element = list(user.client, { type });
    await showsJobs(element, [newer, older]);

    before.focus();
    await sendKeys({ press: 'Tab' });
    const focused = root(element).activeElement;
    assert(focused instanceof HTMLButtonElement, `Tab reached a real <button>, not ${focused?.tagName}`);
    assertEqual(focused.getAttribute('part'), 'cancel-button', 'the focused control');
    assertEqual(focused.closest<HTMLElement>('[part~="card"]')?.dataset.jobId, newer.id, 'the first card');
    await sendKeys({ press: 'Enter' });
    await eventually(
      async () => (await serverJob(user, newer.id)).status === 'cancelled',
      5000,
      'the cancel',
    );
    await showsJobs(element, [older], 'the cancelled job to leave');
    // Focus stays in the list, on the next card's Cancel button, instead of falling to the page.
    await eventually(
      () => root(element).activeElement?.closest('[part~="card"]'),
      2000,
      'focus kept in the list',
    );
    const next = root(element).activeElement as HTMLElement;
    assertEqual(
      next.closest<HTMLElement>('[part~="card"]')?.dataset.jobId,
      older.id,
      'focus on the next card',
    );
    await sendKeys({ press: 'Space' });
    await eventually(
      async () => (await serverJob(user, older.id)).status === 'cancelled',
      5000,
      'Space cancels',
    );
    await showsJobs(element, [], 'the list to empty');
    await eventually(
      () => root(element).activeElement?.matches('[part="empty"]'),
      2000,
      'focus on the empty state',
    );
  });

  it("moves the focus to the same control of the next card (not its first link) when a card leaves, and to the previous card's after the last", async () => {
    const user = await testUser('list-next');
    const type = `program.${user.user}`;
    const oldest = await job(user, { type, scope: 'a', title: 'Q1 program' });
    const middle = await job(user, { type, scope: 'b', title: 'Q2 program' });
    const newest = await job(user, { type, scope: 'c', title: 'Q3 program' });
    const element = list(user.client, {
      type,
      types: JSON.stringify({ [type]: { label: 'Program', href: '/programs', linkLabel: 'All programs' } }),
    });
    await showsJobs(element, [newest, middle, oldest]);
    const focused = () => {
      const control = root(element).activeElement;
      return `${control?.closest<HTMLElement>('[part~="card"]')?.dataset.jobId} ${control?.getAttribute('part')}`;
    };
    const cancelOn = async (id: string, left: (typeof newest)[], what: string) => {
      const control = card(element, id)?.querySelector<HTMLButtonElement>('[part~="cancel-button"]');
      assert(control, `the Cancel button of ${what}`);
      control.focus();
      await sendKeys({ press: 'Enter' });
      await showsJobs(element, left, `${what} to leave`);
    };

    await cancelOn(middle.id, [newest, oldest], 'the middle card');
    await eventually(() => focused() === `${oldest.id} cancel-button`, 2000, "the next card's Cancel");
    await cancelOn(oldest.id, [newest], 'the last card');
    await eventually(() => focused() === `${newest.id} cancel-button`, 2000, "the previous card's Cancel");
  });

  it('keeps the focus on the same job when a newer job arrives above it (cards are keyed by job)', async () => {
    const user = await testUser('list-keyed');
    const type = `program.${user.user}`;
    const first = await job(user, { type, scope: 'a', title: 'Q2 program' });
    const element = list(user.client, { type });
    await showsJobs(element, [first]);
    card(element, first.id)?.querySelector<HTMLButtonElement>('button[part~="cancel-button"]')?.focus();
    const newer = await job(user, { type, scope: 'b', title: 'Q3 program' });
    await showsJobs(element, [newer, first], 'the newer job, listed first');
    const focused = root(element).activeElement;
    assertEqual(focused?.getAttribute('part'), 'cancel-button', 'the focus stays on Cancel');
    assertEqual(focused?.closest<HTMLElement>('[part~="card"]')?.dataset.jobId, first.id, 'of the same job');
  });

  it('is operable from the keyboard: Tab reaches Retry on a failed job and Enter retries it', async () => {
    const user = await testUser('list-keyboard-retry');
    const type = `program.${user.user}`;
    const failed = await job(user, { type, title: 'Q3 program' }, (w) => w.fail('The model timed out'));
    const before = document.createElement('button');
    before.textContent = 'Before the list';
    document.body.append(before);
    mounted.push(before);
    const element = list(user.client, { type, status: 'failed' });
    const active = list(user.client, { type });
    await showsJobs(element, [failed]);
    const retries: JobRetryEvent[] = [];
    element.addEventListener('job-retry', (event) => retries.push(event));

    before.focus();
    await sendKeys({ press: 'Tab' });
    const focused = root(element).activeElement;
    assert(focused instanceof HTMLButtonElement, `Tab reached a real <button>, not ${focused?.tagName}`);
    assertEqual(focused.getAttribute('part'), 'retry-button', 'the focused control');
    assertEqual(focused.textContent?.trim(), 'Retry', 'its text');
    assertEqual(focused.closest<HTMLElement>('[part~="card"]')?.dataset.jobId, failed.id, 'the failed card');
    await sendKeys({ press: 'Enter' });
    const retry = await eventually(
      async () => (await serverJobs(user)).find((candidate) => candidate.retryOf === failed.id),
      5000,
      'the new attempt on the server',
    );
    assertEqual(
      retries.map((event) => event.job.id),
      [failed.id],
      'one job-retry, for the failed job',
    );
    assertEqual(retry.status, 'pending', 'the new attempt waits for a worker');
    await showsJobs(active, [retry], 'the new attempt in the active list');
  });
});
