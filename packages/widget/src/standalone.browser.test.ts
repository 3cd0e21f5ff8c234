/// <reference types="@jobtracker/test-support/mocha" />
import type { JobClient } from '@jobtracker/sdk';
import type { JobBadge } from './job-badge/job-badge.js';
import type { JobTracker } from './job-tracker/job-tracker.js';
import { DROP_IN_URL, definedIn, dropInPage, removeDropInPages } from './testing/drop-in-page.js';
import { everyElement, everyElementMarkup, startFromButton } from './testing/every-element.js';
import {
  assert,
  assertEqual,
  claimJob,
  eventually,
  streamCount,
  streamsClosed,
  testUser,
} from './testing/widget-env.js';

afterEach(async () => {
  removeDropInPages();
  await streamsClosed();
});

const badgeText = (badge: JobBadge) => badge.shadowRoot?.querySelector('[part="badge"]')?.textContent;

describe('the self-contained file', () => {
  it('works in a plain HTML page with one script tag and two tags', async () => {
    const user = await testUser('plain');
    const { create } = user;
    const page = await dropInPage(
      user,
      '',
      `<nav><a href="#">Programs <job-badge></job-badge></a></nav>
      <job-tracker></job-tracker>`,
    );
    const job = await create({ type: 'plain.page', title: 'Plain page job' });
    const worker = await claimJob('plain.page');
    await worker.progress(30, 'Working');
    const tracker = page.querySelector('job-tracker') as JobTracker;
    const badge = page.querySelector('job-badge') as JobBadge;
    await eventually(
      () =>
        tracker.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="percent"]`)?.textContent ===
        '30%',
      8000,
      'the tracker to show the job',
    );
    await eventually(() => badge.getAttribute('count') === '1', 5000, 'the badge to count it');
    assertEqual(badgeText(badge), '1', 'the visible count');
    assert(badge.checkVisibility(), 'the badge shows');
    assertEqual(
      tracker.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="label"]`)?.textContent,
      'Plain page job',
      'label (the title)',
    );
    await worker.complete({ url: '/done' });
    await eventually(() => tracker.shadowRoot?.querySelector('[part="toast"]'), 5000, 'the toast');
    await eventually(() => badge.getAttribute('count') === '0', 5000, 'the badge count to fall to 0');
    assertEqual(badgeText(badge), '0', 'the count text');
    assert(!badge.checkVisibility(), 'the badge is hidden at 0');
    assertEqual(badge.getBoundingClientRect().width, 0, 'the badge takes no space at 0');
  });

  it('gives every element of the page the one client made from the meta tags, on one connection', async () => {
    const user = await testUser('meta');
    const type = `plain.meta.${user.user}`;
    const before = await streamCount();
    const page = await dropInPage(
      user,
      // The page's own script asks for the page-wide client, as the elements do.
      `<script type="module">
        import { defaultJobClient } from '${DROP_IN_URL}';
        window.pageClient = defaultJobClient();
      </script>`,
      everyElementMarkup(type, { linkedBadge: true }),
    );
    const client = await eventually(
      () => (page.defaultView as (Window & { pageClient?: JobClient }) | null)?.pageClient,
      5000,
      'the page-wide client',
    );
    // <job-list> and <job-button> load from chunks beside the file, after <job-tracker> is defined.
    await definedIn(page, 'job-list');
    await definedIn(page, 'job-button');
    const { tracker, badge, list, button } = everyElement(page);
    const { job, worker } = await startFromButton(button, type);
    await worker.progress(40, 'Writing');
    const percentOf = (element: Element) =>
      element.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="percent"]`)?.textContent;
    await eventually(() => percentOf(tracker) === '40%', 5000, 'the tracker to show the job');
    await eventually(() => percentOf(list) === '40%', 5000, 'the list to show the job');
    await eventually(() => badge.getAttribute('count') === '1', 5000, 'the badge to count it');
    assertEqual(badgeText(badge), '1', 'the visible count');
    assertEqual(
      button.querySelector('button')?.getAttribute('aria-disabled'),
      'true',
      'the button held by the job',
    );
    // The tracker, badge and list follow that client's active jobs, and the button's activeFor() store does too.
    assertEqual(client.$active.lc, 4, "listeners of the page-wide client's active jobs");
    assertEqual(await streamCount(), before + 1, 'open streams: the page holds one');

    await worker.complete({ url: '/done' });
    await eventually(() => badge.getAttribute('count') === '0', 5000, 'the badge count to fall to 0');
    await eventually(
      () => !button.querySelector('button')?.hasAttribute('aria-disabled'),
      5000,
      'the button free again',
    );
  });
});
