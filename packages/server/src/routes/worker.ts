import { Hono } from 'hono';
import type { Authenticator } from '../auth/auth.js';
import type { ClaimedJob, JobEngine } from '../engine/engine.js';
import { notFound } from '../http/errors.js';
import {
  claimBody,
  completeBody,
  failBody,
  heartbeatBody,
  progressBatchBody,
  progressBody,
  releaseBody,
} from '../http/schemas.js';
import { readJson } from '../http/validate.js';

export interface WorkerRoutesDeps {
  engine: JobEngine;
  auth: Authenticator;
  /** Largest accepted request body. */
  maxBodyBytes: number;
}

const JOB_ID = /^[0-9a-z]{26}$/;

const claimed = (claim: ClaimedJob) => ({
  ...claim,
  leaseExpiresAt: new Date(claim.leaseExpiresAt).toISOString(),
});

/** Waits until a job of one of `types` may be pending, or `ms` pass, or the request ends. */
function pendingSignal(engine: JobEngine, types: readonly string[], ms: number, signal: AbortSignal) {
  return new Promise<void>((resolve) => {
    const wanted = new Set(types);
    const done = () => {
      clearTimeout(timer);
      stop();
      signal.removeEventListener('abort', done);
      resolve();
    };
    const stop = engine.onChange((job) => {
      if (job.status === 'pending' && wanted.has(job.type)) done();
    });
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * The worker API, for workers in other processes or languages. Every write carries the lease token
 * from `claim`; a write with a stale lease answers 409 `lease_lost` (or `job_cancelled`).
 */
export function workerRoutes({ engine, auth, maxBodyBytes }: WorkerRoutesDeps) {
  const app = new Hono();
  app.use('/worker/*', async (c, next) => {
    auth.worker(c.req.raw);
    await next();
  });
  const id = (raw: string) => {
    if (!JOB_ID.test(raw)) throw notFound();
    return raw;
  };

  app.post('/worker/claim', async (c) => {
    const body = await readJson(c, claimBody, maxBodyBytes);
    const options = { types: body.types, workerId: body.workerId ?? 'worker', leaseMs: body.leaseMs };
    const deadline = Date.now() + (body.waitMs ?? 0);
    for (;;) {
      const claim = await engine.claim(options);
      if (claim) return c.json(claimed(claim));
      const left = deadline - Date.now();
      if (left <= 0 || c.req.raw.signal.aborted) return c.body(null, 204);
      await pendingSignal(engine, body.types, left, c.req.raw.signal);
    }
  });

  app.post('/worker/jobs/:id/heartbeat', async (c) => {
    const body = await readJson(c, heartbeatBody, maxBodyBytes);
    const { leaseExpiresAt } = await engine.heartbeat(id(c.req.param('id')), body.leaseToken, body.leaseMs);
    return c.json({ leaseExpiresAt: new Date(leaseExpiresAt).toISOString() });
  });

  app.post('/worker/jobs/:id/progress', async (c) => {
    const { leaseToken, ...update } = await readJson(c, progressBody, maxBodyBytes);
    return c.json({ job: await engine.progress(id(c.req.param('id')), leaseToken, update) });
  });

  // Many jobs' progress in one request: a worker pool reporting thousands of updates a second would
  // otherwise spend most of the server's time on HTTP. Each update stands alone; one refused update
  // (lease lost, job cancelled…) does not stop the others.
  app.post('/worker/progress', async (c) => {
    const { updates } = await readJson(c, progressBatchBody, maxBodyBytes);
    const outcomes = await engine.progressMany(
      updates.map(({ id: jobId, ...update }) => ({ ...update, id: JOB_ID.test(jobId) ? jobId : '' })),
    );
    const results = outcomes.map((outcome, index) => {
      const jobId = updates[index]?.id ?? '';
      if ('job' in outcome) return { id: jobId, version: outcome.job.version };
      const { status, code, message } = outcome.error;
      return { id: jobId, error: { status, code, message } };
    });
    return c.json({ results });
  });

  app.post('/worker/jobs/:id/complete', async (c) => {
    const body = await readJson(c, completeBody, maxBodyBytes);
    return c.json({
      job: await engine.complete(id(c.req.param('id')), body.leaseToken, body.result ?? null),
    });
  });

  app.post('/worker/jobs/:id/fail', async (c) => {
    const body = await readJson(c, failBody, maxBodyBytes);
    return c.json({ job: await engine.fail(id(c.req.param('id')), body.leaseToken, body.error) });
  });

  app.post('/worker/jobs/:id/release', async (c) => {
    const body = await readJson(c, releaseBody, maxBodyBytes);
    return c.json({ job: await engine.release(id(c.req.param('id')), body.leaseToken) });
  });

  return app;
}
