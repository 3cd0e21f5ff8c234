import assert from 'node:assert/strict';
import type { JobRecord } from '../jobs/job-record.js';
import { type StoreTest, testJob } from './store-fixtures.contract.js';

/** Row locks, listings and idempotency keys, as every dialect answers them. */
export function storeQueriesContract(test: StoreTest): void {
  test('locks a job by id inside a transaction', async (store) => {
    const written = testJob('j1', { result: { ok: true } });
    await store.transaction((tx) => tx.insertJob(written));
    await store.transaction(async (tx) => {
      assert.deepEqual(await tx.lockJob('j1'), written);
      assert.equal(await tx.lockJob('missing'), null);
      assert.equal(await tx.updateJob({ ...written, status: 'running', version: 2 }, 1), true);
      assert.equal((await tx.lockJob('j1'))?.version, 2, 'the transaction reads its own write');
    });
  });

  test('locks many jobs by id, in id order, leaving out the missing ones', async (store) => {
    const written = ['j3', 'j1', 'j2'].map((id, i) =>
      testJob(id, { activeKey: `t|${id}`, createdAt: i + 1, input: { n: i } }),
    );
    await store.transaction(async (tx) => {
      for (const job of written) await tx.insertJob(job);
    });
    await store.transaction(async (tx) => {
      const locked = await tx.lockJobs(['j2', 'missing', 'j3', 'j1']);
      assert.deepEqual(
        locked.map((job) => job.id),
        ['j1', 'j2', 'j3'],
      );
      assert.deepEqual(locked[2], written[0]);
      assert.deepEqual(await tx.lockJobs([]), []);
    });
  });

  test('locks the oldest pending job of the types asked for', async (store) => {
    await store.transaction(async (tx) => {
      for (const [id, type, status, createdAt] of [
        ['older-but-running', 'a', 'running', 5],
        ['other-type', 'c', 'pending', 10],
        ['b-20', 'b', 'pending', 20],
        ['a-20', 'a', 'pending', 20],
        ['a-30', 'a', 'pending', 30],
      ] as const) {
        await tx.insertJob(testJob(id, { type, status, createdAt, activeKey: null }));
      }
    });
    const next = (types: readonly string[]) =>
      store.transaction(async (tx) => (await tx.lockNextPending(types))?.id ?? null);
    assert.equal(await next(['a', 'b']), 'a-20', 'the same age: the lower id first');
    assert.equal(await next(['b']), 'b-20');
    assert.equal(await next(['a']), 'a-20');
    assert.equal(await next(['c', 'zzz']), 'other-type');
    assert.equal(await next(['zzz']), null);
    assert.equal(await next([]), null);
  });

  test('lists running jobs whose lease expired, oldest lease first, at most a limit', async (store) => {
    await store.transaction(async (tx) => {
      for (const [id, status, leaseExpiresAt] of [
        ['l300', 'running', 300],
        ['l100b', 'running', 100],
        ['l200', 'running', 200],
        ['l100a', 'running', 100],
        ['no-lease', 'running', null],
        ['pending', 'pending', 50],
        ['done', 'completed', 10],
      ] as const) {
        await tx.insertJob(testJob(id, { status, leaseExpiresAt, activeKey: null }));
      }
    });
    const expired = async (now: number, limit: number) =>
      (await store.listExpiredLeases(now, limit)).map((job) => job.id);
    assert.deepEqual(await expired(200, 10), ['l100a', 'l100b', 'l200']);
    assert.deepEqual(await expired(200, 2), ['l100a', 'l100b']);
    assert.deepEqual(await expired(99, 10), []);
    assert.equal((await store.listExpiredLeases(1000, 1))[0]?.leaseExpiresAt, 100);
  });

  test('lists jobs: active ones oldest first, an owner’s newest first and filtered', async (store) => {
    await store.transaction(async (tx) => {
      for (const [id, ownerId, type, scope, status, createdAt] of [
        ['a1', 'alice', 'export', 'doc:1', 'pending', 1],
        ['a2', 'alice', 'export', 'doc:2', 'completed', 2],
        ['a3', 'alice', 'import', null, 'running', 3],
        ['b1', 'bob', 'export', 'doc:1', 'running', 0],
      ] as const) {
        await tx.insertJob(testJob(id, { ownerId, type, scope, status, createdAt, activeKey: null }));
      }
    });
    const ids = (jobs: readonly JobRecord[]) => jobs.map((job) => job.id);
    assert.deepEqual(ids(await store.listActiveJobs()), ['b1', 'a1', 'a3']);
    assert.deepEqual(ids(await store.listJobs('alice', { limit: 10 })), ['a3', 'a2', 'a1']);
    assert.deepEqual(ids(await store.listJobs('alice', { limit: 2 })), ['a3', 'a2']);
    assert.deepEqual(ids(await store.listJobs('alice', { statuses: ['pending', 'completed'], limit: 10 })), [
      'a2',
      'a1',
    ]);
    assert.deepEqual(ids(await store.listJobs('alice', { type: 'export', scope: 'doc:1', limit: 10 })), [
      'a1',
    ]);
    assert.deepEqual(ids(await store.listJobs('carol', { limit: 10 })), []);
    const full = testJob('a4', {
      ownerId: 'alice',
      title: 'Report',
      status: 'failed',
      progress: 42.5,
      message: 'Step 3',
      result: { url: '/r/1', rows: 12 },
      error: { message: 'Disk full', retryable: true },
      attempt: 2,
      retryOf: 'a0',
      activeKey: null,
      leaseToken: 'lease',
      leaseExpiresAt: 9,
      workerId: 'w1',
      version: 7,
      createdAt: 4,
      startedAt: 5,
      updatedAt: 6,
      completedAt: 7,
    });
    await store.transaction((tx) => tx.insertJob(full));
    const listed = await store.listJobs('alice', { statuses: ['failed'], limit: 10 });
    assert.deepEqual(listed, [full], 'a listed job reads back every field as written');
    for (const job of await store.listJobs('alice', { limit: 10 }))
      assert.deepEqual(job, await store.getJob(job.id), `${job.id} listed as it is got`);
  });

  test('pages through an owner’s jobs after a (createdAt, id) position: every job once, in order, ties included', async (store) => {
    await store.transaction(async (tx) => {
      for (const [id, ownerId, status, createdAt] of [
        ['p1', 'alice', 'completed', 10],
        ['p2', 'alice', 'failed', 20],
        ['p3a', 'alice', 'completed', 20],
        ['p3b', 'alice', 'completed', 20],
        ['p4', 'alice', 'cancelled', 30],
        ['p5', 'alice', 'running', 40],
        ['q1', 'bob', 'completed', 25],
      ] as const) {
        await tx.insertJob(testJob(id, { ownerId, status, createdAt, activeKey: null }));
      }
    });
    const ids = (jobs: readonly JobRecord[]) => jobs.map((job) => job.id);
    const all = ids(await store.listJobs('alice', { limit: 100 }));
    assert.deepEqual(all, ['p5', 'p4', 'p3b', 'p3a', 'p2', 'p1']);
    for (const limit of [1, 2, 3, 4]) {
      const seen: string[] = [];
      let before: { createdAt: number; id: string } | undefined;
      for (let pages = 0; pages < 10; pages++) {
        const page = await store.listJobs('alice', { limit, before });
        seen.push(...ids(page));
        const last = page.at(-1);
        if (page.length < limit || !last) break;
        before = { createdAt: last.createdAt, id: last.id };
      }
      assert.deepEqual(seen, all, `pages of ${limit}`);
    }
    assert.deepEqual(
      ids(await store.listJobs('alice', { limit: 10, before: { createdAt: 20, id: 'p3b' } })),
      ['p3a', 'p2', 'p1'],
      'a tie on createdAt goes on with the lower ids',
    );
    assert.deepEqual(
      ids(
        await store.listJobs('alice', {
          statuses: ['completed', 'failed', 'cancelled'],
          limit: 2,
          before: { createdAt: 30, id: 'p4' },
        }),
      ),
      ['p3b', 'p3a'],
    );
    assert.deepEqual(
      ids(await store.listJobs('alice', { limit: 10, before: { createdAt: 10, id: 'p1' } })),
      [],
    );
    assert.deepEqual(ids(await store.listJobs('bob', { limit: 10, before: { createdAt: 99, id: 'z' } })), [
      'q1',
    ]);
  });

  test('keeps the first record of an idempotency key, and deletes old ones', async (store) => {
    const record = { ownerId: 'alice', key: 'k', requestHash: 'h1', jobId: 'j1', createdAt: 100 };
    assert.equal(await store.transaction((tx) => tx.insertIdempotencyKey(record)), true);
    assert.equal(
      await store.transaction((tx) => tx.insertIdempotencyKey({ ...record, requestHash: 'h2', jobId: 'j2' })),
      false,
    );
    await store.transaction((tx) => tx.insertIdempotencyKey({ ...record, ownerId: 'bob', createdAt: 300 }));
    assert.deepEqual(await store.getIdempotencyKey('alice', 'k'), record);
    await store.deleteIdempotencyKeys(200);
    assert.equal(await store.getIdempotencyKey('alice', 'k'), null);
    assert.equal((await store.getIdempotencyKey('bob', 'k'))?.createdAt, 300);
  });
}
