/// <reference path="../../../sdk/src/testing/mocha.d.ts" />
import type { Job, JobClient, JobListResponse } from '@jobtracker/sdk';
import { LitElement } from 'lit';
import { JobButton } from '../job-button/job-button.js';
import { JobClientController } from '../shared/client-controller.js';
import { defineElement } from '../shared/define.js';
import {
  assert,
  assertEqual,
  delay,
  eventually,
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
defineElement('test-job-consumer', TestConsumer);

const mounted: HTMLElement[] = [];

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
  return { apiUrl, user, token, attributes: { endpoint: apiUrl, token, user } };
}

async function serverJobs(apiUrl: string, token: string) {
  const response = await fetch(`${apiUrl}/jobs`, { headers: { Authorization: `Bearer ${token}` } });
  assertEqual(response.status, 200, 'GET /jobs status');
  return ((await response.json()) as JobListResponse).jobs;
}

/** Waits until the server's open streams stay at one count for a moment. */
async function settledStreams(): Promise<number> {
  let last = -1;
  for (let i = 0; i < 40; i++) {
    const now = await streamCount();
    if (now === last) return now;
    last = now;
    await delay(300);
  }
  return last;
}

let streamsBefore = 0;
before(async () => {
  streamsBefore = await streamCount();
});

afterEach(async () => {
  for (const element of mounted.splice(0)) element.remove();
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
});
