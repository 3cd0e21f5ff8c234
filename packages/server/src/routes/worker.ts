import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import { Hono } from 'hono';
import type { z } from 'zod';
import type { Authenticator } from '../auth/auth.js';
import type { JobEngine } from '../engine/engine.js';
import {
  claimBody,
  claimResponse,
  completeBody,
  failBody,
  heartbeatBody,
  heartbeatResponse,
  jobResponse,
  lastEventIdHeader,
  progressBatchBody,
  progressBatchResponse,
  progressBody,
  releaseBody,
  reportJobBody,
  reportJobResponse,
  requeueBody,
  workerEventsQuery,
} from '../http/schemas.js';
import { openCancelStream } from '../worker-api/cancel-stream.js';
import { createEngineWorkerApi } from '../worker-api/engine-worker-api.js';
import { jobIdParams, operation } from './operation.js';

export interface WorkerRoutesDeps {
  engine: JobEngine;
  auth: Authenticator;
  /** Largest accepted request body. */
  maxBodyBytes: number;
  /** The worker event stream's heartbeat and reconnection delay, as the user streams'. */
  stream?: { heartbeatMs: number; retryMs: number };
}

/** Every route here is the worker API's, called with the worker key. */
const WORKER = { tag: 'worker', auth: 'worker' } as const;

/** The description every write to a claimed job shares. */
const leasedWrite = <B extends z.ZodType>(summary: string, body: B) =>
  ({
    summary,
    ...WORKER,
    params: jobIdParams,
    body,
    answers: { 200: { description: 'The job.', schema: jobResponse } },
    errors: [409],
  }) as const;

/**
 * The worker API, for workers in other processes or languages. Every write carries the lease token
 * from `claim` (or the report token from `POST /worker/jobs`); a write with a stale lease answers 409
 * `lease_lost` (or `job_cancelled`).
 */
export function workerRoutes({
  engine,
  auth,
  maxBodyBytes,
  stream = { heartbeatMs: STREAM_HEARTBEAT_MS, retryMs: 3000 },
}: WorkerRoutesDeps) {
  const api = createEngineWorkerApi(engine);
  const app = new Hono();
  app.use('/worker/*', async (c, next) => {
    auth.worker(c.req.raw);
    await next();
  });
  app.post(
    '/worker/claim',
    operation(
      {
        summary:
          'Claim the oldest pending job of the given types, with a lease; waits up to `waitMs` for one.',
        ...WORKER,
        body: claimBody,
        answers: {
          200: { description: 'A job and its lease.', schema: claimResponse },
          204: { description: 'No job is pending.' },
        },
      },
      async (c, input) => {
        const body = await input.body(maxBodyBytes);
        const { signal } = c.req.raw;
        const claim = await api.claim(body, signal).catch((error: unknown) => {
          if (signal.aborted) return null;
          throw error;
        });
        return claim ? c.json(claim) : c.body(null, 204);
      },
    ),
  );

  // The report API: a host that runs its jobs itself (BullMQ, Celery, a cron…) creates them for its
  // users here and reports on them through the routes below, with the report token as `leaseToken`.
  app.post(
    '/worker/jobs',
    operation(
      {
        summary:
          'Create a job on behalf of a user, for a host that runs it itself; answers it with its report token (the `leaseToken` of its writes, never expiring). The same `externalId` answers the same job.',
        ...WORKER,
        body: reportJobBody,
        answers: {
          200: {
            description: 'The job, whether it was created now, and its report token.',
            schema: reportJobResponse,
          },
        },
      },
      async (c, input) => c.json(await engine.report(await input.body(maxBodyBytes))),
    ),
  );

  app.get(
    '/worker/events',
    operation(
      {
        summary:
          'Server-sent events for the hosts that report jobs: a `cancel` event (`{ id, externalId, owner }`) for each reported job its user cancelled, `id:` its cursor. After `Last-Event-ID`/`since` it replays the cancels after that cursor, then `ready`; `reset` first when the cursor is older than the log keeps or not from this server.',
        ...WORKER,
        query: workerEventsQuery,
        headers: { 'Last-Event-ID': { schema: lastEventIdHeader } },
        answers: { 200: { description: 'An event stream.', contentType: 'text/event-stream' } },
      },
      async (c, input) => {
        const since = input.header('Last-Event-ID') ?? input.query().since;
        return openCancelStream(engine, since, c.req.raw.signal, stream);
      },
    ),
  );

  app.post(
    '/worker/jobs/:id/heartbeat',
    operation(
      {
        ...leasedWrite('Extend the lease.', heartbeatBody),
        answers: { 200: { description: 'The new expiry.', schema: heartbeatResponse } },
      },
      async (c, input) => {
        const body = await input.body(maxBodyBytes);
        return c.json(await api.heartbeat(input.param('id'), body.leaseToken, body.leaseMs));
      },
    ),
  );

  app.post(
    '/worker/jobs/:id/progress',
    operation(
      leasedWrite('Report progress (0–100 or null) and a message; extends the lease.', progressBody),
      async (c, input) => {
        const { leaseToken, ...update } = await input.body(maxBodyBytes);
        return c.json({ job: await api.progress(input.param('id'), leaseToken, update) });
      },
    ),
  );

  // Many jobs' progress in one request: a worker pool reporting thousands of updates a second would
  // otherwise spend most of the server's time on HTTP. Each update stands alone; one refused update
  // (lease lost, job cancelled…) does not stop the others.
  app.post(
    '/worker/progress',
    operation(
      {
        summary:
          'Report the progress of many jobs at once (up to 1,000); each update stands alone and extends its lease.',
        ...WORKER,
        body: progressBatchBody,
        answers: {
          200: {
            description: 'One result per update, in order: the new version, or why it was refused.',
            schema: progressBatchResponse,
          },
        },
      },
      async (c, input) => {
        const { updates } = await input.body(maxBodyBytes);
        return c.json({ results: await api.progressMany(updates) });
      },
    ),
  );

  app.post(
    '/worker/jobs/:id/complete',
    operation(leasedWrite('Finish the job with a result.', completeBody), async (c, input) => {
      const body = await input.body(maxBodyBytes);
      return c.json({ job: await api.complete(input.param('id'), body.leaseToken, body.result ?? null) });
    }),
  );

  app.post(
    '/worker/jobs/:id/fail',
    operation(leasedWrite('Finish the job with an error.', failBody), async (c, input) => {
      const body = await input.body(maxBodyBytes);
      return c.json({ job: await api.fail(input.param('id'), body.leaseToken, body.error) });
    }),
  );

  app.post(
    '/worker/jobs/:id/release',
    operation(
      leasedWrite('Give the job back (e.g. on shutdown): pending again, the attempt not spent.', releaseBody),
      async (c, input) => {
        const body = await input.body(maxBodyBytes);
        return c.json({ job: await api.release(input.param('id'), body.leaseToken) });
      },
    ),
  );

  // The report API's retries: the host (e.g. BullMQ) runs the same job again, so it stays one job.
  app.post(
    '/worker/jobs/:id/requeue',
    operation(
      leasedWrite(
        'For a reported job (with its report token): this attempt ended and its host will run another. Pending again with `message` and no progress, the attempt kept; the next write with the token starts the next attempt (`attempt` + 1, `startedAt` then). A pending job answers unchanged. `maxAttempts` rises when the host runs more attempts. A claimed job answers 409 `invalid_transition`.',
        requeueBody,
      ),
      async (c, input) => {
        const body = await input.body(maxBodyBytes);
        return c.json({
          job: await engine.requeue(input.param('id'), body.leaseToken, body.message ?? null),
        });
      },
    ),
  );

  return app;
}
