import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { JobRecord } from '../../jobs/job-record.js';
import { libsqlOf, SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const job = (id: string, overrides: Partial<JobRecord> = {}): JobRecord => ({
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

describe('SQLite store on a file', () => {
  let store: SqliteStore;
  before(async () => {
    store = new SqliteStore({ url: `file:${join(dir, 'a.db')}`, busyTimeoutMs: 4321 });
    await store.migrate();
  });
  after(() => store.close());

  it('runs in WAL mode with the busy timeout on every pooled connection, inside transactions too', async () => {
    assert.equal(String(await store.pragma('journal_mode')).toLowerCase(), 'wal');
    // Hold one connection in a transaction so that the next statements open and use other ones.
    const held = await store.client.transaction('write');
    try {
      assert.equal(Number((await held.execute('PRAGMA busy_timeout')).rows[0]?.[0]), 4321);
      const reads = await Promise.all([1, 2, 3].map(() => store.pragma('busy_timeout')));
      assert.deepEqual(reads.map(Number), [4321, 4321, 4321]);
    } finally {
      await held.rollback();
    }
    assert.equal(Number(await store.pragma('synchronous')), 2, 'FULL: a commit survives power loss');
  });

  it('reaches the libsql transaction under drizzle’s, so the flush runs prepared SQL text', async () => {
    await store.db.transaction(async (tx) => {
      assert.ok(libsqlOf(tx), 'drizzle’s transaction still carries its libsql transaction');
    });
  });

  it('applies migrations idempotently', async () => {
    await store.migrate();
    const again = new SqliteStore({ url: `file:${join(dir, 'a.db')}` });
    await again.migrate();
    await again.close();
  });

  it('keeps one active job per owner and key, and frees the key when the job ends', async () => {
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j1'))), true);
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j2'))), false);
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j3', { ownerId: 'bob' }))), true);
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j4', { activeKey: null }))), true);
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j5', { activeKey: null }))), true);
    const done = job('j1', { status: 'completed', activeKey: null, version: 2 });
    assert.equal(await store.transaction((tx) => tx.updateJob(done, 1)), true);
    assert.equal(await store.transaction((tx) => tx.insertJob(job('j2'))), true);
    assert.deepEqual((await store.getJob('j1'))?.input, { nested: [1, 'two', null] });
  });

  it('refuses an update whose expected version is stale', async () => {
    const stale = job('j1', { status: 'failed', version: 3 });
    assert.equal(await store.transaction((tx) => tx.updateJob(stale, 1)), false);
    assert.equal((await store.getJob('j1'))?.status, 'completed');
  });

  it('updates many rows in one go, leaving the ones whose version moved on', async () => {
    const ids = Array.from({ length: 1500 }, (_, i) => `bulk${String(i).padStart(4, '0')}`);
    await store.transaction(async (tx) => {
      for (const id of ids) await tx.insertJob(job(id, { ownerId: 'carol', activeKey: null }));
    });
    const updates = ids.map((id, i) => ({
      job: job(id, {
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
      [sample?.status, sample?.progress, sample?.message, sample?.result, sample?.version, sample?.updatedAt],
      ['running', 99, 'step 1499', { at: 1499 }, 2, 2499],
    );
    assert.equal((await store.getJob('bulk0007'))?.version, 1, 'a moved row is left as it was');
    assert.equal((await store.getJob('bulk1400'))?.status, 'pending');
  });

  it('leaves out only the row of a bulk update that would break the active-key index', async () => {
    await store.transaction(async (tx) => {
      await tx.insertJob(job('k1', { ownerId: 'dave', activeKey: 'a' }));
      await tx.insertJob(job('k2', { ownerId: 'dave', activeKey: 'b' }));
      await tx.insertJob(job('k3', { ownerId: 'dave', activeKey: 'c' }));
    });
    const moved = await store.transaction((tx) =>
      tx.updateJobs([
        { job: job('k1', { ownerId: 'dave', activeKey: 'a', progress: 10, version: 2 }), expectedVersion: 1 },
        { job: job('k2', { ownerId: 'dave', activeKey: 'c', progress: 20, version: 2 }), expectedVersion: 1 },
        { job: job('k3', { ownerId: 'dave', activeKey: 'c', progress: 30, version: 2 }), expectedVersion: 1 },
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

  it('rolls a failed transaction back whole', async () => {
    await assert.rejects(
      store.transaction(async (tx) => {
        await tx.insertJob(job('j9', { activeKey: null }));
        await tx.appendEvents([
          {
            cursor: 1,
            ownerId: 'alice',
            jobId: 'j9',
            version: 1,
            data: '{}',
            createdAt: 1,
          },
        ]);
        await tx.appendEvents([
          {
            cursor: 1,
            ownerId: 'alice',
            jobId: 'j9',
            version: 1,
            data: '{}',
            createdAt: 1,
          },
        ]);
      }),
    );
    assert.equal(await store.getJob('j9'), null);
  });

  it('reads an owner’s events in cursor order within bounds, and prunes with a lasting watermark', async () => {
    await store.transaction(async (tx) => {
      for (const [cursor, ownerId, createdAt] of [
        [10, 'alice', 100],
        [20, 'bob', 100],
        [30, 'alice', 200],
        [40, 'alice', 300],
      ] as const) {
        await tx.appendEvents([{ cursor, ownerId, jobId: 'j', version: cursor, data: '{}', createdAt }]);
      }
    });
    const cursors = async (after: number, upTo: number) =>
      (await store.eventsAfter('alice', after, upTo, 100)).map((e) => e.cursor);
    assert.deepEqual(await cursors(0, 100), [10, 30, 40]);
    assert.deepEqual(await cursors(10, 30), [30]);
    assert.equal(await store.ownerMaxCursor('bob'), 20);
    assert.equal(await store.maxCursor(), 40);
    assert.equal(await store.pruneEvents(250), 30);
    assert.deepEqual(await cursors(0, 100), [40]);
    assert.equal(await store.pruneEvents(250), 30, 'the watermark does not fall back');
    const reopened = new SqliteStore({ url: `file:${join(dir, 'a.db')}` });
    assert.equal(await reopened.pruneWatermark(), 30);
    await reopened.close();
  });
});
