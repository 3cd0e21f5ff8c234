/// <reference types="@jobtracker/test-support/mocha" />
import type { Job, JobClient, JobListResponse } from '@jobtracker/sdk';
import { LitElement } from 'lit';
import { JobBadge } from '../job-badge/job-badge.js';
import { JobButton } from '../job-button/job-button.js';
import { JobList } from '../job-list/job-list.js';
import { JobTracker } from '../job-tracker/job-tracker.js';
import { configureJobTracker, defaultJobClient, resetDefaultJobClient } from '../shared/client.js';
import { JobClientController } from '../shared/client-controller.js';
import { defineElement } from '../shared/define.js';
import { everyElement, everyElementMarkup, startFromButton } from '../testing/every-element.js';
import {
  assert,
  assertEqual,
  claimJob,
  eventually,
  settledStreams,
  streamCount,
  testConfig,
  testUser,
  tokenFor,
  uniqueUser,
} from '../testing/widget-env.js';
import { JobProvider } from './job-provider.js';

/** Stands in for `<job-tracker>`: resolves its client like the real elements and watches `$active`. */
class TestConsumer extends LitElement {
  static override properties = { client: { attribute: false } };
  declare client: JobClient | undefined;
  readonly clients = new JobClientController(this);
  active: Job[] = [];

  constructor() {
    super();
    this.clients.watch(
      (client) => client.$active,
      (jobs) => {
        this.active = jobs;
      },
    );
  }
}

defineElement('job-provider', JobProvider);
defineElement('job-button', JobButton);
defineElement('job-tracker', JobTracker);
defineElement('job-badge', JobBadge);
defineElement('job-list', JobList);
defineElement('test-job-consumer', TestConsumer);

const mounted: HTMLElement[] = [];
const storageKeys: string[] = [];

async function mountProvider(
  attributes: Record<string, string>,
  inner: string,
  client?: JobClient,
): Promise<JobProvider> {
  const provider = document.createElement('job-provider');
  for (const [name, value] of Object.entries(attributes)) provider.setAttribute(name, value);
  if (client) provider.client = client;
  provider.innerHTML = inner;
  document.body.append(provider);
  mounted.push(provider);
  await provider.updateComplete;
  for (const child of provider.querySelectorAll<LitElement>('job-button, test-job-consumer')) {
    await child.updateComplete;
  }
  return provider;
}

const consumers = (provider: JobProvider) => [
  ...provider.querySelectorAll<TestConsumer>('test-job-consumer'),
];

/** A user of the test server and the attributes a page would give its provider for them. */
async function providerUser(prefix: string) {
  const { apiUrl } = await testConfig();
  const user = uniqueUser(prefix);
  const token = await tokenFor(user);
  // The clients these tests make keep their cache in localStorage (the default): forget it afterwards.
  storageKeys.push(`jobtracker:${apiUrl}:${user}`, `jobtracker:${apiUrl}:${user}:dismissed`);
  return { apiUrl, user, token, attributes: { endpoint: apiUrl, token, user } };
}

/** Creates a job as `user` through the API, and has a worker report `progress` on it. */
async function runningJob(apiUrl: string, token: string, type: string, progress: number) {
  const response = await fetch(`${apiUrl}/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ type, title: 'Q3 program' }),
  });
  assertEqual(response.status, 201, 'create status');
  const { job } = (await response.json()) as { job: Job };
  const worker = await claimJob(type);
  assertEqual(worker.job.id, job.id, 'the worker claimed the job just created');
  await worker.progress(progress, 'Writing');
  return { job, worker };
}

/** Waits until a real `<job-tracker>`, `<job-badge>` and `<job-list>` all show `job` at `percent`. */
async function allShow(
  elements: { tracker: JobTracker; badge: JobBadge; list: JobList },
  job: Job,
  percent: string,
) {
  const { tracker, badge, list } = elements;
  const percentOf = (element: LitElement) =>
    element.shadowRoot?.querySelector(`[data-job-id="${job.id}"] [part="percent"]`)?.textContent;
  await eventually(() => percentOf(tracker) === percent, 5000, `the tracker to show ${percent}`);
  await eventually(() => percentOf(list) === percent, 5000, `the list to show ${percent}`);
  await eventually(() => badge.getAttribute('count') === '1', 5000, 'the badge to count the job');
  assertEqual(badge.shadowRoot?.querySelector('[part="badge"]')?.textContent, '1', 'the badge text');
  assertEqual(
    list.jobs.map((shown) => shown.id),
    [job.id],
    'the jobs of the list',
  );
}

async function serverJobs(apiUrl: string, token: string) {
  const response = await fetch(`${apiUrl}/jobs`, { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, 'GET /jobs status');
  return ((await response.json()) as JobListResponse).jobs;
}

let streamsBefore = 0;
before(async () => {
  streamsBefore = await streamCount();
});

afterEach(async () => {
  // The clients the test made keep a cache: clear them (as the list tests do), or a save still waiting
  // reads their stores after the elements left, which connects them again.
  for (const element of mounted.splice(0)) {
    if (element instanceof JobProvider) element.providedClient.clear();
    element.remove();
  }
  defaultJobClient().clear();
  resetDefaultJobClient();
  for (const key of storageKeys.splice(0)) localStorage.removeItem(key);
  // A client stops its stream only after its stores unmount (nanostores waits a second per store in the
  // chain): wait for it, so no test leaves a stream behind (the browser holds at most 6 per host).
  await eventually(
    async () => (await streamCount()) <= streamsBefore,
    8000,
    'the streams of the test to close',
  );
});

describe('<job-provider>', () => {
  it('gives every element inside it the same client, made from its attributes', async () => {
    const { apiUrl, token, attributes } = await providerUser('shared');
    const provider = await mountProvider(
      attributes,
      `<test-job-consumer></test-job-consumer>
       <section><test-job-consumer></test-job-consumer></section>
       <job-button type="provider.shared"><button type="button">Start</button></job-button>`,
    );
    const client = provider.providedClient;
    const [first, second] = consumers(provider);
    assert(first && second, 'two consumers');
    assert(first.clients.client === client, 'the first consumer has the provided client');
    assert(second.clients.client === client, 'the second consumer has the same object');

    provider.querySelector('job-button')?.querySelector('button')?.click();
    await eventually(
      () => first.active.length === 1 && second.active.length === 1,
      5000,
      'both consumers to see the job',
    );
    assertEqual((await serverJobs(apiUrl, token)).length, 1, 'jobs of the user on the server');
  });

  it('renders its children in place and nothing of its own', async () => {
    const { attributes } = await providerUser('contents');
    const provider = await mountProvider(attributes, '<p>Page content</p>');
    assertEqual(getComputedStyle(provider).display, 'contents', 'display');
    assertEqual(provider.shadowRoot?.querySelector('slot') !== null, true, 'a slot');
    assertEqual(provider.shadowRoot?.textContent?.trim(), '', 'no text of its own');
  });

  it('opens one stream for a provider with several elements inside', async () => {
    const { attributes } = await providerUser('stream');
    const before = await settledStreams();
    const provider = await mountProvider(
      attributes,
      `<test-job-consumer></test-job-consumer>
       <test-job-consumer></test-job-consumer>
       <job-button type="provider.stream"><button type="button">Start</button></job-button>`,
    );
    await eventually(async () => (await streamCount()) === before + 1, 5000, 'the stream to open');
    assertEqual(await settledStreams(), before + 1, 'open streams once settled');
    provider.remove();
    await eventually(
      async () => (await streamCount()) === before,
      5000,
      'the stream to close with the elements',
    );
  });

  it('provides its client property instead of a client made from the attributes', async () => {
    const { client, apiUrl, token } = await testUser('own');
    const provider = await mountProvider(
      { endpoint: 'http://127.0.0.1:9/nowhere', token: 'not-a-token', user: 'someone-else' },
      `<test-job-consumer></test-job-consumer>
       <job-button type="provider.own"><button type="button">Start</button></job-button>`,
      client,
    );
    assert(provider.providedClient === client, 'the property is provided');
    assert(consumers(provider)[0]?.clients.client === client, 'the consumer has it');
    const button = provider.querySelector('job-button') as JobButton;
    const started = new Promise<Event>((resolve) =>
      button.addEventListener('job-start', resolve, { once: true }),
    );
    button.querySelector('button')?.click();
    await started;
    assertEqual((await serverJobs(apiUrl, token)).length, 1, 'the job went to the real server as this user');
  });

  it('makes a new client only when the endpoint, token, user or transport change', async () => {
    const { attributes } = await providerUser('recreate');
    const provider = await mountProvider(attributes, '<test-job-consumer></test-job-consumer>');
    const [consumer] = consumers(provider);
    assert(consumer, 'a consumer');
    const first = provider.providedClient;
    provider.setAttribute('class', 'unrelated');
    provider.requestUpdate();
    await provider.updateComplete;
    assert(provider.providedClient === first, 'the same client after an unrelated change');

    const other = await providerUser('recreate-next');
    provider.setAttribute('user', other.user);
    provider.setAttribute('token', other.token);
    await provider.updateComplete;
    const second = provider.providedClient;
    assert(second !== first, 'a new client for a new user');
    assert(consumer.clients.client === second, 'the consumer switched to it');

    provider.setAttribute('transport', 'poll');
    await provider.updateComplete;
    assert(provider.providedClient !== second, 'a new client for a new transport');
    assert(consumer.clients.client === provider.providedClient, 'the consumer follows');
  });

  it('gives a real tracker, badge and list inside it one client and one connection, and all show the job', async () => {
    const { apiUrl, token, user, attributes } = await providerUser('real');
    const type = `provider.real.${user}`;
    const before = await settledStreams();
    const provider = await mountProvider(
      attributes,
      `<nav>Programs <job-badge></job-badge></nav>
       <main><job-list></job-list></main>
       <job-tracker></job-tracker>`,
    );
    const { tracker, badge, list } = everyElement(provider);
    const { job, worker } = await runningJob(apiUrl, token, type, 40);
    await allShow({ tracker, badge, list }, job, '40%');

    // Each of the three follows the provided client's active jobs: three listeners on that one store.
    const client = provider.providedClient;
    assertEqual(client.$active.lc, 3, "listeners of the provided client's active jobs");
    await eventually(async () => (await streamCount()) === before + 1, 5000, 'the stream to open');
    assertEqual(await settledStreams(), before + 1, 'open streams once settled');

    await worker.progress(70, 'Almost');
    await allShow({ tracker, badge, list }, job, '70%');
    provider.remove();
    await eventually(async () => (await streamCount()) === before, 5000, 'the one stream to close');
  });

  it('gives elements outside any provider the one page-wide client of configureJobTracker, on one connection', async () => {
    const { apiUrl, token, user } = await providerUser('page-default');
    const type = `provider.default.${user}`;
    const before = await settledStreams();
    const client = configureJobTracker({ baseUrl: apiUrl, token, user });
    assert(defaultJobClient() === client, 'the configured client is the page default');
    const page = document.createElement('div');
    page.innerHTML = everyElementMarkup(type);
    document.body.append(page);
    mounted.push(page);
    const { tracker, badge, list, button } = everyElement(page);
    const { job, worker } = await startFromButton(button, type);
    await worker.progress(40, 'Writing');
    await allShow({ tracker, badge, list }, job, '40%');
    assertEqual(
      button.querySelector('button')?.getAttribute('aria-disabled'),
      'true',
      'the button held by the same job',
    );

    // The tracker, badge and list follow the client's active jobs, and the button's activeFor() store does too.
    assertEqual(client.$active.lc, 4, "listeners of the page-wide client's active jobs");
    await eventually(async () => (await streamCount()) === before + 1, 5000, 'the stream to open');
    assertEqual(await settledStreams(), before + 1, 'open streams once settled');

    await worker.complete({ url: '/programs/1' });
    await eventually(() => badge.getAttribute('count') === '0', 5000, 'the badge back to 0');
    await eventually(
      () => !button.querySelector('button')?.hasAttribute('aria-disabled'),
      5000,
      'the button free again',
    );
  });
});
