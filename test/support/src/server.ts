import { createJobTracker, type JobTracker, type JobTrackerOptions, signToken } from '@jobtracker/server';
import { openTestSchema } from './postgres.js';

export const SECRET = 'test-secret-with-enough-entropy-0123456789';
export const WORKER_KEY = 'test-worker-key';

export const tokenFor = (sub: string, expiresInSeconds = 3600) =>
  signToken({ sub, expiresInSeconds }, SECRET);

/**
 * The dialect the API suites run on: SQLite unless `JOBTRACKER_TEST_DIALECT=postgres`, when each tracker
 * gets a fresh schema of the test PostgreSQL database (`JOBTRACKER_TEST_PG_URL`), dropped on close.
 */
export const TEST_DIALECT = process.env.JOBTRACKER_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';

/**
 * A database for one test: `fallback` (a SQLite URL) on SQLite, else a fresh PostgreSQL schema, which
 * `drop` removes.
 */
export async function openTestDatabase(fallback: string): Promise<{ db: string; drop(): Promise<void> }> {
  if (TEST_DIALECT === 'sqlite') return { db: fallback, drop: async () => {} };
  const { db, drop } = await openTestSchema();
  return { db, drop };
}

/**
 * A tracker with JWT auth and a worker key, on an in-memory database, or on a fresh PostgreSQL schema
 * when the suite runs on PostgreSQL. A `db` in `options` is used as given.
 */
export async function openTestTracker(options: JobTrackerOptions = {}): Promise<JobTracker> {
  const base = { secret: SECRET, workerKey: WORKER_KEY, onError: () => {} };
  if (options.db !== undefined) return createJobTracker({ ...base, ...options });
  const database = await openTestDatabase(':memory:');
  const tracker = await createJobTracker({ ...base, ...options, db: database.db }).catch(
    async (error: unknown) => {
      await database.drop();
      throw error;
    },
  );
  return {
    ...tracker,
    async close() {
      await tracker.close();
      await database.drop();
    },
  };
}

/** Calls an app as a user (or a worker) with JSON in and out. */
export function caller(app: { request: (path: string, init?: RequestInit) => Response | Promise<Response> }) {
  return async (
    path: string,
    init: { method?: string; body?: unknown; token?: string | null; headers?: Record<string, string> } = {},
  ) => {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token) headers.Authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['Content-Type'] ??= 'application/json';
    const response = await app.request(path, {
      method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
      headers,
      body:
        init.body === undefined
          ? undefined
          : typeof init.body === 'string'
            ? init.body
            : JSON.stringify(init.body),
    });
    const text = await response.text();
    let json: any = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      json = text;
    }
    return { status: response.status, headers: response.headers, json };
  };
}

/** A job as a stream conveys it, loosely typed for assertions. */
export type StreamJob = { id: string; version: number; status: string; [key: string]: unknown };

export interface SseEvent {
  id: string | undefined;
  event: string;
  data: string;
}

/** One SSE block's fields, as the spec reads them (`data` undefined when the block has none). */
export function readSseBlock(block: string) {
  let id: string | undefined;
  let event = 'message';
  let retry: number | undefined;
  const data: string[] = [];
  const comments: string[] = [];
  for (const line of block.split(/\r\n|\r|\n/)) {
    if (line.startsWith(':')) {
      comments.push(line.slice(1).trim());
      continue;
    }
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'id') id = value;
    else if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'retry') retry = Number(value);
  }
  return { id, event, retry, comments, data: data.length > 0 ? data.join('\n') : undefined };
}

/** A minimal SSE reader over a fetch Response, as a browser would parse it. */
export class SseReader {
  /** Every event but `ready`. */
  readonly events: SseEvent[] = [];
  /** Each `ready` event: its cursor, and how many events came before it. */
  readonly ready: { cursor: string; afterEvents: number }[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  #buffer = '';
  #waiters: { check: () => boolean; resolve: () => void }[] = [];
  #done: Promise<void>;
  ended = false;

  /** `known`: the jobs the client held before this stream, as a stream resumed from a cursor would. */
  constructor(
    response: Response,
    private readonly known: readonly StreamJob[] = [],
  ) {
    if (!response.body) throw new Error('no body');
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    this.#done = (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          this.#feed(value);
        }
      } catch {
        // aborted
      } finally {
        this.ended = true;
        this.#wake();
      }
    })();
  }

  #feed(chunk: string) {
    this.#buffer += chunk;
    let index = this.#buffer.search(/\r\n\r\n|\n\n|\r\r/);
    while (index >= 0) {
      const block = this.#buffer.slice(0, index);
      this.#buffer = this.#buffer.slice(index + (this.#buffer.startsWith('\r\n', index) ? 4 : 2));
      this.#parse(block);
      index = this.#buffer.search(/\r\n\r\n|\n\n|\r\r/);
    }
    this.#wake();
  }

  #parse(text: string) {
    const block = readSseBlock(text);
    this.comments.push(...block.comments);
    if (block.retry !== undefined) this.retry = block.retry;
    const { id, event, data } = block;
    if (data === undefined) return;
    if (event === 'ready') {
      this.ready.push({ cursor: JSON.parse(data).cursor, afterEvents: this.events.length });
      assertEqualIds(id, this.ready.at(-1)?.cursor);
    } else this.events.push({ id, event, data });
  }

  #wake() {
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!waiter.check() && !this.ended) return true;
      waiter.resolve();
      return false;
    });
  }

  /** Resolves when `check` holds; rejects after `ms`. */
  until(check: () => boolean, ms = 5000, what = 'the expected events'): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `Timed out waiting for ${what}; got ${JSON.stringify(this.events.map((e) => e.event))}`,
            ),
          ),
        ms,
      );
      this.#waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          if (check()) resolve();
          else reject(new Error(`Stream ended before ${what}`));
        },
      });
    });
  }

  get lastId() {
    return [...this.events].reverse().find((event) => event.id !== undefined)?.id;
  }

  /**
   * Each state of a job the stream conveyed, in order: a `job` event as sent, a `progress` event (a delta)
   * applied to the state of its job before it, which must be its `version - 1` (a `snapshot` or `reset`,
   * or the jobs the reader was given, seed the states). A delta whose job is already at or past its version is stale and left out; one
   * whose base the stream never gave is left out too, and counted in `deltaGaps()`.
   */
  jobs(): StreamJob[] {
    return this.#fold().states;
  }

  /** The `progress` events whose job the stream had not brought to `version - 1` first: each one a protocol error. */
  deltaGaps(): StreamJob[] {
    return this.#fold().gaps;
  }

  #fold() {
    const known = new Map(this.known.map((job) => [job.id, job]));
    const states: StreamJob[] = [];
    const gaps: StreamJob[] = [];
    for (const event of this.events) {
      const data = JSON.parse(event.data);
      if (event.event === 'snapshot' || event.event === 'reset') {
        for (const job of data.jobs as StreamJob[]) known.set(job.id, job);
      } else if (event.event === 'job') {
        known.set(data.id, data);
        states.push(data);
      } else if (event.event === 'progress') {
        const base = known.get(data.id);
        if (base && base.version >= data.version) continue;
        if (base?.version !== data.version - 1) {
          gaps.push(data);
          continue;
        }
        const next = { ...base, ...data };
        known.set(data.id, next);
        states.push(next);
      }
    }
    return { states, gaps };
  }

  ended$() {
    return this.#done;
  }
}

/** Reads a response body as loosely typed JSON, for assertions. */
export const readBody = async (response: Response): Promise<any> => response.json();

function assertEqualIds(id: string | undefined, cursor: string | undefined) {
  if (id !== cursor) throw new Error(`ready event id ${id} differs from its cursor ${cursor}`);
}

export { delay, eventually } from './browser-assert.js';
