import { Hono } from 'hono';
import type { Authenticator } from '../auth/auth.js';
import type { JobEngine } from '../engine/engine.js';
import { ApiError, notFound } from '../http/errors.js';
import { createJobBody, cursorSchema, LIMITS, listJobsQuery, streamQuery } from '../http/schemas.js';
import { check, readJson, readQuery } from '../http/validate.js';
import type { RateLimiter } from '../limits/rate-limit.js';
import { NODE_STREAMS, type NodeStreamOpeners, STREAM_HEADERS, type StreamRegistry } from '../stream/sse.js';

const JOB_ID = /^[0-9a-z]{26}$/;

export interface JobRoutesDeps {
  engine: JobEngine;
  auth: Authenticator;
  streams: StreamRegistry;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** Open streams one user may hold. */
  maxStreamsPerUser: number;
  /** Limits how fast one user creates jobs. */
  creates: RateLimiter;
}

function jobId(id: string): string {
  if (!JOB_ID.test(id)) throw notFound();
  return id;
}

/** A short, stable tag of the filters of a list request, so equal filters share an ETag. */
function filterTag(query: {
  status?: string[];
  type?: string;
  scope?: string;
  limit?: number;
  since?: number;
}) {
  const key = JSON.stringify([
    query.status?.slice().sort(),
    query.type,
    query.scope,
    query.limit,
    query.since === undefined,
  ]);
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(36);
}

/** The owner's routes: list, create, get, cancel, retry, and the change stream. */
export function jobRoutes({
  engine,
  auth,
  streams,
  maxBodyBytes,
  maxStreamsPerUser,
  creates,
}: JobRoutesDeps) {
  const app = new Hono();

  app.get('/jobs', async (c) => {
    const caller = await auth.user(c.req.raw);
    const query = readQuery(c, listJobsQuery);
    if (query.since !== undefined && query.status !== undefined) {
      throw new ApiError(
        400,
        'invalid_query',
        'status cannot be combined with since: changes include jobs leaving a status.',
      );
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
      const latest = new Map<string, string>();
      for (const event of changes.events) {
        latest.delete(event.jobId);
        latest.set(event.jobId, event.data);
      }
      const jobs = [...latest.values()]
        .reverse()
        .map((data) => JSON.parse(data))
        .filter(
          (job) =>
            (query.type === undefined || job.type === query.type) &&
            (query.scope === undefined || job.scope === query.scope),
        );
      return c.json({ jobs, cursor: String(changes.cursor) }, 200, headers);
    }

    const cursor = engine.cursor;
    const jobs = await engine.list(caller.ownerId, {
      statuses: query.status,
      type: query.type,
      scope: query.scope,
      limit: query.limit ?? 50,
    });
    return c.json({ jobs, cursor: String(cursor) }, 200, headers);
  });

  app.post('/jobs', async (c) => {
    const caller = await auth.user(c.req.raw);
    const body = await readJson(c, createJobBody, maxBodyBytes);
    creates.take(caller.ownerId);
    const key = c.req.header('idempotency-key');
    if (key !== undefined && (key.length === 0 || key.length > LIMITS.idempotencyKeyLength)) {
      throw new ApiError(
        400,
        'invalid_idempotency_key',
        `Idempotency-Key must be 1 to ${LIMITS.idempotencyKeyLength} characters.`,
      );
    }
    const outcome = await engine.create(caller.ownerId, body, key);
    return c.json(outcome, outcome.created ? 201 : 200);
  });

  app.get('/jobs/stream', async (c) => {
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
    const query = readQuery(c, streamQuery);
    const lastEventId = c.req.header('last-event-id');
    const since =
      lastEventId !== undefined && lastEventId !== ''
        ? check(cursorSchema, lastEventId, 'Last-Event-ID')
        : query.since;
    const openers = (c.env as Record<symbol, NodeStreamOpeners | undefined> | undefined)?.[NODE_STREAMS];
    if (openers) {
      openers.set(c.req.raw, (response, headers) => streams.openNode(caller, since, response, headers));
      return c.body(null, 200, STREAM_HEADERS);
    }
    return streams.open(caller, since, c.req.raw.signal);
  });

  app.get('/jobs/:id', async (c) => {
    const caller = await auth.user(c.req.raw);
    return c.json({ job: await engine.get(caller.ownerId, jobId(c.req.param('id'))) });
  });

  app.post('/jobs/:id/cancel', async (c) => {
    const caller = await auth.user(c.req.raw);
    return c.json({ job: await engine.cancel(caller.ownerId, jobId(c.req.param('id'))) });
  });

  app.post('/jobs/:id/retry', async (c) => {
    const caller = await auth.user(c.req.raw);
    creates.take(caller.ownerId);
    const outcome = await engine.retry(caller.ownerId, jobId(c.req.param('id')));
    return c.json(outcome, outcome.created ? 201 : 200);
  });

  return app;
}
