/// <reference types="@jobtracker/test-support/mocha" />
import type { Job } from '@jobtracker/sdk';
import { defineElement } from '../shared/define.js';
import { button, card, mount, root, setUpTrackerTests, toasts } from '../testing/tracker.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  eventually,
  HOSTILE_URL_TRICKS,
  HOSTILE_URLS,
  testUser,
  XSS_PAYLOADS,
} from '../testing/widget-env.js';
import { JobTracker } from './job-tracker.js';

setUpTrackerTests();

describe('<job-tracker>', () => {
  it('ignores a second definition of its tag instead of throwing', () => {
    defineElement('job-tracker', class extends HTMLElement {});
    assertEqual(customElements.get('job-tracker'), JobTracker, 'the first definition stays');
  });

  it('shows a running job with its progress, message, percent and the keep-browsing hint', async () => {
    const { client, create } = await testUser('progress');
    const tracker = await mount(client, {
      types: JSON.stringify({
        'tracker.progress': { label: 'EPM Generation', href: '/programs', linkLabel: 'Go to Programs' },
      }),
    });
    const job = await create({ type: 'tracker.progress', title: 'Q3 program' });
    const worker = await claimJob('tracker.progress');
    await worker.progress(42, 'Generating workstreams…');
    const shown = await eventually(
      () => {
        const el = card(tracker, job.id);
        return el?.querySelector('[part="percent"]') ? el : null;
      },
      5000,
      'the card with its percent',
    );
    assertEqual(shown.querySelector('[part="label"]')?.textContent, 'EPM Generation', 'type label');
    assertEqual(shown.querySelector('[part="title"]')?.textContent, 'Q3 program', 'title');
    assertEqual(
      shown.querySelector('[part="message"]')?.textContent?.trim(),
      'Generating workstreams…',
      'message',
    );
    assertEqual(shown.querySelector('[part="percent"]')?.textContent, '42%', 'percent');
    const bar = shown.querySelector('[role="progressbar"]');
    assertEqual(bar?.getAttribute('aria-valuenow'), '42', 'aria-valuenow');
    assert(
      bar?.getAttribute('aria-valuetext')?.includes('Generating workstreams'),
      'aria-valuetext from the message',
    );
    assertEqual(
      shown.querySelector<HTMLAnchorElement>('[part="type-link"]')?.getAttribute('href'),
      `${location.origin}/programs`,
      'type link',
    );
    assert(root(tracker).querySelector('[part="hint"]')?.textContent?.includes('keep browsing'), 'hint');
    await checkAccessibility(tracker);
    await worker.complete({ url: '/programs/1' });
  });

  it('shows an indeterminate bar while progress is unknown', async () => {
    const { client, create } = await testUser('indeterminate');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.indeterminate' });
    const worker = await claimJob('tracker.indeterminate');
    await worker.progress(null, 'Preparing');
    const bar = await eventually(
      () => card(tracker, job.id)?.querySelector('[role="progressbar"].indeterminate'),
      5000,
      'an indeterminate bar',
    );
    assertEqual(bar.hasAttribute('aria-valuenow'), false, 'no aria-valuenow while indeterminate');
    assertEqual(card(tracker, job.id)?.querySelector('[part="percent"]'), null, 'no percent');
    await worker.complete(null);
  });

  it('shows one toast per completion, with a View link to the result, and fires job-completed', async () => {
    const { client, create } = await testUser('toast');
    const tracker = await mount(client, { 'result-url': '/programs/{result.programId}' });
    const completed: Job[] = [];
    tracker.addEventListener('job-completed', (event) => completed.push(event.job));
    const job = await create({ type: 'tracker.toast', title: 'Q3 program' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    const worker = await claimJob('tracker.toast');
    await worker.complete({ programId: 42, summary: 'Your program is ready', url: '/ignored' });
    const [toast] = await eventually(
      () => (toasts(tracker).length > 0 ? toasts(tracker) : null),
      5000,
      'a toast',
    );
    await delay(1500);
    assertEqual(toasts(tracker).length, 1, 'exactly one toast');
    assert(toast?.textContent?.includes('Your program is ready'), 'the summary');
    assertEqual(
      toast?.querySelector<HTMLAnchorElement>('[part="view-link"]')?.href,
      `${location.origin}/programs/42`,
      'the link',
    );
    assertEqual(
      completed.map((j) => j.id),
      [job.id],
      'one job-completed event',
    );
    assertEqual(card(tracker, job.id), null, 'the finished job leaves the panel');
    assert(
      root(tracker).querySelector('[role="status"]')?.textContent?.includes('complete'),
      'announced politely',
    );
    await checkAccessibility(tracker);
    button(toast as HTMLElement, 'toast-close')?.click();
    await eventually(() => toasts(tracker).length === 0, 2000, 'the toast to close');
  });

  it('shows a failure with its error and retries it as a new job', async () => {
    const { client, create, apiUrl, token } = await testUser('retry');
    const tracker = await mount(client);
    const failedEvents: Job[] = [];
    tracker.addEventListener('job-failed', (event) => failedEvents.push(event.job));
    const job = await create({ type: 'tracker.retry', scope: 's1', title: 'Import' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    const worker = await claimJob('tracker.retry');
    await worker.fail('The spreadsheet has no header row.', 'bad_file');
    const failed = await eventually(
      () => (card(tracker, job.id)?.querySelector('[part="error"]') ? card(tracker, job.id) : null),
      5000,
      'the failed card',
    );
    assertEqual(
      failed.querySelector('[part="error"]')?.textContent,
      'The spreadsheet has no header row.',
      'the error',
    );
    await eventually(
      () => root(tracker).querySelector('[aria-live="assertive"]')?.textContent?.includes('header row'),
      3000,
      'an assertive announcement',
    );
    await eventually(() => failedEvents.length === 1, 3000, 'job-failed');
    await checkAccessibility(tracker);
    button(failed, 'retry-button')?.click();
    await eventually(() => card(tracker, job.id) === null, 5000, 'the failed card to go');
    const retried = await eventually(
      () => client.$active.get().find((j) => j.retryOf === job.id),
      5000,
      'the retry',
    );
    await eventually(() => card(tracker, retried.id), 5000, 'the new job in the panel');
    const response = await fetch(`${apiUrl}/jobs/${retried.id}`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    assertEqual(
      ((await response.json()) as { job: Job }).job.status,
      'pending',
      'the server has the new attempt',
    );
    await client.cancel(retried.id);
  });

  it('offers no failure card for a job that was retried elsewhere (another tab, browser or the API)', async () => {
    const { client, create, apiUrl, token } = await testUser('retried');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.retried', title: 'Import' });
    const worker = await claimJob('tracker.retried');
    await worker.fail('The spreadsheet has no header row.');
    await eventually(
      () => card(tracker, job.id)?.querySelector('[part="retry-button"]'),
      5000,
      'the failed card',
    );
    const response = await fetch(`${apiUrl}/jobs/${job.id}/retry`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
    });
    const retried = ((await response.json()) as { job: Job }).job;
    await eventually(() => card(tracker, retried.id), 5000, 'the new attempt in the panel');
    await eventually(() => card(tracker, job.id) === null, 3000, 'the failed card to give way');
    assertEqual(client.$dismissed.get().includes(job.id), false, 'hidden because retried, not dismissed');
    await client.cancel(retried.id);
  });

  it('cancels a running job from its card, and dismisses a card without touching the job', async () => {
    const { client, create } = await testUser('cancel');
    const tracker = await mount(client);
    const first = await create({ type: 'tracker.cancel', scope: 'a' });
    const second = await create({ type: 'tracker.cancel', scope: 'b' });
    const shown = await eventually(() => card(tracker, first.id), 5000, 'the card');
    button(shown, 'cancel-button')?.click();
    await eventually(() => client.jobStore(first.id).get()?.status === 'cancelled', 5000, 'the cancel');
    await eventually(() => card(tracker, first.id) === null, 3000, 'the card to leave');
    const other = await eventually(() => card(tracker, second.id), 3000, 'the second card');
    button(other, 'dismiss-button')?.click();
    await eventually(() => card(tracker, second.id) === null, 3000, 'the dismissed card to hide');
    assertEqual(client.jobStore(second.id).get()?.status, 'pending', 'the job goes on');
    await client.cancel(second.id);
  });

  it('renders hostile titles, messages, errors and summaries as text, and never links a hostile URL', async () => {
    const { client, create } = await testUser('xss');
    const urls = [...HOSTILE_URLS, ...HOSTILE_URL_TRICKS];
    const payload = (index: number) => XSS_PAYLOADS[index % XSS_PAYLOADS.length] as string;
    const types: Record<string, { label: string; href: string; linkLabel: string }> = {
      'tracker.xss-safe': { label: 'Safe type', href: '/safe', linkLabel: 'Safe link' },
    };
    for (const [index, url] of urls.entries()) {
      types[`tracker.xss-f${index}`] = { label: `Type ${index}`, href: url, linkLabel: `Hostile ${index}` };
    }
    const tracker = await mount(client, { types: JSON.stringify(types) });
    // One job per hostile type link, with a hostile title and message, then a hostile error.
    const failing = await Promise.all(
      [...urls.keys(), 'safe' as const].map(async (index) => {
        const type = index === 'safe' ? 'tracker.xss-safe' : `tracker.xss-f${index}`;
        const hostile = payload(index === 'safe' ? 0 : index);
        const job = await create({ type, title: hostile });
        const worker = await claimJob(type);
        await worker.progress(10, hostile);
        return { job, worker, hostile };
      }),
    );
    for (const { job, hostile } of failing) {
      // The message as text: the exact string, not a parsed element.
      const shown = await eventually(
        () =>
          card(tracker, job.id)?.querySelector('[part="message"]')?.textContent?.trim() === hostile
            ? card(tracker, job.id)
            : null,
        5000,
        'the hostile message as text',
      );
      assertEqual(shown.querySelector('[part="title"]')?.textContent, hostile, 'the title as text');
    }
    await Promise.all(failing.map(({ worker, hostile }) => worker.fail(hostile)));
    for (const { job, hostile } of failing) {
      const error = await eventually(
        () => card(tracker, job.id)?.querySelector('[part="error"]'),
        5000,
        'the failed card',
      );
      assertEqual(error.textContent, hostile, 'the error as text');
    }
    // One completed job per hostile result URL, with a hostile title and summary.
    await Promise.all(
      urls.map(async (url, index) => {
        const type = `tracker.xss-c${index}`;
        await create({ type, title: `${payload(index)} #${index}` });
        const worker = await claimJob(type);
        await worker.complete({ url, summary: payload(index + 1) });
      }),
    );
    await eventually(() => toasts(tracker).length === urls.length, 8000, 'every toast');
    const shadow = root(tracker);
    // An entity-encoded scheme is no scheme: such a string is a path on this site, which is inert.
    const inert = (href: string | null | undefined) => !href || href.startsWith(`${location.origin}/`);
    for (const toast of toasts(tracker)) {
      const title = toast.querySelector('.toast-title')?.textContent ?? '';
      const index = Number(/#(\d+) complete$/.exec(title)?.[1] ?? -1);
      assertEqual(title, `${payload(index)} #${index} complete`, 'the toast title as text');
      assertEqual(toast.querySelector('.toast-body')?.textContent, payload(index + 1), 'the summary as text');
      const link = toast.querySelector('a')?.getAttribute('href');
      if (index < HOSTILE_URLS.length) assertEqual(link, undefined, `no View link for ${urls[index]}`);
      else assert(inert(link), `no View link for ${JSON.stringify(urls[index])}, or an inert one: ${link}`);
    }
    for (const hostile of XSS_PAYLOADS) {
      assert(shadow.textContent?.includes(hostile), `the payload appears as text: ${hostile}`);
    }
    assertEqual(
      shadow.querySelectorAll('img, script, svg, iframe, object, embed, style, link, form').length,
      0,
      'no injected element',
    );
    const handlers = [...shadow.querySelectorAll('*')].flatMap((element) =>
      element.getAttributeNames().filter((name) => name.startsWith('on')),
    );
    assertEqual(handlers, [], 'no handler attribute');
    const links = [...shadow.querySelectorAll('a')].map((a) => a.getAttribute('href') ?? '');
    assertEqual(
      links.filter((href) => !/^https?:\/\//.test(href)),
      [],
      'every link is an absolute http(s) URL',
    );
    const typeLinks = [...shadow.querySelectorAll<HTMLAnchorElement>('[part="type-link"]')];
    assertEqual(
      typeLinks.find((a) => a.textContent === 'Safe link')?.getAttribute('href'),
      `${location.origin}/safe`,
      'the safe type link',
    );
    for (const link of typeLinks.filter((a) => a.textContent !== 'Safe link')) {
      const index = Number(/^Hostile (\d+)$/.exec(link.textContent ?? '')?.[1] ?? -1);
      assert(index >= HOSTILE_URLS.length, `no type link for ${urls[index]}`);
      assert(inert(link.getAttribute('href')), `an inert type link for ${JSON.stringify(urls[index])}`);
    }
    await delay(50);
    assertEqual((window as { __xss?: number }).__xss, undefined, 'no script ran');
  });
});
