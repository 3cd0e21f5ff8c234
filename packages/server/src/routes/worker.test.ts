import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_LEASE_MS } from '@jobtracker/sdk/wire';
import { caller, openTestTracker, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';

describe('worker API', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  let now = Date.now();
  const alice = tokenFor('alice');
  const worker = (path: string, body?: unknown) => call(`/api/worker${path}`, { body, token: WORKER_KEY });

  before(async () => {
    tracker = await openTestTracker({
      engine: { now: () => now, defaultLeaseMs: 10_000, leaseCheckIntervalMs: 60_000 },
    });
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  it('claims, reports progress and completes a job with a lease', async () => {
    const created = await call('/api/jobs', { body: { type: 'w.basic', input: { n: 7 } }, token: alice });
    const claimed = await worker('/claim', { types: ['w.basic'], workerId: 'worker-1', leaseMs: 5000 });
    assert.equal(claimed.status, 200);
    assert.deepEqual(
      [claimed.json.job.id, claimed.json.job.status, claimed.json.ownerId, claimed.json.input],
      [created.json.job.id, 'running', 'alice', { n: 7 }],
    );
    assert.equal(new Date(claimed.json.leaseExpiresAt).getTime(), now + 5000);
    const { leaseToken } = claimed.json;
    const id = created.json.job.id;
    const progressed = await worker(`/jobs/${id}/progress`, {
      leaseToken,
      progress: 42.5,
      message: 'Generating',
    });
    assert.deepEqual(
      [progressed.status, progressed.json.job.progress, progressed.json.job.message],
      [200, 42.5, 'Generating'],
    );
    const beat = await worker(`/jobs/${id}/heartbeat`, { leaseToken, leaseMs: 20_000 });
    assert.equal(new Date(beat.json.leaseExpiresAt).getTime(), now + 20_000);
    const done = await worker(`/jobs/${id}/complete`, {
      leaseToken,
      result: { url: '/programs/7', summary: 'ok' },
    });
    assert.deepEqual(
      [done.json.job.status, done.json.job.progress, done.json.job.result.url],
      ['completed', 100, '/programs/7'],
    );
    const seen = await call(`/api/jobs/${id}`, { token: alice });
    assert.equal(seen.json.job.status, 'completed');
    const late = await worker(`/jobs/${id}/progress`, { leaseToken, progress: 100 });
    assert.deepEqual([late.status, late.json.error.code], [409, 'lease_lost']);
  });

  it('answers 204 when nothing is pending, and waits for a job when asked to', async () => {
    assert.equal((await worker('/claim', { types: ['w.none'] })).status, 204);
    const waiting = worker('/claim', { types: ['w.later'], waitMs: 5000 });
    setTimeout(() => void call('/api/jobs', { body: { type: 'w.later' }, token: alice }), 50);
    const claimed = await waiting;
    assert.deepEqual([claimed.status, claimed.json.job.type], [200, 'w.later']);
  });

  it('refuses a write with a stale lease once the job was re-queued (409), and the refused write changes nothing', async () => {
    const created = await call('/api/jobs', { body: { type: 'w.lease' }, token: alice });
    const id = created.json.job.id;
    const first = await worker('/claim', { types: ['w.lease'], leaseMs: 1000 });
    now += 1001;
    assert.equal(await tracker.engine.recoverExpiredLeases(), 1);
    const second = await worker('/claim', { types: ['w.lease'], leaseMs: 1000 });
    assert.equal(second.json.job.attempt, 2);
    for (const action of ['progress', 'heartbeat', 'complete', 'fail'] as const) {
      const body =
        action === 'fail'
          ? { leaseToken: first.json.leaseToken, error: { message: 'late' } }
          : action === 'progress'
            ? { leaseToken: first.json.leaseToken, progress: 99 }
            : { leaseToken: first.json.leaseToken };
      const response = await worker(`/jobs/${id}/${action}`, body);
      assert.deepEqual([response.status, response.json.error.code], [409, 'lease_lost'], action);
    }
    const job = (await call(`/api/jobs/${id}`, { token: alice })).json.job;
    assert.deepEqual([job.status, job.progress, job.attempt], ['running', null, 2]);
  });

  it('takes a job back from a worker that stops, without spending its attempt, and fences the old lease', async () => {
    const created = await call('/api/jobs', { body: { type: 'w.release' }, token: alice });
    const id = created.json.job.id;
    const first = await worker('/claim', { types: ['w.release'] });
    await worker(`/jobs/${id}/progress`, { leaseToken: first.json.leaseToken, progress: 30 });
    const released = await worker(`/jobs/${id}/release`, { leaseToken: first.json.leaseToken });
    assert.deepEqual(
      [released.status, released.json.job.status, released.json.job.attempt, released.json.job.progress],
      [200, 'pending', 0, null],
    );
    const late = await worker(`/jobs/${id}/progress`, { leaseToken: first.json.leaseToken, progress: 40 });
    assert.deepEqual([late.status, late.json.error.code], [409, 'lease_lost']);
    const again = await worker('/claim', { types: ['w.release'] });
    assert.equal(again.json.job.attempt, 1, 'the next run is still the first attempt');
    const twice = await worker(`/jobs/${id}/release`, { leaseToken: first.json.leaseToken });
    assert.equal(twice.status, 409);
  });

  it('tells the worker of a cancelled job to stop (409 job_cancelled)', async () => {
    const created = await call('/api/jobs', { body: { type: 'w.cancel' }, token: alice });
    const claimed = await worker('/claim', { types: ['w.cancel'] });
    await call(`/api/jobs/${created.json.job.id}/cancel`, { method: 'POST', token: alice });
    const response = await worker(`/jobs/${created.json.job.id}/progress`, {
      leaseToken: claimed.json.leaseToken,
      progress: 5,
    });
    assert.deepEqual([response.status, response.json.error.code], [409, 'job_cancelled']);
  });

  it('refuses progress that goes down (409) or out of range (422)', async () => {
    const created = await call('/api/jobs', { body: { type: 'w.progress' }, token: alice });
    const { leaseToken } = (await worker('/claim', { types: ['w.progress'] })).json;
    const id = created.json.job.id;
    assert.equal((await worker(`/jobs/${id}/progress`, { leaseToken, progress: 50 })).status, 200);
    const down = await worker(`/jobs/${id}/progress`, { leaseToken, progress: 10 });
    assert.deepEqual([down.status, down.json.error.code], [409, 'progress_decreased']);
    assert.equal((await worker(`/jobs/${id}/progress`, { leaseToken, progress: 101 })).status, 422);
    assert.equal(
      (await worker(`/jobs/${id}/progress`, { leaseToken, message: 'm'.repeat(1001) })).status,
      422,
    );
    assert.equal(
      (await worker(`/jobs/${id}/complete`, { leaseToken, result: { blob: 'x'.repeat(17_000) } })).status,
      422,
    );
    assert.equal((await worker(`/jobs/${id}/fail`, { leaseToken, error: { message: '' } })).status, 422);
    const failed = await worker(`/jobs/${id}/fail`, {
      leaseToken,
      error: { message: 'Model timed out', code: 'timeout', retryable: true },
    });
    assert.deepEqual(failed.json.job.error, { message: 'Model timed out', code: 'timeout', retryable: true });
  });

  it('takes many jobs’ progress in one request, each update standing alone', async () => {
    const jobs = [];
    for (const scope of ['a', 'b', 'c']) {
      await call('/api/jobs', { body: { type: 'w.batch', scope }, token: alice });
      const claimed = await worker('/claim', { types: ['w.batch'] });
      jobs.push({ id: claimed.json.job.id as string, leaseToken: claimed.json.leaseToken as string });
    }
    const [a, b, c] = jobs as [(typeof jobs)[0], (typeof jobs)[0], (typeof jobs)[0]];
    await call(`/api/jobs/${c.id}/cancel`, { body: {}, token: alice });
    const answer = await worker('/progress', {
      updates: [
        { id: a.id, leaseToken: a.leaseToken, progress: 10, message: 'a1' },
        { id: b.id, leaseToken: 'not-the-lease', progress: 10 },
        { id: a.id, leaseToken: a.leaseToken, progress: 20, message: 'a2' },
        { id: c.id, leaseToken: c.leaseToken, progress: 50 },
        { id: 'nope', leaseToken: a.leaseToken, progress: 1 },
        { id: a.id, leaseToken: a.leaseToken, progress: 5 },
      ],
    });
    assert.equal(answer.status, 200);
    const outcome = (answer.json.results as { id: string; version?: number; error?: { code: string } }[]).map(
      (result) => result.error?.code ?? 'ok',
    );
    assert.deepEqual(outcome, ['ok', 'lease_lost', 'ok', 'job_cancelled', 'not_found', 'progress_decreased']);
    const first = answer.json.results[0].version as number;
    assert.equal(answer.json.results[2].version, first + 1, 'updates of one job apply in the order sent');
    const seen = await call(`/api/jobs/${a.id}`, { token: alice });
    assert.deepEqual([seen.json.job.progress, seen.json.job.message], [20, 'a2']);
    assert.equal((await call(`/api/jobs/${b.id}`, { token: alice })).json.job.progress, null);
    const empty = await worker('/progress', { updates: [] });
    assert.deepEqual([empty.status, empty.json.error.code], [422, 'invalid_request']);
    const tooMany = await worker('/progress', {
      updates: Array.from({ length: 1001 }, () => ({ id: a.id, leaseToken: a.leaseToken })),
    });
    assert.equal(tooMany.status, 422);
  });

  it('needs the worker key, and never accepts a user token', async () => {
    for (const token of [null, 'wrong-key', alice]) {
      const response = await call('/api/worker/claim', { body: { types: ['x'] }, token });
      assert.deepEqual([response.status, response.json.error.code], [401, 'unauthorized']);
    }
    const unknown = await worker('/jobs/01m8k0x60974smd8gnmwwmw588/progress', {
      leaseToken: 'x',
      progress: 1,
    });
    assert.equal(unknown.status, 404);
  });
});

describe('worker API without a key outside dev mode', () => {
  it('is closed with 403', async () => {
    const tracker = await openTestTracker({ workerKey: undefined });
    const response = await caller(tracker.app)('/api/worker/claim', {
      body: { types: ['x'] },
      token: 'anything',
    });
    assert.deepEqual([response.status, response.json.error.code], [403, 'worker_api_disabled']);
    await tracker.close();
  });
});

describe('worker API lease default', () => {
  it('gives a claim or heartbeat without leaseMs the one default lease, DEFAULT_LEASE_MS (15 s)', async () => {
    const now = Date.now();
    const tracker = await openTestTracker({ engine: { now: () => now, leaseCheckIntervalMs: 60_000 } });
    const call = caller(tracker.app);
    await call('/api/jobs', { body: { type: 'w.default-lease' }, token: tokenFor('alice') });
    const claimed = await call('/api/worker/claim', {
      body: { types: ['w.default-lease'] },
      token: WORKER_KEY,
    });
    assert.equal(claimed.status, 200);
    assert.equal(DEFAULT_LEASE_MS, 15_000);
    assert.equal(new Date(claimed.json.leaseExpiresAt).getTime(), now + DEFAULT_LEASE_MS);
    const beat = await call(`/api/worker/jobs/${claimed.json.job.id}/heartbeat`, {
      body: { leaseToken: claimed.json.leaseToken },
      token: WORKER_KEY,
    });
    assert.equal(new Date(beat.json.leaseExpiresAt).getTime(), now + DEFAULT_LEASE_MS);
    await tracker.close();
  });
});
