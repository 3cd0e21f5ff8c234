/// <reference types="@jobtracker/test-support/mocha" />
import type { Job } from '@jobtracker/sdk';
import { card, job, list, root, setUpListTests, shownIds, showsJobs } from '../testing/list.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  HOSTILE_URLS,
  testUser,
  XSS_PAYLOADS,
} from '../testing/widget-env.js';
import type { JobList } from './job-list.js';

setUpListTests();

describe('<job-list>', () => {
  it('shows active jobs by default, and finished ones by status, each newest first', async () => {
    const user = await testUser('list-status');
    const type = `program.${user.user}`;
    const completed = await job(user, { type, title: 'Q1 program' }, (w) =>
      w.complete({ summary: 'Q1 done' }),
    );
    const failed = await job(user, { type, title: 'Q2 program' }, (w) => w.fail('The model timed out'));
    const cancelled = await job(user, { type, title: 'Q3 program' });
    await user.client.cancel(cancelled.id);
    const running = await job(user, { type, title: 'Q4 program' }, (w) => w.progress(40, 'Halfway'));
    const pending = await job(user, { type, title: 'Q5 program' });

    const active = list(user.client);
    const done = list(user.client, { status: 'completed' });
    const finished = list(user.client, { status: 'completed,failed' });
    const stopped = list(user.client, { status: 'cancelled' });
    const everything = list(user.client, { status: 'active, completed, failed, cancelled' });

    await showsJobs(active, [pending, running], 'the active list');
    await showsJobs(done, [completed], 'the completed list');
    await showsJobs(finished, [failed, completed], 'the completed and failed list');
    await showsJobs(stopped, [cancelled], 'the cancelled list');
    await showsJobs(everything, [pending, running, cancelled, failed, completed], 'every job');
    assertEqual(root(active).querySelector('ul')?.getAttribute('role'), 'list', 'the list role');
    assertEqual(root(active).querySelectorAll('ul > li').length, 2, 'one <li> per job');
    assert(
      card(finished, failed.id)?.textContent?.includes('The model timed out'),
      'the error of a failed job',
    );
    assert(card(done, completed.id)?.textContent?.includes('Q1 done'), 'the summary of a completed job');

    // Live: a job that completes leaves the active list and joins the finished ones at the top.
    const worker = await claimJob(type);
    assertEqual(worker.job.id, pending.id, 'the pending job is claimed');
    await worker.complete({ summary: 'Q5 done' });
    await showsJobs(active, [running], 'the active list after a completion');
    await showsJobs(done, [pending, completed], 'the completed list after a completion');
  });

  it('filters by type and scope and keeps the newest jobs up to its limit', async () => {
    const user = await testUser('list-filter');
    const [programs, reports] = [`program.${user.user}`, `report.${user.user}`];
    const a = await job(user, { type: programs, scope: 'analysis-1' });
    const b = await job(user, { type: programs, scope: 'analysis-2' });
    const c = await job(user, { type: reports, scope: 'analysis-1' });
    const d = await job(user, { type: programs, scope: 'analysis-1' });

    const byType = list(user.client, { type: programs });
    const byTypeAndScope = list(user.client, { type: programs, scope: 'analysis-1' });
    const byScope = list(user.client, { scope: 'analysis-1' });
    const limited = list(user.client, { limit: '2' });

    await showsJobs(byType, [d, b, a], 'the type filter');
    await showsJobs(byTypeAndScope, [d, a], 'the type and scope filter');
    await showsJobs(byScope, [d, c, a], 'the scope filter');
    await showsJobs(limited, [d, c], 'the two newest jobs');

    limited.limit = 3;
    await showsJobs(limited, [d, c, b], 'a larger limit');
    byType.type = reports;
    await showsJobs(byType, [c], 'a new type');
  });

  it('shows the empty slot only while no job matches, with messages.empty as its fallback', async () => {
    const user = await testUser('list-empty');
    const type = `program.${user.user}`;
    const slotted = list(
      user.client,
      { type },
      { children: '<p slot="empty">No program is being generated.</p>' },
    );
    const fallback = list(user.client, { type });
    const translated = list(user.client, { type }, { messages: { empty: 'Aucun programme.' } });
    const paragraph = slotted.querySelector('p') as HTMLElement;

    await eventually(() => root(slotted).querySelector('slot[name="empty"]'), 5000, 'the empty slot');
    await eventually(() => paragraph.checkVisibility(), 2000, 'the slotted empty state to show');
    assertEqual(root(slotted).querySelector('ul'), null, 'no list while empty');
    await eventually(() => root(fallback).querySelector('[part="empty"]'), 5000, 'the fallback empty state');
    assertEqual(
      root(fallback).querySelector('[part="empty"]')?.textContent?.trim(),
      'No jobs yet.',
      'default text',
    );
    await eventually(
      () => root(translated).querySelector('[part="empty"]'),
      5000,
      'the translated empty state',
    );
    assertEqual(
      root(translated).querySelector('[part="empty"]')?.textContent?.trim(),
      'Aucun programme.',
      'text',
    );

    const created = await job(user, { type, title: 'Q3 program' });
    await showsJobs(slotted, [created], 'the job to replace the empty state');
    assertEqual(root(slotted).querySelector('slot[name="empty"]'), null, 'the empty slot is gone');
    assert(!paragraph.checkVisibility(), 'the slotted empty state is hidden');
    await showsJobs(fallback, [created]);
    assertEqual(root(fallback).querySelector('[part="empty"]'), null, 'the fallback is gone');

    await user.client.cancel(created.id);
    await eventually(() => paragraph.checkVisibility(), 5000, 'the empty state to come back');
  });

  it('renders a determinate progress bar with aria-valuenow, and an indeterminate one without it', async () => {
    const user = await testUser('list-progress');
    const type = `program.${user.user}`;
    const determinate = await job(user, { type, title: 'Measured' }, (w) =>
      w.progress(42.7, 'Writing chapter 3'),
    );
    const indeterminate = await job(user, { type, title: 'Unmeasured' }, (w) => w.progress(null, 'Thinking'));
    const pending = await job(user, { type, title: 'Queued' });
    const element = list(user.client, { type });
    await showsJobs(element, [pending, indeterminate, determinate]);

    const bar = (id: string) => card(element, id)?.querySelector('[role="progressbar"]');
    await eventually(
      () => bar(determinate.id)?.getAttribute('aria-valuenow') === '42',
      5000,
      'the progress value',
    );
    const measured = bar(determinate.id) as Element;
    assertEqual(measured.getAttribute('aria-valuemin'), '0', 'aria-valuemin');
    assertEqual(measured.getAttribute('aria-valuemax'), '100', 'aria-valuemax');
    assert(
      measured.getAttribute('aria-valuetext')?.includes('Writing chapter 3'),
      'the message in the value text',
    );
    assert(card(element, determinate.id)?.textContent?.includes('42%'), 'the percentage as text');
    for (const id of [indeterminate.id, pending.id]) {
      const unmeasured = bar(id);
      assert(unmeasured, 'an indeterminate bar');
      assertEqual(unmeasured.hasAttribute('aria-valuenow'), false, 'no aria-valuenow while indeterminate');
      assert(unmeasured.classList.contains('indeterminate'), 'the indeterminate style');
    }
    assert(card(element, indeterminate.id)?.textContent?.includes('Thinking'), 'the progress message');

    // Live progress.
    const worker = await claimJob(type);
    await worker.progress(80, 'Almost there');
    await eventually(() => bar(pending.id)?.getAttribute('aria-valuenow') === '80', 5000, 'live progress');
  });

  it('links View to result.url, or to the result-url template filled from the result', async () => {
    const user = await testUser('list-view');
    const type = `program.${user.user}`;
    const withUrl = await job(user, { type }, (w) => w.complete({ url: '/programs/42', programId: 42 }));
    const withId = await job(user, { type }, (w) => w.complete({ programId: 'a b/7' }));
    const withNothing = await job(user, { type }, (w) => w.complete({ summary: 'Nothing to see' }));
    const plain = list(user.client, { type, status: 'completed' });
    const templated = list(user.client, {
      type,
      status: 'completed',
      'result-url': '/programs/{result.programId}/view',
    });
    await showsJobs(plain, [withNothing, withId, withUrl]);
    await showsJobs(templated, [withNothing, withId, withUrl]);

    const link = (element: JobList, id: string) =>
      card(element, id)?.querySelector<HTMLAnchorElement>('a[part~="view-link"]') ?? null;
    assertEqual(link(plain, withUrl.id)?.href, `${location.origin}/programs/42`, 'result.url');
    assertEqual(link(plain, withUrl.id)?.textContent?.trim(), 'View', 'the link text');
    assertEqual(link(plain, withId.id), null, 'no link without result.url');
    assertEqual(link(plain, withNothing.id), null, 'no link without a result URL');
    assertEqual(link(templated, withUrl.id)?.href, `${location.origin}/programs/42/view`, 'the template');
    assertEqual(
      link(templated, withId.id)?.href,
      `${location.origin}/programs/a%20b%2F7/view`,
      'encoded values',
    );
    assertEqual(link(templated, withNothing.id), null, 'no link when the template cannot be filled');
  });

  it('renders hostile text as text and never links a hostile URL', async () => {
    const user = await testUser('list-xss');
    const type = `program.${user.user}`;
    const jobs: Job[] = [];
    for (const payload of XSS_PAYLOADS) {
      jobs.push(await job(user, { type, title: payload }, (w) => w.progress(30, payload)));
      jobs.push(await job(user, { type, title: payload }, (w) => w.fail(payload)));
      jobs.push(
        await job(user, { type, title: payload }, (w) =>
          w.complete({ summary: payload, url: HOSTILE_URLS[0] }),
        ),
      );
    }
    for (const url of HOSTILE_URLS) {
      jobs.push(await job(user, { type, title: `Hostile ${url}` }, (w) => w.complete({ url, summary: url })));
    }
    const element = list(user.client, {
      type,
      status: 'active,completed,failed',
      // One page of every job (finished ones otherwise come 10 at a time).
      limit: String(jobs.length),
      types: JSON.stringify({ [type]: { href: HOSTILE_URLS[0], linkLabel: 'Go to Programs' } }),
    });
    await eventually(
      async () => {
        await element.updateComplete;
        return shownIds(element).length === jobs.length;
      },
      5000,
      'every hostile job',
    );
    // Let any injected handler run (an <img onerror> fires after the image fails to load).
    await new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 50)));

    const shadow = root(element);
    assertEqual(
      shadow.querySelectorAll('img, script, svg, iframe, object, embed').length,
      0,
      'injected elements',
    );
    assertEqual(
      shadow.querySelectorAll('a').length,
      0,
      'links (every result URL and the type link are hostile)',
    );
    assertEqual(shadow.querySelectorAll('[onerror], [onload]').length, 0, 'inline handlers');
    assertEqual((window as { __xss?: unknown }).__xss, undefined, 'window.__xss');
    const text = shadow.textContent ?? '';
    for (const payload of XSS_PAYLOADS)
      assert(text.includes(payload), `the payload shown as text: ${payload}`);
    for (const url of HOSTILE_URLS) assert(text.includes(url), `the URL shown as text only: ${url}`);
  });

  it('takes the types JSON text on its property as well as on its attribute', async () => {
    const user = await testUser('list-types');
    const type = `program.${user.user}`;
    const created = await job(user, { type, title: 'Q3 program' });
    const views = { [type]: { label: 'EPM Generation', href: '/programs', linkLabel: 'Go to Programs' } };
    const byAttribute = list(user.client, { type, types: JSON.stringify(views) });
    const byProperty = list(user.client, { type });
    // What a framework binding a property does with the attribute's text.
    (byProperty as unknown as { types: string }).types = JSON.stringify(views);
    await showsJobs(byAttribute, [created]);
    await showsJobs(byProperty, [created]);
    for (const [element, how] of [
      [byAttribute, 'attribute'],
      [byProperty, 'property'],
    ] as const) {
      const shown = card(element, created.id) as HTMLElement;
      assertEqual(shown.querySelector('[part="label"]')?.textContent, 'EPM Generation', `label (${how})`);
      assertEqual(
        shown.querySelector<HTMLAnchorElement>('[part~="type-link"]')?.href,
        `${location.origin}/programs`,
        `type link (${how})`,
      );
      assertEqual(
        shown.querySelector('[part~="type-link"]')?.textContent?.trim(),
        'Go to Programs',
        `type link text (${how})`,
      );
    }
    assertEqual(byProperty.types, views, 'the property holds the parsed views');

    // Text that is not a JSON object gives no views and a warning, not an error.
    const warnings: unknown[][] = [];
    const warn = console.warn;
    console.warn = (...args: unknown[]) => void warnings.push(args);
    try {
      (byProperty as unknown as { types: string }).types = '{not json';
      await eventually(
        async () => {
          await byProperty.updateComplete;
          return card(byProperty, created.id)?.querySelector('[part="label"]')?.textContent === 'Q3 program';
        },
        5000,
        'the title as label without views',
      );
    } finally {
      console.warn = warn;
    }
    assertEqual(card(byProperty, created.id)?.querySelector('[part~="type-link"]'), null, 'no type link');
    assertEqual(byProperty.types, {}, 'no views');
    assertEqual(warnings.length, 1, 'one warning');
    assert(String(warnings[0]?.[0]).includes('"types"'), 'a warning about types');
  });

  it('leaves out dismissed jobs with hide-dismissed', async () => {
    const user = await testUser('list-dismissed');
    const type = `program.${user.user}`;
    const kept = await job(user, { type });
    const dismissed = await job(user, { type });
    const all = list(user.client, { type });
    const visible = list(user.client, { type, 'hide-dismissed': '' });
    await showsJobs(visible, [dismissed, kept]);
    user.client.dismiss(dismissed.id);
    await showsJobs(visible, [kept], 'the dismissed job to leave');
    await showsJobs(all, [dismissed, kept], 'without hide-dismissed');
  });

  it('passes an accessibility check with active, completed, failed and cancelled jobs', async () => {
    const user = await testUser('list-a11y');
    const type = `program.${user.user}`;
    const jobs = [
      await job(user, { type, title: 'Done' }, (w) => w.complete({ url: '/programs/1', summary: 'Ready' })),
      await job(user, { type, title: 'Broken' }, (w) => w.fail('The model timed out')),
      await job(user, { type, title: 'Halfway' }, (w) => w.progress(50, 'Writing')),
      await job(user, { type, title: 'Thinking' }, (w) => w.progress(null, 'Thinking')),
      await job(user, { type, title: 'Queued' }),
      await job(user, { type, title: 'Stopped' }),
    ];
    await user.client.cancel((jobs.at(-1) as Job).id);
    const element = list(user.client, {
      type,
      status: 'active,completed,failed,cancelled',
      types: JSON.stringify({ [type]: { label: 'Program', href: '/programs', linkLabel: 'Go to Programs' } }),
    });
    await eventually(() => shownIds(element).length === jobs.length, 5000, 'every job');
    await checkAccessibility(element);
    const empty = list(user.client, { type: `nothing.${user.user}` });
    await eventually(() => root(empty).querySelector('[part="empty"]'), 5000, 'the empty state');
    await checkAccessibility(empty);
  });
});
