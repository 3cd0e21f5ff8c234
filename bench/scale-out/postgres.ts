import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { procCpuMs, sleep } from '../lib/sse-harness.js';
import { PG_URL, START_PG, type ThroughputTally } from './config.js';

/** CPU of every `postgres` process (postmaster, backends, WAL writer…) by pid, ms. */
export function postgresCpuByPid(): Map<number, number> {
  const byPid = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() !== 'postgres') continue;
      byPid.set(Number(entry), procCpuMs(Number(entry)));
    } catch {
      // exited meanwhile
    }
  }
  return byPid;
}

export function postgresCpuSince(before: Map<number, number>): number {
  let total = 0;
  for (const [pid, ms] of postgresCpuByPid()) total += ms - (before.get(pid) ?? 0);
  return total;
}

export async function withPg<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  try {
    await client.connect();
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

export async function requirePostgres(): Promise<string> {
  try {
    return await withPg(async (client) => {
      const { rows } = await client.query<{ version: string; fsync: string; sync: string }>(
        "SELECT current_setting('server_version') AS version, current_setting('fsync') AS fsync, " +
          "current_setting('synchronous_commit') AS sync",
      );
      const row = rows[0];
      return `PostgreSQL ${row?.version} (fsync ${row?.fsync}, synchronous_commit ${row?.sync})`;
    });
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${PG_URL} (${error instanceof Error ? error.message : String(error)}). ` +
        `Start the local one with: ${START_PG} (or point BENCH_SCALE_PG_URL at a PostgreSQL 15+ database).`,
    );
  }
}

/** The servers' URL: their connections carry the schema's name, to find them in pg_stat_activity. */
export function schemaUrl(schema: string): string {
  const url = new URL(PG_URL);
  url.searchParams.set('schema', schema);
  url.searchParams.set('application_name', schema);
  return url.toString();
}

export const dropSchema = (schema: string) =>
  withPg((client) => client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));

/**
 * Drops the schemas of interrupted runs (an interrupt leaves through process.exit, with no time to drop
 * them): the jt_bench_ schemas no connection names, so never those of a run still going.
 */
export async function dropStaleSchemas(): Promise<string[]> {
  const { rows } = await withPg((client) =>
    client.query<{ name: string }>(
      `SELECT nspname AS name FROM pg_namespace
        WHERE nspname LIKE 'jt\\_bench\\_%'
          AND nspname NOT IN (SELECT application_name FROM pg_stat_activity)`,
    ),
  );
  for (const { name } of rows) await dropSchema(name);
  return rows.map((row) => row.name);
}

/**
 * Samples what the set-up's busy PostgreSQL connections are doing (pg_stat_activity, every 25 ms) until
 * `stop()`: per state (a wait event, `running`, `idle in transaction`), the connections summed over samples.
 */
export function sampleBackends(applicationName: string): {
  stop: () => Promise<{ totals: Map<string, number>; samples: number }>;
} {
  const client = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  client.on('error', () => {});
  const totals = new Map<string, number>();
  let samples = 0;
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ what: string; count: number }>(
        `SELECT CASE WHEN state = 'active' THEN coalesce(wait_event_type || ':' || wait_event, 'running')
                     ELSE state END AS what, count(*)::int AS count
           FROM pg_stat_activity
          WHERE application_name = $1 AND state <> 'idle' AND pid <> pg_backend_pid()
          GROUP BY 1`,
        [applicationName],
      );
      samples++;
      for (const row of rows) totals.set(row.what, (totals.get(row.what) ?? 0) + row.count);
      await sleep(25);
    }
  })().finally(() => client.end().catch(() => {}));
  return {
    stop: async () => {
      running = false;
      await done;
      return { totals, samples };
    },
  };
}

/** Mean connections per state, busiest first. */
export function meanBackends(tally: ThroughputTally): [string, number][] {
  return [...tally.backendTotals.entries()]
    .map(([what, count]) => [what, count / Math.max(1, tally.backendSamples)] as [string, number])
    .sort((x, y) => y[1] - x[1]);
}

export const backendsMatching = (tally: ThroughputTally, match: (what: string) => boolean) =>
  meanBackends(tally).reduce((sum, [what, count]) => (match(what) ? sum + count : sum), 0);
