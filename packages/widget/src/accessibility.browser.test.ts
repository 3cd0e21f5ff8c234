/// <reference types="@jobtracker/test-support/mocha" />
// axe-core on every element in every state it can show, at a phone's size (375×667) and a desktop's
// (1280×800), left to right (`lang="en"`) and right to left (`dir="rtl"`, `lang="ar"`), in the light and the
// dark color scheme (on a dark page). Each state is set up once, from the user's side against the real test
// server, and checked in each layout as a test of its own.
import type { JobClient } from '@jobtracker/sdk';
import { MIN_STALE_AFTER_MS } from '@jobtracker/sdk/wire';
import { emulateMedia, setViewport } from '@web/test-runner-commands';
import { JobBadge } from './job-badge/job-badge.js';
import { JobButton } from './job-button/job-button.js';
import { JobList } from './job-list/job-list.js';
import { JobTracker } from './job-tracker/job-tracker.js';
import { ar } from './locales/ar.js';
import { defineElement } from './shared/define.js';
import { registerJobLocale } from './shared/locale.js';
import { serverJob } from './testing/list.js';
import { userClient } from './testing/user-client.js';
import {
  assert,
  checkAccessibility,
  claimJob,
  delay,
  disconnectTestClients,
  eventually,
  streamsClosed,
  testUser,
} from './testing/widget-env.js';

defineElement('job-tracker', JobTracker);
defineElement('job-badge', JobBadge);
defineElement('job-list', JobList);
defineElement('job-button', JobButton);
registerJobLocale('ar', ar);

type TestUser = Awaited<ReturnType<typeof testUser>>;

/** axe-core's defaults, and WCAG 2.2's target size (at least 24×24 px, or spaced apart), which is off by default. */
const AXE_OPTIONS = { rules: { 'target-size': { enabled: true } } };

/** How a host shows a job type: its label, and a link to where its results live. */
const PROGRAMS = { label: 'Program generation', href: '/programs', linkLabel: 'Go to Programs' };

const SIZES = [
  { name: 'phone 375×667', width: 375, height: 667 },
  { name: 'desktop 1280×800', width: 1280, height: 800 },
];
const SCHEMES = ['light', 'dark'] as const;
const DIRECTIONS = [
  { name: 'ltr (en)', dir: 'ltr', lang: 'en' },
  { name: 'rtl (ar)', dir: 'rtl', lang: 'ar' },
];

/** What a state put on the page and the clients it made: taken away after the state's tests. */
const onPage: Element[] = [];
const ownClients: JobClient[] = [];

/** Puts `markup` on the page, with `client` set on each of its jobtracker elements. */
function place<T extends Element>(markup: string, client: JobClient, selector: string): T {
  const holder = document.createElement('div');
  holder.innerHTML = markup;
  for (const element of holder.querySelectorAll<HTMLElement & { client?: JobClient }>(
    'job-tracker, job-badge, job-list, job-button',
  ))
    element.client = client;
  document.body.append(holder);
  onPage.push(holder);
  return holder.querySelector(selector) as T;
}

/** A job of a type no other state uses, so that `claimJob` picks this one. */
async function newJob(user: TestUser, name: string, title: string) {
  const type = `a11y.${name}.${crypto.randomUUID().slice(0, 8)}`;
  const job = await user.create({ type, title, dedupe: false });
  return { type, job, claim: () => claimJob(type) };
}

async function runningJob(user: TestUser, title: string, progress: number | null, message: string) {
  const created = await newJob(user, 'running', title);
  const worker = await created.claim();
  await worker.progress(progress, message);
  return { ...created, worker };
}

/** A running job that declared the shortest `staleAfterMs` and had no update since its first report: stalled. */
async function stalledJob(user: TestUser, title: string) {
  const type = `a11y.stalled.${crypto.randomUUID().slice(0, 8)}`;
  const body = { type, title, dedupe: false, staleAfterMs: MIN_STALE_AFTER_MS };
  const job = await user.create(body);
  await (await claimJob(type)).progress(40, 'Writing sections');
  return job;
}

async function failedJob(user: TestUser, title: string, error = 'The source file has no header row.') {
  const created = await newJob(user, 'failed', title);
  await (await created.claim()).fail(error);
  return created;
}

async function completedJob(user: TestUser, title: string) {
  const created = await newJob(user, 'completed', title);
  await (await created.claim()).complete({ url: '/programs/42', summary: `${title} is ready` });
  return created;
}

/** A client of `user` that polls once a minute: it still shows a job as running after the server finished it. */
function slowClient(user: TestUser): JobClient {
  const client = userClient(user, { transport: 'poll', pollActiveMs: 60_000, pollIdleMs: 60_000 });
  ownClients.push(client);
  return client;
}

const shadow = (element: Element) => element.shadowRoot as ShadowRoot;
const inShadow = (element: Element, selector: string) => shadow(element).querySelector<HTMLElement>(selector);
const live = (client: JobClient) =>
  eventually(() => client.$connection.get().state === 'live', 8000, 'the connection to the server');

/** Mounts a tracker, collapsed or not whatever the viewport (it collapses by itself on a small screen). */
async function tracker(client: JobClient, { collapsed = false, notify = false } = {}) {
  const element = place<JobTracker>(
    `<job-tracker${notify ? ' notify' : ''}></job-tracker>`,
    client,
    'job-tracker',
  );
  element.collapsed = collapsed;
  await element.updateComplete;
  return element;
}

/**
 * Shows a running job through `mount` (with a client that polls once a minute), finishes the job on the
 * server, then clicks its Cancel as a user who had not heard yet: the server refuses (409).
 */
async function refusedCancel<T extends Element>(
  user: TestUser,
  mount: (client: JobClient) => Promise<T> | T,
) {
  const { job, claim } = await newJob(user, 'refused', 'Q3 growth program');
  const element = await mount(slowClient(user));
  const cancel = await eventually(
    () => inShadow(element, `[data-job-id="${job.id}"] [part~="cancel-button"]`),
    8000,
    'the running card',
  );
  await (await claim()).complete({ summary: 'Done' });
  cancel.click();
  return element;
}

interface State {
  element: string;
  state: string;
  /** Sets the state up; returns the element to check, once it shows the state. */
  build(): Promise<Element>;
  /** Whether the element still shows the state (checked in each layout, before axe runs). */
  shows(element: Element): unknown;
}

const has = (selector: string) => (element: Element) => inShadow(element, selector);

const STATES: State[] = [
  {
    element: '<job-tracker>',
    state: 'with no job (renders nothing)',
    shows: (element) => !inShadow(element, '[part="panel"], [part="pill"], [part="toast"]'),
    async build() {
      const { client } = await testUser('a11y-empty');
      const element = await tracker(client);
      await live(client);
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'collapsed into its pill with jobs running',
    shows: has('[part="pill"] .spinner'),
    async build() {
      const user = await testUser('a11y-pill');
      await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      await runningJob(user, 'Risk review', null, 'Collecting data');
      const element = await tracker(user.client, { collapsed: true });
      await eventually(() => inShadow(element, '[part="pill"]'), 8000, 'the pill');
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'collapsed into its pill with a failure only',
    shows: (element) => inShadow(element, '[part="pill"]') && !inShadow(element, '[part="pill"] .spinner'),
    async build() {
      const user = await testUser('a11y-pill-failed');
      const element = await tracker(user.client, { collapsed: true });
      await live(user.client);
      await failedJob(user, 'Q3 growth program');
      await eventually(() => inShadow(element, '[part="pill"]'), 8000, 'the pill of the failure');
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state:
      'expanded (a bottom sheet on the phone) with determinate and indeterminate progress, messages, timing, a type link and a waiting job',
    shows: (element) =>
      inShadow(element, '[part="panel"] .bar.indeterminate') && inShadow(element, '[part="type-link"]'),
    async build() {
      const user = await testUser('a11y-panel');
      const determinate = await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      const indeterminate = await runningJob(user, 'Risk review', null, 'Collecting data');
      await newJob(user, 'waiting', 'Quarterly report');
      const element = await tracker(user.client, { notify: true });
      element.types = { [determinate.type]: PROGRAMS };
      await eventually(
        () =>
          shadow(element).querySelectorAll('[part="card"]').length === 3 &&
          inShadow(element, `[data-job-id="${determinate.job.id}"] [part="percent"]`) &&
          inShadow(element, `[data-job-id="${determinate.job.id}"] [part="timing"]`) &&
          inShadow(element, `[data-job-id="${determinate.job.id}"] [part="type-link"]`) &&
          inShadow(element, `[data-job-id="${indeterminate.job.id}"] .bar.indeterminate`) &&
          // The offer of browser notifications, while the browser would still ask.
          (Notification.permission !== 'default' || inShadow(element, '[part="notify-button"]')),
        8000,
        'three cards: determinate with its type link, indeterminate, waiting',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'showing a completion toast with its View link',
    shows: has('[part="toast"] [part="view-link"]'),
    async build() {
      const user = await testUser('a11y-toast');
      const element = await tracker(user.client);
      await live(user.client);
      await completedJob(user, 'Q3 growth program');
      const toast = await eventually(
        () =>
          inShadow(element, '[part="toast"] [part="view-link"]') ? inShadow(element, '[part="toast"]') : null,
        8000,
        'the toast with its View link',
      );
      // The pointer rests on it, so it stays while the layouts are checked.
      toast.dispatchEvent(new MouseEvent('mouseenter'));
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with a failed card (error, Retry and Dismiss)',
    shows: has('.card.failed [part="dismiss-button"]'),
    async build() {
      const user = await testUser('a11y-failed');
      const element = await tracker(user.client);
      await live(user.client);
      await failedJob(user, 'Q3 growth program');
      await eventually(
        () => inShadow(element, '[part="retry-button"]') && inShadow(element, '[part="dismiss-button"]'),
        8000,
        'the failed card with Retry and Dismiss',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'after one of two running jobs was cancelled',
    shows: has('[part="card"] [part="cancel-button"]'),
    async build() {
      const user = await testUser('a11y-cancelled');
      const staying = await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      const cancelled = await runningJob(user, 'Risk review', 20, 'Collecting data');
      const element = await tracker(user.client);
      await eventually(
        () => shadow(element).querySelectorAll('[part="card"]').length === 2,
        8000,
        'two cards',
      );
      inShadow(element, `[data-job-id="${cancelled.job.id}"] [part="cancel-button"]`)?.click();
      await eventually(
        () =>
          !inShadow(element, `[data-job-id="${cancelled.job.id}"]`) &&
          inShadow(element, `[data-job-id="${staying.job.id}"]`),
        8000,
        'the cancelled card to leave, the other to stay',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with several failed cards and Clear all',
    shows: has('[part="clear-button"]'),
    async build() {
      const user = await testUser('a11y-clear');
      const element = await tracker(user.client);
      await live(user.client);
      await Promise.all([
        failedJob(user, 'Import one'),
        failedJob(user, 'Import two', 'The file is empty.'),
        failedJob(user, 'Import three', 'Too many rows.'),
      ]);
      await eventually(
        () =>
          shadow(element).querySelectorAll('.card.failed').length === 3 &&
          inShadow(element, '[part="clear-button"]'),
        8000,
        'three failed cards and Clear all',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with the notice that a job could not be cancelled',
    shows: has('[part="panel"] [part="error"][role="alert"]'),
    async build() {
      const user = await testUser('a11y-action-error');
      // Another job keeps the panel open once the client learns that the refused one completed.
      await runningJob(user, 'Risk review', 20, 'Collecting data');
      const element = await refusedCancel(user, (client) => tracker(client));
      await eventually(
        () => inShadow(element, '[part="panel"] [part="error"][role="alert"]'),
        8000,
        'the "could not be cancelled" notice',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with a running job dismissed ("Show 1 hidden job" under the other card)',
    shows: (element) => inShadow(element, '[part="panel"] [part="hidden-button"]'),
    async build() {
      const user = await testUser('a11y-hidden-one');
      const hidden = await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      await runningJob(user, 'Risk review', 20, 'Collecting data');
      const element = await tracker(user.client);
      await eventually(
        () => shadow(element).querySelectorAll('[part="card"]').length === 2,
        8000,
        'the cards',
      );
      await user.client.dismiss(hidden.job.id);
      await eventually(() => inShadow(element, '[part="hidden-button"]'), 8000, 'the hidden control');
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with every running job dismissed (only "2 jobs running · Show 2 hidden jobs")',
    shows: (element) => inShadow(element, '[part="hidden-button"].pill'),
    async build() {
      const user = await testUser('a11y-hidden-all');
      const jobs = [
        await runningJob(user, 'Q3 growth program', 40, 'Writing sections'),
        await runningJob(user, 'Risk review', null, 'Collecting data'),
      ];
      const element = await tracker(user.client);
      await eventually(
        () => shadow(element).querySelectorAll('[part="card"]').length === 2,
        8000,
        'the cards',
      );
      for (const { job } of jobs) await user.client.dismiss(job.id);
      await eventually(
        () => inShadow(element, '[part="hidden-button"].pill'),
        8000,
        'the hidden control alone',
      );
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'reconnecting after the connection was lost',
    shows: has('[part="connection"]'),
    async build() {
      const user = await testUser('a11y-reconnecting');
      await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      const element = await tracker(user.client);
      await eventually(() => inShadow(element, '[part="card"]'), 8000, 'the card');
      user.network.down();
      await eventually(() => inShadow(element, '[part="connection"]'), 8000, 'the reconnecting notice');
      return element;
    },
  },
  {
    element: '<job-tracker>',
    state: 'with a stalled running job ("No update for …", the paused bar)',
    shows: has('.card.stalled [part~="stall"]'),
    async build() {
      const user = await testUser('a11y-stalled');
      await runningJob(user, 'Risk review', null, 'Collecting data');
      const job = await stalledJob(user, 'Q3 growth program');
      const element = await tracker(user.client);
      await eventually(
        () => inShadow(element, `.card.stalled[data-job-id="${job.id}"] [part~="stall"]`),
        8000,
        'the stalled card',
      );
      return element;
    },
  },
  {
    element: '<job-badge>',
    state: 'at zero (hidden), in a nav link',
    shows: (nav) => nav.querySelector('job-badge[count="0"]'),
    async build() {
      const { client } = await testUser('a11y-badge-zero');
      const nav = place<HTMLElement>(
        '<nav><a href="/programs">Programs <job-badge></job-badge></a></nav>',
        client,
        'nav',
      );
      await live(client);
      await eventually(() => nav.querySelector('job-badge')?.getAttribute('count') === '0', 5000, 'count 0');
      return nav;
    },
  },
  {
    element: '<job-badge>',
    state: 'counting two running jobs, in a nav link',
    shows: (nav) => nav.querySelector('job-badge[count="2"]'),
    async build() {
      const user = await testUser('a11y-badge');
      await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      await newJob(user, 'waiting', 'Risk review');
      const nav = place<HTMLElement>(
        '<nav><a href="/programs">Programs <job-badge></job-badge></a></nav>',
        user.client,
        'nav',
      );
      await eventually(() => nav.querySelector('job-badge')?.getAttribute('count') === '2', 8000, 'count 2');
      return nav;
    },
  },
  {
    element: '<job-list>',
    state: 'loading (the server has not answered yet)',
    shows: (element) => !inShadow(element, '[part="empty"], [part="list"]'),
    async build() {
      const user = await testUser('a11y-list-loading');
      // Every request waits until it is aborted (when the list leaves the page).
      const client = userClient(user, {
        fetch: (_input, init) =>
          new Promise((_resolve, reject) =>
            init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError'))),
          ),
      });
      const element = place<JobList>('<job-list></job-list>', client, 'job-list');
      await element.updateComplete;
      await delay(300);
      assert(!inShadow(element, '[part="empty"], [part="list"]'), 'still loading');
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'empty',
    shows: has('[part="empty"]'),
    async build() {
      const { client } = await testUser('a11y-list-empty');
      const element = place<JobList>('<job-list></job-list>', client, 'job-list');
      await eventually(() => inShadow(element, '[part="empty"]'), 8000, 'the empty notice');
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with active jobs (determinate with a type link, indeterminate, waiting)',
    shows: (element) => inShadow(element, '.bar.indeterminate') && inShadow(element, '[part~="type-link"]'),
    async build() {
      const user = await testUser('a11y-list-active');
      const determinate = await runningJob(user, 'Q3 growth program', 40, 'Writing sections');
      await runningJob(user, 'Risk review', null, 'Collecting data');
      await newJob(user, 'waiting', 'Quarterly report');
      const element = place<JobList>('<job-list status="active"></job-list>', user.client, 'job-list');
      element.types = { [determinate.type]: PROGRAMS };
      await eventually(
        () => shadow(element).querySelectorAll('[part~="card"]').length === 3,
        8000,
        'three cards',
      );
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with a stalled running job ("No update for …", the paused bar)',
    shows: has('.card.stalled [part~="stall"]'),
    async build() {
      const user = await testUser('a11y-list-stalled');
      const job = await stalledJob(user, 'Q3 growth program');
      const element = place<JobList>('<job-list status="active"></job-list>', user.client, 'job-list');
      await eventually(
        () => inShadow(element, `.card.stalled[data-job-id="${job.id}"] [part~="stall"]`),
        8000,
        'the stalled card',
      );
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with completed jobs and their View links',
    shows: has('[part~="view-link"]'),
    async build() {
      const user = await testUser('a11y-list-completed');
      await completedJob(user, 'Q3 growth program');
      await completedJob(user, 'Risk review');
      const element = place<JobList>('<job-list status="completed"></job-list>', user.client, 'job-list');
      await eventually(
        () => shadow(element).querySelectorAll('[part~="view-link"]').length === 2,
        8000,
        'two View links',
      );
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with failed jobs and Retry',
    shows: has('[part~="retry-button"]'),
    async build() {
      const user = await testUser('a11y-list-failed');
      await failedJob(user, 'Q3 growth program');
      await failedJob(user, 'Risk review', 'The file is empty.');
      const element = place<JobList>('<job-list status="failed"></job-list>', user.client, 'job-list');
      await eventually(
        () => shadow(element).querySelectorAll('[part~="retry-button"]').length === 2,
        8000,
        'two Retry buttons',
      );
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with a cancelled job and Retry',
    shows: has('.card.cancelled [part~="retry-button"]'),
    async build() {
      const user = await testUser('a11y-list-cancelled');
      const { job } = await newJob(user, 'cancelled', 'Q3 growth program');
      await user.client.cancel(job.id);
      const element = place<JobList>('<job-list status="cancelled"></job-list>', user.client, 'job-list');
      await eventually(() => inShadow(element, '[part~="retry-button"]'), 8000, 'the cancelled card');
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with a long history, a page at a time ("Show more")',
    shows: has('button[part~="more-button"]'),
    async build() {
      const user = await testUser('a11y-list-paged');
      for (const title of ['Q1 report', 'Q2 report', 'Q3 report']) {
        const { job } = await newJob(user, 'paged', title);
        await user.client.cancel(job.id);
      }
      const element = place<JobList>(
        '<job-list status="cancelled" limit="2"></job-list>',
        user.client,
        'job-list',
      );
      await eventually(() => inShadow(element, 'button[part~="more-button"]'), 8000, 'the Show more button');
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with a failed attempt folded under the retry that completed',
    shows: has('[part~="earlier"]'),
    async build() {
      const user = await testUser('a11y-list-folded');
      const failed = await failedJob(user, 'Q3 growth program', 'The model was overloaded.');
      await eventually(
        async () => (await serverJob(user, failed.job.id)).status === 'failed',
        8000,
        'the failure on the server',
      );
      await user.client.retry(failed.job.id);
      await (await failed.claim()).complete({ url: '/programs/42', summary: 'Q3 growth program is ready' });
      const element = place<JobList>(
        '<job-list status="completed,failed"></job-list>',
        user.client,
        'job-list',
      );
      await eventually(() => inShadow(element, '[part~="earlier"]'), 8000, 'the folded failure');
      return element;
    },
  },
  {
    element: '<job-list>',
    state: 'with the notice that an action failed',
    shows: has('[part="action-error"]'),
    async build() {
      const user = await testUser('a11y-list-action-error');
      const element = await refusedCancel(user, (client) =>
        place<JobList>('<job-list status="active,completed"></job-list>', client, 'job-list'),
      );
      await eventually(() => inShadow(element, '[part="action-error"]'), 8000, 'the notice');
      return element;
    },
  },
  {
    element: '<job-button>',
    state: 'idle',
    shows: (element) => !element.querySelector('button')?.hasAttribute('aria-disabled'),
    async build() {
      const { client } = await testUser('a11y-button-idle');
      const element = place<JobButton>(
        '<job-button type="a11y.idle"><button type="button">Generate program</button></job-button>',
        client,
        'job-button',
      );
      await element.updateComplete;
      return element;
    },
  },
  {
    element: '<job-button>',
    state: 'holding its button while the job runs, with the progress',
    shows: (element) => element.querySelector('button[aria-disabled="true"]'),
    async build() {
      const { client } = await testUser('a11y-button-held');
      const type = `a11y.held.${crypto.randomUUID().slice(0, 8)}`;
      const element = place<JobButton>(
        `<job-button type="${type}"><button type="button">Generate program</button></job-button>`,
        client,
        'job-button',
      );
      element.querySelector('button')?.click();
      await eventually(() => element.job, 8000, 'the started job');
      await (await claimJob(type)).progress(40, 'Writing sections');
      await eventually(
        () => /40/.test(inShadow(element, '[part="status"]')?.textContent ?? ''),
        8000,
        'the progress beside the button',
      );
      return element;
    },
  },
  {
    element: '<job-button>',
    state: 'showing why the job could not start',
    shows: (element) => inShadow(element, '[part="error"]')?.textContent,
    async build() {
      const { client } = await testUser('a11y-button-error');
      const element = place<JobButton>(
        '<job-button type="bad type!"><button type="button">Generate program</button></job-button>',
        client,
        'job-button',
      );
      element.querySelector('button')?.click();
      await eventually(() => inShadow(element, '[part="error"]')?.textContent, 8000, 'the start error');
      return element;
    },
  },
];

interface Layout {
  size: (typeof SIZES)[number];
  direction: (typeof DIRECTIONS)[number];
  scheme: (typeof SCHEMES)[number];
}
const LAYOUTS: Layout[] = SIZES.flatMap((size) =>
  DIRECTIONS.flatMap((direction) => SCHEMES.map((scheme) => ({ size, direction, scheme }))),
);

// A dark page under a dark preference, as a host that follows it has (the elements follow it too).
const pageStyle = document.createElement('style');
pageStyle.textContent = `html[data-scheme='dark'] { color-scheme: dark; background: #0d1117; color: #e6edf3; }`;
document.head.append(pageStyle);

/** Sets the viewport, the page's direction and language, and the color scheme; waits until the layout follows. */
async function layout({ size, direction, scheme }: Layout) {
  const html = document.documentElement;
  html.setAttribute('dir', direction.dir);
  html.setAttribute('lang', direction.lang);
  html.dataset.scheme = scheme;
  await emulateMedia({ colorScheme: scheme });
  await setViewport({ width: size.width, height: size.height });
  await eventually(() => html.clientWidth === size.width, 2000, `a ${size.width} px wide viewport`);
  // The elements render again for the new lang (a microtask), then the page lays out and paints.
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
}

const initial = {
  dir: document.documentElement.getAttribute('dir'),
  lang: document.documentElement.getAttribute('lang'),
};
after(async () => {
  const html = document.documentElement;
  for (const [name, value] of Object.entries(initial)) {
    if (value === null) html.removeAttribute(name);
    else html.setAttribute(name, value);
  }
  delete html.dataset.scheme;
  pageStyle.remove();
  await emulateMedia({ colorScheme: 'light' });
  await setViewport({ width: 800, height: 600 });
});

describe('accessibility: axe-core finds no violation', () => {
  for (const state of STATES) {
    describe(`${state.element} ${state.state}`, () => {
      let element: Element;
      before(async function (this: { timeout(ms: number): void }) {
        this.timeout(30_000);
        // Set up at the desktop size, in English: each test then puts the layout it checks.
        await layout({ size: SIZES[1], direction: DIRECTIONS[0], scheme: 'light' } as Layout);
        element = await state.build();
      });
      after(async function (this: { timeout(ms: number): void }) {
        this.timeout(15_000);
        for (const holder of onPage.splice(0)) holder.remove();
        for (const client of ownClients.splice(0)) client.clear();
        disconnectTestClients();
        await streamsClosed();
      });
      for (const each of LAYOUTS)
        it(`at ${each.size.name}, ${each.direction.name}, ${each.scheme}`, async () => {
          await layout(each);
          const { dir } = each.direction;
          assert(element.matches(`:dir(${dir})`), `the element is laid out ${dir}`);
          assert(state.shows(element), 'the element still shows the state');
          await checkAccessibility(element, AXE_OPTIONS);
        });
    });
  }
});
