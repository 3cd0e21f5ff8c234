import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

/** The PostgreSQL database the tests use: `JOBTRACKER_TEST_PG_URL`, else the local trust-auth one. */
export const TEST_PG_URL =
  process.env.JOBTRACKER_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

const START_COMMAND = 'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start';

async function query(text: string): Promise<void> {
  const client = new Client({ connectionString: TEST_PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query(text);
  } finally {
    await client.end().catch(() => {});
  }
}

let reachable: Promise<void> | null = null;

/** Rejects, with what to do about it, when the test database does not answer. Checked once a process. */
export function requireTestDatabase(): Promise<void> {
  reachable ??= query('SELECT 1').catch((error: unknown) => {
    throw new Error(
      `PostgreSQL is not reachable at ${TEST_PG_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        'Point JOBTRACKER_TEST_PG_URL at a PostgreSQL 15+ database, or start the local one with: ' +
        START_COMMAND,
      { cause: error },
    );
  });
  return reachable;
}

/**
 * A fresh schema name on the test database, for one test's store (its `migrate()` creates the schema);
 * `drop()` removes the schema and everything in it.
 */
export async function openTestSchema(): Promise<{ url: string; schema: string; drop(): Promise<void> }> {
  await requireTestDatabase();
  const schema = `jt_test_${randomBytes(8).toString('hex')}`;
  return { url: TEST_PG_URL, schema, drop: () => query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
}
