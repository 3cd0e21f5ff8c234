/// <reference path="../../../sdk/src/testing/mocha.d.ts" />
import {
  createJobClient,
  type JobClient,
  type JobListResponse,
  JobTrackerHttpError,
  type KeyValueStorage,
} from '@jobtracker/sdk';
import { sendKeys } from '@web/test-runner-commands';
import { defineElement } from '../shared/define.js';
import type { JobErrorEvent, JobStartEvent } from '../shared/events.js';
import {
  assert,
  assertEqual,
  checkAccessibility,
  claimJob,
  eventually,
  streamCount,
  testUser,
} from '../testing/widget-env.js';
import { JobButton } from './job-button.js';

defineElement('job-button', JobButton);

const mounted: HTMLElement[] = [];

/** A job type no other test uses, so `claimJob` only ever picks this test's job. */
const uniqueType = (name: string) => `button.${name}.${crypto.randomUUID().slice(0, 8)}`;

async function mount(
  client: JobClient | undefined,
  attributes: Record<string, string>,
  buttonHtml = '<button type="button" class="host-button">Generate program</button>',
  parent: HTMLElement = document.body,
): Promise<{ element: JobButton; button: HTMLButtonElement }> {
  const element = document.createElement('job-button');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  if (client) element.client = client;
  element.innerHTML = buttonHtml;
  parent.append(element);
  if (parent === document.body) mounted.push(element);
  await element.updateComplete;
  const button = element.querySelector('button');
  assert(button, 'the slotted button');
  return { element, button };
}

const part = (element: JobButton, name: string) =>
  (element.shadowRoot as ShadowRoot).querySelector<HTMLElement>(`[part="${name}"]`) as HTMLElement;
const statusText = (element: JobButton) => part(element, 'status').textContent ?? '';
const errorText = (element: JobButton) => part(element, 'error').textContent ?? '';

function recordEvents(element: HTMLElement) {
  const starts: JobStartEvent[] = [];
  const errors: JobErrorEvent[] = [];
  element.addEventListener('job-start', (event) => starts.push(event));
  element.addEventListener('job-error', (event) => errors.push(event));
  return { starts, errors };
}

/** A user whose client counts the POSTs it sends (the start requests). */
async function countingUser(prefix: string, storage: KeyValueStorage | null = null) {
  const user = await testUser(prefix);
  const posts: string[] = [];
  const client = createJobClient({
    baseUrl: user.apiUrl,
    token: user.token,
    user: user.user,
    storage,
    shareTabs: false,
    fetch: (input, init) => {
      if (init?.method === 'POST') posts.push(String(input));
      return fetch(input, init);
    },
  });
  return { ...user, client, posts };
}

/** The user's jobs as the server holds them. */
async function serverJobs(apiUrl: string, token: string) {
  const response = await fetch(`${apiUrl}/jobs`, { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, 'GET /jobs status');
  return ((await response.json()) as JobListResponse).jobs;
}

/** A `localStorage` stand-in that two clients can share, as two page loads share the real one. */
function memoryStorage(): KeyValueStorage & { values(): string[] } {
  const items = new Map<string, string>();
  return {
    getItem: (key) => items.get(key) ?? null,
    setItem: (key, value) => void items.set(key, value),
    removeItem: (key) => void items.delete(key),
    values: () => [...items.values()],
  };
}

let streamsBefore = 0;
before(async () => {
  streamsBefore = await streamCount();
});

afterEach(async () => {
  for (const element of mounted.splice(0)) element.remove();
  Reflect.deleteProperty(window, '__xss');
  // A client stops its stream only after its stores unmount (nanostores waits a second per store in the
  // chain): wait for it, so no test leaves a stream behind (the browser holds at most 6 per host).
  await eventually(
    async () => (await streamCount()) <= streamsBefore,
    8000,
    'the streams of the test to close',
  );
});

describe('<job-button>', () => {
  it('starts exactly one job on a rapid double click and fires job-start once', async () => {
    const { client, posts, apiUrl, token } = await countingUser('double');
    const type = uniqueType('double');
    const { element, button } = await mount(client, {
      type,
      scope: 'analysis-7',
      'job-title': 'Q3 program',
      input: '{"durationMs":5000}',
    });
    const { starts } = recordEvents(element);
    button.click();
    button.click();
    await eventually(() => starts.length > 0 && element.job, 5000, 'job-start and the active job');
    button.click();
    assertEqual(posts.length, 1, 'start requests sent');
    assertEqual(starts.length, 1, 'job-start events');
    assertEqual(starts[0]?.created, true, 'created');
    const jobs = await serverJobs(apiUrl, token);
    assertEqual(jobs.length, 1, 'jobs on the server');
    const [job] = jobs;
    assertEqual(
      [job?.type, job?.scope, job?.title, job?.id],
      [type, 'analysis-7', 'Q3 program', starts[0]?.job.id],
      'the job the server holds',
    );
  });

  it('disables the button with "Working… 42%" while a worker reports 42, and re-enables it after completion', async () => {
    const { client } = await testUser('progress');
    const type = uniqueType('progress');
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    button.click();
    await eventually(() => element.job, 5000, 'the started job');
    assert(button.disabled, 'disabled while the job is pending');
    assertEqual(button.getAttribute('aria-busy'), 'true', 'aria-busy while pending');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while pending');
    const worker = await claimJob(type);
    await worker.progress(null, 'Preparing');
    await eventually(() => element.job?.message === 'Preparing', 5000, 'the running job');
    assertEqual(statusText(element), 'Working…', 'indeterminate text while progress is unknown');
    await worker.progress(42, 'Halfway');
    await eventually(() => statusText(element) === 'Working… 42%', 5000, '"Working… 42%"');
    assert(button.disabled, 'disabled while running');
    assertEqual(part(element, 'status').getAttribute('role'), 'status', 'status role');
    await worker.complete({ url: '/programs/1' });
    await eventually(() => !button.disabled, 5000, 'the button to be enabled again');
    assertEqual(button.hasAttribute('aria-busy'), false, 'aria-busy removed');
    assertEqual(statusText(element), '', 'status cleared');
  });

  it("puts the page's own disabled and aria-busy values back when the job ends", async () => {
    const { client, create } = await testUser('restore');
    const type = uniqueType('restore');
    const { element } = await mount(
      client,
      { type },
      '<button type="button" id="own-disabled" disabled>One</button><button type="button" id="own-busy" aria-busy="false">Two</button>',
    );
    const ownDisabled = element.querySelector<HTMLButtonElement>('#own-disabled') as HTMLButtonElement;
    const ownBusy = element.querySelector<HTMLButtonElement>('#own-busy') as HTMLButtonElement;
    await create({ type });
    await eventually(
      () => ownBusy.disabled && ownDisabled.getAttribute('aria-busy') === 'true',
      5000,
      'both held',
    );
    const worker = await claimJob(type);
    await worker.complete(null);
    await eventually(() => !ownBusy.disabled, 5000, 'the enabled button back');
    assertEqual(ownBusy.getAttribute('aria-busy'), 'false', "the page's aria-busy");
    assertEqual(ownDisabled.disabled, true, "the page's own disabled state");
    assertEqual(ownDisabled.hasAttribute('aria-busy'), false, 'no aria-busy left behind');
  });

  it('is disabled at once after a reload while the job still runs', async () => {
    const storage = memoryStorage();
    const { client, apiUrl, token, user } = await countingUser('reload', storage);
    const type = uniqueType('reload');
    const first = await mount(client, { type, scope: 'analysis-7' });
    first.button.click();
    const job = await eventually(() => first.element.job, 5000, 'the started job');
    await eventually(
      () => storage.values().some((value) => value.includes(`"id":"${job.id}"`)),
      5000,
      'the client to keep the job',
    );
    first.element.remove();

    // The next page load: a new client (same user and storage) and a new element.
    const reloaded = createJobClient({ baseUrl: apiUrl, token, user, storage, shareTabs: false });
    const second = await mount(reloaded, { type, scope: 'analysis-7' });
    assert(second.button.disabled, 'disabled on the first render');
    assertEqual(second.element.job?.id, job.id, 'the running job');

    // Without a local cache it waits for the server, then disables too.
    const uncached = createJobClient({ baseUrl: apiUrl, token, user, storage: null, shareTabs: false });
    const third = await mount(uncached, { type, scope: 'analysis-7' });
    await eventually(() => third.button.disabled, 5000, 'disabled once the server answered');
    assertEqual(statusText(third.element), 'Working…', 'the pending job shown');
  });

  it('disables another button for the same type and scope elsewhere on the page, but not one for another scope', async () => {
    const { client } = await testUser('elsewhere');
    const type = uniqueType('elsewhere');
    const header = document.createElement('header');
    const footer = document.createElement('footer');
    document.body.append(header, footer);
    mounted.push(header, footer);
    const here = await mount(client, { type, scope: 'doc-1' }, undefined, header);
    const there = await mount(client, { type, scope: 'doc-1' }, undefined, footer);
    const other = await mount(client, { type, scope: 'doc-2' }, undefined, footer);
    here.button.click();
    await eventually(() => there.button.disabled, 5000, 'the other button for the same scope disabled');
    assertEqual(statusText(there.element), 'Working…', 'its status');
    assertEqual(other.button.disabled, false, 'another scope stays enabled');
    assertEqual(statusText(other.element), '', 'no status for another scope');
  });

  it('follows a job of the new scope when the scope attribute changes', async () => {
    const { client, create } = await testUser('rescope');
    const type = uniqueType('rescope');
    await create({ type, scope: 'doc-2' });
    const { element, button } = await mount(client, { type, scope: 'doc-1' });
    await eventually(() => client.$active.get().length === 1, 5000, 'the client to know the job');
    assertEqual(button.disabled, false, 'enabled for an idle scope');
    element.setAttribute('scope', 'doc-2');
    await eventually(() => button.disabled, 5000, 'disabled for the busy scope');
    element.setAttribute('scope', 'doc-3');
    await eventually(() => !button.disabled, 5000, 'enabled again for an idle scope');
  });

  it('shows why the server refused to start and fires job-error', async () => {
    const { client } = await testUser('refused');
    const { element, button } = await mount(client, { type: 'bad type!' });
    const { starts, errors } = recordEvents(element);
    button.click();
    await eventually(() => errors.length === 1, 5000, 'job-error');
    const error = errors[0]?.error;
    assert(error instanceof JobTrackerHttpError, 'a typed HTTP error');
    assertEqual([error.status, error.code], [422, 'invalid_request'], 'status and code');
    await eventually(() => errorText(element).startsWith('Could not start: '), 5000, 'the visible error');
    assert(errorText(element).length > 'Could not start: '.length, 'with a reason');
    assertEqual(part(element, 'error').getAttribute('role'), 'alert', 'error role');
    assert(part(element, 'error').getBoundingClientRect().width > 0, 'the error is visible');
    await eventually(() => !button.disabled, 5000, 'enabled again');
    assertEqual(starts.length, 0, 'no job-start');
    await checkAccessibility(element);
  });

  it('shows an error for invalid input JSON and sends no request', async () => {
    const { client, posts, create } = await countingUser('badinput');
    const type = uniqueType('badinput');
    const { element, button } = await mount(client, {
      type,
      input: '<img src=x onerror="window.__xss=1">{"durationMs":',
    });
    const { errors } = recordEvents(element);
    button.click();
    await eventually(() => errorText(element).includes('not valid JSON'), 5000, 'the input error');
    assertEqual(errors.length, 1, 'job-error');
    assertEqual(posts.length, 0, 'requests sent');
    assertEqual(button.disabled, false, 'still enabled');
    assertEqual((element.shadowRoot as ShadowRoot).querySelector('img'), null, 'the text stays text');
    assertEqual((window as { __xss?: unknown }).__xss, undefined, 'no script ran');

    await create({ type });
    await eventually(() => button.disabled, 5000, 'disabled by a job started elsewhere');
    assertEqual(errorText(element), '', 'the earlier error cleared');
  });

  it('shows an error and sends no request when no type is set', async () => {
    const { client, posts } = await countingUser('notype');
    const { element, button } = await mount(client, {});
    const { errors } = recordEvents(element);
    button.click();
    await eventually(() => errorText(element) === 'Could not start: no job type is set', 5000, 'the error');
    assertEqual(
      [errors.length, posts.length, button.disabled],
      [1, 0, false],
      'job-error, requests, disabled',
    );
  });

  it('starts the job from the keyboard on the slotted button', async () => {
    const { client } = await testUser('keyboard');
    const { element, button } = await mount(client, { type: uniqueType('keyboard') });
    const { starts } = recordEvents(element);
    assert(button instanceof HTMLButtonElement, 'a real button');
    button.focus();
    assertEqual(document.activeElement, button, 'the button takes focus');
    await sendKeys({ press: 'Enter' });
    await eventually(() => starts.length === 1, 5000, 'job-start after Enter');
    assert(button.disabled, 'disabled while the job runs');
  });

  it('passes the accessibility check while idle and while working', async () => {
    const { client } = await testUser('a11y');
    const { element, button } = await mount(client, { type: uniqueType('a11y') });
    await checkAccessibility(element);
    button.click();
    await eventually(() => element.job, 5000, 'the started job');
    await checkAccessibility(element);
  });

  it('uses replacement messages', async () => {
    const { client } = await testUser('messages');
    const { element, button } = await mount(client, { type: uniqueType('messages') });
    element.messages = { buttonProgress: (percent) => `Läuft ${percent ?? '…'}` };
    button.click();
    await eventually(() => statusText(element) === 'Läuft …', 5000, 'the replaced progress text');
  });
});
