import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobRecord } from '../jobs/job-record.js';
import type { JobStore, StoredEvent } from './store.js';

/** A job record for store tests: a pending job of type `t` owned by alice, with `overrides`. */
export const testJob = (id: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
  id,
  ownerId: 'alice',
  type: 't',
  scope: null,
  title: null,
  status: 'pending',
  progress: null,
  message: null,
  input: { nested: [1, 'two', null] },
  result: null,
  error: null,
  attempt: 0,
  maxAttempts: 3,
  retryOf: null,
  activeKey: 't|',
  leaseToken: null,
  leaseExpiresAt: null,
  workerId: null,
  version: 1,
  createdAt: 1,
  startedAt: null,
  updatedAt: 1,
  completedAt: null,
  ...overrides,
});

/**
 * An event for store tests. `cursor` is what a store without a feed keeps; a store with one assigns its
 * own, so tests read cursors back rather than expect these.
 */
export const testEvent = (
  cursor: number,
  ownerId: string,
  createdAt: number,
  overrides: Partial<StoredEvent> = {},
): StoredEvent => ({
  cursor,
  ownerId,
  jobId: `job-of-${ownerId}`,
  version: 1,
  data: JSON.stringify({ ownerId, createdAt }),
  createdAt,
  ...overrides,
});

const EVERY_CURSOR = Number.MAX_SAFE_INTEGER;
const cursorsOf = (events: readonly StoredEvent[]) => events.map((event) => event.cursor);

function assertRising(cursors: readonly number[]) {
  for (let i = 1; i < cursors.length; i += 1) {
    assert.ok((cursors[i] as number) > (cursors[i - 1] as number), `cursors rise: ${cursors.join(', ')}`);
  }
}

/**
 * The behaviour every `JobStore` dialect shares. `open` gives a migrated store on an empty database
 * for one test; `dispose` closes it and removes the database.
 */
export function storeContract(
  name: string,
  open: () => Promise<{ store: JobStore; dispose(): Promise<void> }>,
): void {
  const test = (title: string, body: (store: JobStore) => Promise<void>) =>
    it(title, async () => {
      const { store, dispose } = await open();
      try {
        await body(store);
      } finally {
        await dispose();
      }
    });

  /** Appends each batch in a transaction of its own, then returns the whole log, oldest first. */
  const appendAll = async (store: JobStore, batches: readonly (readonly StoredEvent[])[]) => {
    for (const batch of batches) await store.transaction((tx) => tx.appendEvents(batch));
    return store.eventsAfterAll(0, 1000);
  };

  describe(name, () => {
    test('applies migrations idempotently', async (store) => {
      await store.migrate();
      await Promise.all([store.migrate(), store.migrate()]);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j1'))), true);
      assert.equal((await store.getJob('j1'))?.id, 'j1');
    });

    test('gives a job back as it was written: JSON, times and nulls', async (store) => {
      const full = testJob('full', {
        scope: 'doc:7',
        title: 'Export “Q3” ✓',
        status: 'running',
        progress: 0.375,
        message: 'halfway',
        input: { text: 'zero\u0000byte', list: [1.5, true, null, { deep: 'ünïcödé' }] },
        result: [1, 2, 3],
        error: { code: 'E_PARTIAL', message: 'some of it' },
        attempt: 2,
        retryOf: 'earlier',
        activeKey: 't|doc:7',
        leaseToken: 'lease-1',
        leaseExpiresAt: 1_900_000_000_123,
        workerId: 'worker-1',
        version: 7,
        createdAt: 1_800_000_000_001,
        startedAt: 1_800_000_000_002,
        updatedAt: 1_800_000_000_003,
        completedAt: 1_800_000_000_004,
      });
      const bare = testJob('bare', { input: null, activeKey: null });
      await store.transaction(async (tx) => {
        assert.equal(await tx.insertJob(full), true);
        assert.equal(await tx.insertJob(bare), true);
      });
      assert.deepEqual(await store.getJob('full'), full);
      assert.deepEqual(await store.getJob('bare'), bare);
      assert.equal(await store.getJob('missing'), null);
    });

    test('keeps one active job per owner and key, and frees the key when the job ends', async (store) => {
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j1'))), true);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j2'))), false);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j1', { activeKey: null }))), false);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j3', { ownerId: 'bob' }))), true);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j4', { activeKey: null }))), true);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j5', { activeKey: null }))), true);
      assert.equal((await store.findActiveByKey('alice', 't|'))?.id, 'j1');
      const done = testJob('j1', { status: 'completed', activeKey: null, version: 2 });
      assert.equal(await store.transaction((tx) => tx.updateJob(done, 1)), true);
      assert.equal(await store.findActiveByKey('alice', 't|'), null);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j2'))), true);
      assert.deepEqual((await store.getJob('j1'))?.input, { nested: [1, 'two', null] });
    });

    test('refuses an update whose expected version is stale', async (store) => {
      await store.transaction((tx) => tx.insertJob(testJob('j1')));
      const done = testJob('j1', { status: 'completed', activeKey: null, version: 2 });
      assert.equal(await store.transaction((tx) => tx.updateJob(done, 1)), true);
      const stale = testJob('j1', { status: 'failed', version: 3 });
      assert.equal(await store.transaction((tx) => tx.updateJob(stale, 1)), false);
      assert.equal((await store.getJob('j1'))?.status, 'completed');
      assert.equal(
        await store.transaction((tx) => tx.updateJob(testJob('nobody', { version: 2 }), 1)),
        false,
      );
    });

    test('refuses an update that would give a second active job the same key', async (store) => {
      await store.transaction(async (tx) => {
        await tx.insertJob(testJob('a', { activeKey: 'k1' }));
        await tx.insertJob(testJob('b', { activeKey: 'k2' }));
      });
      const clash = testJob('b', { activeKey: 'k1', progress: 50, version: 2 });
      const written = await store.transaction(async (tx) => {
        const result = await tx.updateJob(clash, 1);
        // The transaction goes on after the refusal.
        assert.equal(
          await tx.updateJob(testJob('a', { activeKey: 'k1', progress: 10, version: 2 }), 1),
          true,
        );
        return result;
      });
      assert.equal(written, false);
      assert.deepEqual(
        [(await store.getJob('a'))?.progress, (await store.getJob('b'))?.activeKey],
        [10, 'k2'],
      );
    });

    test('updates many rows in one go, leaving the ones whose version moved on', async (store) => {
      const ids = Array.from({ length: 1500 }, (_, i) => `bulk${String(i).padStart(4, '0')}`);
      await store.transaction(async (tx) => {
        for (const id of ids) await tx.insertJob(testJob(id, { ownerId: 'carol', activeKey: null }));
      });
      const updates = ids.map((id, i) => ({
        job: testJob(id, {
          ownerId: 'carol',
          activeKey: null,
          status: 'running',
          progress: i % 100,
          message: `step ${i}`,
          result: { at: i },
          version: 2,
          updatedAt: 1000 + i,
        }),
        expectedVersion: i === 7 || i === 1400 ? 5 : 1,
      }));
      const moved = await store.transaction((tx) => tx.updateJobs(updates));
      assert.deepEqual(moved, ['bulk0007', 'bulk1400']);
      const sample = await store.getJob('bulk1499');
      assert.deepEqual(
        [
          sample?.status,
          sample?.progress,
          sample?.message,
          sample?.result,
          sample?.version,
          sample?.updatedAt,
        ],
        ['running', 99, 'step 1499', { at: 1499 }, 2, 2499],
      );
      assert.equal((await store.getJob('bulk0007'))?.version, 1, 'a moved row is left as it was');
      assert.equal((await store.getJob('bulk1400'))?.status, 'pending');
      assert.deepEqual(await store.transaction((tx) => tx.updateJobs([])), []);
    });

    test('leaves out only the row of a bulk update that would break the active-key index', async (store) => {
      await store.transaction(async (tx) => {
        await tx.insertJob(testJob('k1', { ownerId: 'dave', activeKey: 'a' }));
        await tx.insertJob(testJob('k2', { ownerId: 'dave', activeKey: 'b' }));
        await tx.insertJob(testJob('k3', { ownerId: 'dave', activeKey: 'c' }));
      });
      const moved = await store.transaction((tx) =>
        tx.updateJobs([
          {
            job: testJob('k1', { ownerId: 'dave', activeKey: 'a', progress: 10, version: 2 }),
            expectedVersion: 1,
          },
          {
            job: testJob('k2', { ownerId: 'dave', activeKey: 'c', progress: 20, version: 2 }),
            expectedVersion: 1,
          },
          {
            job: testJob('k3', { ownerId: 'dave', activeKey: 'c', progress: 30, version: 2 }),
            expectedVersion: 1,
          },
        ]),
      );
      assert.deepEqual(moved, ['k2']);
      assert.deepEqual(
        [
          (await store.getJob('k1'))?.progress,
          (await store.getJob('k2'))?.progress,
          (await store.getJob('k3'))?.progress,
        ],
        [10, null, 30],
      );
    });

    test('rolls a failed transaction back whole, rethrowing what failed', async (store) => {
      const thrown = new Error('the work failed');
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insertJob(testJob('j9', { activeKey: null }));
          await tx.appendEvents([testEvent(1, 'alice', 1)]);
          throw thrown;
        }),
        (error) => error === thrown,
      );
      await assert.rejects(
        store.transaction(async (tx) => {
          await tx.insertJob(testJob('j9', { activeKey: null }));
          await tx.appendEvents([testEvent(1, 'alice', 1, { data: null as unknown as string })]);
        }),
      );
      assert.equal(await store.getJob('j9'), null);
      assert.equal(await store.maxCursor(), 0);
      assert.deepEqual(await store.eventsAfterAll(0, 10), []);
      assert.equal(await store.transaction((tx) => tx.insertJob(testJob('j9'))), true, 'the store goes on');
    });

    test('appends events with cursors that rise in the order appended', async (store) => {
      const events = await appendAll(store, [
        [testEvent(10, 'alice', 100, { jobId: 'a1', version: 1 })],
        [],
        [
          testEvent(20, 'bob', 100, { jobId: 'b1', version: 1 }),
          testEvent(30, 'alice', 200, { jobId: 'a1', version: 2 }),
        ],
        [testEvent(40, 'alice', 300, { jobId: 'a1', version: 3 })],
      ]);
      assert.deepEqual(
        events.map(({ cursor: _cursor, ...event }) => event),
        [
          testEvent(0, 'alice', 100, { jobId: 'a1', version: 1 }),
          testEvent(0, 'bob', 100, { jobId: 'b1', version: 1 }),
          testEvent(0, 'alice', 200, { jobId: 'a1', version: 2 }),
          testEvent(0, 'alice', 300, { jobId: 'a1', version: 3 }),
        ].map(({ cursor: _cursor, ...event }) => event),
      );
      assertRising(cursorsOf(events));
      assert.ok(
        events.every((event) => Number.isSafeInteger(event.cursor) && event.cursor > 0),
        'cursors are positive safe integers',
      );
    });

    test('reads an owner’s events in cursor order within bounds, and prunes with a lasting watermark', async (store) => {
      assert.equal(await store.pruneWatermark(), 0);
      assert.equal(await store.pruneEvents(1000), 0, 'nothing to prune');
      const events = await appendAll(store, [
        [testEvent(10, 'alice', 100)],
        [testEvent(20, 'bob', 100), testEvent(30, 'alice', 200)],
        [testEvent(40, 'alice', 300)],
      ]);
      const [c1, c2, c3, c4] = cursorsOf(events) as [number, number, number, number];
      const cursors = async (after: number, upTo: number, limit = 100) =>
        cursorsOf(await store.eventsAfter('alice', after, upTo, limit));
      assert.deepEqual(await cursors(0, EVERY_CURSOR), [c1, c3, c4]);
      assert.deepEqual(await cursors(c1, c3), [c3]);
      assert.deepEqual(await cursors(0, EVERY_CURSOR, 2), [c1, c3]);
      assert.deepEqual(cursorsOf(await store.eventsAfter('bob', 0, EVERY_CURSOR, 100)), [c2]);
      assert.equal(await store.pruneEvents(250), c3);
      assert.deepEqual(await cursors(0, EVERY_CURSOR), [c4]);
      assert.deepEqual(cursorsOf(await store.eventsAfterAll(0, 100)), [c4]);
      assert.equal(await store.pruneEvents(250), c3, 'the watermark does not fall back');
      assert.equal(await store.pruneWatermark(), c3);
      assert.equal(await store.maxCursor(), c4);
    });

    test('reads every owner’s events after a cursor, oldest first, at most a limit', async (store) => {
      const events = await appendAll(store, [
        [testEvent(10, 'alice', 100)],
        [testEvent(20, 'bob', 100)],
        [testEvent(30, 'carol', 100), testEvent(40, 'alice', 100)],
      ]);
      const [c1, c2, c3, c4] = cursorsOf(events) as [number, number, number, number];
      assert.deepEqual(
        events.map((event) => event.ownerId),
        ['alice', 'bob', 'carol', 'alice'],
      );
      assert.deepEqual(cursorsOf(await store.eventsAfterAll(c1, 2)), [c2, c3]);
      assert.deepEqual(cursorsOf(await store.eventsAfterAll(c3, 10)), [c4]);
      assert.deepEqual(await store.eventsAfterAll(c4, 10), []);
    });

    test('tells the highest cursor of the log and of one owner, 0 when there is none', async (store) => {
      assert.equal(await store.maxCursor(), 0);
      assert.equal(await store.ownerMaxCursor('alice'), 0);
      const events = await appendAll(store, [
        [testEvent(10, 'alice', 100), testEvent(20, 'bob', 100)],
        [testEvent(30, 'alice', 100)],
        [testEvent(40, 'bob', 100)],
      ]);
      const [, , c3, c4] = cursorsOf(events) as [number, number, number, number];
      assert.equal(await store.maxCursor(), c4);
      assert.equal(await store.ownerMaxCursor('alice'), c3);
      assert.equal(await store.ownerMaxCursor('bob'), c4);
      assert.equal(await store.ownerMaxCursor('carol'), 0);
    });

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
      assert.deepEqual(
        ids(await store.listJobs('alice', { statuses: ['pending', 'completed'], limit: 10 })),
        ['a2', 'a1'],
      );
      assert.deepEqual(ids(await store.listJobs('alice', { type: 'export', scope: 'doc:1', limit: 10 })), [
        'a1',
      ]);
      assert.deepEqual(ids(await store.listJobs('carol', { limit: 10 })), []);
    });

    test('keeps the first record of an idempotency key, and deletes old ones', async (store) => {
      const record = { ownerId: 'alice', key: 'k', requestHash: 'h1', jobId: 'j1', createdAt: 100 };
      assert.equal(await store.transaction((tx) => tx.insertIdempotencyKey(record)), true);
      assert.equal(
        await store.transaction((tx) =>
          tx.insertIdempotencyKey({ ...record, requestHash: 'h2', jobId: 'j2' }),
        ),
        false,
      );
      await store.transaction((tx) => tx.insertIdempotencyKey({ ...record, ownerId: 'bob', createdAt: 300 }));
      assert.deepEqual(await store.getIdempotencyKey('alice', 'k'), record);
      await store.deleteIdempotencyKeys(200);
      assert.equal(await store.getIdempotencyKey('alice', 'k'), null);
      assert.equal((await store.getIdempotencyKey('bob', 'k'))?.createdAt, 300);
    });
  });
}
