import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createJobClient } from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually, memoryStorage } from '@jobtracker/test-support/tokens';
import { WORKER, watch, worker } from './client-fixture.js';

describe('job client lifecycle and announcements', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER] });
  });
  after(() => server.kill());
  const streams = async () => (await (await fetch(`${server.url}/api/health`)).json()).streams as number;

  it('opens no connection until a store has a subscriber, and closes it after the last one leaves', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, transport: 'sse', storage: null });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.equal(await streams(), 0, 'creating a client connects nothing');
    const first = client.$active.subscribe(() => {});
    const second = client.activeFor('x').subscribe(() => {});
    await eventually(async () => (await streams()) === 1, 3000, 'one stream');
    first();
    await new Promise((resolve) => setTimeout(resolve, 1300));
    assert.equal(await streams(), 1, 'still one subscriber left');
    second();
    await eventually(
      async () => (await streams()) === 0,
      4000,
      'the stream to close after the last subscriber',
    );
  });

  it('announces a job that finished while no page was open, once, when a page next loads', async () => {
    const storage = memoryStorage();
    const baseUrl = `${server.url}/api`;
    const before = createJobClient({ baseUrl, transport: 'sse', storage });
    const watcher = watch(before);
    const { job } = await before.start({ type: 'away.job', title: 'While away' });
    await eventually(
      () => storage.getItem(`jobtracker:${baseUrl}:default`)?.includes(job.id),
      3000,
      'the cache',
    );
    watcher.stop();

    const w = worker(server.url);
    const claim = await w.claim('away.job');
    await w.complete(job.id, claim.leaseToken, { url: '/away' });

    const announced: string[] = [];
    const later = createJobClient({ baseUrl, transport: 'sse', storage });
    later.on('completed', (done) => announced.push(done.id));
    const stop = later.$active.subscribe(() => {});
    await eventually(() => announced.length === 1, 5000, 'the announcement');
    const again = createJobClient({ baseUrl, transport: 'sse', storage });
    again.on('completed', (done) => announced.push(done.id));
    const stopAgain = again.$active.subscribe(() => {});
    await eventually(
      () => again.jobStore(job.id).get()?.status === 'completed',
      5000,
      'the third page to load',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.deepEqual(announced, [job.id], 'announced once, not on every page load');
    stop();
    stopAgain();
  });
});
