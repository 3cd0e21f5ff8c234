/// <reference types="@jobtracker/test-support/mocha" />

import { assert, assertEqual, delay, eventually } from '@jobtracker/test-support/browser-assert';
import {
  streamCount,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '@jobtracker/test-support/browser-env';
import { createJob, openTab, pollingClient } from './tabs.js';

describe('job client in the browser', () => {
  it('connects each tab on its own where Web Locks or BroadcastChannel are missing', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('no-locks');
    const token = await tokenFor(user);
    const baseline = await streamCount();
    const params = { api: apiUrl, token, user, noTabSharing: '1' };
    const first = await openTab(params);
    const second = await openTab(params);
    await eventually(async () => (await streamCount()) === baseline + 2, 5000, 'a stream per tab');
    for (const tab of [first, second])
      assertEqual(
        tab.requests.filter((request) => request.url.endsWith('/jobs/stream')).length,
        1,
        'each tab holds its own stream',
      );
    const job = await createJob(apiUrl, token, { type: 'tabs.alone' });
    const claim = await workerCall<{ leaseToken: string }>('/claim', { types: ['tabs.alone'] });
    const { leaseToken } = claim.json;
    await workerCall(`/jobs/${job.id}/progress`, { leaseToken, progress: 40 });
    for (const tab of [first, second])
      await eventually(() => tab.client.jobStore(job.id).get()?.progress === 40, 5000, 'both tabs update');
  });

  it('polls at once when the window gets the focus or the network comes back', async () => {
    const { client, polls } = await pollingClient('wake', 60_000);
    const stop = client.$active.subscribe(() => {});
    try {
      await eventually(() => client.$connection.get().state === 'polling', 3000, 'the first poll');
      await delay(300);
      for (const event of ['focus', 'online']) {
        const before = polls();
        window.dispatchEvent(new Event(event));
        await eventually(() => polls() > before, 500, `a poll on ${event}, not a minute later`);
      }
    } finally {
      stop();
    }
  });

  it('pauses polling while the page is hidden and polls at once when it is shown again', async () => {
    const { client, polls } = await pollingClient('hidden', 100);
    const stop = client.$active.subscribe(() => {});
    await eventually(() => polls() >= 3, 3000, 'polling');
    const setVisibility = (state: DocumentVisibilityState) => {
      Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
      document.dispatchEvent(new Event('visibilitychange'));
    };
    try {
      setVisibility('hidden');
      await delay(250);
      const whileHidden = polls();
      await delay(800);
      assertEqual(polls(), whileHidden, 'no poll while hidden');
      setVisibility('visible');
      await eventually(() => polls() > whileHidden, 300, 'a poll as soon as the page shows');
    } finally {
      Reflect.deleteProperty(document, 'visibilityState');
      stop();
    }
    assert(client.$connection.get().state === 'polling', 'the client reports polling');
  });
});
