import { assert, assertEqual, delay, eventually } from '../testing/browser-assert.js';
import {
  streamCount,
  streamsClosed,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '../testing/browser-env.js';
import type { CreateJobResponse, Job } from '../wire.js';
import { createJobClient, type JobClient } from './client.js';

interface Tab {
  frame: HTMLIFrameElement;
  client: JobClient;
  announced: string[];
}

interface TabWindow extends Window {
  jobClient?: JobClient;
  announced?: string[];
  tabReady?: boolean;
}

const frames: HTMLIFrameElement[] = [];

/** Opens another page of this origin running its own client, as a second browser tab would. */
async function openTab(params: Record<string, string>): Promise<Tab> {
  const frame = document.createElement('iframe');
  frame.src = `${new URL('../testing/tab.html', import.meta.url).pathname}?${new URLSearchParams(params)}`;
  document.body.append(frame);
  frames.push(frame);
  const win = await eventually(
    () => {
      const candidate = frame.contentWindow as TabWindow | null;
      return candidate?.tabReady ? candidate : null;
    },
    8000,
    'the tab to load',
  );
  return { frame, client: win.jobClient as JobClient, announced: win.announced as string[] };
}

async function createJob(apiUrl: string, token: string, body: object): Promise<Job> {
  const response = await fetch(`${apiUrl}/jobs`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assertEqual(response.status, 201, 'create status');
  return ((await response.json()) as CreateJobResponse).job;
}

async function claim(type: string) {
  const claimed = await workerCall<{ job: Job; leaseToken: string }>('/claim', {
    types: [type],
    leaseMs: 60_000,
  });
  assertEqual(claimed.status, 200, 'claim status');
  return claimed.json;
}

/** Waits until the server's open streams settle at a steady count. */
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

afterEach(async () => {
  for (const frame of frames.splice(0)) frame.remove();
  await streamsClosed();
});

describe('job client in the browser', () => {
  it('shows the jobs of the local snapshot before the network answers', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('cache');
    const token = await tokenFor(user);
    const first = createJobClient({ baseUrl: apiUrl, token, user, shareTabs: false });
    const stop = first.$active.subscribe(() => {});
    const { job } = await first.start({ type: 'cache.test', title: 'Generating the Q3 program' });
    await eventually(
      () => localStorage.getItem(`jobtracker:${apiUrl}:${user}`)?.includes(job.id),
      3000,
      'the cache',
    );
    stop();

    // A page loaded mid-job whose network is slow: nothing answers until the test lets it.
    let release!: () => void;
    const network = new Promise<void>((resolve) => {
      release = resolve;
    });
    const requested: string[] = [];
    const slowFetch: typeof fetch = async (input, init) => {
      requested.push(String(input));
      await network;
      return fetch(input, init);
    };
    const second = createJobClient({ baseUrl: apiUrl, token, user, shareTabs: false, fetch: slowFetch });
    assertEqual(
      second.$active.get().map((j) => [j.id, j.title]),
      [[job.id, 'Generating the Q3 program']],
      'jobs known before any request',
    );
    const stopSecond = second.$active.subscribe(() => {});
    await eventually(() => requested.length > 0, 3000, 'the first request');
    assertEqual(second.$connection.get().state, 'connecting', 'still waiting for the network');
    assertEqual(second.activeFor('cache.test').get()?.id, job.id, 'the button knows its job is running');
    release();
    await eventually(() => second.$connection.get().state === 'live', 5000, 'the live stream');
    assertEqual(second.jobStore(job.id).get()?.status, 'pending', 'reconciled with the server');
    stopSecond();
    second.clear();
  });

  it('keeps one server connection for two tabs, both see every event, and closing the leader hands over', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('tabs');
    const token = await tokenFor(user);
    const baseline = await settledStreams();
    const params = { api: apiUrl, token, user };
    const leader = await openTab(params);
    await eventually(() => leader.client.$connection.get().state === 'live', 5000, 'the leader to connect');
    const follower = await openTab(params);
    await eventually(
      () => follower.client.$connection.get().state === 'live',
      5000,
      'the follower to hear the leader',
    );
    await delay(500);
    assertEqual(await streamCount(), baseline + 1, 'one stream for two tabs');

    const type = `tabs.${user}`;
    const job = await createJob(apiUrl, token, { type, title: 'Shared' });
    const { leaseToken } = await claim(type);
    for (const progress of [20, 50]) {
      await workerCall(`/jobs/${job.id}/progress`, { leaseToken, progress, message: `at ${progress}` });
    }
    for (const tab of [leader, follower]) {
      await eventually(
        () => tab.client.jobStore(job.id).get()?.progress === 50,
        5000,
        'progress in both tabs',
      );
    }

    leader.frame.remove();
    await workerCall(`/jobs/${job.id}/progress`, { leaseToken, progress: 80, message: 'after the handover' });
    await eventually(
      () => follower.client.jobStore(job.id).get()?.progress === 80,
      8000,
      'the new leader to resume',
    );
    await workerCall(`/jobs/${job.id}/complete`, { leaseToken, result: { url: '/done' } });
    await eventually(
      () => follower.client.jobStore(job.id).get()?.status === 'completed',
      5000,
      'completion',
    );
    await eventually(
      async () => (await streamCount()) === baseline + 1,
      5000,
      'still one stream after the handover',
    );
  });

  it('shares a dismissed card with every tab and keeps it across reloads', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('dismiss');
    const token = await tokenFor(user);
    const params = { api: apiUrl, token, user };
    const [one, two] = [await openTab(params), await openTab(params)];
    assert(one && two, 'two tabs');
    one.client.dismiss('job-a');
    await eventually(() => two.client.$dismissed.get().includes('job-a'), 3000, 'the other tab to hide it');
    const reloaded = createJobClient({ baseUrl: apiUrl, token, user });
    assertEqual(reloaded.$dismissed.get(), ['job-a'], 'dismissed after a reload');
    reloaded.clear();
  });

  it('announces a completed job once across tabs', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('announce');
    const token = await tokenFor(user);
    const params = { api: apiUrl, token, user };
    const tabs = [await openTab(params), await openTab(params)];
    const type = `announce.${user}`;
    const job = await createJob(apiUrl, token, { type });
    for (const tab of tabs)
      await eventually(() => tab.client.jobStore(job.id).get(), 5000, 'the job in both tabs');
    const { leaseToken } = await claim(type);
    await workerCall(`/jobs/${job.id}/complete`, { leaseToken, result: null });
    for (const tab of tabs) {
      await eventually(
        () => tab.client.jobStore(job.id).get()?.status === 'completed',
        5000,
        'completion in both tabs',
      );
    }
    await delay(2000);
    assertEqual(
      tabs.flatMap((tab) => tab.announced),
      [job.id],
      'exactly one announcement for the browser',
    );
  });

  it('pauses polling while the page is hidden and polls at once when it is shown again', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('hidden');
    const token = await tokenFor(user);
    let polls = 0;
    const countingFetch: typeof fetch = (input, init) => {
      if (String(input).includes('/jobs?since=')) polls++;
      return fetch(input, init);
    };
    const client = createJobClient({
      baseUrl: apiUrl,
      token,
      user,
      transport: 'poll',
      shareTabs: false,
      storage: null,
      fetch: countingFetch,
      pollActiveMs: 100,
      pollIdleMs: 100,
    });
    const stop = client.$active.subscribe(() => {});
    await eventually(() => polls >= 3, 3000, 'polling');
    const setVisibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      setVisibility('hidden');
      await delay(250);
      const whileHidden = polls;
      await delay(800);
      assertEqual(polls, whileHidden, 'no poll while hidden');
      setVisibility('visible');
      await eventually(() => polls > whileHidden, 300, 'a poll as soon as the page shows');
    } finally {
      Reflect.deleteProperty(document, 'visibilityState');
      stop();
    }
    assert(client.$connection.get().state === 'polling', 'the client reports polling');
  });
});
