import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { caller, openTestTracker, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import type { JobTracker } from '../app/tracker.js';

const MINUTE = 60_000;

// A running job may declare `staleAfterMs`: its wire form carries it, and a client shows the job as
// stalled once `updatedAt` is older than that ("No update for 3 min"). A report that changes nothing
// still refreshes `updatedAt` once half of that time has passed, so a live job never looks stalled.
describe('stalls (staleAfterMs)', () => {
  let tracker: JobTracker;
  let call: ReturnType<typeof caller>;
  let now = Date.now();
  const alice = tokenFor('alice');
  const worker = (path: string, body?: unknown) => call(`/api/worker${path}`, { body, token: WORKER_KEY });
  const seen = async (id: string) => (await call(`/api/jobs/${id}`, { token: alice })).json.job;

  before(async () => {
    tracker = await openTestTracker({
      engine: { now: () => now, defaultLeaseMs: 10 * MINUTE, leaseCheckIntervalMs: 60_000 },
    });
    call = caller(tracker.app);
  });
  after(() => tracker.close());

  it('carries staleAfterMs on the job of a report, and leaves it out of a job without one', async () => {
    const stalling = await worker('/jobs', { owner: 'alice', type: 's.report', staleAfterMs: 3 * MINUTE });
    assert.equal(stalling.status, 200, JSON.stringify(stalling.json));
    assert.equal(stalling.json.job.staleAfterMs, 3 * MINUTE);
    assert.equal((await seen(stalling.json.job.id)).staleAfterMs, 3 * MINUTE);
    const listed = await call('/api/jobs?type=s.report', { token: alice });
    assert.equal(listed.json.jobs[0].staleAfterMs, 3 * MINUTE);
    const snapshot = await tracker.engine.snapshot('alice');
    assert.equal(snapshot.jobs.find((job) => job.id === stalling.json.job.id)?.staleAfterMs, 3 * MINUTE);
    const plain = await worker('/jobs', { owner: 'alice', type: 's.plain' });
    assert.equal('staleAfterMs' in plain.json.job, false, 'no staleAfterMs: never stalled');
  });

  it('takes staleAfterMs on POST /api/jobs too, for a job a worker claims', async () => {
    const created = await call('/api/jobs', { body: { type: 's.user', staleAfterMs: 30_000 }, token: alice });
    assert.equal(created.json.job.staleAfterMs, 30_000);
    const claimed = await worker('/claim', { types: ['s.user'] });
    assert.equal(claimed.json.job.staleAfterMs, 30_000);
  });

  it('refreshes updatedAt on a report that changes nothing once half the stall time has passed, not before', async () => {
    const { job, reportToken } = (
      await worker('/jobs', {
        owner: 'alice',
        type: 's.refresh',
        status: 'running',
        staleAfterMs: 3 * MINUTE,
      })
    ).json;
    const first = (await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 10 })).json
      .job;
    now += MINUTE;
    const early = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 10 });
    assert.deepEqual(
      [early.json.job.version, early.json.job.updatedAt],
      [first.version, first.updatedAt],
      'nothing changed and the job is far from stalled: no new version',
    );
    now += MINUTE;
    const refreshed = await worker(`/jobs/${job.id}/progress`, { leaseToken: reportToken, progress: 10 });
    assert.equal(refreshed.json.job.version, first.version + 1, 'a new version for the watching clients');
    assert.equal(refreshed.json.job.updatedAt, new Date(now).toISOString());
    assert.equal((await seen(job.id)).updatedAt, new Date(now).toISOString());
    now += 2 * MINUTE;
    assert.equal((await worker(`/jobs/${job.id}/heartbeat`, { leaseToken: reportToken })).status, 200);
    assert.equal((await seen(job.id)).updatedAt, new Date(now).toISOString(), 'a heartbeat refreshes it too');
    const plain = (await worker('/jobs', { owner: 'alice', type: 's.plain-refresh', status: 'running' }))
      .json;
    await worker(`/jobs/${plain.job.id}/progress`, { leaseToken: plain.reportToken, progress: 5 });
    const before = await seen(plain.job.id);
    now += 60 * MINUTE;
    await worker(`/jobs/${plain.job.id}/progress`, { leaseToken: plain.reportToken, progress: 5 });
    assert.equal(
      (await seen(plain.job.id)).version,
      before.version,
      'without staleAfterMs nothing is refreshed',
    );
  });

  it('refuses a staleAfterMs outside 1 s – 24 h, or not whole, with 422', async () => {
    for (const staleAfterMs of [0, 999, 86_400_001, 1500.5, '60000', null]) {
      const reported = await worker('/jobs', { owner: 'alice', type: 's.bad', staleAfterMs });
      assert.deepEqual(
        [reported.status, reported.json.error.code],
        [422, 'invalid_request'],
        String(staleAfterMs),
      );
      const created = await call('/api/jobs', { body: { type: 's.bad', staleAfterMs }, token: alice });
      assert.deepEqual(
        [created.status, created.json.error.code],
        [422, 'invalid_request'],
        String(staleAfterMs),
      );
    }
  });
});
