/// <reference path="../../../sdk/src/testing/mocha.d.ts" />
import { createJobClient, type Job, type JobClient } from '@jobtracker/sdk';
import { emulateMedia, sendKeys, setViewport } from '@web/test-runner-commands';
import { defineElement } from '../shared/define.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  disconnectTestClients,
  eventually,
  HOSTILE_URL_TRICKS,
  HOSTILE_URLS,
  streamsClosed,
  testUser,
  XSS_PAYLOADS,
} from '../testing/widget-env.js';
import { JobTracker } from './job-tracker.js';

defineElement('job-tracker', JobTracker);

const mounted: { element: HTMLElement; stop?: () => void }[] = [];

async function mount(client: JobClient, attributes: Record<string, string> = {}): Promise<JobTracker> {
  const element = document.createElement('job-tracker');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.client = client;
  document.body.append(element);
  mounted.push({ element });
  await element.updateComplete;
  return element;
}

const root = (element: JobTracker) => element.shadowRoot as ShadowRoot;
const card = (element: JobTracker, id: string) =>
  root(element).querySelector<HTMLElement>(`[data-job-id="${id}"].card`);
const toasts = (element: JobTracker) => [...root(element).querySelectorAll<HTMLElement>('.toast')];
const button = (scope: ParentNode, part: string) =>
  scope.querySelector<HTMLButtonElement>(`[part="${part}"]`);
const notice = (element: JobTracker) => root(element).querySelector<HTMLElement>('[part="connection"]');
const focusedPart = (element: JobTracker) => root(element).activeElement?.getAttribute('part') ?? null;
const focusedJob = (element: JobTracker) =>
  root(element).activeElement?.closest<HTMLElement>('[data-job-id]')?.dataset.jobId ?? null;
const politeRegion = (element: JobTracker) => root(element).querySelector('[aria-live="polite"]') as Element;
const assertiveRegion = (element: JobTracker) =>
  root(element).querySelector('[aria-live="assertive"]') as Element;
// Collapses the template's whitespace, not the no-break spaces that Intl puts in numbers.
const text = (element: Element | null | undefined) =>
  element?.textContent?.replace(/[ \t\n\r]+/g, ' ').trim();

/** A button of the page itself, outside the tracker, where the user's focus can be. */
function pageButton(label: string): HTMLButtonElement {
  const element = document.createElement('button');
  element.textContent = label;
  document.body.append(element);
  mounted.push({ element });
  return element;
}

const press = (key: string) => sendKeys({ press: key });
async function shiftTab() {
  await sendKeys({ down: 'Shift' });
  try {
    await sendKeys({ press: 'Tab' });
  } finally {
    await sendKeys({ up: 'Shift' });
  }
}

/** Every text a live region says, in order (a screen reader reads each change of the region). */
function recordSaid(region: Element): string[] {
  const said: string[] = [];
  new MutationObserver(() => {
    const value = text(region);
    if (value) said.push(value);
  }).observe(region, { childList: true, characterData: true, subtree: true });
  return said;
}

afterEach(async () => {
  for (const { element } of mounted.splice(0)) element.remove();
  Reflect.deleteProperty(window, '__xss');
  disconnectTestClients();
  await streamsClosed();
});

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
    await eventually(
      () => focusedPart(tracker) !== null,
      2000,
      'the focus to stay in the tracker when its toast goes',
    );

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
    await eventually(() => focusedPart(tracker) !== null, 2000, 'the focus to stay in the tracker');
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
    await eventually(
      () => focusedPart(tracker) !== null,
      2000,
      'the focus to stay in the tracker after Retry',
    );

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

  it('says when updates are delayed, and shows the stored jobs meanwhile', async () => {
    const storage = new Map<string, string>();
    const running: Job = {
      id: '01m8k0x60974smd8gnmwwmw5zz',
      type: 'tracker.offline',
      scope: null,
      title: 'Cached job',
      status: 'running',
      progress: 30,
      message: 'Working',
      result: null,
      error: null,
      attempt: 1,
      maxAttempts: 3,
      retryOf: null,
      version: 3,
      createdAt: new Date().toISOString(),
      startedAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
      completedAt: null,
    };
    const baseUrl = 'http://127.0.0.1:9/api';
    storage.set(`jobtracker:${baseUrl}:offline`, JSON.stringify({ v: 1, cursor: '5', jobs: [running] }));
    const client = createJobClient({
      baseUrl,
      user: 'offline',
      shareTabs: false,
      storage: {
        getItem: (key) => storage.get(key) ?? null,
        setItem: (key, value) => void storage.set(key, value),
        removeItem: (key) => void storage.delete(key),
      },
    });
    const tracker = await mount(client);
    await eventually(() => card(tracker, running.id), 3000, 'the stored job');
    const shown = await eventually(() => notice(tracker), 5000, 'the notice');
    assert(shown.textContent?.includes('Reconnecting'), 'says it is reconnecting');
    await checkAccessibility(tracker);
  });

  it('follows the color scheme, and a theme attribute forces one', async () => {
    const { client } = await testUser('theme');
    const tracker = await mount(client);
    const bg = () => getComputedStyle(tracker).getPropertyValue('--jt-bg').trim();
    try {
      await emulateMedia({ colorScheme: 'light' });
      assertEqual(bg(), '#ffffff', 'light by default');
      await emulateMedia({ colorScheme: 'dark' });
      assertEqual(bg(), '#1c2128', 'dark when the system is dark');
      tracker.setAttribute('theme', 'light');
      assertEqual(bg(), '#ffffff', 'theme="light" wins over a dark system');
      await emulateMedia({ colorScheme: 'light' });
      tracker.setAttribute('theme', 'dark');
      assertEqual(bg(), '#1c2128', 'theme="dark" wins over a light system');
    } finally {
      await emulateMedia({ colorScheme: 'light' });
    }
  });

  it('takes its strings from a messages object and counts running jobs in the page title', async () => {
    const { client, create } = await testUser('i18n');
    document.title = 'Programs';
    const title = document.title;
    const tracker = await mount(client, { 'title-count': '' });
    tracker.messages = { cancel: 'Annuler', jobsRunning: (n) => `${n} tâche(s) en cours` };
    const job = await create({ type: 'tracker.i18n' });
    const shown = await eventually(() => card(tracker, job.id), 5000, 'the card');
    await tracker.updateComplete;
    assertEqual(button(shown, 'cancel-button')?.textContent, 'Annuler', 'translated button');
    assert(
      root(tracker).querySelector('[part="header"]')?.textContent?.includes('1 tâche(s) en cours'),
      'translated header',
    );
    assertEqual(document.title, `(1) ${title}`, 'count in the title');
    await client.cancel(job.id);
    await eventually(() => document.title === title, 3000, 'the title restored');
  });

  it('places the panel and the pill in the corner its position attribute names', async () => {
    const { client, create } = await testUser('position');
    const tracker = await mount(client);
    assertEqual(tracker.getAttribute('position'), 'bottom-right', 'bottom-right by default');
    const job = await create({ type: 'tracker.position', title: 'Corner' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    const width = document.documentElement.clientWidth;
    const height = document.documentElement.clientHeight;
    const margin = 16; // 1rem
    for (const position of ['bottom-right', 'bottom-left', 'top-right', 'top-left']) {
      tracker.setAttribute('position', position);
      const [vertical, horizontal] = position.split('-');
      for (const part of ['panel', 'pill']) {
        tracker.collapsed = part === 'pill';
        await tracker.updateComplete;
        const box = root(tracker).querySelector(`[part="${part}"]`)?.getBoundingClientRect();
        assert(box && box.width > 0 && box.height > 0, `${position}: the ${part} is shown`);
        const fromTop = vertical === 'top' ? box.top : height - box.bottom;
        const fromSide = horizontal === 'left' ? box.left : width - box.right;
        assert(
          Math.abs(fromTop - margin) <= 1 && Math.abs(fromSide - margin) <= 1,
          `${position}: the ${part} sits ${margin}px from the ${vertical} and ${horizontal} edges, not ${fromTop}px and ${fromSide}px`,
        );
      }
    }
    await client.cancel(job.id);
  });

  it('starts collapsed on a small screen, and expanded on a wide one', async () => {
    const { client, create } = await testUser('small');
    const wide = { width: window.innerWidth, height: window.innerHeight };
    const job = await create({ type: 'tracker.small', title: 'Small screen' });
    try {
      await setViewport({ width: 400, height: 700 });
      await eventually(() => matchMedia('(max-width: 480px)').matches, 2000, 'a small viewport');
      const small = await mount(client);
      const pill = await eventually(() => button(root(small), 'pill'), 5000, 'the pill');
      assert(small.collapsed && small.hasAttribute('collapsed'), 'collapsed (and reflected)');
      assertEqual(root(small).querySelector('[part="panel"]'), null, 'no panel');
      assertEqual(text(pill), '1 job running Show jobs', 'the pill says what runs');
      assertEqual(pill.getAttribute('aria-expanded'), 'false', 'the pill is a collapsed disclosure');
      await checkAccessibility(small);
    } finally {
      await setViewport(wide);
    }
    const large = await mount(client);
    await eventually(() => root(large).querySelector('[part="panel"]'), 5000, 'the panel on a wide screen');
    assertEqual(large.collapsed, false, 'expanded on a wide screen');
    await client.cancel(job.id);
  });

  it('shows the elapsed time at once, and an estimate of what is left once progress tells enough', async () => {
    const { client, create } = await testUser('timing');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.timing', title: 'Slow job' });
    const worker = await claimJob('tracker.timing');
    await worker.progress(10, 'Step 1');
    const timing = () => text(card(tracker, job.id)?.querySelector('[part="timing"]')) ?? '';
    const seconds = (value: number) =>
      new Intl.NumberFormat('en', { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(value);
    const parse = () => {
      const match = /^(\d+) sec elapsed(?: · about (\d+) sec left)?$/.exec(timing());
      assert(match, `elapsed and left as Intl durations: "${timing()}"`);
      const [elapsed, left] = [Number(match[1]), match[2] === undefined ? null : Number(match[2])];
      assertEqual(
        timing(),
        `${seconds(elapsed)} elapsed${left === null ? '' : ` · about ${seconds(left)} left`}`,
        'formatted with Intl',
      );
      return { elapsed, left };
    };
    await eventually(timing, 5000, 'the timing');
    assertEqual(parse().left, null, 'no estimate right after the start');
    // At 10 % after three seconds the estimate is about nine times what has elapsed.
    const early = await eventually(() => (parse().left === null ? null : parse()), 6000, 'an estimate');
    assert(early.elapsed >= 3, `the estimate waits for 3 s of signal (${early.elapsed} s)`);
    assert(
      Math.abs((early.left ?? 0) - early.elapsed * 9) <= 9,
      `about 9 × ${early.elapsed} s left at 10 %, not ${early.left} s`,
    );
    await worker.progress(60, 'Step 2');
    const later = await eventually(
      () => ((parse().left ?? Number.POSITIVE_INFINITY) < (early.left ?? 0) / 3 ? parse() : null),
      5000,
      'the estimate to shrink as progress rises',
    );
    assert(
      Math.abs((later.left ?? 0) - (later.elapsed * 40) / 60) <= 1.5,
      `about ${later.elapsed} × 40/60 s left at 60 %, not ${later.left} s`,
    );
    await worker.complete(null);
  });

  it('says when the last update came while the server cannot be reached, and stops once it is back', async () => {
    const { client, create, network } = await testUser('stale');
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.stale', title: 'Sync' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    assertEqual(notice(tracker), null, 'no notice while live');
    const seen: string[] = [];
    const observer = new MutationObserver(() => {
      const value = text(notice(tracker));
      if (value && value !== seen.at(-1)) seen.push(value);
    });
    observer.observe(root(tracker), { childList: true, characterData: true, subtree: true });
    network.down();
    const ago = (atLeast: number) =>
      eventually(
        () => {
          const match = /Last updated (\d+) seconds? ago$/.exec(text(notice(tracker)) ?? '');
          return match && Number(match[1]) >= atLeast ? Number(match[1]) : null;
        },
        4000,
        `"Last updated ${atLeast}+ seconds ago"`,
      );
    const first = await ago(1);
    await ago(first + 1);
    observer.disconnect();
    for (const said of seen) {
      assert(
        /^Reconnecting… Last updated (now|\d+ seconds? ago)$/.test(said),
        `the notice tells a past time: "${said}"`,
      );
    }
    await checkAccessibility(tracker);
    network.up();
    window.dispatchEvent(new Event('online'));
    await eventually(() => notice(tracker) === null, 5000, 'the notice to go once the server answers');
    await client.cancel(job.id);
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
    assertEqual(polite, ['Report: 25%', 'Report: 50%', 'Report: 75%'], 'each milestone once');
    await worker.complete({ summary: 'Done' });
    await eventually(() => toasts(tracker).length === 1, 5000, 'the toast');
    await eventually(() => polite.length === 4, 2000, 'the completion said');
    assertEqual(polite.at(-1), 'Report complete', 'the completion, once');

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
    assertEqual(assertive, ['Import failed: Disk full'], 'the failure, once, assertively');
    assertEqual(polite.length, 4, 'nothing more said politely');
    await client.cancel(other.id);
  });

  it('formats numbers and times with Intl in the language of <html lang>, with the strings of `messages`', async () => {
    const { client, create, network } = await testUser('german');
    const lang = document.documentElement.getAttribute('lang');
    document.documentElement.lang = 'de';
    try {
      const tracker = await mount(client);
      tracker.messages = {
        elapsed: (duration) => `${duration} vergangen`,
        reconnecting: 'Verbindung wird wiederhergestellt…',
        lastUpdated: (ago) => `Zuletzt aktualisiert ${ago}`,
      };
      const job = await create({ type: 'tracker.german', title: 'Bericht' });
      const worker = await claimJob('tracker.german');
      await worker.progress(42, 'Läuft');
      const percent = new Intl.NumberFormat('de', { style: 'percent' }).format(0.42);
      assert(percent !== '42%', `German has its own percent format (${percent})`);
      const shown = await eventually(
        () =>
          card(tracker, job.id)?.querySelector('[part="percent"]')?.textContent === percent
            ? card(tracker, job.id)
            : null,
        5000,
        `the percent as "${percent}"`,
      );
      assertEqual(
        shown.querySelector('[role="progressbar"]')?.getAttribute('aria-valuetext'),
        `${percent}, Läuft`,
        'the bar says it the same way',
      );
      const secondsDe = (value: number) =>
        new Intl.NumberFormat('de', { style: 'unit', unit: 'second', unitDisplay: 'short' }).format(value);
      const elapsed = text(shown.querySelector('[part="timing"]'));
      assert(
        Array.from({ length: 10 }, (_, seconds) => `${secondsDe(seconds)} vergangen`).includes(elapsed ?? ''),
        `the elapsed time in German: "${elapsed}"`,
      );
      await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
      network.down();
      const relative = new Intl.RelativeTimeFormat('de', { numeric: 'auto' });
      const expected = Array.from(
        { length: 6 },
        (_, seconds) =>
          `Verbindung wird wiederhergestellt… Zuletzt aktualisiert ${relative.format(-seconds, 'second')}`,
      );
      const said = await eventually(() => text(notice(tracker)), 5000, 'the notice');
      assert(expected.includes(said), `the notice in German: "${said}"`);
      network.up();
      await client.cancel(job.id);
    } finally {
      if (lang === null) document.documentElement.removeAttribute('lang');
      else document.documentElement.lang = lang;
    }
  });

  it('takes --job-* custom properties (on the element or any ancestor) and ::part() rules from the page', async () => {
    const { client, create } = await testUser('theming');
    const style = document.createElement('style');
    style.textContent = `
      job-tracker.branded { --job-accent: rgb(1, 2, 3); --job-radius: 3px; }
      job-tracker.branded::part(card) { outline: 3px solid rgb(4, 5, 6); }
      job-tracker.branded::part(toggle) { background-color: rgb(7, 8, 9); }
    `;
    document.head.append(style);
    mounted.push({ element: style });
    const branded = await mount(client, { class: 'branded' });
    const plain = await mount(client);
    const section = document.createElement('section');
    section.style.setProperty('--job-accent', 'rgb(10, 11, 12)');
    document.body.append(section);
    mounted.push({ element: section });
    const inherited = await mount(client);
    section.append(inherited);
    const job = await create({ type: 'tracker.theming' });
    const worker = await claimJob('tracker.theming');
    await worker.progress(50, 'Half');
    const parts = (tracker: JobTracker) =>
      eventually(
        () => {
          const shown = card(tracker, job.id);
          const fill = shown?.querySelector('[part="progress-indicator"]');
          return shown && fill
            ? { shown, fill, toggle: button(root(tracker), 'toggle') as HTMLElement }
            : null;
        },
        5000,
        'the card with its bar',
      );
    const ours = await parts(branded);
    assertEqual(getComputedStyle(ours.fill).backgroundColor, 'rgb(1, 2, 3)', '--job-accent colors the bar');
    assertEqual(getComputedStyle(ours.shown).borderTopLeftRadius, '3px', '--job-radius rounds the card');
    assertEqual(getComputedStyle(ours.shown).outlineColor, 'rgb(4, 5, 6)', '::part(card) styles the card');
    assertEqual(getComputedStyle(ours.shown).outlineWidth, '3px', '::part(card) outline width');
    assertEqual(getComputedStyle(ours.toggle).backgroundColor, 'rgb(7, 8, 9)', '::part(toggle)');
    const theirs = await parts(plain);
    assertEqual(
      getComputedStyle(theirs.fill).backgroundColor,
      'rgb(9, 105, 218)',
      'the default accent elsewhere',
    );
    assertEqual(getComputedStyle(theirs.shown).outlineStyle, 'none', 'no outline elsewhere');
    const below = await parts(inherited);
    assertEqual(
      getComputedStyle(below.fill).backgroundColor,
      'rgb(10, 11, 12)',
      'a --job-* value set on an ancestor reaches inside',
    );
    await worker.complete(null);
  });

  it('has no animation or transition when the user prefers reduced motion', async () => {
    const { client, create } = await testUser('motion');
    const tracker = await mount(client);
    const waiting = await create({ type: 'tracker.motion-wait', title: 'Queued' });
    const running = await create({ type: 'tracker.motion-run', title: 'Running' });
    const worker = await claimJob('tracker.motion-run');
    await worker.progress(40, 'Going');
    const fills = await eventually(
      () => {
        const determinate = card(tracker, running.id)?.querySelector(
          '[part="progress"]:not(.indeterminate) .fill',
        );
        const indeterminate = card(tracker, waiting.id)?.querySelector(
          '[part="progress"].indeterminate .fill',
        );
        return determinate && indeterminate ? { determinate, indeterminate } : null;
      },
      5000,
      'both bars',
    );
    await create({ type: 'tracker.motion-done', title: 'Done' });
    const done = await claimJob('tracker.motion-done');
    await done.complete({ summary: 'Ready' });
    const [toast] = await eventually(
      () => (toasts(tracker).length > 0 ? toasts(tracker) : null),
      5000,
      'a toast',
    );
    const moving = (element: Element) => {
      const style = getComputedStyle(element);
      const durations = [...style.transitionDuration.split(','), ...style.animationDuration.split(',')];
      return style.animationName !== 'none' || durations.some((value) => Number.parseFloat(value) > 0);
    };
    try {
      await emulateMedia({ reducedMotion: 'no-preference' });
      assert(moving(fills.determinate), 'the bar eases to its new width by default');
      assert(moving(fills.indeterminate), 'the indeterminate bar slides by default');
      await emulateMedia({ reducedMotion: 'reduce' });
      assert(!moving(fills.determinate), 'no transition of the bar under reduced motion');
      assert(!moving(fills.indeterminate), 'no sliding bar under reduced motion');
      assert(!moving(toast as HTMLElement), 'no animated toast under reduced motion');
      tracker.collapsed = true;
      await tracker.updateComplete;
      const spinner = root(tracker).querySelector('.pill .spinner');
      assert(spinner, 'the pill has its spinner');
      assert(!moving(spinner), 'no spinning under reduced motion');
      await emulateMedia({ reducedMotion: 'no-preference' });
      assert(moving(spinner), 'the spinner spins by default');
    } finally {
      await emulateMedia({ reducedMotion: 'no-preference' });
    }
    await Promise.all([client.cancel(waiting.id), worker.complete(null)]);
  });

  it('asks for notifications only from a click, and notifies a completion once, only while the page is hidden', async () => {
    const { client, create } = await testUser('notify');
    const asked: boolean[] = [];
    const raised: { title: string; options: NotificationOptions | undefined }[] = [];
    /** Records what the element does with the Notification API (the browser's own one asks the user). */
    class RecordingNotification {
      static permission: NotificationPermission = 'default';
      static async requestPermission(): Promise<NotificationPermission> {
        asked.push(navigator.userActivation.isActive);
        RecordingNotification.permission = 'granted';
        return 'granted';
      }
      onclick: (() => void) | null = null;
      constructor(title: string, options?: NotificationOptions) {
        raised.push({ title, options });
      }
    }
    const original = Object.getOwnPropertyDescriptor(window, 'Notification');
    Object.defineProperty(window, 'Notification', {
      configurable: true,
      writable: true,
      value: RecordingNotification,
    });
    const setVisibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      const tracker = await mount(client, { notify: '' });
      await create({ type: 'tracker.notify-a', title: 'Visible job' });
      const offer = await eventually(() => button(root(tracker), 'notify-button'), 5000, 'the offer');
      assertEqual(asked, [], 'no permission asked on its own');
      offer.focus();
      await press('Enter');
      await eventually(() => asked.length === 1, 2000, 'the permission asked');
      assertEqual(asked, [true], 'asked once, inside the user gesture');
      await eventually(
        () => button(root(tracker), 'notify-button') === null,
        2000,
        'the offer to go once granted',
      );

      const visible = await claimJob('tracker.notify-a');
      await visible.complete({ summary: 'Seen in the page' });
      await eventually(() => toasts(tracker).length === 1, 5000, 'the toast of a visible page');
      assertEqual(raised, [], 'no notification while the page is visible');

      setVisibility('hidden');
      const second = await create({ type: 'tracker.notify-b', title: 'Hidden job' });
      await eventually(() => client.jobStore(second.id).get(), 5000, 'the second job known');
      const hidden = await claimJob('tracker.notify-b');
      await hidden.complete({ summary: 'Ready while away', url: '/reports/9' });
      await eventually(() => raised.length > 0, 5000, 'a notification');
      await eventually(() => toasts(tracker).length === 2, 2000, 'the toast too');
      assertEqual(raised.length, 1, 'one notification');
      assertEqual(raised[0]?.title, 'Hidden job complete', 'its title');
      assertEqual(raised[0]?.options?.body, 'Ready while away', 'its body');
      assertEqual(raised[0]?.options?.tag, `jobtracker-${second.id}`, 'a tag per job');
    } finally {
      Reflect.deleteProperty(document, 'visibilityState');
      if (original) Object.defineProperty(window, 'Notification', original);
    }
  });
});
