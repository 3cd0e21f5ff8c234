import { fileURLToPath } from 'node:url';
import { ACTIVE_STATUSES } from '@jobtracker/sdk/wire';
import { type Client, createClient, type Transaction } from '@libsql/client';
import {
  and,
  asc,
  eq,
  getTableColumns,
  gt,
  inArray,
  isNotNull,
  isNull,
  lt,
  lte,
  max,
  type SQL,
  sql,
} from 'drizzle-orm';
import { drizzle, type LibSQLDatabase } from 'drizzle-orm/libsql';
import { migrate } from 'drizzle-orm/libsql/migrator';
import Database from 'libsql';
import type { JobRecord } from '../../jobs/job-record.js';
import { Mutex } from '../../util/mutex.js';
import { listedJobs, newestFirst } from '../job-query.js';
import { jobFromRow, jobToRow } from '../job-row.js';
import type { IdempotencyRecord, JobFilter, JobStore, StoredEvent, StoreTransaction } from '../store.js';
import * as schema from './schema.js';

const { jobs, jobEvents, idempotencyKeys, meta } = schema;
type Db = LibSQLDatabase<typeof schema>;
type Tx = Parameters<Parameters<Db['transaction']>[0]>[0];

const WATERMARK = 'event_log_watermark';
const MIGRATIONS = fileURLToPath(new URL('../../../drizzle/sqlite', import.meta.url));

export interface SqliteStoreOptions {
  /** `file:./data/jobtracker.db` or `:memory:`. */
  url: string;
  /** How long a statement waits for a lock held by another connection, in ms. */
  busyTimeoutMs?: number;
}

const isUniqueViolation = (error: unknown) =>
  /UNIQUE constraint failed|SQLITE_CONSTRAINT/.test(String((error as { cause?: unknown }).cause ?? error));

// The write paths of the progress flush run as SQL text prepared once: drizzle's query builder costs
// about 250 µs a statement for a row this wide (measured), ten times what SQLite needs to run it.
type Value = string | number | null;
const jobColumns = Object.entries(getTableColumns(jobs)).filter(([key]) => key !== 'id');
const UPDATE_JOB = `UPDATE "jobs" SET ${jobColumns.map(([, column]) => `"${column.name}" = ?`).join(', ')} WHERE "id" = ? AND "version" = ?`;
const updateArgs = (job: JobRecord, expectedVersion: number): Value[] => {
  const row = jobToRow(job) as Record<string, unknown>;
  return [
    ...jobColumns.map(([key, column]) => column.mapToDriverValue(row[key] ?? null) as Value),
    job.id,
    expectedVersion,
  ];
};
const eventColumns = Object.entries(getTableColumns(jobEvents));
const EVENT_ROW = `(${eventColumns.map(() => '?').join(', ')})`;
const INSERT_EVENTS = `INSERT INTO "job_events" (${eventColumns.map(([, column]) => `"${column.name}"`).join(', ')}) VALUES `;
const EVENTS_PER_INSERT = 500;
// The driver is synchronous: a flush of thousands of rows written in one go would hold the event loop
// (and every delivery) for a tenth of a second or more. Writes take turns anyway, so yield in between.
const ROWS_BETWEEN_YIELDS = 100;
const yieldToIo = () => new Promise<void>((resolve) => setImmediate(resolve));

// Listings (a stream's snapshot opens one per connection) run on a reading connection of our own with
// statements prepared once: through the client each costs ~300–450 µs of CPU (building the statement,
// preparing it, the client's row objects), a prepared statement's step ~25 µs (measured on this table).
const listedColumns = Object.entries(getTableColumns(jobs));
const LIST_JOBS = `SELECT ${listedColumns.map(([, column]) => `"${column.name}"`).join(', ')} FROM "jobs" WHERE "owner_id" = ?`;
const listSql = (filter: JobFilter) =>
  LIST_JOBS +
  (filter.statuses ? ` AND "status" IN (${filter.statuses.map(() => '?').join(', ')})` : '') +
  (filter.type !== undefined ? ' AND "type" = ?' : '') +
  (filter.scope !== undefined ? ' AND "scope" = ?' : '') +
  (filter.before ? ' AND ("created_at" < ? OR ("created_at" = ? AND "id" < ?))' : '') +
  ' ORDER BY "created_at" DESC, "id" DESC LIMIT ?';
const listArgs = (ownerId: string, filter: JobFilter): Value[] => [
  ownerId,
  ...(filter.statuses ?? []),
  ...(filter.type !== undefined ? [filter.type] : []),
  ...(filter.scope !== undefined ? [filter.scope] : []),
  ...(filter.before ? [filter.before.createdAt, filter.before.createdAt, filter.before.id] : []),
  filter.limit,
];
const listedRow = (row: Record<string, unknown>) =>
  Object.fromEntries(
    listedColumns.map(([key, column]) => {
      const value = row[column.name];
      return [key, value === null || value === undefined ? null : column.mapFromDriverValue(value)];
    }),
  ) as typeof jobs.$inferSelect;

/** The file a `file:` URL names, or null for any other (`:memory:`, URLs with a host). */
function databaseFile(url: string): string | null {
  if (!url.startsWith('file:') || url.startsWith('file::memory:') || url.startsWith('file://')) return null;
  return url.slice('file:'.length).split('?')[0] || null;
}

/**
 * @internal The libsql transaction under drizzle's, for statements prepared as text; null if drizzle
 * changes shape.
 */
export function libsqlOf(tx: Tx): Transaction | null {
  const inner = (tx as unknown as { session?: { tx?: unknown } }).session?.tx;
  return inner && typeof (inner as Transaction).execute === 'function' ? (inner as Transaction) : null;
}

function transactionOf(tx: Tx): StoreTransaction {
  const raw = libsqlOf(tx);
  const store: StoreTransaction = {
    async insertJob(job) {
      const rows = await tx
        .insert(jobs)
        .values(jobToRow(job))
        .onConflictDoNothing()
        .returning({ id: jobs.id });
      return rows.length === 1;
    },
    async updateJob(job, expectedVersion) {
      try {
        if (raw) {
          const result = await raw.execute({ sql: UPDATE_JOB, args: updateArgs(job, expectedVersion) });
          return result.rowsAffected === 1;
        }
        const { id: _id, ...fields } = jobToRow(job);
        const rows = await tx
          .update(jobs)
          .set(fields)
          .where(and(eq(jobs.id, job.id), eq(jobs.version, expectedVersion)))
          .returning({ id: jobs.id });
        return rows.length === 1;
      } catch (error) {
        if (isUniqueViolation(error)) return false;
        throw error;
      }
    },
    async updateJobs(updates) {
      const moved: string[] = [];
      for (const [index, { job, expectedVersion }] of updates.entries()) {
        if (index > 0 && index % ROWS_BETWEEN_YIELDS === 0) await yieldToIo();
        if (!(await store.updateJob(job, expectedVersion))) moved.push(job.id);
      }
      return moved;
    },
    async appendEvents(events) {
      for (let start = 0; start < events.length; start += EVENTS_PER_INSERT) {
        if (start > 0) await yieldToIo();
        const chunk = events.slice(start, start + EVENTS_PER_INSERT);
        if (!raw) {
          await tx.insert(jobEvents).values(chunk);
          continue;
        }
        const args: Value[] = [];
        for (const event of chunk) {
          for (const [key] of eventColumns) args.push(event[key as keyof StoredEvent]);
        }
        await raw.execute({ sql: INSERT_EVENTS + chunk.map(() => EVENT_ROW).join(', '), args });
      }
    },
    async lockJob(id) {
      const row = await tx.select().from(jobs).where(eq(jobs.id, id)).get();
      return row ? jobFromRow(row) : null;
    },
    async lockJobs(ids) {
      if (ids.length === 0) return [];
      const rows = await tx
        .select()
        .from(jobs)
        .where(inArray(jobs.id, [...ids]))
        .orderBy(asc(jobs.id));
      return rows.map(jobFromRow);
    },
    async lockNextPending(types) {
      if (types.length === 0) return null;
      const row = await tx
        .select()
        .from(jobs)
        .where(and(eq(jobs.status, 'pending'), inArray(jobs.type, [...types]), isNull(jobs.reportToken)))
        .orderBy(asc(jobs.createdAt), asc(jobs.id))
        .limit(1)
        .get();
      return row ? jobFromRow(row) : null;
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
 * The embedded default: SQLite through libsql. A `file:` database runs in WAL mode with a busy
 * timeout on every pooled connection; `:memory:` has one connection, so every call takes turns.
 */
export class SqliteStore implements JobStore {
  readonly dialect = 'sqlite';
  /** @internal The libsql client, for the store's own tests; not part of the public types. */
  readonly client: Client;
  /** @internal drizzle over `client`, for the store's own tests; not part of the public types. */
  readonly db: Db;
  readonly #memory: boolean;
  /** Reads and writes of `:memory:` (one connection), writes of a file database. */
  readonly #gate = new Mutex();
  readonly #file: string | null;
  readonly #busyTimeoutMs: number;
  #reader: Database.Database | null = null;
  readonly #listings = new Map<string, Database.Statement<unknown[]>>();

  constructor(options: SqliteStoreOptions) {
    this.#memory = options.url === ':memory:' || options.url === 'file::memory:';
    this.#busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    this.#file = this.#memory ? null : databaseFile(options.url);
    this.client = createClient({ url: options.url, timeout: this.#busyTimeoutMs });
    this.db = drizzle(this.client, { schema });
  }

  /** The statement of a listing shaped like `sql`, prepared on the reading connection the first time. */
  #listing(sql: string): Database.Statement<unknown[]> | null {
    if (this.#file === null) return null;
    let statement = this.#listings.get(sql);
    if (!statement) {
      this.#reader ??= new Database(this.#file, { timeout: this.#busyTimeoutMs });
      statement = this.#reader.prepare(sql);
      this.#listings.set(sql, statement);
    }
    return statement;
  }

  #use<T>(work: () => Promise<T>): Promise<T> {
    return this.#memory ? this.#gate.run(work) : work();
  }

  // The driver is synchronous: a second write transaction begun while one is open on this thread would
  // block the event loop until its busy timeout, and the first could never commit. Writes take turns.
  #write<T>(work: () => Promise<T>): Promise<T> {
    return this.#gate.run(work);
  }

  /** A write that waited out the busy timeout behind another process's lock. */
  isUnavailable(error: unknown): boolean {
    return /SQLITE_BUSY/.test(String((error as { code?: unknown } | null)?.code ?? '') + String(error));
  }

  async migrate(): Promise<void> {
    if (!this.#memory) await this.client.execute('PRAGMA journal_mode=WAL');
    await this.#write(() => migrate(this.db, { migrationsFolder: MIGRATIONS }));
  }

  transaction<T>(work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return this.#write(() => this.db.transaction((tx) => work(transactionOf(tx))));
  }

  /** The one job `where` picks, if any. */
  #jobWhere(where: SQL | undefined) {
    return this.#use(async () => {
      const row = await this.db.select().from(jobs).where(where).get();
      return row ? jobFromRow(row) : null;
    });
  }

  getJob(id: string) {
    return this.#jobWhere(eq(jobs.id, id));
  }

  findActiveByKey(ownerId: string, activeKey: string) {
    return this.#jobWhere(and(eq(jobs.ownerId, ownerId), eq(jobs.activeKey, activeKey)));
  }

  findByExternalId(ownerId: string, externalId: string) {
    return this.#jobWhere(and(eq(jobs.ownerId, ownerId), eq(jobs.externalId, externalId)));
  }

  reportedCancelsAfter(after: number, limit: number) {
    return this.#use(
      async () =>
        await this.db
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
              sql`json_extract(${jobEvents.data}, '$.status') = 'cancelled'`,
              sql`not exists (select 1 from ${jobEvents} as earlier where earlier.job_id = ${jobEvents.jobId} and earlier.version < ${jobEvents.version} and json_extract(earlier.data, '$.status') = 'cancelled')`,
            ),
          )
          .orderBy(asc(jobEvents.cursor))
          .limit(limit),
    );
  }

  listActiveJobs() {
    return this.#use(async () => {
      const rows = await this.db
        .select()
        .from(jobs)
        .where(inArray(jobs.status, [...ACTIVE_STATUSES]))
        .orderBy(asc(jobs.createdAt), asc(jobs.id));
      return rows.map(jobFromRow);
    });
  }

  listJobs(ownerId: string, filter: JobFilter) {
    const listing = this.#listing(listSql(filter));
    if (listing) {
      try {
        const rows = listing.all(...listArgs(ownerId, filter)) as Record<string, unknown>[];
        return Promise.resolve(rows.map((row) => jobFromRow(listedRow(row))));
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#use(async () => {
      const rows = await this.db
        .select()
        .from(jobs)
        .where(listedJobs(jobs, ownerId, filter))
        .orderBy(...newestFirst(jobs))
        .limit(filter.limit);
      return rows.map(jobFromRow);
    });
  }

  getIdempotencyKey(ownerId: string, key: string) {
    return this.#use(async () => {
      const row = await this.db
        .select()
        .from(idempotencyKeys)
        .where(and(eq(idempotencyKeys.ownerId, ownerId), eq(idempotencyKeys.key, key)))
        .get();
      return (row as IdempotencyRecord | undefined) ?? null;
    });
  }

  eventsAfter(ownerId: string, after: number, upTo: number, limit: number) {
    return this.#use(
      (): Promise<StoredEvent[]> =>
        this.db
          .select()
          .from(jobEvents)
          .where(
            and(eq(jobEvents.ownerId, ownerId), gt(jobEvents.cursor, after), lte(jobEvents.cursor, upTo)),
          )
          .orderBy(asc(jobEvents.cursor))
          .limit(limit),
    );
  }

  eventsAfterAll(after: number, limit: number) {
    return this.#use(
      (): Promise<StoredEvent[]> =>
        this.db
          .select()
          .from(jobEvents)
          .where(gt(jobEvents.cursor, after))
          .orderBy(asc(jobEvents.cursor))
          .limit(limit),
    );
  }

  listExpiredLeases(now: number, limit: number) {
    return this.#use(async () => {
      const rows = await this.db
        .select()
        .from(jobs)
        .where(and(eq(jobs.status, 'running'), lte(jobs.leaseExpiresAt, now)))
        .orderBy(asc(jobs.leaseExpiresAt), asc(jobs.id))
        .limit(limit);
      return rows.map(jobFromRow);
    });
  }

  maxCursor() {
    return this.#use(async () => {
      const row = await this.db
        .select({ cursor: max(jobEvents.cursor) })
        .from(jobEvents)
        .get();
      return row?.cursor ?? 0;
    });
  }

  ownerMaxCursor(ownerId: string) {
    return this.#use(async () => {
      const row = await this.db
        .select({ cursor: max(jobEvents.cursor) })
        .from(jobEvents)
        .where(eq(jobEvents.ownerId, ownerId))
        .get();
      return row?.cursor ?? 0;
    });
  }

  private getMeta(key: string) {
    return this.#use(async () => {
      const row = await this.db.select().from(meta).where(eq(meta.key, key)).get();
      return row?.value ?? null;
    });
  }

  pruneEvents(before: number) {
    return this.#write(() =>
      this.db.transaction(async (tx) => {
        const deleted = await tx
          .delete(jobEvents)
          .where(lt(jobEvents.createdAt, before))
          .returning({ cursor: jobEvents.cursor });
        const previous = Number(
          (await tx.select().from(meta).where(eq(meta.key, WATERMARK)).get())?.value ?? 0,
        );
        const watermark = deleted.reduce((highest, row) => Math.max(highest, row.cursor), previous);
        if (watermark !== previous) {
          await tx
            .insert(meta)
            .values({ key: WATERMARK, value: String(watermark) })
            .onConflictDoUpdate({ target: meta.key, set: { value: String(watermark) } });
        }
        return watermark;
      }),
    );
  }

  async pruneWatermark() {
    return Number((await this.getMeta(WATERMARK)) ?? 0);
  }

  deleteIdempotencyKeys(before: number) {
    return this.#write(async () => {
      await this.db.delete(idempotencyKeys).where(lt(idempotencyKeys.createdAt, before));
    });
  }

  /** Reads a connection-level setting, for checks that it holds on every connection. */
  pragma(name: 'busy_timeout' | 'journal_mode' | 'synchronous'): Promise<unknown> {
    return this.#use(async () => {
      const rs = await this.client.execute(`PRAGMA ${name}`);
      return rs.rows[0]?.[0];
    });
  }

  async close() {
    this.#listings.clear();
    this.#reader?.close();
    this.#reader = null;
    this.client.close();
  }
}
