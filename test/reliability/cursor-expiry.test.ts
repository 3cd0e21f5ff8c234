import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Job } from '@jobtracker/sdk';
import { createJobClient, type JobClient } from '@jobtracker/sdk';
import { createWorkerApi } from '@jobtracker/sdk/worker';
import type { RunningServer } from '@jobtracker/server';
import { signToken } from '@jobtracker/server';
import { delay, eventually } from '@jobtracker/test-support/browser-assert';
import { memoryStorage } from '@jobtracker/test-support/tokens';
import { SECRET, startReliabilityServer, WORKER_KEY } from './server.js';

// Promise 3: a client offline long enough for its cursor to fall out of the log gets `reset` and a
// correct snapshot, never a stale state (a finished job shown running, a job that changed shown as it was).

describe('a client whose cursor fell out of the log', () => {
  let server: RunningServer;
  before(async () => {
    server = await startReliabilityServer({
      engine: { eventRetentionMs: 200, snapshotFinishedLimit: 5 },
    });
  });
  after(async () => {
    await server.close();
  });

  it('takes a reset and ends equal to the database, with nothing stale', async (t) => {
    const token = signToken({ sub: 'offline', expiresInSeconds: 600 }, SECRET);
    const storage = memoryStorage();
    const open = (where = storage) =>
      createJobClient({
        baseUrl: `${server.url}/api`,
        token,
        transport: 'sse',
        storage: where,
        shareTabs: false,
      });
    const worker = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });

    let client: JobClient = open();
    let stop = client.$jobs.subscribe(() => {});
    // First visit: two finished jobs, then three running ones, all on screen and kept in storage.
    const earlier: string[] = [];
    for (let i = 0; i < 2; i++) {
      const created = await client.start({ type: 'offline.done', scope: `done-${i}` });
      await client.cancel(created.job.id);
      earlier.push(created.job.id);
    }
    const leases: { id: string; leaseToken: string }[] = [];
    for (let i = 0; i < 3; i++) {
      await client.start({ type: 'offline', scope: `run-${i}` });
      const claimed = await worker.claim({ types: ['offline'], leaseMs: 60_000 });
      assert.ok(claimed, 'the job is claimed');
      leases.push({ id: claimed.job.id, leaseToken: claimed.leaseToken });
      await worker.progress(claimed.job.id, claimed.leaseToken, {
        progress: 10 * (i + 1),
        message: 'working',
      });
    }
    await eventually(
      () => Object.values(client.$jobs.get()).filter((job) => job.progress !== null).length === 3,
      5000,
      'the first visit to see its jobs',
    );
    await delay(400); // the client persists its jobs and cursor a moment after they change
    stop();
    // Offline for real: the client closes its stream a moment after its last subscriber leaves.
    await eventually(
      () => server.tracker.streams.connections.size === 0,
      10_000,
      'the first visit to go offline',
    );

    // Offline: one running job completes, one fails, one moves on; three new jobs finish, pushing the two
    // earlier finished ones out of the snapshot (it keeps the 5 newest); the log is pruned past the cursor.
    const [a, b, c] = leases as [(typeof leases)[0], (typeof leases)[0], (typeof leases)[0]];
    await worker.complete(a.id, a.leaseToken, { url: '/a' });
    await worker.fail(b.id, b.leaseToken, { message: 'broke' });
    await worker.progress(c.id, c.leaseToken, { progress: 80, message: 'nearly' });
    // Meanwhile the same user works from another device (its own storage).
    const otherClient = open(memoryStorage());
    for (let i = 0; i < 3; i++) {
      const created = await otherClient.start({ type: 'offline.later', scope: `later-${i}` });
      await otherClient.cancel(created.job.id);
    }
    await delay(300);
    await server.tracker.engine.flush();
    await server.tracker.engine.prune();

    // Second visit: the stored cursor is older than the log; the client must take a reset.
    client = open();
    const shownFirst = Object.keys(client.$jobs.get()).length;
    stop = client.$jobs.subscribe(() => {});
    const response = await fetch(`${server.url}/api/jobs?limit=100`, {
      headers: { Authorization: `Bearer ${token}` },
    });
    const truth = ((await response.json()) as { jobs: Job[] }).jobs;
    const snapshot = await server.tracker.engine.snapshot('offline');
    try {
      await eventually(
        () => {
          const held = client.$jobs.get();
          return (
            Object.keys(held).length === snapshot.jobs.length &&
            snapshot.jobs.every((job) => held[job.id]?.version === job.version)
          );
        },
        5000,
        'the client to hold exactly the snapshot',
      );
      const held = client.$jobs.get();
      for (const job of snapshot.jobs)
        assert.deepEqual(held[job.id], job, `job ${job.id} as the database has it`);
      assert.equal(held[a.id]?.status, 'completed');
      assert.equal(held[b.id]?.status, 'failed');
      assert.deepEqual([held[c.id]?.status, held[c.id]?.progress], ['running', 80]);
      const stale = truth.filter((job) => !snapshot.jobs.some((s) => s.id === job.id) && held[job.id]);
      assert.deepEqual(stale, [], 'no job the snapshot dropped is still shown');
      assert.deepEqual(
        earlier.map((id) => held[id]),
        [undefined, undefined],
        'the earlier finished jobs left with the snapshot',
      );
      assert.equal(shownFirst, 5, 'the second visit first showed what the first one stored');
      t.diagnostic(
        `shown from storage at once: ${shownFirst} jobs; after the reset: ${Object.keys(held).length} jobs, equal to the snapshot (${snapshot.jobs.length} of ${truth.length} in the database)`,
      );
    } finally {
      stop();
    }
  });
});
