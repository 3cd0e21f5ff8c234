import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { and, asc, desc, eq, getTableColumns, gt, inArray, lt, lte, max, type SQL, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool } from 'pg';
import type { JobRecord } from '../../jobs/job-record.js';
import type {
  ChangeFeed,
  IdempotencyRecord,
  JobFilter,
  JobStore,
  StoredEvent,
  StoreTransaction,
} from '../store.js';
import { PgChangeFeed } from './pg-feed.js';
import * as schema from './schema.js';

const { jobs, jobEvents, idempotencyKeys, meta, eventSequence } = schema;
type Db = NodePgDatabase<typeof schema>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];
type JobRow = typeof jobs.$inferSelect;

const WATERMARK = 'event_log_watermark';
const MIGRATIONS = fileURLToPath(new URL('../../../drizzle/pg', import.meta.url));
/** Serialises migrations of every process on the database (`pg_advisory_lock` takes a bigint). */
const MIGRATION_LOCK = '7301598324461207553';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const CHANNEL = 'jobtracker_events';
const MAX_IDENTIFIER_LENGTH = 63;
const EVENTS_PER_INSERT = 500;
const UPDATES_PER_STATEMENT = 500;

export interface PgStoreOptions {
  /**
   * `postgres://user:password@host:5432/database`. An `options` parameter in it would replace the
   * `search_path` this store sets.
   */
  url: string;
  /** The schema holding the tables and the migrations table; created by `migrate()`. Default `public`. */
  schema?: string;
  /** Pooled connections, the change feed's listener not included. Default 10. */
  poolSize?: number;
  /** Where errors nobody awaits go (the change feed's lost connection, an idle pooled connection's). */
  onError?: (error: unknown) => void;
}

const reportError = (error: unknown) => console.error('[jobtracker] PostgreSQL:', error);

const parseJson = <T>(text: string | null): T | null => (text === null ? null : (JSON.parse(text) as T));
const toJson = (value: unknown) => (value === null || value === undefined ? null : JSON.stringify(value));

function fromRow(row: JobRow): JobRecord {
  return {
    ...row,
    input: parseJson(row.input),
    result: parseJson(row.result),
    error: parseJson(row.error),
  };
}

function toRow(job: JobRecord): JobRow {
  return {
    ...job,
    input: toJson(job.input),
    result: toJson(job.result),
    error: toJson(job.error),
  };
}

const isUniqueViolation = (error: unknown) => {
  const codeOf = (value: unknown) => (value as { code?: unknown } | null | undefined)?.code;
  return codeOf(error) === '23505' || codeOf((error as { cause?: unknown }).cause) === '23505';
};

/** The notification channel of a schema: one per schema, hashed when the name would pass 63 characters. */
export function channelOf(schemaName: string): string {
  if (schemaName === 'public') return CHANNEL;
  const channel = `${CHANNEL}_${schemaName}`;
  if (channel.length <= MAX_IDENTIFIER_LENGTH) return channel;
  const hash = createHash('sha256').update(schemaName).digest('hex').slice(0, 8);
  return `${channel.slice(0, MAX_IDENTIFIER_LENGTH - hash.length - 1)}_${hash}`;
}

// The progress flush writes up to UPDATES_PER_STATEMENT rows in one statement (one round trip) joined
// to a VALUES list, each value cast to its column's type.
const jobColumns = Object.entries(getTableColumns(jobs));
const BULK_COLUMNS = sql.raw(
  ['"expected_version"', ...jobColumns.map(([, column]) => `"${column.name}"`)].join(', '),
);
const BULK_SET = sql.raw(
  jobColumns
    .filter(([key]) => key !== 'id')
    .map(([, column]) => `"${column.name}" = "v"."${column.name}"`)
    .join(', '),
);
function bulkUpdate(updates: readonly { job: JobRecord; expectedVersion: number }[]): SQL {
  const rows = updates.map(({ job, expectedVersion }) => {
    const row = toRow(job) as Record<string, unknown>;
    const values = jobColumns.map(
      ([key, column]) => sql`${column.mapToDriverValue(row[key] ?? null)}::${sql.raw(column.getSQLType())}`,
    );
    return sql`(${sql.join([sql`${expectedVersion}::integer`, ...values], sql`, `)})`;
  });
  return sql`UPDATE "jobs" SET ${BULK_SET} FROM (VALUES ${sql.join(rows, sql`, `)}) AS "v" (${BULK_COLUMNS})
    WHERE "jobs"."id" = "v"."id" AND "jobs"."version" = "v"."expected_version" RETURNING "jobs"."id"`;
}

function transactionOf(tx: Tx, channel: string): StoreTransaction {
  const writeJob = async (job: JobRecord, expectedVersion: number) => {
    const { id: _id, ...fields } = toRow(job);
    const rows = await tx
      .update(jobs)
      .set(fields)
      .where(and(eq(jobs.id, job.id), eq(jobs.version, expectedVersion)))
      .returning({ id: jobs.id });
    return rows.length === 1;
  };
  const store: StoreTransaction = {
    async insertJob(job) {
      const rows = await tx.insert(jobs).values(toRow(job)).onConflictDoNothing().returning({ id: jobs.id });
      return rows.length === 1;
    },
    async updateJob(job, expectedVersion) {
      // Only a job with an active key can break the unique index, and a failed statement would abort the
      // whole transaction: those go through a savepoint.
      if (job.activeKey === null) return writeJob(job, expectedVersion);
      try {
        return await tx.transaction(() => writeJob(job, expectedVersion));
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async updateJobs(updates) {
      const moved: string[] = [];
      for (let start = 0; start < updates.length; start += UPDATES_PER_STATEMENT) {
        const chunk = updates.slice(start, start + UPDATES_PER_STATEMENT);
        const ids = chunk.map(({ job }) => job.id);
        // One statement for the chunk; row by row (in order) when an id repeats or a row breaks the index.
        if (new Set(ids).size === ids.length) {
          try {
            const result = await tx.transaction((savepoint) =>
              savepoint.execute<{ id: string }>(bulkUpdate(chunk)),
            );
            const written = new Set(result.rows.map((row) => row.id));
            moved.push(...ids.filter((id) => !written.has(id)));
            continue;
          } catch (error) {
            if (!isUniqueViolation(error)) throw error;
          }
        }
        for (const { job, expectedVersion } of chunk) {
          if (!(await store.updateJob(job, expectedVersion))) moved.push(job.id);
        }
      }
      return moved;
    },
    async appendEvents(events) {
      if (events.length === 0) return;
      // The row lock taken here is held until commit, so cursors rise in commit order.
      const { rows } = await tx.execute<{ value: string }>(sql`
        UPDATE ${eventSequence}
        SET "value" = GREATEST("value" + ${events.length}, (extract(epoch from clock_timestamp()) * 1000000)::bigint)
        WHERE "id" = 1 RETURNING "value"`);
      const last = rows[0];
      if (!last) throw new Error('The event_sequence row is missing: run migrate().');
      const highest = Number(last.value);
      const first = highest - events.length + 1;
      for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
        const chunk = events.slice(start, start + EVENTS_PER_INSERT);
        await tx.insert(jobEvents).values(chunk.map((event, i) => ({ ...event, cursor: first + start + i })));
      }
      await tx.execute(sql`SELECT pg_notify(${channel}, ${String(highest)})`);
    },
    async lockJob(id) {
      const [row] = await tx.select().from(jobs).where(eq(jobs.id, id)).for('update');
      return row ? fromRow(row) : null;
    },
    async lockNextPending(types) {
      if (types.length === 0) return null;
      const [row] = await tx
        .select()
        .from(jobs)
        .where(and(eq(jobs.status, 'pending'), inArray(jobs.type, [...types])))
        .orderBy(asc(jobs.createdAt), asc(jobs.id))
        .limit(1)
        .for('update', { skipLocked: true });
      return row ? fromRow(row) : null;
    },
    async insertIdempotencyKey(record) {
      const rows = await tx
        .insert(idempotencyKeys)
        .values(record)
        .onConflictDoNothing()
        .returning({ key: idempotencyKeys.key });
      return rows.length === 1;
    },
  };
  return store;
}

/**
 * The shared database for several API processes: PostgreSQL through node-postgres. The store hands
 * out event cursors in commit order and announces each commit on a `LISTEN`/`NOTIFY` channel, which
 * `feed` follows.
 */
export class PgStore implements JobStore {
  readonly dialect = 'postgres';
  readonly feed: ChangeFeed;
  readonly pool: Pool;
  readonly db: Db;
  /** The schema holding the tables. */
  readonly schema: string;
  /** The channel commits are announced on. */
  readonly channel: string;
  readonly #onError: (error: unknown) => void;
  #closing: Promise<void> | null = null;

  constructor(options: PgStoreOptions) {
    const schemaName = options.schema ?? 'public';
    if (!SCHEMA_NAME.test(schemaName)) {
      throw new Error(
        `Invalid PostgreSQL schema name ${JSON.stringify(schemaName)}: use 1 to 63 lowercase letters, digits or underscores, not starting with a digit.`,
      );
    }
    this.schema = schemaName;
    this.channel = channelOf(schemaName);
    const report = options.onError ?? reportError;
    this.#onError = (error) => {
      try {
        report(error);
      } catch {
        // A reporter that throws would crash the process from an event handler: there is nowhere left.
      }
    };
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: `-c search_path=${schemaName}`,
      application_name: 'jobtracker',
    });
    // An idle pooled connection that drops emits 'error' on the pool; the pool replaces it.
    this.pool.on('error', (error) => this.#onError(error));
    this.db = drizzle({ client: this.pool, schema });
    this.feed = new PgChangeFeed({ url: options.url, channel: this.channel, onError: this.#onError });
  }

  /** Creates the schema and applies pending migrations; processes migrating at once take turns. */
  async migrate(): Promise<void> {
    const client = await this.pool.connect();
    let failed = false;
    try {
      await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
      await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS, migrationsSchema: this.schema });
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    } catch (error) {
      failed = true;
      throw error;
    } finally {
      // The advisory lock belongs to the session: after a failure the connection is closed, which drops it.
      client.release(failed);
    }
  }

  async transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    const failure: { error?: unknown } = {};
    try {
      return await this.db.transaction(
        async (tx) => {
          try {
            return await work(transactionOf(tx, this.channel));
          } catch (error) {
            failure.error = error;
            throw error;
          }
        },
        { isolationLevel: 'read committed' },
      );
    } catch (error) {
      // A failed rollback (the connection dropped) must not hide what the work threw.
      if (!('error' in failure) || failure.error === error) throw error;
      this.#onError(error);
      throw failure.error;
    }
  }

  async getJob(id: string) {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id));
    return row ? fromRow(row) : null;
  }

  async findActiveByKey(ownerId: string, activeKey: string) {
    const [row] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), eq(jobs.activeKey, activeKey)));
    return row ? fromRow(row) : null;
  }

  async listActiveJobs() {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(inArray(jobs.status, ['pending', 'running']))
      .orderBy(asc(jobs.createdAt), asc(jobs.id));
    return rows.map(fromRow);
  }

  async listJobs(ownerId: string, filter: JobFilter) {
    const where = [eq(jobs.ownerId, ownerId)];
    if (filter.statuses) where.push(inArray(jobs.status, [...filter.statuses]));
    if (filter.type !== undefined) where.push(eq(jobs.type, filter.type));
    if (filter.scope !== undefined) where.push(eq(jobs.scope, filter.scope));
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(...where))
      .orderBy(desc(jobs.createdAt), desc(jobs.id))
      .limit(filter.limit);
    return rows.map(fromRow);
  }

  async getIdempotencyKey(ownerId: string, key: string): Promise<IdempotencyRecord | null> {
    const [row] = await this.db
      .select()
      .from(idempotencyKeys)
      .where(and(eq(idempotencyKeys.ownerId, ownerId), eq(idempotencyKeys.key, key)));
    return row ?? null;
  }

  eventsAfter(ownerId: string, after: number, upTo: number, limit: number): Promise<StoredEvent[]> {
    return this.db
      .select()
      .from(jobEvents)
      .where(and(eq(jobEvents.ownerId, ownerId), gt(jobEvents.cursor, after), lte(jobEvents.cursor, upTo)))
      .orderBy(asc(jobEvents.cursor))
      .limit(limit);
  }

  eventsAfterAll(after: number, limit: number): Promise<StoredEvent[]> {
    return this.db
      .select()
      .from(jobEvents)
      .where(gt(jobEvents.cursor, after))
      .orderBy(asc(jobEvents.cursor))
      .limit(limit);
  }

  async listExpiredLeases(now: number, limit: number) {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.status, 'running'), lte(jobs.leaseExpiresAt, now)))
      .orderBy(asc(jobs.leaseExpiresAt), asc(jobs.id))
      .limit(limit);
    return rows.map(fromRow);
  }

  async maxCursor() {
    const [row] = await this.db.select({ cursor: max(jobEvents.cursor) }).from(jobEvents);
    return row?.cursor ?? 0;
  }

  async ownerMaxCursor(ownerId: string) {
    const [row] = await this.db
      .select({ cursor: max(jobEvents.cursor) })
      .from(jobEvents)
      .where(eq(jobEvents.ownerId, ownerId));
    return row?.cursor ?? 0;
  }

  pruneEvents(before: number) {
    return this.db.transaction(async (tx) => {
      const { rows } = await tx.execute<{ highest: string | null }>(sql`
        WITH "deleted" AS (DELETE FROM ${jobEvents} WHERE ${lt(jobEvents.createdAt, before)} RETURNING "cursor")
        SELECT max("cursor")::text AS "highest" FROM "deleted"`);
      const highest = rows[0]?.highest;
      if (highest !== null && highest !== undefined) {
        await tx
          .insert(meta)
          .values({ key: WATERMARK, value: highest })
          .onConflictDoUpdate({
            target: meta.key,
            set: { value: sql`GREATEST("meta"."value"::bigint, excluded."value"::bigint)::text` },
          });
      }
      const [row] = await tx.select().from(meta).where(eq(meta.key, WATERMARK));
      return Number(row?.value ?? 0);
    });
  }

  async pruneWatermark() {
    const [row] = await this.db.select().from(meta).where(eq(meta.key, WATERMARK));
    return Number(row?.value ?? 0);
  }

  async deleteIdempotencyKeys(before: number) {
    await this.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before));
  }

  /** Stops the feed and closes every connection; later calls wait for the first. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      await this.feed.stop();
      await this.pool.end();
    })();
    return this.#closing;
  }
}
