import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eventually } from '@jobtracker/test-support/tokens';
import { JobTrackerHttpError, JobTrackerNetworkError } from '../errors/errors.js';
import { fakeJobApi, wireJob } from '../testing/fake-job-api.js';
import type { Job } from '../wire.js';
import { createJobClient } from './client.js';

/** A client of `api` whose `$dismissed` is watched (every value it took is in `seen`). */
function watched(api: ReturnType<typeof fakeJobApi>) {
  const client = createJobClient({
    baseUrl: 'http://jobs.test/api',
    fetch: api.fetch,
    storage: null,
    shareTabs: false,
    transport: 'sse',
  });
  const seen: (readonly string[])[] = [];
  const off = client.$dismissed.subscribe((ids) => seen.push(ids));
  return { client, seen, off };
}

const failed = (id: string) =>
  wireJob(id, { status: 'failed', error: { message: 'Broke' }, completedAt: '2030-01-01T00:00:00.000Z' });

describe('job client dismissals (stored on the server)', () => {
  it('dismisses at once, then follows the server; restore brings the job back', async () => {
    const api = fakeJobApi();
    api.put(failed('a'));
    api.put(failed('b'));
    const { client, off } = watched(api);
    try {
      await eventually(() => client.$jobs.get().b, 3000, 'the jobs');
      const dismissing = client.dismiss('a');
      assert.deepEqual(client.$dismissed.get(), ['a'], 'hidden before the server answers');
      const job = await dismissing;
      assert.notEqual(job.dismissedAt, null, 'resolves with the job as the server left it');
      assert.deepEqual(client.$jobs.get().a, api.job('a'), 'the answer is taken in');
      assert.deepEqual(client.$dismissed.get(), ['a']);
      assert.equal(api.requests.at(-1)?.path, '/api/jobs/a/dismiss');

      const restoring = client.restore('a');
      assert.deepEqual(client.$dismissed.get(), [], 'shown again at once');
      assert.equal((await restoring).dismissedAt, null);
      assert.deepEqual(client.$dismissed.get(), []);
    } finally {
      off();
    }
  });

  it('rolls back and rejects with the typed error when the server refuses or cannot be reached', async () => {
    const api = fakeJobApi();
    api.put(failed('a'));
    const { client, seen, off } = watched(api);
    try {
      await eventually(() => client.$jobs.get().a, 3000, 'the job');
      api.refuseNext(() =>
        Response.json({ error: { code: 'not_found', message: 'No such job.' } }, { status: 404 }),
      );
      const refused = client.dismiss('a');
      assert.deepEqual(client.$dismissed.get(), ['a']);
      await assert.rejects(
        refused,
        (error) => error instanceof JobTrackerHttpError && error.code === 'not_found',
        'a JobTrackerHttpError',
      );
      assert.deepEqual(client.$dismissed.get(), [], 'rolled back');

      api.refuseNext(() => {
        throw new TypeError('Failed to fetch');
      });
      await assert.rejects(client.dismiss('a'), JobTrackerNetworkError, 'a JobTrackerNetworkError');
      assert.deepEqual(client.$dismissed.get(), [], 'rolled back again');
      assert.deepEqual(
        seen.map((ids) => ids.length),
        [0, 1, 0, 1, 0],
        'shown, hidden, shown: no other states',
      );
      assert.equal(client.$jobs.get().a?.dismissedAt, null, 'the job is untouched');
    } finally {
      off();
    }
  });

  it('keeps the later of two quick calls on one job, whatever order the answers come in', async () => {
    const api = fakeJobApi();
    api.put(failed('a'));
    const { client, off } = watched(api);
    try {
      await eventually(() => client.$jobs.get().a, 3000, 'the job');
      let release: () => void = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      // The dismissal's answer is held; the restore is answered first.
      api.refuseNext(async () => {
        await gate;
        return Response.json({ job: api.job('a') });
      });
      const dismissing = client.dismiss('a');
      const restoring = client.restore('a');
      assert.deepEqual(client.$dismissed.get(), [], 'the later wish shows');
      await restoring;
      release();
      await dismissing;
      assert.deepEqual(client.$dismissed.get(), [], 'still shown');
    } finally {
      off();
    }
  });

  it("takes a dismissal made on another device with the job's change, and keeps the list while progress runs", async () => {
    const api = fakeJobApi();
    api.put(wireJob('r', { status: 'running' }));
    const { client, seen, off } = watched(api);
    try {
      await eventually(() => client.$jobs.get().r, 3000, 'the job');
      const held = api.job('r') as Job;
      api.put({ ...held, version: held.version + 1, dismissedAt: '2030-01-01T00:00:05.000Z' });
      await eventually(() => client.$dismissed.get().includes('r'), 3000, 'the dismissal from elsewhere');
      const before = client.$dismissed.get();
      const count = seen.length;
      api.progress('r', 40);
      await eventually(() => client.$jobs.get().r?.progress === 40, 3000, 'the progress');
      assert.equal(client.$dismissed.get(), before, 'the same array');
      assert.equal(seen.length, count, 'subscribers are not woken by progress');
      assert.notEqual(client.$jobs.get().r?.dismissedAt, null, 'a progress delta keeps dismissedAt');
    } finally {
      off();
    }
  });
});
