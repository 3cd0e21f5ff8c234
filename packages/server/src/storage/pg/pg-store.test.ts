import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openTestSchema, requireTestDatabase, TEST_PG_URL } from '@jobtracker/test-support/postgres';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Client } from 'pg';
import { migrationsBefore } from '../../testing/previous-migrations.js';
import { storeContract, testEvent, testJob } from '../store.contract.js';
import { FEED_APPLICATION_NAME } from './pg-feed.js';
import { channelOf, PgStore, type PgStoreOptions } from './pg-store.js';

// One clear failure, naming the database and how to start it, rather than one per test.
await requireTestDatabase();

storeContract('PostgreSQL store (contract)', async () => {
  const { url, schema, drop } = await openTestSchema();
  const store = new PgStore({ url, schema });
  const dispose = async () => {
    await store.close();
    await drop();
  };
  await store.migrate().catch(async (error: unknown) => {
    await dispose();
    throw error;
  });
  return { store, dispose };
});

/** `count` stores on one fresh, migrated schema, as separate API processes would have. */
async function openStores(count: number, options: Partial<PgStoreOptions> = {}) {
  const { url, schema, drop } = await openTestSchema();
  const stores = Array.from({ length: count }, () => new PgStore({ url, schema, ...options }));
  const dispose = async () => {
    await Promise.all(stores.map((store) => store.close()));
    await drop();
  };
  try {
    await stores[0]?.migrate();
  } catch (error) {
    await dispose();
    throw error;
  }
  return { stores: stores as [PgStore, PgStore, ...PgStore[]], schema, dispose };
}

async function admin<T>(work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function until(what: string, condition: () => boolean | Promise<boolean>, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(10);
  }
}

const listenersOn = (channel: string) =>
  admin(async (client) => {
    const { rows } = await client.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query = $2`,
      [FEED_APPLICATION_NAME, `LISTEN "${channel}"`],
    );
    return rows.map((row) => row.pid);
  });

describe('PostgreSQL store', () => {
  it('hands out unique cursors that rise in commit order, across stores sharing the database', async () => {
    const { stores, dispose } = await openStores(3);
    const [a, b, reader] = stores as [PgStore, PgStore, PgStore];
    try {
      let writing = true;
      const seen = new Set<number>();
      let highestSeen = 0;
      const late: string[] = [];
      let polls = 0;
      const reading = (async () => {
        while (writing) {
          const fresh = (await reader.eventsAfterAll(0, 1000))
            .map((event) => event.cursor)
            .filter((cursor) => !seen.has(cursor));
          for (const cursor of fresh) {
            if (cursor < highestSeen) late.push(`${cursor} appeared after ${highestSeen}`);
          }
          for (const cursor of fresh) seen.add(cursor);
          highestSeen = Math.max(highestSeen, ...fresh);
          polls += 1;
        }
      })();
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          (i % 2 === 0 ? a : b).transaction(async (tx) => {
            if (i % 3 === 0) await sleep(3);
            await tx.insertJob(testJob(`j${i}`, { activeKey: null }));
            await tx.appendEvents(
              [1, 2, 3].map((version) => testEvent(0, `owner${i % 4}`, 1, { jobId: `j${i}`, version })),
            );
            // Holding the transaction open after appending must hold back the commits behind it.
            if (i % 4 === 1) await sleep(5 + i);
          }),
        ),
      );
      writing = false;
      await reading;
      const events = await reader.eventsAfterAll(0, 1000);
      assert.equal(events.length, 60);
      assert.equal(new Set(events.map((event) => event.cursor)).size, 60, 'unique cursors');
      for (let i = 0; i < 20; i += 1) {
        const mine = events.filter((event) => event.jobId === `j${i}`);
        const first = mine[0]?.cursor ?? 0;
        assert.deepEqual(
          mine.map((event) => [event.cursor, event.version]),
          [
            [first, 1],
            [first + 1, 2],
            [first + 2, 3],
          ],
          'one transaction’s events take consecutive cursors, in the order given',
        );
      }
      assert.ok(polls > 1, 'the reader polled while the writers ran');
      assert.deepEqual(late, [], 'a reader never sees a cursor below one it already saw');
    } finally {
      await dispose();
    }
  });

  it('announces commits to the feed of another store, and reconnects a listener that was cut', async () => {
    const errors: unknown[] = [];
    const { stores, dispose } = await openStores(2, { onError: (error) => errors.push(error) });
    const [a, b] = stores;
    try {
      const changes: (number | null)[] = [];
      await b.feed.start((cursor) => changes.push(cursor));
      const append = async () => {
        await a.transaction((tx) => tx.appendEvents([testEvent(0, 'alice', 1), testEvent(0, 'bob', 1)]));
        return a.maxCursor();
      };
      const first = await append();
      await until('the first commit is announced', () => changes.includes(first));
      assert.deepEqual([...changes], [first], 'one notification per commit, carrying its highest cursor');
      await a
        .transaction(async (tx) => {
          await tx.appendEvents([testEvent(0, 'alice', 1)]);
          throw new Error('rolled back');
        })
        .catch(() => {});

      const [listener, ...others] = await listenersOn(b.channel);
      assert.ok(listener, 'the listener runs on a connection of its own');
      assert.deepEqual(others, []);
      await admin((client) => client.query('SELECT pg_terminate_backend($1)', [listener]));
      await until('the feed reports it may have missed notifications', () => changes.includes(null));
      assert.ok(errors.length > 0, 'the lost connection is reported');
      const [reconnected] = await listenersOn(b.channel);
      assert.ok(reconnected !== undefined && reconnected !== listener, 'a new listener connection');

      const second = await append();
      await until('a commit after the reconnect is announced', () => changes.includes(second));
      assert.deepEqual(changes, [first, null, second], 'a rolled-back append announces nothing');

      await Promise.all([b.close(), b.close()]);
      await until(
        'the listener is gone once the store is closed',
        async () => (await listenersOn(b.channel)).length === 0,
      );
      await sleep(300);
      assert.deepEqual(await listenersOn(b.channel), [], 'no reconnect after close');
    } finally {
      await dispose();
    }
  });

  it('lets stores migrate the same new schema at once', async () => {
    const { url, schema, drop } = await openTestSchema();
    const stores = [1, 2, 3].map(() => new PgStore({ url, schema }));
    try {
      await Promise.all(stores.map((store) => store.migrate()));
      const journal = JSON.parse(
        readFileSync(new URL('../../../drizzle/pg/meta/_journal.json', import.meta.url), 'utf8'),
      ) as { entries: unknown[] };
      const applied = await admin((client) =>
        client.query<{ count: number }>(
          `SELECT count(*)::int AS count FROM "${schema}"."__drizzle_migrations"`,
        ),
      );
      assert.equal(applied.rows[0]?.count, journal.entries.length, 'each migration applied once');
      assert.equal(await stores[1]?.transaction((tx) => tx.insertJob(testJob('j1'))), true);
      await stores[2]?.transaction((tx) => tx.appendEvents([testEvent(0, 'alice', 1)]));
      assert.equal((await stores[0]?.eventsAfterAll(0, 10))?.length, 1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await drop();
    }
  });

  it('gives int8 columns back as JS numbers', async () => {
    const { stores, dispose } = await openStores(1);
    const [store] = stores;
    try {
      const now = Date.now();
      await store.transaction(async (tx) => {
        await tx.insertJob(
          testJob('j1', {
            status: 'running',
            createdAt: now,
            updatedAt: now,
            startedAt: now,
            leaseExpiresAt: now,
          }),
        );
        await tx.appendEvents([testEvent(0, 'alice', now)]);
        await tx.insertIdempotencyKey({
          ownerId: 'alice',
          key: 'k',
          requestHash: 'h',
          jobId: 'j1',
          createdAt: now,
        });
      });
      const job = await store.getJob('j1');
      const [expired] = await store.listExpiredLeases(now, 1);
      const [event] = await store.eventsAfterAll(0, 1);
      const [ownEvent] = await store.eventsAfter('alice', 0, Number.MAX_SAFE_INTEGER, 1);
      const numbers = {
        createdAt: job?.createdAt,
        startedAt: job?.startedAt,
        leaseExpiresAt: job?.leaseExpiresAt,
        expiredLease: expired?.leaseExpiresAt,
        cursor: event?.cursor,
        eventCreatedAt: event?.createdAt,
        ownCursor: ownEvent?.cursor,
        maxCursor: await store.maxCursor(),
        ownerMaxCursor: await store.ownerMaxCursor('alice'),
        idempotencyCreatedAt: (await store.getIdempotencyKey('alice', 'k'))?.createdAt,
        prunedTo: await store.pruneEvents(now + 1),
        watermark: await store.pruneWatermark(),
      };
      for (const [name, value] of Object.entries(numbers)) {
        assert.equal(typeof value, 'number', `${name} is a number: ${String(value)}`);
        assert.ok(Number.isSafeInteger(value), `${name} is a safe integer`);
      }
      assert.equal(numbers.leaseExpiresAt, now);
      assert.equal(numbers.prunedTo, numbers.cursor);
    } finally {
      await dispose();
    }
  });

  it('lets exactly one of two stores racing to create a job take the active key', async () => {
    const { stores, dispose } = await openStores(2);
    const [a, b] = stores;
    try {
      for (let round = 0; round < 10; round += 1) {
        const ownerId = `racer${round}`;
        const results = await Promise.all(
          [a, b].map((store, i) =>
            store.transaction((tx) =>
              tx.insertJob(testJob(`r${round}-${i}`, { ownerId, activeKey: 't|doc' })),
            ),
          ),
        );
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.join(', ')}`);
        const winner = results.indexOf(true);
        assert.equal((await a.findActiveByKey(ownerId, 't|doc'))?.id, `r${round}-${winner}`);
      }
    } finally {
      await dispose();
    }
  });

  it('keeps a locked job from other transactions: lockJob waits, lockNextPending skips it', async () => {
    const { stores, dispose } = await openStores(2);
    const [a, b] = stores;
    try {
      await a.transaction(async (tx) => {
        await tx.insertJob(testJob('older', { activeKey: null, createdAt: 1 }));
        await tx.insertJob(testJob('newer', { activeKey: null, createdAt: 2 }));
      });
      let waited: Promise<number | undefined> | undefined;
      let settled = false;
      await a.transaction(async (tx) => {
        const held = await tx.lockNextPending(['t']);
        assert.equal(held?.id, 'older');
        const other = await b.transaction(async (tx2) => (await tx2.lockNextPending(['t']))?.id);
        assert.equal(other, 'newer', 'the locked row is skipped');
        waited = b.transaction(async (tx2) => (await tx2.lockJob('older'))?.version);
        void waited.finally(() => {
          settled = true;
        });
        await sleep(100);
        assert.equal(settled, false, 'lockJob waits for the lock');
        assert.equal(
          await tx.updateJob({ ...(held ?? testJob('older')), status: 'running', version: 2 }, 1),
          true,
        );
      });
      assert.equal(await waited, 2, 'and then reads the committed row');
      assert.equal(await b.transaction(async (tx) => (await tx.lockNextPending(['t']))?.id), 'newer');
    } finally {
      await dispose();
    }
  });

  it('refuses a schema name it would have to quote, and keeps channels within 63 characters', () => {
    for (const schema of ['Public', 'jobs-1', '1jobs', 'a"b', '', 'x'.repeat(64)]) {
      assert.throws(
        () => new PgStore({ url: TEST_PG_URL, schema }),
        /Invalid PostgreSQL schema name/,
        schema,
      );
    }
    assert.equal(channelOf('public'), 'jobtracker_events');
    assert.equal(channelOf('tenant_a'), 'jobtracker_events_tenant_a');
    const long = [`${'x'.repeat(62)}a`, `${'x'.repeat(62)}b`].map(channelOf);
    assert.ok(
      long.every((channel) => channel.length <= 63 && /^[a-z0-9_]+$/.test(channel)),
      long.join(),
    );
    assert.notEqual(long[0], long[1]);
  });

  it('adds dismissed_at to a schema of the previous version, keeping its jobs (shown)', async () => {
    const { url, schema, drop } = await openTestSchema();
    const previous = migrationsBefore('pg', '0003_dismissed_at');
    const store = new PgStore({ url, schema });
    try {
      const client = new Client({ connectionString: url, options: `-c search_path=${schema}` });
      await client.connect();
      try {
        await client.query(`CREATE SCHEMA "${schema}"`);
        await migrate(drizzle({ client }), { migrationsFolder: previous.folder, migrationsSchema: schema });
        const columns = await client.query(
          "SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = 'jobs'",
          [schema],
        );
        assert.equal(
          columns.rows.some((row) => row.column_name === 'dismissed_at'),
          false,
          'the old schema has no dismissed_at',
        );
        await client.query(
          `INSERT INTO jobs (id, owner_id, type, status, attempt, max_attempts, version, created_at, updated_at)
           VALUES ('old', 'alice', 'export', 'failed', 1, 3, 4, 1000, 2000)`,
        );
      } finally {
        await client.end();
      }
      await store.migrate();
      const old = await store.getJob('old');
      assert.deepEqual([old?.status, old?.version, old?.dismissedAt], ['failed', 4, null]);
      const dismissed = { ...(old as NonNullable<typeof old>), dismissedAt: 3000, version: 5 };
      assert.equal(await store.transaction((tx) => tx.updateJob(dismissed, 4)), true);
      assert.equal((await store.getJob('old'))?.dismissedAt, 3000);
    } finally {
      previous.remove();
      await store.close();
      await drop();
    }
  });
});
