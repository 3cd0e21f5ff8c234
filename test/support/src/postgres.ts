import { randomBytes } from 'node:crypto';
import { FEED_APPLICATION_NAME } from '@jobtracker/server/internal';
import { Client } from 'pg';

/** The PostgreSQL database the tests use: `JOBTRACKER_TEST_PG_URL`, else the local trust-auth one. */
export const TEST_PG_URL =
  process.env.JOBTRACKER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const START_COMMAND = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

async function query<Row extends Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<Row[]> {
  const client = new Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return (await client.query<Row>(text, values)).rows;
  } finally {
    await client.end().catch(() => {});
  }
}

let reachable: Promise<void> | null = null;

/** Rejects, with what to do about it, when the test database does not answer. Checked once a process. */
export function requireTestDatabase(): Promise<void> {
  reachable ??= query('SELECT 1').then(
    () => {},
    (error: unknown) => {
      throw new Error(
        `PostgreSQL is not reachable at ${TEST_PG_URL} (${error instanceof Error ? error.message : String(error)}). ` +
          'Point JOBTRACKER_TEST_PG_URL at a PostgreSQL 15+ database, or start the local one with: ' +
          START_COMMAND,
        { cause: error },
      );
    },
  );
  return reachable;
}

/** A fresh schema on the test database for one test's stores or servers. */
export interface TestSchema {
  url: string;
  schema: string;
  /** The `JOBTRACKER_DB` URL naming the schema (`?schema=`). */
  db: string;
  /** Removes the schema and everything in it. */
  drop(): Promise<void>;
  /** The backends of the instances' change-feed listeners on this schema, as `pg_stat_activity` shows them. */
  listenerPids(): Promise<number[]>;
}

/** A fresh schema name on the test database (a store's `migrate()` creates the schema). */
export async function openTestSchema(): Promise<TestSchema> {
  await requireTestDatabase();
  const schema = `jt_test_${randomBytes(8).toString('hex')}`;
  const db = new URL(TEST_PG_URL);
  db.searchParams.set('schema', schema);
  return {
    url: TEST_PG_URL,
    schema,
    db: db.toString(),
    drop: async () => {
      await query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    },
    listenerPids: async () =>
      (
        await query<{ pid: number }>(
          "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query ILIKE '%' || $2 || '%' ORDER BY pid",
          [FEED_APPLICATION_NAME, schema],
        )
      ).map((row) => row.pid),
  };
}
