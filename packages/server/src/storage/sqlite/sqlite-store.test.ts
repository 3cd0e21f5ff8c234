import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { storeContract, testEvent } from '../store.contract.js';
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
