/// <reference types="@jobtracker/test-support/mocha" />
import { JobBadge } from '../job-badge/job-badge.js';
import { defineElement } from '../shared/define.js';
import {
  button,
  card,
  focusedJob,
  focusedPart,
  mount,
  mounted,
  press,
  root,
  setUpTrackerTests,
  text,
} from '../testing/tracker.js';
import { assert, assertEqual, checkAccessibility, eventually, testUser } from '../testing/widget-env.js';

setUpTrackerTests();
defineElement('job-badge', JobBadge);

/** Badge, page title and panel: what each says about how many jobs run. */
function counts(tracker: HTMLElement, badge: JobBadge) {
  const trackerRoot = tracker.shadowRoot as ShadowRoot;
  const heading = trackerRoot.querySelector('[part="header"] span, [part="pill"] span:not(.spinner)');
  return {
    badge: badge.count,
    title: /^\((\d+)\)/.exec(document.title)?.[1] ?? '0',
    tracker: text(heading ?? trackerRoot.querySelector('[part="hidden-button"]')),
  };
}

describe('<job-tracker> with dismissed running jobs', () => {
  const pageTitle = document.title;
  afterEach(() => {
    document.title = pageTitle;
  });

  it('counts a dismissed running job in the badge, the title and the panel alike, and brings it back from "N hidden"', async () => {
    const { client, create } = await testUser('hidden-running');
    const badge = document.createElement('job-badge');
    badge.client = client;
    document.body.append(badge);
    mounted.push({ element: badge });
    const tracker = await mount(client, { 'title-count': '' });
    const first = await create({ type: 'tracker.hidden-a', title: 'Quarterly report' });
    const second = await create({ type: 'tracker.hidden-b', title: 'Yearly report' });
    await eventually(() => card(tracker, first.id) && card(tracker, second.id), 5000, 'both cards');
    const hiddenButton = () => button(root(tracker), 'hidden-button');
    assertEqual(hiddenButton(), null, 'no "hidden" control while nothing is hidden');

    button(card(tracker, first.id) as HTMLElement, 'dismiss-button')?.click();
    await eventually(() => !card(tracker, first.id), 3000, 'the dismissed card to leave');
    await eventually(() => hiddenButton() !== null, 3000, 'the "hidden" control');
    assertEqual(text(hiddenButton()), 'Show 1 hidden job', 'it says how many are hidden');
    const one = counts(tracker, badge);
    assertEqual(one.badge, 2, 'the badge still counts the dismissed job: it runs');
    assertEqual(one.title, '2', 'so does the page title');
    assertEqual(one.tracker, '2 jobs running', 'and the panel');
    await checkAccessibility(tracker);

    hiddenButton()?.focus();
    await press('Enter');
    await eventually(() => card(tracker, first.id) !== null, 3000, 'the card back');
    assertEqual(hiddenButton(), null, 'nothing hidden any more');
    await eventually(() => focusedJob(tracker) === first.id, 2000, 'the focus on the card brought back');

    for (const job of [first, second]) {
      button(card(tracker, job.id) as HTMLElement, 'dismiss-button')?.click();
      await eventually(() => !card(tracker, job.id), 3000, 'each dismissed card to leave');
    }
    await eventually(() => hiddenButton() !== null, 3000, 'the "hidden" control with every card hidden');
    const both = counts(tracker, badge);
    assertEqual(both.badge, 2, 'the badge counts both');
    assertEqual(both.title, '2', 'the title counts both');
    assertEqual(text(hiddenButton()), '2 jobs running Show 2 hidden jobs', 'the tracker says both run');
    await checkAccessibility(tracker);

    hiddenButton()?.focus();
    await press('Enter');
    await eventually(() => card(tracker, first.id) && card(tracker, second.id), 3000, 'both cards back');
    await eventually(() => focusedPart(tracker) !== null, 2000, 'the focus stays in the tracker');
    assert(document.activeElement !== document.body, 'never on the body');
  });
});
