import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ACTIVE_STATUSES } from '@jobtracker/sdk/wire';
import { and, asc, eq, gt, inArray, isNotNull, lt, lte, max, sql } from 'drizzle-orm';
import { drizzle, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { Pool, type PoolClient } from 'pg';
import { listedJobs, newestFirst } from '../job-query.js';
import { jobFromRow } from '../job-row.js';
import type {
  ChangeFeed,
  IdempotencyRecord,
  JobFilter,
  JobStore,
  StoredEvent,
  StoreTransaction,
} from '../store.js';
import { PgChangeFeed } from './pg-feed.js';
import { eventsAfterAll, pgTransaction } from './pg-transaction.js';
import * as schema from './schema.js';

const { jobs, jobEvents, idempotencyKeys, meta } = schema;
type Db = NodePgDatabase<typeof schema>;

const WATERMARK = 'event_log_watermark';
const MIGRATIONS = fileURLToPath(new URL('../../../drizzle/pg', import.meta.url));
/** Serialises migrations of every process on the database (`pg_advisory_lock` takes a bigint). */
const MIGRATION_LOCK = '7301598324461207553';
const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const CHANNEL = 'jobtracker_events';
const MAX_IDENTIFIER_LENGTH = 63;
const CONNECT_TIMEOUT_MS = 5000;

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

// Connection exceptions (class 08), a server shutting down or starting (57P01–57P03), too many
// connections (53300); and what node and node-postgres say when the socket itself fails.
const UNAVAILABLE_STATES = /^(08...|57P0[123]|53300)$/;
const UNAVAILABLE_SOCKET = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);
const UNAVAILABLE_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error/;

/** Whether a node-postgres error says the database is out of reach rather than the query wrong. */
export function isPgUnavailable(error: unknown): boolean {
  for (let cause = error, depth = 0; cause instanceof Error && depth < 5; depth++) {
    const code = (cause as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_STATES.test(code) || UNAVAILABLE_SOCKET.has(code)))
      return true;
    if (UNAVAILABLE_MESSAGE.test(cause.message)) return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

const reportError = (error: unknown) => console.error('[jobtracker] PostgreSQL:', error);

/** The notification channel of a schema: one per schema, hashed when the name would pass 63 characters. */
export function channelOf(schemaName: string): string {
  if (schemaName === 'public') return CHANNEL;
  const channel = `${CHANNEL}_${schemaName}`;
  if (channel.length <= MAX_IDENTIFIER_LENGTH) return channel;
  const hash = createHash('sha256').update(schemaName).digest('hex').slice(0, 8);
  return `${channel.slice(0, MAX_IDENTIFIER_LENGTH - hash.length - 1)}_${hash}`;
}

/**
 * The shared database for several API processes: PostgreSQL through node-postgres. The store hands
 * out event cursors in commit order and announces each commit on a `LISTEN`/`NOTIFY` channel, which
 * `feed` follows.
 */
export class PgStore implements JobStore {
  readonly dialect = 'postgres';
  readonly feed: ChangeFeed;
  /** @internal The connection pool; not part of the public types. */
  readonly pool: Pool;
  /** @internal drizzle over `pool`; not part of the public types. */
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
      // A database behind a dropped network would otherwise hold each request until TCP gives up.
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      keepAlive: true,
    });
    // An idle pooled connection that drops emits 'error' on the pool; the pool replaces it.
    this.pool.on('error', (error) => this.#onError(error));
    this.db = drizzle({ client: this.pool, schema });
    this.feed = new PgChangeFeed({ url: options.url, channel: this.channel, onError: this.#onError });
  }

  isUnavailable(error: unknown): boolean {
    return isPgUnavailable(error);
  }

  /** Creates the schema and applies pending migrations; processes migrating at once take turns. */
  async migrate(): Promise<void> {
    await this.#withClient(async (client, discard) => {
      try {
        await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${this.schema}"`);
        await migrate(drizzle({ client }), { migrationsFolder: MIGRATIONS, migrationsSchema: this.schema });
        await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
      } catch (error) {
        // The advisory lock belongs to the session: closing the connection drops it.
        discard();
        throw error;
      }
    });
  }

  /**
   * Lends a pooled connection to `work`. A connection that breaks while lent emits 'error', which
   * node-postgres leaves to the borrower (unheard, it would end the process); the query in flight
   * fails anyway, so the error is only noted and the connection closed instead of pooled.
   */
  async #withClient<T>(work: (client: PoolClient, discard: () => void) => Promise<T>): Promise<T> {
    const client = await this.pool.connect();
    let broken = false;
    const onLost = () => {
      broken = true;
    };
    client.on('error', onLost);
    try {
      return await work(client, onLost);
    } finally {
      client.off('error', onLost);
      client.release(broken);
    }
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#withClient(async (client, discard) => {
      await client.query('BEGIN ISOLATION LEVEL READ COMMITTED');
      try {
        const result = await work(pgTransaction(client, this.channel));
        await client.query('COMMIT');
        return result;
      } catch (error) {
        // A failed rollback (the connection dropped) must not hide what the work threw.
        await client.query('ROLLBACK').catch((rollbackError: unknown) => {
          discard();
          if (!this.isUnavailable(rollbackError)) this.#onError(rollbackError);
        });
        throw error;
      }
    });
  }

  async getJob(id: string) {
    const [row] = await this.db.select().from(jobs).where(eq(jobs.id, id));
    return row ? jobFromRow(row) : null;
  }

  async findActiveByKey(ownerId: string, activeKey: string) {
    const [row] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), eq(jobs.activeKey, activeKey)));
    return row ? jobFromRow(row) : null;
  }

  async findByExternalId(ownerId: string, externalId: string) {
    const [row] = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.ownerId, ownerId), eq(jobs.externalId, externalId)));
    return row ? jobFromRow(row) : null;
  }

  async reportedCancelsAfter(after: number, limit: number) {
    return this.db
      .select({
        cursor: jobEvents.cursor,
        id: jobs.id,
        ownerId: jobs.ownerId,
        externalId: jobs.externalId,
      })
      .from(jobEvents)
      .innerJoin(jobs, eq(jobs.id, jobEvents.jobId))
      .where(
        and(
          gt(jobEvents.cursor, after),
          eq(jobs.status, 'cancelled'),
          isNotNull(jobs.reportToken),
          // The cancel is the job's first event at cancelled: a dismissal changes a cancelled job again.
          sql`(${jobEvents.data})::jsonb ->> 'status' = 'cancelled'`,
          sql`not exists (select 1 from ${jobEvents} as earlier where earlier.job_id = ${jobEvents.jobId} and earlier.version < ${jobEvents.version} and (earlier.data)::jsonb ->> 'status' = 'cancelled')`,
        ),
      )
      .orderBy(asc(jobEvents.cursor))
      .limit(limit);
  }

  async listActiveJobs() {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(inArray(jobs.status, [...ACTIVE_STATUSES]))
      .orderBy(asc(jobs.createdAt), asc(jobs.id));
    return rows.map(jobFromRow);
  }

  async listJobs(ownerId: string, filter: JobFilter) {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(listedJobs(jobs, ownerId, filter))
      .orderBy(...newestFirst(jobs))
      .limit(filter.limit);
    return rows.map(jobFromRow);
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
    return this.#withClient((client) => eventsAfterAll(client, after, limit));
  }

  async listExpiredLeases(now: number, limit: number) {
    const rows = await this.db
      .select()
      .from(jobs)
      .where(and(eq(jobs.status, 'running'), lte(jobs.leaseExpiresAt, now)))
      .orderBy(asc(jobs.leaseExpiresAt), asc(jobs.id))
      .limit(limit);
    return rows.map(jobFromRow);
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

  /** One statement, so atomic: deletes, raises the watermark to the highest deleted cursor, answers it. */
  async pruneEvents(before: number) {
    const { rows } = await this.db.execute<{ watermark: string }>(sql`
      WITH "deleted" AS (DELETE FROM ${jobEvents} WHERE ${lt(jobEvents.createdAt, before)} RETURNING "cursor"),
      "highest" AS (SELECT max("cursor") AS "value" FROM "deleted"),
      "raised" AS (
        INSERT INTO ${meta} ("key", "value") SELECT ${WATERMARK}, "value"::text FROM "highest" WHERE "value" IS NOT NULL
        ON CONFLICT ("key") DO UPDATE SET "value" = GREATEST("meta"."value"::bigint, excluded."value"::bigint)::text
        RETURNING "value"
      )
      SELECT COALESCE((SELECT "value" FROM "raised"), (SELECT "value" FROM ${meta} WHERE "key" = ${WATERMARK}), '0') AS "watermark"`);
    return Number(rows[0]?.watermark ?? 0);
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
