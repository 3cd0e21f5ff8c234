/// <reference path="../../../sdk/src/testing/mocha.d.ts" />
import { createJobClient, type Job, type JobClient } from '@jobtracker/sdk';
import { emulateMedia, sendKeys } from '@web/test-runner-commands';
import { defineElement } from '../shared/define.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  delay,
  eventually,
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

afterEach(async () => {
  for (const { element } of mounted.splice(0)) element.remove();
  Reflect.deleteProperty(window, '__xss');
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

  it('renders hostile text as text and never links a hostile URL', async () => {
    const { client, create } = await testUser('xss');
    const tracker = await mount(client);
    for (const [index, payload] of XSS_PAYLOADS.entries()) {
      const type = `tracker.xss${index}`;
      const job = await create({ type, title: payload });
      const worker = await claimJob(type);
      await worker.progress(10, payload);
      await eventually(
        () => card(tracker, job.id)?.querySelector('[part="message"]')?.textContent?.includes(payload),
        5000,
        'the payload as text',
      );
      await worker.fail(payload);
    }
    for (const [index, url] of HOSTILE_URLS.entries()) {
      const type = `tracker.url${index}`;
      await create({ type });
      const worker = await claimJob(type);
      await worker.complete({ url, summary: XSS_PAYLOADS[index % XSS_PAYLOADS.length] as string });
    }
    await eventually(() => toasts(tracker).length === HOSTILE_URLS.length, 8000, 'every toast');
    const shadow = root(tracker);
    assertEqual(shadow.querySelectorAll('img, script, svg, iframe, object').length, 0, 'no injected element');
    assertEqual(
      [...shadow.querySelectorAll('a')].filter((a) => !/^https?:/.test(a.href)).length,
      0,
      'only http(s) links',
    );
    assertEqual(shadow.querySelectorAll('[part="view-link"]').length, 0, 'no link for a hostile URL');
    assertEqual((window as { __xss?: number }).__xss, undefined, 'no script ran');
  });

  it('is operable from the keyboard and never steals focus', async () => {
    const { client, create } = await testUser('keyboard');
    const before = document.createElement('button');
    before.textContent = 'page button';
    document.body.append(before);
    mounted.push({ element: before });
    before.focus();
    const tracker = await mount(client);
    const job = await create({ type: 'tracker.keyboard' });
    await eventually(() => card(tracker, job.id), 5000, 'the card');
    assertEqual(document.activeElement, before, 'focus stays where the user left it');
    await sendKeys({ press: 'Tab' });
    assertEqual(tracker.shadowRoot?.activeElement?.getAttribute('part'), 'toggle', 'Tab reaches the panel');
    await sendKeys({ press: 'Enter' });
    await eventually(() => tracker.collapsed, 2000, 'collapse by keyboard');
    const pill = await eventually(() => button(root(tracker), 'pill'), 2000, 'the pill');
    pill.focus();
    await sendKeys({ press: 'Enter' });
    await eventually(() => !tracker.collapsed, 2000, 'expand by keyboard');
    const cancel = await eventually(
      () => button(card(tracker, job.id) as HTMLElement, 'cancel-button'),
      2000,
      'cancel',
    );
    cancel.focus();
    await sendKeys({ press: 'Enter' });
    await eventually(() => client.jobStore(job.id).get()?.status === 'cancelled', 5000, 'cancel by keyboard');
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
    const notice = await eventually(
      () => root(tracker).querySelector('[part="connection"]'),
      5000,
      'the notice',
    );
    assert(notice.textContent?.includes('Reconnecting'), 'says it is reconnecting');
  });

  it('follows the color scheme, and a theme attribute forces one', async () => {
    const { client } = await testUser('theme');
    const tracker = await mount(client);
    const bg = () => getComputedStyle(tracker).getPropertyValue('--job-bg').trim();
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
});
