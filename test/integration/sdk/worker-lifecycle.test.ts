import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { JobTrackerHttpError, JobTrackerNetworkError } from '@jobtracker/sdk';
import { type ClaimedJob, createWorkerApi } from '@jobtracker/sdk/worker';
import type { ServerProcess } from '@jobtracker/test-support/server-process';
import {
  createJob,
  eventually,
  getJob,
  servers,
  settledJob,
  signalled,
  startServer,
  startWorker,
  WORKER_KEY,
} from './worker-fixture.js';

describe('createWorker against the real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });

  it('reports many jobs’ progress in one request with progressMany, each result standing alone', async () => {
    const api = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    const first = await createJob(server, { type: 'sdk.batch', dedupe: false });
    const second = await createJob(server, { type: 'sdk.batch', dedupe: false });
    const claims = [await api.claim({ types: ['sdk.batch'] }), await api.claim({ types: ['sdk.batch'] })];
    const [a, b] = claims.map((claim) => {
      assert.ok(claim, 'a job was claimed');
      return claim;
    }) as [ClaimedJob, ClaimedJob];
    assert.deepEqual(new Set([a.job.id, b.job.id]), new Set([first.id, second.id]));
    const results = await api.progressMany([
      { id: a.job.id, leaseToken: a.leaseToken, progress: 30, message: 'thirty' },
      { id: b.job.id, leaseToken: 'stale', progress: 30 },
      { id: b.job.id, leaseToken: b.leaseToken, progress: 60, message: 'sixty' },
    ]);
    assert.deepEqual(
      results.map((result) => ('error' in result ? result.error.code : 'ok')),
      ['ok', 'lease_lost', 'ok'],
    );
    assert.deepEqual(
      [(await getJob(server, a.job.id)).message, (await getJob(server, b.job.id)).progress],
      ['thirty', 60],
    );
    await api.complete(a.job.id, a.leaseToken);
    await api.complete(b.job.id, b.leaseToken);
  });

  it('runs no more handlers at once than its concurrency', async () => {
    let active = 0;
    let most = 0;
    const worker = startWorker(server, {
      types: ['t.concurrency'],
      concurrency: 2,
      async handler() {
        active++;
        most = Math.max(most, active, worker.running);
        await delay(200);
        active--;
        return null;
      },
    });
    try {
      const jobs = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => createJob(server, { type: 't.concurrency', input: n, dedupe: false })),
      );
      for (const job of jobs) assert.equal((await settledJob(server, job.id)).status, 'completed');
      assert.equal(most, 2);
    } finally {
      await worker.stop();
    }
  });

  it('reports a wrong worker key to onError as a 401 JobTrackerHttpError and keeps trying', async () => {
    const errors: unknown[] = [];
    const worker = startWorker(server, {
      types: ['t.badkey'],
      workerKey: 'wrong',
      onError: (error) => errors.push(error),
      handler: async () => null,
    });
    try {
      await eventually(() => errors.length >= 2, 5000, 'two claim failures');
      for (const error of errors) {
        assert.ok(error instanceof JobTrackerHttpError, String(error));
        assert.deepEqual([error.status, error.code], [401, 'unauthorized']);
      }
    } finally {
      await worker.stop();
    }
  });

  it('stops claiming, aborts the running handler, resolves once it has settled and gives the job back', async () => {
    const started = signalled();
    let settled = false;
    let reason: unknown = null;
    const worker = startWorker(server, {
      types: ['t.stop'],
      leaseMs: 1500,
      async handler(_job, ctx) {
        started.resolve();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        reason = ctx.signal.reason;
        await delay(150); // cleanup after the abort
        settled = true;
        return null;
      },
    });
    const created = await createJob(server, { type: 't.stop' });
    await started.promise;
    assert.equal(worker.running, 1);
    await worker.stop();
    assert.equal(settled, true);
    assert.equal(worker.running, 0);
    assert.match(String((reason as Error).message), /stopping/);
    const job = await getJob(server, created.id);
    assert.deepEqual(
      [job.status, job.result, job.attempt],
      ['pending', null, 0],
      'a stopped job is given back at once, its attempt not spent',
    );
  });

  it('stops at once while idle in a long poll and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const worker = startWorker(server, { types: ['t.idle'], waitMs: 20_000, handler: async () => null });
    await delay(300);
    const stopping = performance.now();
    await worker.stop();
    assert.ok(performance.now() - stopping < 1000, 'the pending claim request was aborted');
    assert.equal(worker.running, 0);
    // fetch's own timer may lag by up to a second after a request ends; the worker's would last far longer.
    await eventually(() => timers() <= before, 3000, `the timer count to fall back to ${before}`);
  });
});

describe('createWorker across a server crash', () => {
  it('reconnects by itself after the server is SIGKILLed and restarted on the same port, and runs a job created after the restart', async () => {
    const first = await startServer();
    const errors: unknown[] = [];
    const done: string[] = [];
    const worker = startWorker(first, {
      types: ['t.restart'],
      onError: (error) => errors.push(error),
      async handler(job) {
        done.push(job.id);
        return { ok: true };
      },
    });
    try {
      await delay(300); // idle in a long poll
      await first.kill();
      servers.delete(first);
      await eventually(
        () => errors.some((error) => error instanceof JobTrackerNetworkError),
        5000,
        'a network error while the server is down',
      );
      const second = await first.restart();
      servers.add(second);
      assert.equal(second.port, first.port);
      const created = await createJob(second, { type: 't.restart' });
      const job = await settledJob(second, created.id, 20_000);
      assert.deepEqual([job.status, job.result], ['completed', { ok: true }]);
      assert.deepEqual(done, [created.id]);
    } finally {
      await worker.stop();
    }
  });
});
