import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { JobStore } from './store.js';
import { eventLogContract } from './store-events.contract.js';
import { type StoreTest, testEvent, testJob } from './store-fixtures.contract.js';
import { storeQueriesContract } from './store-queries.contract.js';

export { testEvent, testJob } from './store-fixtures.contract.js';

/**
 * The behaviour every `JobStore` dialect shares. `open` gives a migrated store on an empty database
 * for one test; `dispose` closes it and removes the database.
 */
export function storeContract(
  name: string,
  open: () => Promise<{ store: JobStore; dispose(): Promise<void> }>,
): void {
  const test: StoreTest = (title, body) =>
    it(title, async () => {
      const { store, dispose } = await open();
      try {
        await body(store);
      } finally {
        await dispose();
      }
    });

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
        dismissedAt: 1_800_000_000_005,
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

    test('keeps dismissedAt through updateJob and updateJobs, set and cleared', async (store) => {
      await store.transaction(async (tx) => {
        for (const id of ['d1', 'd2', 'd3']) await tx.insertJob(testJob(id, { activeKey: null }));
      });
      const hidden = (id: string, version: number, dismissedAt: number | null) =>
        testJob(id, { activeKey: null, version, dismissedAt, updatedAt: 2 });
      assert.equal(
        await store.transaction((tx) => tx.updateJob(hidden('d1', 2, 1_800_000_000_009), 1)),
        true,
      );
      assert.deepEqual(
        await store.transaction((tx) =>
          tx.updateJobs([
            { job: hidden('d2', 2, 1_800_000_000_010), expectedVersion: 1 },
            { job: hidden('d3', 2, 1_800_000_000_011), expectedVersion: 1 },
          ]),
        ),
        [],
      );
      assert.deepEqual(
        await Promise.all(['d1', 'd2', 'd3'].map(async (id) => (await store.getJob(id))?.dismissedAt)),
        [1_800_000_000_009, 1_800_000_000_010, 1_800_000_000_011],
      );
      assert.equal(await store.transaction((tx) => tx.updateJob(hidden('d1', 3, null), 2)), true);
      assert.equal((await store.getJob('d1'))?.dismissedAt, null, 'brought back');
      const listed = await store.listJobs('alice', { limit: 10 });
      assert.equal(listed.find((job) => job.id === 'd2')?.dismissedAt, 1_800_000_000_010, 'listed with it');
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

    eventLogContract(test);
    storeQueriesContract(test);
  });
}
