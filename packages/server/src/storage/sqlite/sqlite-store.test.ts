import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createClient } from '@libsql/client';
import { drizzle } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import { migrationsBefore } from '../../testing/previous-migrations.js';
import { storeContract, testEvent, testJob } from '../store.contract.js';
import { libsqlOf, SqliteStore } from './sqlite-store.js';

const dir = mkdtempSync(join(tmpdir(), 'jobtracker-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let databases = 0;
storeContract('SQLite store (contract)', async () => {
  const store = new SqliteStore({ url: `file:${join(dir, `contract-${++databases}.db`)}` });
  await store.migrate();
  return { store, dispose: () => store.close() };
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

  it('keeps the cursors it is given', async () => {
    await store.transaction((tx) =>
      tx.appendEvents([testEvent(10, 'alice', 100), testEvent(25, 'bob', 100)]),
    );
    assert.deepEqual(
      (await store.eventsAfterAll(0, 10)).map((event) => event.cursor),
      [10, 25],
    );
  });

  it('migrates again and keeps the prune watermark when the file is opened anew', async () => {
    assert.equal(await store.pruneEvents(1000), 25);
    const reopened = new SqliteStore({ url: `file:${join(dir, 'a.db')}` });
    try {
      await reopened.migrate();
      assert.equal(await reopened.pruneWatermark(), 25);
    } finally {
      await reopened.close();
    }
  });

  it('calls a write that outwaited the busy timeout unavailable (503), and other failures not', () => {
    const failure = (code: string) => Object.assign(new Error(`${code}: failed`), { code });
    assert.equal(store.isUnavailable(failure('SQLITE_BUSY')), true);
    assert.equal(store.isUnavailable(failure('SQLITE_IOERR')), false);
    assert.equal(store.isUnavailable(failure('SQLITE_CONSTRAINT')), false);
    assert.equal(store.isUnavailable(new Error('no such table: jobs')), false);
  });
});

describe('SQLite store on a file of the previous version', () => {
  it('adds dismissed_at to a database without it, keeping its jobs (shown)', async () => {
    const url = `file:${join(dir, 'before-dismissed-at.db')}`;
    const previous = migrationsBefore('sqlite', '0003_dismissed_at');
    const client = createClient({ url });
    try {
      await migrate(drizzle(client), { migrationsFolder: previous.folder });
      const columns = await client.execute('PRAGMA table_info(jobs)');
      assert.equal(
        columns.rows.some((row) => row.name === 'dismissed_at'),
        false,
        'the old database has no dismissed_at',
      );
      await client.execute(
        `INSERT INTO jobs (id, owner_id, type, status, attempt, max_attempts, version, created_at, updated_at)
         VALUES ('old', 'alice', 'export', 'failed', 1, 3, 4, 1000, 2000)`,
      );
    } finally {
      client.close();
      previous.remove();
    }

    const upgraded = new SqliteStore({ url });
    try {
      await upgraded.migrate();
      const old = await upgraded.getJob('old');
      assert.deepEqual([old?.status, old?.version, old?.dismissedAt], ['failed', 4, null]);
      const dismissed = { ...(old as NonNullable<typeof old>), dismissedAt: 3000, version: 5 };
      assert.equal(await upgraded.transaction((tx) => tx.updateJob(dismissed, 4)), true);
      assert.equal((await upgraded.getJob('old'))?.dismissedAt, 3000);
      assert.equal(await upgraded.transaction((tx) => tx.insertJob(testJob('new'))), true);
      assert.equal((await upgraded.getJob('new'))?.dismissedAt, null);
    } finally {
      await upgraded.close();
    }
  });
});

describe('SQLite store upgraded from the schema before the report API', () => {
  it('keeps its jobs and gains the external id and report token columns, unique per owner', async () => {
    // A database as every server made it before 0004_report_api, with a job in it.
    const previous = migrationsBefore('sqlite', '0004_report_api');
    const url = `file:${join(dir, 'upgraded.db')}`;
    const client = createClient({ url });
    try {
      await migrate(drizzle(client), { migrationsFolder: previous.folder });
      await client.execute(
        `INSERT INTO jobs (id, owner_id, type, status, attempt, max_attempts, version, created_at, updated_at)
         VALUES ('old-job', 'alice', 't', 'pending', 0, 3, 1, 1, 1)`,
      );
    } finally {
      client.close();
      previous.remove();
    }

    const store = new SqliteStore({ url });
    try {
      await store.migrate();
      const old = await store.getJob('old-job');
      assert.deepEqual(
        [old?.status, old?.externalId, old?.reportToken],
        ['pending', null, null],
        'the old job, with no external id or report token',
      );
      const reported = (id: string, ownerId: string) =>
        testJob(id, {
          ownerId,
          activeKey: null,
          externalId: 'ext-1',
          reportToken: `token-${id}`,
          createdAt: 0,
        });
      const inserted = [];
      for (const [id, owner] of [
        ['r1', 'alice'],
        ['r2', 'alice'],
        ['r3', 'bob'],
      ] as const) {
        inserted.push(await store.transaction((tx) => tx.insertJob(reported(id, owner))));
      }
      assert.deepEqual(inserted, [true, false, true], 'one job per owner and external id');
      assert.equal((await store.findByExternalId('alice', 'ext-1'))?.id, 'r1');
      assert.equal(
        (await store.transaction((tx) => tx.lockNextPending(['t'])))?.id,
        'old-job',
        'a reported pending job is never the next to claim',
      );
    } finally {
      await store.close();
    }
  });
});
