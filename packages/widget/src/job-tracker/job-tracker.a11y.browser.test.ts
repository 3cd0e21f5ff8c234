/// <reference types="@jobtracker/test-support/mocha" />
import type { Job } from '@jobtracker/sdk';
import {
  assertiveRegion,
  button,
  card,
  focusedJob,
  focusedPart,
  focusStaysIn,
  mount,
  pageButton,
  politeRegion,
  press,
  recordSaid,
  root,
  setUpTrackerTests,
  shiftTab,
  text,
  toasts,
} from '../testing/tracker.js';
import { assert, assertEqual, claimJob, delay, eventually, testUser } from '../testing/widget-env.js';

setUpTrackerTests();

describe('<job-tracker>', () => {
  it('reaches and operates the toast, failed cards, Cancel and the collapse control by Tab, Enter and Space', async () => {
    const { client, create } = await testUser('keyboard');
    const before = pageButton('before');
    const tracker = await mount(client);
    pageButton('after');
    const first = await create({ type: 'tracker.kb-fail', scope: 'one', title: 'Import one' });
    const second = await create({ type: 'tracker.kb-fail', scope: 'two', title: 'Import two' });
    const done = await create({ type: 'tracker.kb-done', title: 'Export' });
    await eventually(
      () => card(tracker, first.id) && card(tracker, second.id) && card(tracker, done.id),
      5000,
      'the cards',
    );
    const workers = await Promise.all([
      claimJob('tracker.kb-fail'),
      claimJob('tracker.kb-fail'),
      claimJob('tracker.kb-done'),
    ]);
    await Promise.all([
      workers[0].fail('The file has no header row.'),
      workers[1].fail('The file is empty.'),
      workers[2].complete({ url: '/exports/7', summary: 'Export ready' }),
    ]);
    await eventually(
      () =>
        toasts(tracker).length === 1 &&
        root(tracker).querySelectorAll('.card.failed [part="retry-button"]').length === 2,
      5000,
      'the toast and the failed cards',
    );

    // The toast: View link, then Close; back with Shift+Tab; Enter closes it.
    before.focus();
    await press('Tab');
    assertEqual(focusedPart(tracker), 'view-link', 'Tab reaches the View link');
    assertEqual(
      (root(tracker).activeElement as HTMLAnchorElement).href,
      `${location.origin}/exports/7`,
      'the View link goes to the result',
    );
    await press('Tab');
    assertEqual(focusedPart(tracker), 'toast-close', 'then the toast close button');
    await shiftTab();
    assertEqual(focusedPart(tracker), 'view-link', 'Shift+Tab goes back');
    await press('Tab');
    await press('Enter');
    await eventually(() => toasts(tracker).length === 0, 2000, 'Enter to close the toast');
    await focusStaysIn(tracker, 'the focus to stay in the tracker when its toast goes');

    // The panel: the collapse toggle, then each failed card's Retry and Dismiss.
    before.focus();
    await press('Tab');
    assertEqual(focusedPart(tracker), 'toggle', 'Tab reaches the collapse toggle');
    await press('Tab');
    assertEqual(focusedPart(tracker), 'retry-button', 'then Retry on the first failed card');
    const dismissed = focusedJob(tracker);
    await press('Tab');
    assertEqual(focusedPart(tracker), 'dismiss-button', 'then its Dismiss');
    await press('Tab');
    assertEqual(focusedPart(tracker), 'retry-button', 'then Retry on the second failed card');
    const retriedId = focusedJob(tracker);
    assert(dismissed && retriedId && dismissed !== retriedId, 'two cards, in turn');
    await shiftTab();
    assertEqual(focusedPart(tracker), 'dismiss-button', 'Shift+Tab back to the first Dismiss');
    assertEqual(focusedJob(tracker), dismissed, 'of the first card');
    await press('Space');
    await eventually(() => card(tracker, dismissed) === null, 3000, 'Space to dismiss');
    await focusStaysIn(tracker, 'the focus to stay in the tracker');
    assertEqual(client.jobStore(dismissed).get()?.status, 'failed', 'dismissing leaves the job alone');
    before.focus();
    await press('Tab');
    await press('Tab');
    assertEqual(focusedPart(tracker), 'retry-button', 'Retry of the card that is left');
    await press('Space');
    await eventually(() => card(tracker, retriedId) === null, 5000, 'Space to retry');
    const retried = await eventually(
      () => client.$active.get().find((job) => job.retryOf === retriedId),
      5000,
      'the new attempt',
    );
    await eventually(() => card(tracker, retried.id), 5000, 'the new attempt in the panel');
    // The failed card can leave as the stream brings the new attempt, before Retry's request returns.
    await focusStaysIn(tracker, 'the focus to stay in the tracker after Retry');

    // Collapse and expand: the focus stays on the control as it swaps between toggle and pill.
    before.focus();
    await press('Tab');
    assertEqual(focusedPart(tracker), 'toggle', 'the toggle again');
    await press('Enter');
    await eventually(() => tracker.collapsed && button(root(tracker), 'pill'), 2000, 'Enter to collapse');
    assertEqual(focusedPart(tracker), 'pill', 'the focus moves to the pill that replaced the toggle');
    await press('Space');
    await eventually(() => !tracker.collapsed && button(root(tracker), 'toggle'), 2000, 'Space to expand');
    assertEqual(focusedPart(tracker), 'toggle', 'the focus moves back to the toggle');

    // Cancel on the running card.
    await press('Tab');
    assertEqual(focusedPart(tracker), 'cancel-button', 'Tab reaches Cancel');
    assertEqual(focusedJob(tracker), retried.id, 'of the new attempt');
    await press('Enter');
    await eventually(
      () => client.jobStore(retried.id).get()?.status === 'cancelled',
      5000,
      'Enter to cancel',
    );
  });

  it('never moves the focus when a toast appears or jobs come and go', async () => {
    const { client, create } = await testUser('focus');
    const before = pageButton('before');
    const tracker = await mount(client);
    const first = await create({ type: 'tracker.focus-a', title: 'First' });
    await eventually(() => card(tracker, first.id), 5000, 'the first card');
    before.focus();
    await create({ type: 'tracker.focus-done', title: 'Quick job' });
    const quick = await claimJob('tracker.focus-done');
    await quick.complete({ url: '/done/1' });
    await eventually(() => toasts(tracker).length === 1, 5000, 'a toast');
    assert(document.activeElement === before, 'a toast leaves the focus on the page');

    const dismiss = button(card(tracker, first.id) as HTMLElement, 'dismiss-button') as HTMLButtonElement;
    dismiss.focus();
    const second = await create({ type: 'tracker.focus-b', title: 'Second' });
    await eventually(() => card(tracker, second.id), 5000, 'the newer card (listed first)');
    assert(document.activeElement === tracker, 'the focus stays in the tracker');
    assertEqual(focusedPart(tracker), 'dismiss-button', 'on the Dismiss button');
    assertEqual(focusedJob(tracker), first.id, 'of the same job');
    await create({ type: 'tracker.focus-done2', title: 'Another quick job' });
    const another = await claimJob('tracker.focus-done2');
    await another.complete({ url: '/done/2' });
    await eventually(() => toasts(tracker).length === 2, 5000, 'a second toast');
    assertEqual(focusedPart(tracker), 'dismiss-button', 'a toast does not take the focus');
    assertEqual(focusedJob(tracker), first.id, 'nor move it to another job');
    await Promise.all([client.cancel(first.id), client.cancel(second.id)]);
  });

  it("moves the focus to the next card's Cancel when one is cancelled, to the previous card's after the last, and back to the page after the only one", async () => {
    const { client, create } = await testUser('focus-next');
    const before = pageButton('before');
    const tracker = await mount(client);
    const jobs: Job[] = [];
    for (const title of ['One', 'Two', 'Three'])
      jobs.push(await create({ type: 'tracker.focus-next', scope: title, title }));
    await eventually(() => jobs.every((job) => card(tracker, job.id)), 5000, 'the cards');
    const [top, middle, bottom] = [...root(tracker).querySelectorAll<HTMLElement>('.card')].map(
      (element) => element.dataset.jobId as string,
    );
    const cancelOn = async (id: string | undefined, what: string) => {
      const control = button(card(tracker, id ?? '') as HTMLElement, 'cancel-button');
      assert(control, `the Cancel button of ${what}`);
      control.focus();
      await press('Enter');
      await eventually(() => card(tracker, id ?? '') === null, 5000, `${what} to leave`);
    };

    before.focus();
    await cancelOn(middle, 'the middle card');
    await eventually(() => focusedJob(tracker) === bottom, 2000, 'the focus on the next card');
    assertEqual(focusedPart(tracker), 'cancel-button', "on the next card's Cancel, as the cancelled one");

    await cancelOn(bottom, 'the last card');
    await eventually(() => focusedJob(tracker) === top, 2000, 'the focus on the previous card');
    assertEqual(focusedPart(tracker), 'cancel-button', "on the previous card's Cancel");

    await cancelOn(top, 'the only card left');
    await eventually(() => document.activeElement === before, 2000, 'the focus back where it came from');
    assert(document.activeElement !== document.body, 'never on the body');
  });

  it('clears every failed card with one Clear all, leaving the running ones and the focus in the tracker', async () => {
    const { client, create } = await testUser('clear-all');
    const before = pageButton('before');
    const tracker = await mount(client);
    const failing: Job[] = [];
    for (const scope of ['a', 'b', 'c'])
      failing.push(await create({ type: 'tracker.clear-fail', scope, title: `Import ${scope}` }));
    const running = await create({ type: 'tracker.clear-run', title: 'Still running' });
    await eventually(() => [...failing, running].every((job) => card(tracker, job.id)), 5000, 'the cards');
    const clearButton = () => root(tracker).querySelector<HTMLButtonElement>('[part="clear-button"]');
    assertEqual(clearButton(), null, 'no Clear all while nothing failed');
    const workers = await Promise.all(failing.map(() => claimJob('tracker.clear-fail')));
    await workers[0]?.fail('Bad row.');
    await eventually(() => root(tracker).querySelectorAll('.card.failed').length === 1, 5000, 'one failure');
    assertEqual(clearButton(), null, 'no Clear all for a single failed card');
    await Promise.all(workers.slice(1).map((worker) => worker.fail('Bad row.')));
    await eventually(() => clearButton() !== null, 5000, 'Clear all once two or more cards failed');
    assertEqual(text(clearButton() as HTMLElement), 'Clear all', 'its label from the messages');

    before.focus();
    (clearButton() as HTMLButtonElement).focus();
    await press('Enter');
    await eventually(
      () => root(tracker).querySelectorAll('.card.failed').length === 0,
      3000,
      'every failed card to go',
    );
    assert(card(tracker, running.id), 'the running job stays');
    assertEqual(clearButton(), null, 'Clear all goes with them');
    await focusStaysIn(tracker, 'the focus to stay in the tracker');
    for (const job of failing)
      assertEqual(client.jobStore(job.id).get()?.status, 'failed', 'the jobs stay failed');
  });

  it('keeps the focus on the same job when a card above it leaves (cards are keyed by job)', async () => {
    const { client, create } = await testUser('focus-keyed');
    const tracker = await mount(client);
    const older = await create({ type: 'tracker.keyed-a', title: 'Older' });
    const newer = await create({ type: 'tracker.keyed-b', title: 'Newer' });
    await eventually(() => card(tracker, older.id) && card(tracker, newer.id), 5000, 'both cards');
    const [top, below] = [...root(tracker).querySelectorAll<HTMLElement>('.card')];
    assert(top && below, 'two cards');
    button(below, 'cancel-button')?.focus();
    const staying = focusedJob(tracker);
    assert(staying && staying === below.dataset.jobId, 'the focus on the lower card');
    await client.cancel(top.dataset.jobId as string);
    await eventually(
      () => root(tracker).querySelectorAll('.card').length === 1,
      5000,
      'the top card to leave',
    );
    assertEqual(focusedPart(tracker), 'cancel-button', 'the focus stays on Cancel');
    assertEqual(focusedJob(tracker), staying, 'of the same job');
    await client.cancel(staying);
  });

  it('keeps the focus on the same toast when an older toast closes (toasts are keyed by job)', async () => {
    const { client, create } = await testUser('toast-keyed');
    const tracker = await mount(client);
    for (const name of ['first', 'second']) {
      await create({ type: `tracker.toast-${name}`, title: name });
      await (await claimJob(`tracker.toast-${name}`)).complete({ url: `/done/${name}` });
      await eventually(() => toasts(tracker).some((toast) => toast.textContent?.includes(name)), 5000, name);
    }
    const [older, newer] = toasts(tracker);
    assert(older && newer, 'two toasts');
    button(newer, 'toast-close')?.focus();
    button(older, 'toast-close')?.click();
    await eventually(() => toasts(tracker).length === 1, 2000, 'the older toast to close');
    assertEqual(focusedPart(tracker), 'toast-close', 'the focus stays on Close');
    assertEqual(focusedJob(tracker), newer.dataset.jobId, 'of the same toast');
  });

  it('announces each milestone and the completion once politely, and a failure once assertively', async () => {
    const { client, create } = await testUser('live');
    const tracker = await mount(client);
    const polite = recordSaid(politeRegion(tracker));
    const assertive = recordSaid(assertiveRegion(tracker));
    const job = await create({ type: 'tracker.live', title: 'Report' });
    const worker = await claimJob('tracker.live');
    const percentShown = (value: string) =>
      eventually(
        () => text(card(tracker, job.id)?.querySelector('[part="percent"]')) === value,
        5000,
        `${value} in the card`,
      );
    for (const value of [10, 30, 40, 60, 70, 80, 90]) {
      await worker.progress(value, `At ${value}`);
      await percentShown(`${value}%`);
    }
    // Announcements wait a moment (so that a replay's old progress can be dropped): wait for them.
    await eventually(() => polite.length >= 3, 2000, 'the milestones said');
    await delay(500);
    assertEqual(polite, ['Report: 25%', 'Report: 50%', 'Report: 75%'], 'each milestone once');
    await worker.complete({ summary: 'Done' });
    await eventually(() => toasts(tracker).length === 1, 5000, 'the toast');
    await eventually(() => polite.length === 4, 2000, 'the completion said');
    assertEqual(polite.at(-1), 'Report: complete', 'the completion, once');

    const failing = await create({ type: 'tracker.live-fail', title: 'Import' });
    await eventually(() => card(tracker, failing.id), 5000, 'the second card');
    const failWorker = await claimJob('tracker.live-fail');
    await failWorker.fail('Disk full');
    await eventually(() => card(tracker, failing.id)?.querySelector('[part="error"]'), 5000, 'the failure');
    await eventually(() => assertive.length > 0, 3000, 'the failure said');
    // A later update of the tracker (a new job, the clock) says nothing again.
    const other = await create({ type: 'tracker.live-other', title: 'Other' });
    await eventually(() => card(tracker, other.id), 5000, 'a third card');
    await delay(1100);
    assertEqual(assertive, ['Import: failed. Disk full'], 'the failure, once, assertively');
    assertEqual(polite.length, 4, 'nothing more said politely');
    await client.cancel(other.id);
  });
});
