import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createJobClient, JobTrackerHttpError } from '@jobtracker/sdk';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually } from '@jobtracker/test-support/tokens';
import { WORKER, watch, worker } from './client-fixture.js';

describe('job client in Node against a real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServerProcess({ args: ['--worker-key', WORKER] });
  });
  after(() => server.kill());

  for (const transport of ['sse', 'poll'] as const) {
    it(`follows a job from creation to completion with every progress step in order (${transport})`, async () => {
      const client = createJobClient({
        baseUrl: `${server.url}/api`,
        transport,
        storage: null,
        pollActiveMs: 50,
        pollIdleMs: 50,
      });
      const watcher = watch(client);
      await eventually(
        () => ['live', 'polling'].includes(client.$connection.get().state),
        5000,
        'a connection',
      );
      const { job, created } = await client.start({ type: `steps.${transport}`, title: 'Steps' });
      assert.equal(created, true);
      assert.equal(
        client.jobStore(job.id).get()?.status,
        'pending',
        'the started job is in the store at once',
      );
      const w = worker(server.url);
      const claim = await w.claim(`steps.${transport}`);
      for (const step of [10, 20, 30, 40, 50, 60, 70, 80, 90]) {
        await w.progress(job.id, claim.leaseToken, step, `step ${step}`);
        if (transport === 'poll')
          await eventually(() => client.jobStore(job.id).get()?.progress === step, 3000, `step ${step}`);
      }
      await w.complete(job.id, claim.leaseToken, { url: '/done' });
      await eventually(() => client.jobStore(job.id).get()?.status === 'completed', 5000, 'completion');
      const progress = watcher.seen
        .filter((j) => j.id === job.id && j.status === 'running')
        .map((j) => j.progress);
      if (transport === 'sse') assert.deepEqual(progress, [null, 10, 20, 30, 40, 50, 60, 70, 80, 90]);
      else
        assert.deepEqual(
          progress.filter((p) => p !== null),
          [10, 20, 30, 40, 50, 60, 70, 80, 90],
        );
      const versions = watcher.seen.filter((j) => j.id === job.id).map((j) => j.version);
      assert.deepEqual(
        versions,
        [...versions].sort((a, b) => a - b),
        'versions only rise',
      );
      assert.equal(
        client.$active.get().some((j) => j.id === job.id),
        false,
      );
      assert.equal(client.$recent.get()[0]?.id, job.id);
      watcher.stop();
    });
  }

  it('rejects actions with typed errors and keeps connection errors in $connection', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, storage: null });
    await assert.rejects(client.cancel('01m8k0x60974smd8gnmwwmw588'), (error) => {
      assert.ok(error instanceof JobTrackerHttpError, 'a typed HTTP error');
      assert.deepEqual([error.status, error.code], [404, 'not_found']);
      return true;
    });
    await assert.rejects(
      client.start({ type: 'bad type!' }),
      (error) => error instanceof JobTrackerHttpError && error.status === 422,
    );
    const unreachable = createJobClient({
      baseUrl: 'http://127.0.0.1:9/api',
      storage: null,
      transport: 'sse',
    });
    const stop = unreachable.$connection.subscribe(() => {});
    await eventually(() => unreachable.$connection.get().state === 'error', 5000, 'an error state');
    assert.equal(unreachable.$connection.get().error?.code, 'network');
    stop();
  });

  it('start() answers the existing job when the server dedupes it or an idempotency key is reused', async () => {
    const baseUrl = `${server.url}/api`;
    const client = createJobClient({ baseUrl, transport: 'sse', storage: null });
    const watcher = watch(client);
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    const first = await client.start({ type: 'dedupe.job', scope: 'doc-1', title: 'Export' });
    assert.equal(first.created, true);
    const duplicate = await client.start({ type: 'dedupe.job', scope: 'doc-1', title: 'Export again' });
    assert.deepEqual(
      [duplicate.created, duplicate.reason, duplicate.job.id],
      [false, 'active_duplicate', first.job.id],
    );
    const keyed = await client.start({ type: 'keyed.job', idempotencyKey: 'click-1', dedupe: false });
    assert.equal(keyed.created, true);
    const replayed = await client.start({ type: 'keyed.job', idempotencyKey: 'click-1', dedupe: false });
    assert.deepEqual(
      [replayed.created, replayed.reason, replayed.job.id],
      [false, 'idempotency_key', keyed.job.id],
    );
    // A job created behind the client's back: once the stream brought it, it brought everything before it.
    const marker = (await fetch(`${baseUrl}/jobs`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ type: 'dedupe.marker' }),
    }).then((response) => response.json())) as { job: Job };
    await eventually(() => client.jobStore(marker.job.id).get(), 5000, 'the stream to catch up');
    const held = (type: string) =>
      Object.values(client.$jobs.get())
        .filter((job) => job.type === type)
        .map((job) => job.id);
    assert.deepEqual(held('dedupe.job'), [first.job.id], 'one job of the deduped type and scope');
    assert.deepEqual(held('keyed.job'), [keyed.job.id], 'one job for the idempotency key');
    watcher.stop();
  });

  it('fires on(progress) for each step and on(failed) / on(cancelled) once for each job that ends so', async () => {
    const client = createJobClient({ baseUrl: `${server.url}/api`, transport: 'sse', storage: null });
    const heard: Record<'progress' | 'failed' | 'cancelled' | 'completed', string[]> = {
      progress: [],
      failed: [],
      cancelled: [],
      completed: [],
    };
    client.on('progress', (job) => heard.progress.push(`${job.id} ${job.progress} ${job.message}`));
    client.on('failed', (job) => heard.failed.push(`${job.id} ${job.error?.message}`));
    client.on('cancelled', (job) => heard.cancelled.push(job.id));
    client.on('completed', (job) => heard.completed.push(job.id));
    const watcher = watch(client);
    await eventually(() => client.$connection.get().state === 'live', 5000, 'a live stream');
    const w = worker(server.url);

    const failing = (await client.start({ type: 'listen.fail' })).job;
    const failClaim = await w.claim('listen.fail');
    assert.equal((await w.progress(failing.id, failClaim.leaseToken, 25, 'quarter')).status, 200);
    assert.equal((await w.progress(failing.id, failClaim.leaseToken, 50, 'half')).status, 200);
    assert.equal((await w.fail(failing.id, failClaim.leaseToken, 'Out of paper')).status, 200);

    const cancelled = (await client.start({ type: 'listen.cancel' })).job;
    const cancelClaim = await w.claim('listen.cancel');
    assert.equal((await w.progress(cancelled.id, cancelClaim.leaseToken, 5, 'started')).status, 200);
    await eventually(() => client.jobStore(cancelled.id).get()?.progress === 5, 5000, 'the running job');
    assert.equal((await client.cancel(cancelled.id)).status, 'cancelled');

    // Announcements go out in order: once the last job's is heard, any duplicate of the others would be too.
    const last = (await client.start({ type: 'listen.last' })).job;
    const lastClaim = await w.claim('listen.last');
    assert.equal((await w.complete(last.id, lastClaim.leaseToken, null)).status, 200);
    await eventually(() => heard.completed.length > 0, 5000, 'the last job’s announcement');
    assert.deepEqual(heard, {
      progress: [`${failing.id} 25 quarter`, `${failing.id} 50 half`, `${cancelled.id} 5 started`],
      failed: [`${failing.id} Out of paper`],
      cancelled: [cancelled.id],
      completed: [last.id],
    });
    watcher.stop();
  });
});
