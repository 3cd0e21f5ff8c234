/// <reference types="@jobtracker/test-support/mocha" />
// <job-list> after a week of use: long histories come a page at a time ("Show more"), and a failure
// that a retry superseded is folded under the retry (issue 17, point 5).
import type { Job } from '@jobtracker/sdk';
import { sendKeys, setViewport } from '@web/test-runner-commands';
import {
  card,
  job,
  list,
  mounted,
  root,
  serverJob,
  setUpListTests,
  shownIds,
  showsJobs,
  type TestUser,
} from '../testing/list.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  testUser,
} from '../testing/widget-env.js';
import type { JobList } from './job-list.js';

setUpListTests();

/** `count` cancelled jobs of `type`, one after the other: the newest last. */
async function history(user: TestUser, type: string, count: number): Promise<Job[]> {
  const made: Job[] = [];
  for (let i = 0; i < count; i++) {
    const created = await user.create({ type, title: `Report ${i + 1}`, dedupe: false });
    await user.client.cancel(created.id);
    made.push(created);
  }
  return made;
}

/** The jobs of `type` as the server lists them, newest first. */
async function serverOrder(user: TestUser, type: string): Promise<string[]> {
  const response = await fetch(`${user.apiUrl}/jobs?type=${type}&limit=200`, {
    headers: { Authorization: `Bearer ${user.token}` },
  });
  return ((await response.json()) as { jobs: Job[] }).jobs.map((item) => item.id);
}

const moreButton = (element: JobList) =>
  root(element).querySelector<HTMLButtonElement>('button[part~="more-button"]');

const statusText = (element: JobList) =>
  root(element).querySelector('[role="status"]')?.textContent?.trim() ?? '';

/** A failed job, and its retry driven as far as `drive` says. */
async function failedThenRetried(
  user: TestUser,
  type: string,
  scope: string,
  errors: string[],
  last?: (worker: Awaited<ReturnType<typeof claimJob>>) => Promise<unknown>,
) {
  const attempts: Job[] = [
    await job(user, { type, scope, title: `Program ${scope}` }, (w) => w.fail(errors[0] ?? 'x')),
  ];
  for (let i = 1; i < errors.length; i++) {
    const previous = attempts.at(-1) as Job;
    await eventually(
      async () => (await serverJob(user, previous.id)).status === 'failed',
      5000,
      'the failure',
    );
    const { job: retry } = await user.client.retry(previous.id);
    attempts.push(retry);
    const worker = await claimJob(type);
    assertEqual(worker.job.id, retry.id, 'the retry is claimed');
    const error = errors[i];
    if (error) await worker.fail(error);
    else if (last) await last(worker);
  }
  return attempts;
}

describe('<job-list> paging and folding', () => {
  it('pages a long history with Show more: limit is the page size, older pages come from the server, focus moves to the first new card', async function (this: {
    timeout(ms: number): void;
  }) {
    // 56 jobs to create and cancel first.
    this.timeout(40_000);
    const user = await testUser('list-paging');
    const type = `report.${user.user}`;
    // More than the server's snapshot carries (50 finished jobs): the oldest only come from pages.
    await history(user, type, 56);
    const order = await serverOrder(user, type);
    assertEqual(order.length, 56, 'the history on the server');
    const element = list(user.client, { type, status: 'completed,failed,cancelled', limit: '20' });
    await eventually(() => shownIds(element).length === 20, 5000, 'the first page');
    assertEqual(shownIds(element), order.slice(0, 20), 'the 20 newest');
    const button = await eventually(() => moreButton(element), 5000, 'a Show more button');
    assertEqual(button.textContent?.trim(), 'Show more', 'its text');

    button.focus();
    await sendKeys({ press: 'Enter' });
    await eventually(() => shownIds(element).length === 40, 5000, 'the second page');
    assertEqual(shownIds(element), order.slice(0, 40), 'the next 20, after the first');
    const focused = root(element).activeElement as HTMLElement | null;
    assertEqual(
      focused?.closest<HTMLElement>('[part~="card"]')?.dataset.jobId,
      order[20],
      'the focus on the first new card',
    );
    assertEqual(focused?.getAttribute('part'), 'retry-button', "the card's control");
    await eventually(() => statusText(element).includes('40'), 2000, 'a polite note of the new size');

    // A job that finishes meanwhile joins at the top; nothing is shown twice.
    const fresh = await history(user, type, 1);
    await eventually(() => shownIds(element)[0] === fresh[0]?.id, 5000, 'the new job at the top');

    const again = moreButton(element);
    assert(again, 'still more to show');
    again.focus();
    await sendKeys({ press: 'Space' });
    await eventually(() => shownIds(element).length === 57, 5000, 'every job');
    assertEqual(shownIds(element), [fresh[0]?.id, ...order], 'every job once, newest first');
    await eventually(() => moreButton(element) === null, 2000, 'no Show more once all are shown');
    assert(
      root(element).activeElement !== null,
      `the focus stays in the list, not on ${document.activeElement?.tagName}`,
    );
  });

  it('shows more of what the client already holds, and the default page of finished jobs is 10 while every active job shows', async () => {
    const user = await testUser('list-page-default');
    const type = `report.${user.user}`;
    const finished = await history(user, type, 12);
    const running = await job(user, { type, title: 'Running' }, (w) => w.progress(10, 'Going'));
    const pending = await job(user, { type, title: 'Waiting' });
    const element = list(user.client, { type, status: 'active,cancelled' });
    const newestFinished = [...finished].reverse();
    await showsJobs(
      element,
      [pending, running, ...newestFinished.slice(0, 10)],
      'all active and 10 finished',
    );
    const button = await eventually(() => moreButton(element), 5000, 'Show more');
    button.click();
    await showsJobs(element, [pending, running, ...newestFinished], 'the rest');
    await eventually(() => moreButton(element) === null, 5000, 'no more');
  });

  it('keeps the Show more button usable when a page cannot be fetched, with the visible notice', async () => {
    const user = await testUser('list-page-error');
    const type = `report.${user.user}`;
    await history(user, type, 3);
    const element = list(user.client, { type, status: 'cancelled', limit: '2' });
    await eventually(() => shownIds(element).length === 2, 5000, 'the first page');
    const button = await eventually(() => moreButton(element), 5000, 'Show more');
    user.network.down();
    button.focus();
    await sendKeys({ press: 'Enter' });
    const notice = await eventually(
      () => root(element).querySelector<HTMLElement>('[part="action-error"]'),
      5000,
      'the notice',
    );
    assertEqual(notice.getAttribute('role'), 'alert', 'the notice role');
    assert(notice.checkVisibility(), 'the notice is visible');
    assertEqual(shownIds(element).length, 2, 'nothing lost');
    const still = moreButton(element);
    assert(still, 'the button stays');
    assertEqual(root(element).activeElement, still, 'the focus stays on it');
    user.network.up();
    await sendKeys({ press: 'Enter' });
    await eventually(() => shownIds(element).length === 3, 5000, 'the next page, once the API answers');
    await eventually(() => !root(element).querySelector('[part="action-error"]'), 2000, 'the notice goes');
  });

  it('does not poll a failing API for the page ahead: one try until the user asks for more', async () => {
    const user = await testUser('list-page-ahead');
    const type = `report.${user.user}`;
    await history(user, type, 2);
    let calls = 0;
    user.client.listJobs = async () => {
      calls++;
      throw new TypeError('Failed to fetch');
    };
    const element = list(user.client, { type, status: 'cancelled', limit: '2' });
    await eventually(() => shownIds(element).length === 2, 5000, 'the jobs the client holds');
    await eventually(() => calls >= 1, 5000, 'a fetch ahead');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assertEqual(calls, 1, 'one fetch ahead, not a loop');
    assertEqual(moreButton(element), null, 'no Show more while nothing more is known');
  });

  it('folds failed attempts under the retry that superseded them, and chains under the newest', async () => {
    const user = await testUser('list-fold');
    const type = `program.${user.user}`;
    const [first, retry] = await failedThenRetried(user, type, 'a', ['Disk full', ''], (w) =>
      w.complete({ summary: 'Done at last' }),
    );
    const chain = await failedThenRetried(user, type, 'b', ['Timeout', 'Model overloaded', ''], (w) =>
      w.complete({ summary: 'Third time lucky' }),
    );
    const alone = await job(user, { type, scope: 'c', title: 'Lone failure' }, (w) => w.fail('No data'));
    assert(first && retry && chain[2], 'the attempts');
    const element = list(user.client, { type, status: 'completed,failed,cancelled' });
    await showsJobs(
      element,
      [chain[2] as Job, alone, retry].sort(byNewest(user)),
      'one item per retried job',
    );
    const earlier = (id: string) =>
      card(element, id)?.closest('li')?.querySelector('[part~="earlier"]')?.textContent?.trim();
    assertEqual(earlier(retry.id), '1 earlier attempt failed: Disk full', 'the folded failure');
    assertEqual(earlier(chain[2]?.id as string), '2 earlier attempts failed: Model overloaded', 'the chain');
    assertEqual(earlier(alone.id), undefined, 'nothing folded under a lone failure');
    assert(
      card(element, alone.id)?.querySelector('[part~="retry-button"]'),
      'the lone failure can be retried',
    );
    assertEqual(root(element).querySelectorAll('ul > li').length, 3, 'three items');
  });

  after(() => setViewport({ width: 800, height: 600 }));

  for (const { width, height } of [
    { width: 375, height: 667 },
    { width: 1280, height: 800 },
  ]) {
    for (const dir of ['ltr', 'rtl']) {
      it(`has no axe violation at ${width}×${height} (${dir}) with Show more, after a failed page, while loading more and with a folded retry`, async () => {
        await setViewport({ width, height });
        const holder = document.createElement('div');
        holder.dir = dir;
        holder.lang = dir === 'rtl' ? 'ar' : 'en';
        document.body.append(holder);
        mounted.push(holder);
        const user = await testUser(`list-axe-${width}-${dir}`);
        const type = `program.${user.user}`;
        const [, retry] = await failedThenRetried(user, type, 'a', ['Disk full', ''], (w) =>
          w.complete({ summary: 'Done' }),
        );
        await history(user, type, 4);
        const element = list(user.client, { type, status: 'completed,failed,cancelled', limit: '2' });
        holder.append(element);
        await eventually(() => moreButton(element), 5000, 'Show more');
        await checkAccessibility(element);
        moreButton(element)?.click();
        await eventually(() => shownIds(element).length === 4, 5000, 'the second page, from the client');

        // The third page needs the server: first while it cannot be reached…
        user.network.down();
        moreButton(element)?.click();
        await eventually(() => root(element).querySelector('[part="action-error"]'), 5000, 'the notice');
        await checkAccessibility(element);
        user.network.up();

        // …then while its answer is held back.
        let release = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        const fetchPage = user.client.listJobs.bind(user.client);
        user.client.listJobs = async (input) => {
          await held;
          return fetchPage(input);
        };
        moreButton(element)?.click();
        await eventually(
          () => moreButton(element)?.getAttribute('aria-disabled') === 'true',
          2000,
          'loading',
        );
        await checkAccessibility(element);
        release();
        await eventually(() => shownIds(element).length === 5, 5000, 'every item');
        assert(
          card(element, retry?.id as string)
            ?.closest('li')
            ?.querySelector('[part~="earlier"]'),
          'the folded failure',
        );
        await checkAccessibility(element);
      });
    }
  }
});

/** Newest first, as the list orders finished jobs: most recently finished first. */
function byNewest(user: TestUser) {
  return (a: Job, b: Job) => {
    const at = (item: Job) => Date.parse(user.client.jobStore(item.id).get()?.completedAt ?? item.createdAt);
    return at(b) - at(a);
  };
}
