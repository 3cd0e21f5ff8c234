/// <reference types="@jobtracker/test-support/mocha" />

import type { Job, JobStatus } from '@jobtracker/sdk';
import { createJobClient } from '@jobtracker/sdk';
import { assert, assertEqual, delay, eventually } from '@jobtracker/test-support/browser-assert';
import {
  settledStreams,
  streamCount,
  testConfig,
  tokenFor,
  uniqueUser,
  workerCall,
} from '@jobtracker/test-support/browser-env';
import { claim, createJob, openTab, type SeenJob, type Tab, type TabRequest } from './tabs.js';

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

  it('keeps one server connection for two tabs, both take every event in order, and closing the leader resumes from their cursor', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('tabs');
    const token = await tokenFor(user);
    const baseline = await settledStreams();
    const params = { api: apiUrl, token, user };
    const first = await openTab(params);
    await eventually(() => first.client.$connection.get().state === 'live', 5000, 'the first tab to connect');
    const second = await openTab(params);
    await eventually(
      () => second.client.$connection.get().state === 'live',
      5000,
      'the second tab to hear the first',
    );
    await eventually(async () => (await streamCount()) === baseline + 1, 3000, 'the stream on the server');

    const type = `tabs.${user}`;
    const job = await createJob(apiUrl, token, { type, title: 'Shared' });
    const { leaseToken, job: claimed } = await claim(type);
    // What the server made of each change, in order: the tabs must take exactly these states.
    const posted: Job[] = [job, claimed];
    const report = async (progress: number) => {
      const answer = await workerCall<{ job: Job }>(`/jobs/${job.id}/progress`, {
        leaseToken,
        progress,
        message: `at ${progress}`,
      });
      assertEqual(answer.status, 200, `progress ${progress} accepted`);
      posted.push(answer.json.job);
    };
    const states = (jobs: readonly { version: number; status: JobStatus; progress: number | null }[]) =>
      jobs.map(({ version, status, progress }) => [version, status, progress]);
    const seenBy = (tab: Tab) => tab.seen.filter((seen) => seen.id === job.id);
    const hasSeen = (tab: Tab, version: number) => seenBy(tab).some((seen) => seen.version === version);
    const versionsRise = (tab: Tab, who: string) => {
      const versions = seenBy(tab).map((seen) => seen.version);
      assert(
        versions.every((version, i) => i === 0 || version > (versions[i - 1] as number)),
        `${who}: versions strictly rising, got ${JSON.stringify(versions)}`,
      );
    };
    // The worker reports without waiting for the tabs.
    for (const progress of [10, 20, 30, 40, 50]) await report(progress);
    const fifty = (posted.at(-1) as Job).version;
    for (const [tab, who] of [
      [first, 'first tab'],
      [second, 'second tab'],
    ] as const) {
      await eventually(() => hasSeen(tab, fifty), 5000, `progress 50 in the ${who}`);
      assertEqual(states(seenBy(tab)), states(posted), `every state, in order, once, in the ${who}`);
      versionsRise(tab, who);
    }

    // Exactly one tab asked the server for changes: the leader, with one stream and no polling.
    const isStream = (request: TabRequest) => request.url === `${apiUrl}/jobs/stream`;
    const isPoll = (request: TabRequest) => request.url.startsWith(`${apiUrl}/jobs?since=`);
    const syncRequests = (tab: Tab) => tab.requests.filter((request) => isStream(request) || isPoll(request));
    const streaming = [first, second].filter((tab) => syncRequests(tab).length > 0);
    assertEqual(streaming.length, 1, 'tabs that asked the server for changes');
    const [leader, follower] = streaming[0] === first ? [first, second] : [second, first];
    assert(leader === first, 'the tab that opened first leads');
    assertEqual(
      syncRequests(leader).map((request) => [isStream(request), request.lastEventId]),
      [[true, null]],
      "the leader's requests for changes: one fresh stream",
    );
    assertEqual(syncRequests(follower), [], "the follower's requests for changes while the leader lives");
    assertEqual(await streamCount(), baseline + 1, 'one stream for two tabs');
    const pairCursor = leader.client.cursor;
    assert(pairCursor && pairCursor !== '0', `the leader holds a cursor, got ${pairCursor}`);
    assertEqual(follower.client.cursor, pairCursor, "the follower's cursor");

    // Close the leader. The follower takes the lead, but its stream is held back (a slow network) while
    // the worker reports twice: no tab hears those events live.
    const release = follower.holdStreams();
    const requestsBefore = follower.requests.length;
    leader.frame.remove();
    const resumed = await eventually(
      () => follower.requests.slice(requestsBefore).find(isStream),
      5000,
      'the follower to open its own stream',
    );
    assertEqual(resumed.lastEventId, pairCursor, 'the new leader resumes from the cursor the tabs held');
    await eventually(
      async () => (await streamCount()) === baseline,
      5000,
      "the server to drop the closed tab's stream",
    );
    for (const progress of [60, 70]) await report(progress);
    assertEqual(await streamCount(), baseline, 'no stream while the new one is held back');
    const seventy = (posted.at(-1) as Job).version;
    assertEqual(
      (seenBy(follower).at(-1) as SeenJob).version,
      fifty,
      'nothing heard while no tab holds a stream',
    );
    release();
    await eventually(() => hasSeen(follower, seventy), 5000, 'the missed reports after the handover');
    await eventually(
      () => follower.client.$connection.get().state === 'live',
      3000,
      'the new leader to be live',
    );
    for (const progress of [80, 90]) await report(progress);
    const completed = await workerCall<{ job: Job }>(`/jobs/${job.id}/complete`, {
      leaseToken,
      result: { url: '/done' },
    });
    assertEqual(completed.status, 200, 'complete accepted');
    posted.push(completed.json.job);
    await eventually(
      () => seenBy(follower).at(-1)?.status === 'completed',
      5000,
      'completion in the remaining tab',
    );
    // Reports made while no tab held a stream reach the new leader from the change log, which keeps one
    // progress row per job per flush: 60 may be folded into 70 (docs/reliability.md, promise 1).
    const foldable = (version: number) => version > fifty && version < seventy;
    const seenStates = states(seenBy(follower));
    assertEqual(
      seenStates,
      states(posted).filter(
        ([version]) => !foldable(version as number) || seenStates.some(([seen]) => seen === version),
      ),
      'every state before, during and after the handover, in order, once; only reports the log folded left out',
    );
    versionsRise(follower, 'remaining tab');
    assertEqual(
      syncRequests(follower).map((request) => [isStream(request), request.lastEventId]),
      [[true, pairCursor]],
      "the remaining tab's requests for changes: one stream, resumed",
    );
    assertEqual(await streamCount(), baseline + 1, 'one stream after the handover');
  });

  it('shares a dismissed card with every tab and keeps it across reloads (the server holds it)', async () => {
    const { apiUrl } = await testConfig();
    const user = uniqueUser('dismiss');
    const token = await tokenFor(user);
    const params = { api: apiUrl, token, user };
    const [one, two] = [await openTab(params), await openTab(params)];
    assert(one && two, 'two tabs');
    const job = await createJob(apiUrl, token, { type: 'tabs.dismiss', dedupe: false });
    await eventually(() => two.client.jobStore(job.id).get(), 3000, 'the other tab to know the job');
    const dismissing = one.client.dismiss(job.id);
    assert(one.client.$dismissed.get().includes(job.id), 'hidden at once in the tab that dismissed it');
    await dismissing;
    await eventually(() => two.client.$dismissed.get().includes(job.id), 3000, 'the other tab to hide it');
    const reloaded = createJobClient({ baseUrl: apiUrl, token, user, storage: null, shareTabs: false });
    const stop = reloaded.$dismissed.listen(() => {});
    try {
      await eventually(() => reloaded.$dismissed.get().includes(job.id), 3000, 'dismissed after a reload');
    } finally {
      stop();
      reloaded.clear();
    }
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
});
