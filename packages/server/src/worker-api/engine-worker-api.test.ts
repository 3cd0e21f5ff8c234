import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WorkerApi } from '@jobtracker/sdk/worker';
import { eventually, openTestTracker } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';
import { createEngineWorkerApi } from './engine-worker-api.js';

describe('the in-process worker API', () => {
  let tracker: JobTracker;
  let api: WorkerApi;
  before(async () => {
    tracker = await openTestTracker();
    api = createEngineWorkerApi(tracker.engine);
  });
  after(() => tracker.close());

  it('claims with the lease expiry as an ISO time, as the HTTP API answers it', async () => {
    const { job } = await tracker.engine.create('alice', { type: 'api.claim', input: { n: 1 } });
    const claimed = await api.claim({ types: ['api.claim'], leaseMs: 5000 });
    assert.ok(claimed, 'a job was claimed');
    assert.deepEqual([claimed.job.id, claimed.ownerId, claimed.input], [job.id, 'alice', { n: 1 }]);
    const expiresIn = Date.parse(claimed.leaseExpiresAt) - Date.now();
    assert.ok(expiresIn > 4000 && expiresIn <= 5000, `the lease ends in ${expiresIn} ms`);
    const { leaseExpiresAt } = await api.heartbeat(job.id, claimed.leaseToken, 8000);
    assert.ok(Date.parse(leaseExpiresAt) - Date.now() > 7000, 'the heartbeat answers the new expiry');
    await api.release(job.id, claimed.leaseToken);
  });

  it('waits up to waitMs for a job to be created, and rejects once its signal aborts', async () => {
    const waiting = api.claim({ types: ['api.wait'], waitMs: 5000 });
    const { job } = await tracker.engine.create('alice', { type: 'api.wait' });
    const claimed = await waiting;
    assert.equal(claimed?.job.id, job.id);
    assert.equal(await api.claim({ types: ['api.none'], waitMs: 50 }), null);
    const controller = new AbortController();
    const aborted = api.claim({ types: ['api.none'], waitMs: 5000 }, controller.signal);
    const abortedAt = Date.now();
    controller.abort(new Error('stopping'));
    await assert.rejects(aborted, /stopping/);
    assert.ok(Date.now() - abortedAt < 1000, 'the abort ends the wait at once');
  });

  it('tells a watcher at once when its job stops running, and no longer after it stops watching', async () => {
    const { job } = await tracker.engine.create('alice', { type: 'api.watch' });
    const claimed = await api.claim({ types: ['api.watch'] });
    assert.ok(claimed, 'a job was claimed');
    const reasons: string[] = [];
    const unwatch = api.watch?.(job.id, (reason) => reasons.push(reason.message));
    assert.ok(unwatch, 'the in-process API can watch');
    await api.progress(job.id, claimed.leaseToken, { progress: 10 });
    assert.deepEqual(reasons, [], 'a running job is still running');
    await tracker.engine.cancel('alice', job.id);
    await eventually(() => reasons.length > 0);
    assert.deepEqual(reasons, ['The job is cancelled.']);
    unwatch();
    await tracker.engine.retry('alice', job.id);
    assert.deepEqual(reasons, ['The job is cancelled.'], 'nothing after unwatching');
  });

  it('answers each batch update on its own, an id that names no job as not found', async () => {
    const { job } = await tracker.engine.create('alice', { type: 'api.batch' });
    const claimed = await api.claim({ types: ['api.batch'] });
    assert.ok(claimed, 'a job was claimed');
    const results = await api.progressMany([
      { id: job.id, leaseToken: claimed.leaseToken, progress: 40 },
      { id: '../not-an-id', leaseToken: claimed.leaseToken, progress: 50 },
    ]);
    assert.deepEqual(results[0], {
      id: job.id,
      version: (await tracker.engine.get('alice', job.id)).version,
    });
    assert.deepEqual(results[1], {
      id: '../not-an-id',
      error: { status: 404, code: 'not_found', message: 'Job not found.' },
    });
    await api.complete(job.id, claimed.leaseToken, { ok: true });
  });
});
