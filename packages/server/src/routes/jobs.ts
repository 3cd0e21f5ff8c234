import type { Job } from '@jobtracker/sdk/wire';
import { Hono } from 'hono';
import type { Authenticator } from '../auth/auth.js';
import type { JobEngine } from '../engine/engine.js';
import { ApiError } from '../http/errors.js';
import { pagePosition, pageToken } from '../http/page-token.js';
import {
  createJobBody,
  createJobResponse,
  dismissBody,
  idempotencyKeyHeader,
  jobListResponse,
  jobResponse,
  LIMITS,
  lastEventIdHeader,
  listJobsQuery,
  streamQuery,
} from '../http/schemas.js';
import type { RateLimiter } from '../limits/rate-limit.js';
import { foldChanges } from '../stream/deltas.js';
import { NODE_STREAMS, type NodeStreamOpeners, STREAM_HEADERS, type StreamRegistry } from '../stream/sse.js';
import { oncePerObject } from '../util/once-per-object.js';
import { jobIdParams, operation } from './operation.js';

export interface JobRoutesDeps {
  engine: JobEngine;
  auth: Authenticator;
  streams: StreamRegistry;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Open streams one user may hold. */
  maxStreamsPerUser: number;
  /** Polls held open (`wait`) one user may have at once. */
  maxHeldPollsPerUser: number;
  /** Limits how fast one user creates jobs. */
  creates: RateLimiter;
}

/** Every route here is a user's route on the user's own jobs. */
const USER_JOBS = { tag: 'jobs', auth: 'user' } as const;

const CREATED = {
  201: { description: 'Created.', schema: createJobResponse },
  200: { description: 'An existing job (see `reason`).', schema: createJobResponse },
};

interface ListFilters {
  status?: string[];
  type?: string;
  scope?: string;
  limit?: number;
  before?: string;
  since?: number;
}

/** A short, stable tag of the filters of a list request, so equal filters share an ETag. */
function hashFilters(query: ListFilters) {
  const key = JSON.stringify([
    query.status?.slice().sort(),
    query.type,
    query.scope,
    query.limit,
    query.since === undefined,
    query.before,
  ]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/** The tag of a (shared, frozen) parsed query of a poll, hashed once. */
export const filterTag = oncePerObject(hashFilters);

/** The owner's routes: list, create, get, cancel, retry, dismiss, and the change stream. */
export function jobRoutes({
  engine,
  auth,
  streams,
  maxBodyBytes,
  maxStreamsPerUser,
  maxHeldPollsPerUser,
  creates,
}: JobRoutesDeps) {
  const app = new Hono();

  app.get(
    '/jobs',
    operation(
      {
        summary:
          'List jobs, newest first, a page at a time (`limit`, and `before` set to the `next` of the page before); with `since`, only jobs changed after that cursor (not with `status`): progress-only changes as deltas in `progress`, and with `wait` held until something changes. 304 to `If-None-Match` when nothing changed.',
        ...USER_JOBS,
        query: listJobsQuery,
        answers: {
          200: { description: 'Jobs and the cursor to resume from.', schema: jobListResponse },
          304: { description: 'Nothing changed since the ETag sent in If-None-Match.' },
        },
        errors: [429],
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        const query = input.query();
        if (query.since !== undefined && query.status !== undefined) {
          throw new ApiError(
            400,
            'invalid_query',
            'status cannot be combined with since: changes include jobs leaving a status.',
          );
        }
        if (query.since !== undefined && query.before !== undefined) {
          throw new ApiError(400, 'invalid_query', 'before pages a list; since polls changes: not both.');
        }
        const before = query.before === undefined ? undefined : pagePosition(query.before);
        if (query.wait !== undefined && query.since === undefined) {
          throw new ApiError(
            400,
            'invalid_query',
            'wait needs since: a poll waits for changes after a cursor.',
          );
        }
        if (query.since !== undefined && query.wait) {
          // Counted and held in one go (no await in between), so the cap holds under concurrent polls.
          if (engine.hub.waiterCount(caller.ownerId) >= maxHeldPollsPerUser) {
            throw new ApiError(
              429,
              'too_many_polls',
              `At most ${maxHeldPollsPerUser} held polls per user; poll without wait or wait for one to answer.`,
              undefined,
              { 'Retry-After': '5' },
            );
          }
          const { signal } = c.req.raw;
          await engine.waitForChange(caller.ownerId, query.since, query.wait, signal);
          // The client went away while it was held: nothing to read for it.
          if (signal.aborted) return c.body(null, 204);
        }
        // The ETag names the owner's newest change: while it stands, the answer is the same, and a 304
        // is answered from memory without touching the database.
        const etag = `"${await engine.ownerCursor(caller.ownerId)}-${filterTag(query)}"`;
        const headers = { ETag: etag, 'Cache-Control': 'private, no-cache', Vary: 'Authorization' };
        if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);

        if (query.since !== undefined) {
          const changes = await engine.changesSince(caller.ownerId, query.since);
          if (changes.reset) {
            const snapshot = await engine.snapshot(caller.ownerId);
            const jobs = snapshot.jobs.filter(
              (job) =>
                (query.type === undefined || job.type === query.type) &&
                (query.scope === undefined || job.scope === query.scope),
            );
            return c.json({ jobs, cursor: String(snapshot.cursor), reset: true }, 200, headers);
          }
          // The log's JSON goes out as it is stored (it is the job's wire JSON): parsed only to filter or
          // to take a delta from it.
          const filtered = query.type !== undefined || query.scope !== undefined;
          const keep = filtered
            ? (job: Job) =>
                (query.type === undefined || job.type === query.type) &&
                (query.scope === undefined || job.scope === query.scope)
            : null;
          const { jobs, progress } = foldChanges(changes.events, query.since, keep);
          const deltas = progress.length > 0 ? `,"progress":${JSON.stringify(progress)}` : '';
          const body = `{"jobs":[${jobs.join(',')}]${deltas},"cursor":${JSON.stringify(String(changes.cursor))}}`;
          return c.body(body, 200, { ...headers, 'Content-Type': 'application/json' });
        }

        const cursor = engine.cursor;
        const limit = query.limit ?? 50;
        // One more than the page holds tells whether an older job is left.
        const jobs = await engine.list(caller.ownerId, {
          statuses: query.status,
          type: query.type,
          scope: query.scope,
          limit: limit + 1,
          before,
        });
        const last = jobs.length > limit ? jobs[limit - 1] : undefined;
        const next = last ? pageToken(last) : null;
        return c.json({ jobs: jobs.slice(0, limit), cursor: String(cursor), next }, 200, headers);
      },
    ),
  );

  app.post(
    '/jobs',
    operation(
      {
        summary:
          'Start a job. An active job of the same type and scope is returned instead (200). Honours `Idempotency-Key`.',
        ...USER_JOBS,
        headers: {
          'Idempotency-Key': {
            schema: idempotencyKeyHeader,
            refuse: () =>
              new ApiError(
                400,
                'invalid_idempotency_key',
                `Idempotency-Key must be 1 to ${LIMITS.idempotencyKeyLength} characters.`,
              ),
          },
        },
        body: createJobBody,
        answers: CREATED,
        errors: [429],
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        const body = await input.body(maxBodyBytes);
        creates.take(caller.ownerId);
        const key = input.header('Idempotency-Key');
        const outcome = await engine.create(caller.ownerId, body, key);
        return c.json(outcome, outcome.created ? 201 : 200);
      },
    ),
  );

  app.get(
    '/jobs/stream',
    operation(
      {
        summary:
          "Server-sent events of the caller's jobs: `snapshot` first (or a replay after `Last-Event-ID`/`since`, or `reset` + snapshot when that cursor is too old), then `job` events (the whole job) and `progress` events (a progress report's delta, on top of `version - 1`); `id:` is the cursor.",
        ...USER_JOBS,
        query: streamQuery,
        headers: { 'Last-Event-ID': { schema: lastEventIdHeader } },
        answers: { 200: { description: 'An event stream.', contentType: 'text/event-stream' } },
        errors: [429],
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        if (engine.hub.subscriberCount(caller.ownerId) >= maxStreamsPerUser) {
          throw new ApiError(
            429,
            'too_many_streams',
            `At most ${maxStreamsPerUser} open streams per user; close one (the tabs of a browser share one).`,
            undefined,
            { 'Retry-After': '10' },
          );
        }
        const query = input.query();
        const since = input.header('Last-Event-ID') ?? query.since;
        const openers = (c.env as Record<symbol, NodeStreamOpeners | undefined> | undefined)?.[NODE_STREAMS];
        if (openers) {
          openers.set(c.req.raw, (response, headers) => streams.openNode(caller, since, response, headers));
          return c.body(null, 200, STREAM_HEADERS);
        }
        return streams.open(caller, since, c.req.raw.signal);
      },
    ),
  );

  /** A route on one of the caller's jobs that answers the job as `act` leaves it. */
  const oneJob = (
    summary: string,
    answered: string,
    act: (ownerId: string, id: string) => Promise<Job>,
    errors: readonly number[] = [],
  ) =>
    operation(
      {
        summary,
        ...USER_JOBS,
        params: jobIdParams,
        answers: { 200: { description: answered, schema: jobResponse } },
        errors,
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        return c.json({ job: await act(caller.ownerId, input.param('id')) });
      },
    );

  app.get(
    '/jobs/:id',
    oneJob('One job.', 'The job.', (ownerId, id) => engine.get(ownerId, id)),
  );

  app.post(
    '/jobs/:id/cancel',
    oneJob(
      'Cancel a pending or running job.',
      'The cancelled job.',
      (ownerId, id) => engine.cancel(ownerId, id),
      [409],
    ),
  );

  app.post(
    '/jobs/:id/retry',
    operation(
      {
        summary: 'Start a failed or cancelled job again, as a new job whose `retryOf` names the old one.',
        ...USER_JOBS,
        params: jobIdParams,
        answers: {
          201: { description: 'The new attempt.', schema: createJobResponse },
          200: { description: 'An active job of the same type and scope.', schema: createJobResponse },
        },
        errors: [409, 429],
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        creates.take(caller.ownerId);
        const outcome = await engine.retry(caller.ownerId, input.param('id'));
        return c.json(outcome, outcome.created ? 201 : 200);
      },
    ),
  );

  app.post(
    '/jobs/:id/dismiss',
    operation(
      {
        summary:
          "Hide a job from the owner's tracker on every device, or bring it back with `dismissed: false` (the body is optional: none dismisses). Any status; the status never changes, a running job runs on. Asking for what already is answers the job unchanged; otherwise `version` rises and the owner's streams get a `job` event.",
        ...USER_JOBS,
        params: jobIdParams,
        body: dismissBody,
        bodyOptional: true,
        answers: { 200: { description: 'The job as it now is.', schema: jobResponse } },
      },
      async (c, input) => {
        const caller = await auth.user(c.req.raw);
        const id = input.param('id');
        const dismissed = hasBody(c.req.raw) ? ((await input.body(maxBodyBytes)).dismissed ?? true) : true;
        return c.json({ job: await engine.dismiss(caller.ownerId, id, dismissed) });
      },
    ),
  );

  return app;
}

/**
 * Whether a request carries a body: an optional one may be left out (`Content-Length: 0`, or neither a
 * length nor a `Content-Type` nor a chunked body). A `Content-Type` with an empty body counts as none.
 */
function hasBody(request: Request): boolean {
  const length = request.headers.get('content-length');
  if (length !== null) return length.trim() !== '0';
  return request.headers.has('content-type') || request.headers.has('transfer-encoding');
}
