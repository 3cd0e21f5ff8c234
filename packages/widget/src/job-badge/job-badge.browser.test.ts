/// <reference types="@jobtracker/test-support/mocha" />
import type { JobClient } from '@jobtracker/sdk';
import { defineElement } from '../shared/define.js';
import type { JobMessages } from '../shared/messages.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  streamCount,
  testUser,
} from '../testing/widget-env.js';
import { JobBadge } from './job-badge.js';

defineElement('job-badge', JobBadge);

const mounted: Element[] = [];

let streamsBefore = 0;

before(async () => {
  streamsBefore = await streamCount();
});

afterEach(async () => {
  for (const element of mounted.splice(0)) element.remove();
  // Each test's stream must be closed before the next test (or test file) starts: a leftover one keeps one
  // of the browser's six connections to the server busy, even after the page has moved on.
  await eventually(
    async () => (await streamCount()) <= streamsBefore,
    5000,
    'the streams of the test to close',
  );
});

/** Puts `html` on the page; the caller fills in the clients before the badges connect. */
function mount(html: string): HTMLElement {
  const host = document.createElement('div');
  host.innerHTML = html;
  mounted.push(host);
  return host;
}

function badge(client: JobClient, attributes: Record<string, string> = {}, messages?: Partial<JobMessages>) {
  const element = document.createElement('job-badge');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.client = client;
  if (messages) element.messages = messages;
  return element;
}

const shown = (element: JobBadge) => element.shadowRoot?.querySelector('[part="badge"]')?.textContent ?? null;
const spoken = (element: JobBadge) =>
  element.shadowRoot?.querySelector('[role="status"]')?.textContent ?? null;

/** Waits until the badge shows `count` (visible text and the accessible text both follow). */
async function showsCount(element: JobBadge, count: number, what = `the badge to show ${count}`) {
  await eventually(
    async () => {
      await element.updateComplete;
      return element.getAttribute('count') === String(count) && element.count === count;
    },
    5000,
    what,
  );
}

describe('<job-badge>', () => {
  it('is hidden at zero, shows 2 for two running jobs, 1 after one completes, and hides when none is left', async () => {
    const { user, client, create } = await testUser('badge');
    const type = `program.${user}`;
    // A nav row with a gap: a hidden badge must not add a second gap.
    const row = mount(
      '<nav style="display:flex;gap:10px"><span id="before">Programs</span><span id="after">Reports</span></nav>',
    );
    const element = badge(client, { type });
    row.querySelector('#before')?.after(element);
    document.body.append(row);
    const before = row.querySelector('#before') as HTMLElement;
    const after = row.querySelector('#after') as HTMLElement;

    await showsCount(element, 0);
    assert(!element.checkVisibility(), 'nothing is visible at zero');
    assertEqual(element.getBoundingClientRect().width, 0, 'width at zero');
    assertEqual(
      after.getBoundingClientRect().left - before.getBoundingClientRect().right,
      10,
      'space between the neighbours at zero (one gap, no badge)',
    );
    assertEqual(spoken(element), '', 'nothing to announce at zero');

    await create({ type, title: 'Q3 program', dedupe: false });
    await create({ type, title: 'Q4 program', dedupe: false });
    await showsCount(element, 2);
    assertEqual(shown(element), '2', 'visible text');
    assertEqual(spoken(element), '2 jobs running', 'accessible text');
    assert(element.checkVisibility(), 'the badge is visible');
    assert(element.getBoundingClientRect().width > 0, 'the badge takes space');

    const first = await claimJob(type);
    await first.progress(50, 'Halfway');
    await first.complete({ url: '/programs/1' });
    await showsCount(element, 1, 'the count to fall after a completion');
    assertEqual(shown(element), '1', 'visible text after the completion');
    assertEqual(spoken(element), '1 job running', 'accessible text after the completion');

    const second = await claimJob(type);
    await second.fail('Out of paper');
    await showsCount(element, 0, 'the count to fall after a failure');
    assert(!element.checkVisibility(), 'hidden again at zero');
  });

  it('counts only the jobs of its type and scope', async () => {
    const { user, client, create } = await testUser('badge-filter');
    const [programs, reports] = [`program.${user}`, `report.${user}`];
    const all = badge(client);
    const byType = badge(client, { type: programs });
    const byTypeAndScope = badge(client, { type: programs, scope: 'analysis-1' });
    const byScope = badge(client, { scope: 'analysis-1' });
    const row = mount('');
    row.append(all, byType, byTypeAndScope, byScope);
    document.body.append(row);

    await create({ type: programs, scope: 'analysis-1' });
    await create({ type: programs, scope: 'analysis-2' });
    await create({ type: reports, scope: 'analysis-1' });
    await create({ type: reports });

    await showsCount(all, 4);
    await showsCount(byType, 2);
    await showsCount(byTypeAndScope, 1);
    await showsCount(byScope, 2);

    byType.type = reports;
    await showsCount(byType, 2, 'the count to follow a new type');
    byTypeAndScope.scope = 'analysis-3';
    await showsCount(byTypeAndScope, 0, 'the count to follow a new scope');
    assert(!byTypeAndScope.checkVisibility(), 'hidden when nothing matches');
  });

  it('shows and announces the count with the messages it is given', async () => {
    const { user, client, create } = await testUser('badge-messages');
    const type = `program.${user}`;
    const element = badge(
      client,
      { type },
      {
        badge: (count) => `(${count})`,
        badgeLabel: (count) => `${count} programme(s) en cours`,
      },
    );
    const row = mount('');
    row.append(element);
    document.body.append(row);

    await create({ type });
    await showsCount(element, 1);
    assertEqual(shown(element), '(1)', 'custom visible text');
    assertEqual(spoken(element), '1 programme(s) en cours', 'custom accessible text');

    element.messages = { badge: (count) => `${count} ▸` };
    await element.updateComplete;
    assertEqual(shown(element), '1 ▸', 'messages replaced at run time');
    assertEqual(spoken(element), '1 job running', 'the default for the messages left out');
  });

  it('changes its status text only when the count changes, not on every progress update', async () => {
    const { user, client, create } = await testUser('badge-quiet');
    const type = `program.${user}`;
    const element = badge(client, { type });
    const row = mount('');
    row.append(element);
    document.body.append(row);

    const job = await create({ type });
    await showsCount(element, 1);
    const status = element.shadowRoot?.querySelector('[role="status"]');
    assert(status, 'a status region');
    const changes: MutationRecord[] = [];
    const observer = new MutationObserver((records) => changes.push(...records));
    observer.observe(status, { subtree: true, childList: true, characterData: true });
    try {
      const worker = await claimJob(type);
      for (const progress of [10, 40, 70]) await worker.progress(progress, `At ${progress}%`);
      await eventually(
        () => client.jobStore(job.id).get()?.progress === 70,
        5000,
        'the last progress update',
      );
      await element.updateComplete;
      assertEqual(changes.length, 0, 'changes to the status region during progress updates');

      await create({ type, dedupe: false });
      await showsCount(element, 2);
      await eventually(() => changes.length > 0, 2000, 'the status region to change with the count');
      assertEqual(spoken(element), '2 jobs running', 'the new announcement');
    } finally {
      observer.disconnect();
    }
  });

  it('passes an accessibility check inside a nav link, with its count in the link name', async () => {
    const { user, client, create } = await testUser('badge-a11y');
    const type = `program.${user}`;
    const nav = mount('<nav aria-label="Main"><a href="/programs">Programs </a></nav>');
    const element = badge(client, { type });
    nav.querySelector('a')?.append(element);
    document.body.append(nav);

    await create({ type });
    await showsCount(element, 1);
    await checkAccessibility(nav);
    const visual = element.shadowRoot?.querySelector('[part="badge"]');
    assertEqual(
      visual?.getAttribute('aria-hidden'),
      'true',
      'the bare number is hidden from assistive technology',
    );
    assertEqual(spoken(element), '1 job running', 'what the link says besides "Programs"');
  });
});
