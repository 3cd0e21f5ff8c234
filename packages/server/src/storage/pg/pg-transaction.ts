import { getTableColumns } from 'drizzle-orm';
import type { PoolClient, QueryConfig } from 'pg';
import type { JobRecord } from '../../jobs/job-record.js';
import { type JobRow, jobFromRow, jobToRow } from '../job-row.js';
import type { StoredEvent, StoreTransaction } from '../store.js';
import { jobs } from './schema.js';

// The write path runs as SQL text, prepared once per connection (named statements). Each change is a
// transaction of a few statements, and drizzle's query builder cost more CPU than PostgreSQL took to
// run them (measured: 38% of the server's profile). Column lists come from the drizzle schema, which
// stays the one definition of the tables.

type DriverRow = Record<string, unknown>;
const jobColumns = Object.entries(getTableColumns(jobs));
const columnList = jobColumns.map(([, column]) => `"${column.name}"`).join(', ');
const placeholder = (key: string) => `$${jobColumns.findIndex(([name]) => name === key) + 1}`;
const VERSION_PARAM = `$${jobColumns.length + 1}`;

const statement = (name: string, text: string) => ({ name: `jobtracker_${name}`, text });
const ROWS_PER_UPDATE = 1000;

const LOCK_JOB = statement('lock_job', `SELECT ${columnList} FROM "jobs" WHERE "id" = $1 FOR UPDATE`);
const LOCK_JOBS = statement(
  'lock_jobs',
  `SELECT ${columnList} FROM "jobs" WHERE "id" = ANY($1::text[]) ORDER BY "id" FOR UPDATE`,
);
// Many rows in one statement: one array per column, rows joined by position. Rows whose version moved
// or whose active key another row holds are left as they are, like UPDATE_JOB.
const UPDATE_JOBS = statement(
  'update_jobs',
  `UPDATE "jobs" SET ${jobColumns
    .filter(([key]) => key !== 'id')
    .map(([, column]) => `"${column.name}" = "v"."${column.name}"`)
    .join(', ')}
   FROM unnest(${jobColumns.map(([, column], i) => `$${i + 1}::${column.getSQLType()}[]`).join(', ')}, ${VERSION_PARAM}::integer[])
     AS "v" (${columnList}, "expected_version")
   WHERE "jobs"."id" = "v"."id" AND "jobs"."version" = "v"."expected_version"
     AND ("v"."active_key" IS NULL OR NOT EXISTS (
       SELECT 1 FROM "jobs" AS "other" WHERE "other"."owner_id" = "v"."owner_id"
         AND "other"."active_key" = "v"."active_key" AND "other"."id" <> "v"."id"))
   RETURNING "jobs"."id"`,
);
const LOCK_NEXT_PENDING = statement(
  'lock_next_pending',
  `SELECT ${columnList} FROM "jobs" WHERE "status" = 'pending' AND "type" = ANY($1::text[])
     AND "report_token" IS NULL
   ORDER BY "created_at", "id" LIMIT 1 FOR UPDATE SKIP LOCKED`,
);
const INSERT_JOB = statement(
  'insert_job',
  `INSERT INTO "jobs" (${columnList}) VALUES (${jobColumns.map((_, i) => `$${i + 1}`).join(', ')})
   ON CONFLICT DO NOTHING RETURNING "id"`,
);
// The NOT EXISTS leaves a row that would break the active-key index as it is (false), instead of
// failing the statement, which in PostgreSQL would abort the whole transaction.
const UPDATE_JOB = statement(
  'update_job',
  `UPDATE "jobs" SET ${jobColumns
    .filter(([key]) => key !== 'id')
    .map(([key, column]) => `"${column.name}" = ${placeholder(key)}`)
    .join(', ')}
   WHERE "id" = ${placeholder('id')} AND "version" = ${VERSION_PARAM}
     AND (${placeholder('activeKey')}::text IS NULL OR NOT EXISTS (
       SELECT 1 FROM "jobs" AS "other" WHERE "other"."owner_id" = ${placeholder('ownerId')}
         AND "other"."active_key" = ${placeholder('activeKey')} AND "other"."id" <> ${placeholder('id')}))
   RETURNING "id"`,
);
// One statement takes the next cursors, appends the events and queues the notification: the counter
// row's lock, held until commit so that cursors rise in commit order, is then held for two round trips.
const APPEND_EVENTS = statement(
  'append_events',
  `WITH "next" AS (
     UPDATE "event_sequence"
     SET "value" = GREATEST("value" + $1, (extract(epoch from clock_timestamp()) * 1000000)::bigint)
     WHERE "id" = 1 RETURNING "value"
   ), "appended" AS (
     INSERT INTO "job_events" ("cursor", "owner_id", "job_id", "version", "data", "created_at", "progress_from", "coalesced_from")
     SELECT "next"."value" - $1 + "e"."position", "e"."owner_id", "e"."job_id", "e"."version", "e"."data", "e"."created_at",
       "e"."progress_from", "e"."coalesced_from"
     FROM "next", unnest($2::text[], $3::text[], $4::integer[], $5::text[], $6::bigint[], $8::integer[], $9::bigint[])
       WITH ORDINALITY AS "e" ("owner_id", "job_id", "version", "data", "created_at", "progress_from", "coalesced_from", "position")
   )
   SELECT "value"::text AS "highest", pg_notify($7, "value"::text) FROM "next"`,
);
const INSERT_IDEMPOTENCY_KEY = statement(
  'insert_idempotency_key',
  `INSERT INTO "idempotency_keys" ("owner_id", "key", "request_hash", "job_id", "created_at")
   VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING "key"`,
);
const EVENTS_AFTER_ALL = statement(
  'events_after_all',
  `SELECT "cursor"::text AS "cursor", "owner_id", "job_id", "version", "data", "created_at"::text AS "created_at",
     "progress_from", "coalesced_from"::text AS "coalesced_from"
   FROM "job_events" WHERE "cursor" > $1 ORDER BY "cursor" LIMIT $2`,
);

/** A `jobs` row as node-postgres returns it (bigint as text) to a record. */
export function jobFromDriver(row: DriverRow): JobRecord {
  const mapped: Record<string, unknown> = {};
  for (const [key, column] of jobColumns) {
    const value = row[column.name] ?? null;
    mapped[key] = value === null ? null : column.mapFromDriverValue(value);
  }
  return jobFromRow(mapped as JobRow);
}

function jobToDriver(job: JobRecord): unknown[] {
  const row = jobToRow(job) as unknown as Record<string, unknown>;
  return jobColumns.map(([key, column]) => {
    const value = row[key] ?? null;
    return value === null ? null : column.mapToDriverValue(value);
  });
}

const eventFromDriver = (row: DriverRow): StoredEvent => ({
  cursor: Number(row.cursor),
  ownerId: row.owner_id as string,
  jobId: row.job_id as string,
  version: row.version as number,
  data: row.data as string,
  createdAt: Number(row.created_at),
  progressFrom: (row.progress_from as number | null) ?? null,
  coalescedFrom:
    row.coalesced_from === null || row.coalesced_from === undefined ? null : Number(row.coalesced_from),
});

const run = (client: PoolClient, query: { name: string; text: string }, values: unknown[]) =>
  client.query<DriverRow>({ ...query, values } satisfies QueryConfig);

/** Events of every owner after `after`, oldest first: the feed reader's query. */
export async function eventsAfterAll(
  client: PoolClient,
  after: number,
  limit: number,
): Promise<StoredEvent[]> {
  const { rows } = await run(client, EVENTS_AFTER_ALL, [after, limit]);
  return rows.map(eventFromDriver);
}

/** The store's writes on one connection inside `BEGIN … COMMIT`. */
export function pgTransaction(client: PoolClient, channel: string): StoreTransaction {
  const updateJob = async (job: JobRecord, expectedVersion: number) => {
    const { rowCount } = await run(client, UPDATE_JOB, [...jobToDriver(job), expectedVersion]);
    return rowCount === 1;
  };
  return {
    async insertJob(job) {
      const { rowCount } = await run(client, INSERT_JOB, jobToDriver(job));
      return rowCount === 1;
    },
    updateJob,
    async updateJobs(updates) {
      const ids = updates.map(({ job }) => job.id);
      if (new Set(ids).size !== ids.length) {
        // A row named twice is written in order, one statement each.
        const moved: string[] = [];
        for (const { job, expectedVersion } of updates) {
          if (!(await updateJob(job, expectedVersion))) moved.push(job.id);
        }
        return moved;
      }
      const moved = new Set(ids);
      for (let start = 0; start < updates.length; start += ROWS_PER_UPDATE) {
        const chunk = updates.slice(start, start + ROWS_PER_UPDATE);
        const rows = chunk.map(({ job }) => jobToDriver(job));
        const columns = jobColumns.map((_, column) => rows.map((row) => row[column]));
        const { rows: written } = await run(client, UPDATE_JOBS, [
          ...columns,
          chunk.map(({ expectedVersion }) => expectedVersion),
        ]);
        for (const row of written) moved.delete(row.id as string);
      }
      return [...moved];
    },
    async appendEvents(events) {
      if (events.length === 0) return;
      const { rows } = await run(client, APPEND_EVENTS, [
        events.length,
        events.map((event) => event.ownerId),
        events.map((event) => event.jobId),
        events.map((event) => event.version),
        events.map((event) => event.data),
        events.map((event) => event.createdAt),
        channel,
        events.map((event) => event.progressFrom),
        events.map((event) => event.coalescedFrom),
      ]);
      if (rows.length !== 1) throw new Error('The event_sequence row is missing: run migrate().');
    },
    async lockJob(id) {
      const { rows } = await run(client, LOCK_JOB, [id]);
      return rows[0] ? jobFromDriver(rows[0]) : null;
    },
    async lockJobs(ids) {
      if (ids.length === 0) return [];
      const { rows } = await run(client, LOCK_JOBS, [[...ids]]);
      return rows.map(jobFromDriver);
    },
    async lockNextPending(types) {
      if (types.length === 0) return null;
      const { rows } = await run(client, LOCK_NEXT_PENDING, [[...types]]);
      return rows[0] ? jobFromDriver(rows[0]) : null;
    },
    async insertIdempotencyKey(record) {
      const { rowCount } = await run(client, INSERT_IDEMPOTENCY_KEY, [
        record.ownerId,
        record.key,
        record.requestHash,
        record.jobId,
        record.createdAt,
      ]);
      return rowCount === 1;
    },
  };
}
