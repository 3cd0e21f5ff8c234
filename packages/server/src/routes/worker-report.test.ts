import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caller, openTestTracker, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';

// The report API: a host that runs its own jobs creates them for a user and reports on them with a
// report token, through the worker routes.
describe('report API (POST /api/worker/jobs)', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  let now = Date.now();
  const alice = tokenFor('alice');
  const bob = tokenFor('bob');
  const worker = (path: string, body?: unknown) => call(`/api/worker${path}`, { body, token: WORKER_KEY });
  const report = (body: unknown) => worker('/jobs', body);

  before(async () => {
    tracker = await openTestTracker({
      engine: { now: () => now, defaultLeaseMs: 10_000, leaseCheckIntervalMs: 60_000 },
    });
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  it("creates a running job for its owner: on the owner's list, never on another user's", async () => {
    const answer = await report({ owner: 'alice', type: 'r.visible', title: 'Export', status: 'running' });
    assert.equal(answer.status, 200);
    const { job, created, reportToken } = answer.json;
    assert.deepEqual(
      [created, job.status, job.attempt, job.title, typeof reportToken],
      [true, 'running', 1, 'Export', 'string'],
    );
    assert.equal(job.startedAt, new Date(now).toISOString());
    const mine = await call('/api/jobs?status=active', { token: alice });
    assert.ok(
      mine.json.jobs.some((seen: { id: string }) => seen.id === job.id),
      "on the owner's list",
    );
    const theirs = await call('/api/jobs', { token: bob });
    assert.ok(
      !theirs.json.jobs.some((seen: { id: string }) => seen.id === job.id),
      "never on another user's list",
    );
    // What a stream sends first: the owner's snapshot has it, another user's never.
    const streamed = async (owner: string) =>
      (await tracker.engine.snapshot(owner)).jobs.some((seen) => seen.id === job.id);
    assert.deepEqual([await streamed('alice'), await streamed('bob')], [true, false]);
    assert.equal((await call(`/api/jobs/${job.id}`, { token: bob })).status, 404);
    assert.equal((await call(`/api/jobs/${job.id}/cancel`, { body: {}, token: bob })).status, 404);
  });

  it('reports progress, batch progress and completion with the report token', async () => {
    const { job, reportToken } = (await report({ owner: 'alice', type: 'r.flow', status: 'running' })).json;
    const progressed = await worker(`/jobs/${job.id}/progress`, {
      leaseToken: reportToken,
      progress: 10,
      message: 'Reading',
    });
    assert.deepEqual([progressed.status, progressed.json.job.progress], [200, 10]);
    const batch = await worker('/progress', {
      updates: [{ id: job.id, leaseToken: reportToken, progress: 60, message: 'Writing' }],
    });
    assert.equal(batch.status, 200);
    assert.equal(batch.json.results[0].error, undefined);
    const done = await worker(`/jobs/${job.id}/complete`, { leaseToken: reportToken, result: { n: 1 } });
    assert.deepEqual([done.status, done.json.job.status, done.json.job.result], [200, 'completed', { n: 1 }]);
    const seen = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual([seen.status, seen.progress], ['completed', 100]);
    const late = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 100 });
    assert.deepEqual([late.status, late.json.error.code], [409, 'lease_lost']);
  });

  it('reports a failure with the report token', async () => {
    const { job, reportToken } = (await report({ owner: 'alice', type: 'r.fail', status: 'running' })).json;
    const failed = await worker(`/jobs/${job.id}/fail`, {
      leaseToken: reportToken,
      error: { message: 'Disk full', code: 'disk_full' },
    });
    assert.deepEqual(
      [failed.status, failed.json.job.status, failed.json.job.error.code],
      [200, 'failed', 'disk_full'],
    );
  });

  it('leaves a pending job pending, never hands it to a worker, and starts it at the first progress report', async () => {
    const answer = await report({ owner: 'alice', type: 'r.pending' });
    const { job, reportToken } = answer.json;
    assert.deepEqual([answer.status, job.status, job.attempt, job.startedAt], [200, 'pending', 0, null]);
    assert.equal((await worker('/claim', { types: ['r.pending'] })).status, 204, 'not claimable');
    now += 1000;
    const started = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 5 });
    assert.deepEqual(
      [started.status, started.json.job.status, started.json.job.attempt, started.json.job.progress],
      [200, 'running', 1, 5],
    );
    assert.equal(started.json.job.startedAt, new Date(now).toISOString());
    const other = (await report({ owner: 'alice', type: 'r.pending-complete' })).json;
    const done = await worker(`/jobs/${other.job.id}/complete`, { leaseToken: other.reportToken });
    assert.deepEqual([done.status, done.json.job.status, done.json.job.attempt], [200, 'completed', 1]);
  });

  it('requeue: a retry by the host is the same job with its next attempt, started anew by the next write', async () => {
    const { job, reportToken } = (
      await report({ owner: 'alice', type: 'r.requeue', status: 'running', maxAttempts: 2 })
    ).json;
    const firstStart = job.startedAt;
    await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 70, message: 'Step 3' });
    now += 5000;
    const requeued = await worker(`/jobs/${job.id}/requeue`, {
      leaseToken: reportToken,
      message: 'Retrying (attempt 2 of 2)',
    });
    assert.equal(requeued.status, 200);
    const waiting = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual(
      [waiting.status, waiting.attempt, waiting.progress, waiting.message, waiting.startedAt],
      ['pending', 1, null, 'Retrying (attempt 2 of 2)', firstStart],
    );
    // Sent again (its answer was lost): the same job, unchanged.
    const again = await worker(`/jobs/${job.id}/requeue`, {
      leaseToken: reportToken,
      message: 'Retrying (attempt 2 of 2)',
    });
    assert.deepEqual([again.status, again.json.job.version], [200, requeued.json.job.version]);
    assert.equal((await worker('/claim', { types: ['r.requeue'] })).status, 204, 'not claimable');
    now += 1000;
    const restarted = await worker('/progress', {
      updates: [{ id: job.id, leaseToken: reportToken, progress: 10, message: 'Step 1' }],
    });
    assert.equal(restarted.json.results[0].error, undefined);
    const running = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual(
      [running.status, running.attempt, running.maxAttempts, running.progress, running.message],
      ['running', 2, 2, 10, 'Step 1'],
    );
    assert.equal(running.startedAt, new Date(now).toISOString(), 'the current attempt started now');
    // The host runs a third attempt though it said two: the count shown follows the host.
    await worker(`/jobs/${job.id}/requeue`, { leaseToken: reportToken });
    const third = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 1 });
    assert.deepEqual(
      [third.json.job.attempt, third.json.job.maxAttempts, third.json.job.message],
      [3, 3, null],
    );
    const done = await worker(`/jobs/${job.id}/complete`, { leaseToken: reportToken });
    assert.deepEqual([done.json.job.status, done.json.job.attempt], ['completed', 3]);
    const late = await worker(`/jobs/${job.id}/requeue`, { leaseToken: reportToken });
    assert.deepEqual([late.status, late.json.error.code], [409, 'lease_lost']);
    const listed = await call('/api/jobs?type=r.requeue', { token: alice });
    assert.equal(listed.json.jobs.length, 1, 'one job throughout');
  });

  it("requeue: refused for a claimed job, a cancelled one, a wrong token, another user's nothing, bad bodies", async () => {
    const claimedJob = await call('/api/jobs', { body: { type: 'r.requeue-claimed' }, token: alice });
    const claim = (await worker('/claim', { types: ['r.requeue-claimed'] })).json;
    assert.equal(claim.job.id, claimedJob.json.job.id);
    const byWorker = await worker(`/jobs/${claim.job.id}/requeue`, { leaseToken: claim.leaseToken });
    assert.deepEqual([byWorker.status, byWorker.json.error.code], [409, 'invalid_transition']);
    const { job, reportToken } = (await report({ owner: 'alice', type: 'r.requeue-x', status: 'running' }))
      .json;
    const wrong = await worker(`/jobs/${job.id}/requeue`, { leaseToken: 'wrong' });
    assert.deepEqual([wrong.status, wrong.json.error.code], [409, 'lease_lost']);
    const missing = await worker('/jobs/01jzzzzzzzzzzzzzzzzzzzzzzz/requeue', { leaseToken: reportToken });
    assert.equal(missing.status, 404);
    for (const body of [
      {},
      { leaseToken: reportToken, message: 'x'.repeat(1001) },
      { leaseToken: reportToken, message: 42 },
      { leaseToken: reportToken, surprise: true },
      [],
    ]) {
      const response = await worker(`/jobs/${job.id}/requeue`, body);
      assert.ok(response.status >= 400 && response.status < 500, `${JSON.stringify(body).slice(0, 60)}`);
      assert.equal(typeof response.json.error.code, 'string');
    }
    const unchanged = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual([unchanged.status, unchanged.version], ['running', job.version]);
    await call(`/api/jobs/${job.id}/cancel`, { body: {}, token: alice });
    const cancelled = await worker(`/jobs/${job.id}/requeue`, { leaseToken: reportToken });
    assert.deepEqual([cancelled.status, cancelled.json.error.code], [409, 'job_cancelled']);
  });

  it('answers the same job for the same externalId, also once it finished, per owner', async () => {
    const first = await report({ owner: 'alice', type: 'r.ext', externalId: 'bull-1', status: 'running' });
    const again = await report({ owner: 'alice', type: 'r.ext', externalId: 'bull-1', status: 'running' });
    assert.deepEqual([first.json.created, again.json.created], [true, false]);
    assert.equal(again.json.job.id, first.json.job.id);
    assert.equal(again.json.reportToken, first.json.reportToken);
    await worker(`/jobs/${first.json.job.id}/complete`, { leaseToken: first.json.reportToken });
    const finished = await report({ owner: 'alice', type: 'r.ext', externalId: 'bull-1' });
    assert.deepEqual(
      [finished.json.created, finished.json.job.id, finished.json.job.status],
      [false, first.json.job.id, 'completed'],
    );
    const bobs = await report({ owner: 'bob', type: 'r.ext', externalId: 'bull-1' });
    assert.equal(bobs.json.created, true);
    assert.notEqual(bobs.json.job.id, first.json.job.id);
  });

  it('creates one job for concurrent requests with the same externalId', async () => {
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        report({ owner: 'alice', type: 'r.race', scope: `s${i}`, externalId: 'race-1', status: 'running' }),
      ),
    );
    assert.deepEqual(
      answers.map((answer) => answer.status),
      answers.map(() => 200),
    );
    assert.equal(new Set(answers.map((answer) => answer.json.job.id)).size, 1);
    assert.equal(answers.filter((answer) => answer.json.created).length, 1);
    assert.equal(new Set(answers.map((answer) => answer.json.reportToken)).size, 1);
    const listed = await call('/api/jobs?type=r.race', { token: alice });
    assert.equal(listed.json.jobs.length, 1);
  });

  it('applies the dedupe rules of POST /api/jobs per owner', async () => {
    const first = await report({ owner: 'alice', type: 'r.dedupe', scope: 'doc-1' });
    const second = await report({ owner: 'alice', type: 'r.dedupe', scope: 'doc-1' });
    assert.deepEqual([second.json.created, second.json.reason], [false, 'active_duplicate']);
    assert.equal(second.json.job.id, first.json.job.id);
    assert.equal(second.json.reportToken, first.json.reportToken);
    const other = await report({ owner: 'bob', type: 'r.dedupe', scope: 'doc-1' });
    assert.equal(other.json.created, true);
    const apart = await report({ owner: 'alice', type: 'r.dedupe', scope: 'doc-1', dedupe: false });
    assert.equal(apart.json.created, true);
    // A job the user started (run by a worker) is the duplicate: no token to write to it.
    const users = await call('/api/jobs', { body: { type: 'r.dedupe-user' }, token: alice });
    const onto = await report({ owner: 'alice', type: 'r.dedupe-user' });
    assert.deepEqual(
      [onto.json.created, onto.json.job.id, onto.json.reportToken],
      [false, users.json.job.id, null],
    );
  });

  it('fences writes with the token: a wrong one answers 409 lease_lost and changes nothing', async () => {
    const { job } = (await report({ owner: 'alice', type: 'r.fence', status: 'running' })).json;
    for (const action of ['progress', 'complete', 'fail'] as const) {
      const body =
        action === 'fail'
          ? { leaseToken: 'wrong', error: { message: 'x' } }
          : { leaseToken: 'wrong', progress: 9 };
      const response = await worker(
        `/jobs/${job.id}/${action}`,
        action === 'complete' ? { leaseToken: 'wrong' } : body,
      );
      assert.deepEqual([response.status, response.json.error.code], [409, 'lease_lost'], action);
    }
    const batch = await worker('/progress', { updates: [{ id: job.id, leaseToken: 'wrong', progress: 9 }] });
    assert.equal(batch.json.results[0].error.code, 'lease_lost');
    const seen = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual([seen.status, seen.progress, seen.version], ['running', null, job.version]);
  });

  it('never expires: the lease sweep leaves a reported job alone, however long it runs', async () => {
    const { job, reportToken } = (await report({ owner: 'alice', type: 'r.long', status: 'running' })).json;
    await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 1 });
    const heartbeat = await worker(`/jobs/${job.id}/heartbeat`, { leaseToken: reportToken, leaseMs: 1000 });
    assert.equal(heartbeat.status, 200);
    now += 48 * 60 * 60 * 1000;
    await tracker.engine.recoverExpiredLeases();
    const seen = (await call(`/api/jobs/${job.id}`, { token: alice })).json.job;
    assert.deepEqual([seen.status, seen.attempt, seen.progress], ['running', 1, 1]);
    const later = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 2 });
    assert.equal(later.status, 200);
    const released = await worker(`/jobs/${job.id}/release`, { leaseToken: reportToken });
    assert.equal(released.status, 409, 'a reported job is not given back to the queue');
  });

  it('answers 409 job_cancelled to a write on a job its user cancelled, running or pending', async () => {
    for (const status of ['running', 'pending']) {
      const { job, reportToken } = (await report({ owner: 'alice', type: `r.cancel-${status}`, status }))
        .json;
      const cancelled = await call(`/api/jobs/${job.id}/cancel`, { body: {}, token: alice });
      assert.equal(cancelled.json.job.status, 'cancelled');
      for (const [action, body] of [
        ['progress', { leaseToken: reportToken, progress: 50 }],
        ['complete', { leaseToken: reportToken }],
        ['fail', { leaseToken: reportToken, error: { message: 'x' } }],
      ] as const) {
        const response = await worker(`/jobs/${job.id}/${action}`, body);
        assert.deepEqual(
          [response.status, response.json.error.code],
          [409, 'job_cancelled'],
          `${status} ${action}`,
        );
      }
      const batch = await worker('/progress', {
        updates: [{ id: job.id, leaseToken: reportToken, progress: 9 }],
      });
      assert.equal(batch.json.results[0].error.code, 'job_cancelled');
    }
  });

  it('refuses bad bodies with a 4xx JSON error, never a 500', async () => {
    const bad: unknown[] = [
      {},
      { type: 'r.bad' },
      { owner: '', type: 'r.bad' },
      { owner: 'a'.repeat(201), type: 'r.bad' },
      { owner: 42, type: 'r.bad' },
      { owner: 'alice' },
      { owner: 'alice', type: 'bad type!' },
      { owner: 'alice', type: 'r.bad', status: 'completed' },
      { owner: 'alice', type: 'r.bad', externalId: '' },
      { owner: 'alice', type: 'r.bad', externalId: 'x'.repeat(201) },
      { owner: 'alice', type: 'r.bad', maxAttempts: 0 },
      { owner: 'alice', type: 'r.bad', surprise: true },
      { owner: 'alice', type: 'r.bad', input: { blob: 'x'.repeat(70_000) } },
      [],
      'not json',
    ];
    for (const body of bad) {
      const response = await report(body);
      assert.ok(
        response.status >= 400 && response.status < 500,
        `${JSON.stringify(body)?.slice(0, 80)}: ${response.status}`,
      );
      assert.equal(typeof response.json.error.code, 'string');
    }
    const listed = await call('/api/jobs?type=r.bad', { token: alice });
    assert.equal(listed.json.jobs.length, 0);
  });

  it('needs the worker key', async () => {
    for (const token of [null, 'wrong-key', alice]) {
      const response = await call('/api/worker/jobs', { body: { owner: 'alice', type: 'r.key' }, token });
      assert.deepEqual([response.status, response.json.error.code], [401, 'unauthorized']);
    }
  });
});
