import { STREAM_HEARTBEAT_MS } from '@jobtracker/sdk/wire';
import { Hono } from 'hono';
import { cors } from 'hono/cors';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Authenticate, type Authenticator, createAuthenticator } from '../auth/auth.js';
import type { Secrets } from '../auth/jwt.js';
import type { JobEngine } from '../engine/engine.js';
import { limitJsonDepth } from '../http/json-depth.js';
import { LIMITS } from '../http/schemas.js';
import { createRateLimiter, type RateLimit } from '../limits/rate-limit.js';
import { healthRoute } from '../routes/health.js';
import { jobRoutes } from '../routes/jobs.js';
import { openApiRoute } from '../routes/openapi.js';
import { workerRoutes } from '../routes/worker.js';
import { StreamRegistry } from '../stream/sse.js';
import { createEngineWorkerApi } from '../worker-api/engine-worker-api.js';
import { createConditionalPoll } from './conditional-poll.js';
import { assertAuthConfigured, devModeBanner } from './dev-mode.js';
import { createErrorAnswer, errorBody } from './error-answer.js';
import {
  createErrorReporter,
  createLogger,
  type ErrorContext,
  type LogLevel,
  oneLine,
  readLogLevel,
} from './log.js';
import { createAllowedMethods } from './methods.js';
import { firstAnswer, type NodeAnswer } from './node-answer.js';
import type { CorsAnswer } from './node-json.js';
import { createStreamOpen } from './stream-open.js';
import { createWorkerWrites } from './worker-writes.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  engine: JobEngine;
  /**
   * HS256 secret for browser tokens, or a list while rotating (the first signs, any of them verifies).
   * Without it and without `authenticate`, the API refuses to start (`JobTrackerConfigError`) unless
   * `devMode: true`.
   */
  secret?: Secrets;
  /** The `iss` claim every token must carry; unset: not checked. */
  issuer?: string;
  /** The `aud` claim every token must carry (as it or in its list); unset: not checked. */
  audience?: string;
  /** Key for the worker API. Outside dev mode the worker API is closed (403) without one. */
  workerKey?: string;
  /** The host's own authentication: return the owner id, or null for 401. */
  authenticate?: Authenticate;
  /**
   * Run without authentication on purpose: every caller is the user `demo`, and without a `workerKey`
   * the worker API is open. For local development only; a warning is printed when it starts.
   */
  devMode?: boolean;
  /** What the server logs: `debug` adds stacks and clients that hung up. Default `JOBTRACKER_LOG_LEVEL`, else `info`. */
  logLevel?: LogLevel;
  /** Origins allowed to call the API from a browser; `*` allows any (no credentials are used). */
  corsOrigins?: readonly string[];
  /** Where the API is mounted. Default `/api`. */
  basePath?: string;
  maxBodyBytes?: number;
  /**
   * Open job streams one user may hold; one more answers 429 with `Retry-After`. The tabs of a browser
   * share one stream, so this counts browsers and devices. Default 100.
   */
  maxStreamsPerUser?: number;
  /**
   * Polls one user may have held open at once (`GET /api/jobs?since=…&wait=…`); one more answers 429
   * with `Retry-After`. Default 20.
   */
  maxHeldPollsPerUser?: number;
  /** Jobs one user may create or retry: `burst` at once, refilled at `perMinute`. Default 2,000 and 600. */
  createRate?: RateLimit;
  /** How often an idle stream gets a heartbeat comment. Default `STREAM_HEARTBEAT_MS` (25 s). */
  heartbeatMs?: number;
  retryMs?: number;
  /**
   * Called with each unexpected error (a 500 or 503, a failed stream) instead of the default log line;
   * for a request, `context` carries the request id that the client was given.
   */
  onError?: (error: unknown, context?: ErrorContext) => void;
}

export interface JobApp {
  app: Hono;
  auth: Authenticator;
  streams: StreamRegistry;
  /**
   * Answers the hottest requests (an unchanged conditional poll, opening a stream, a worker's progress
   * report) straight from node's request, before Hono, exactly as the app would; false when it did not
   * and the app must. `startServer` puts it in
   * front of the app (`withNodeAnswer`); the app alone answers everything the same, only slower.
   */
  nodeAnswer: NodeAnswer;
}

/** The logger and error reporter of an app, from its options. */
function createAppLogging(options: Pick<AppOptions, 'logLevel' | 'onError'>) {
  const logger = createLogger(options.logLevel ?? readLogLevel(process.env.JOBTRACKER_LOG_LEVEL));
  return { logger, onError: options.onError ?? createErrorReporter(logger) };
}

/**
 * The job API as a Hono app, ready for `serve()` or for mounting in a host's own Hono/Node server
 * (`host.route('/', createApp({ engine }))`). Every error is a JSON `{ error: { code, message } }`;
 * an unexpected one is a 500 without details. `createJobTracker` builds the engine and this app together.
 */
export function createApp(options: AppOptions): Hono {
  return createJobApi(options).app;
}

/** `createApp`, plus the authenticator and the open streams (to close them on shutdown). */
export function createJobApi(options: AppOptions): JobApp {
  assertAuthConfigured(options);
  const basePath = options.basePath ?? '/api';
  const { logger, onError } = createAppLogging(options);
  const auth = createAuthenticator(options);
  if (auth.devMode) console.warn(devModeBanner(options));
  const streams = new StreamRegistry(options.engine, {
    heartbeatMs: options.heartbeatMs ?? STREAM_HEARTBEAT_MS,
    retryMs: options.retryMs ?? 3000,
    maxQueuedBytes: 1024 * 1024,
    onError,
  });
  const api = new Hono();
  const allowed = new Set(options.corsOrigins ?? []);
  const corsAnswer: CorsAnswer | null =
    allowed.size > 0
      ? {
          origin: (origin) => (allowed.has('*') ? '*' : allowed.has(origin) ? origin : null),
          exposeHeaders: ['ETag', 'Retry-After'],
          credentials: false,
        }
      : null;
  if (corsAnswer) {
    api.use(
      '*',
      cors({
        origin: corsAnswer.origin,
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'If-None-Match'],
        exposeHeaders: [...corsAnswer.exposeHeaders],
        credentials: corsAnswer.credentials,
        maxAge: 600,
      }),
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.bodyBytes;
  const maxStreamsPerUser = options.maxStreamsPerUser ?? 100;
  api.use('*', limitJsonDepth(maxBodyBytes));
  api.route(
    '/',
    jobRoutes({
      engine: options.engine,
      auth,
      streams,
      maxBodyBytes,
      maxStreamsPerUser,
      maxHeldPollsPerUser: options.maxHeldPollsPerUser ?? 20,
      creates: createRateLimiter(options.createRate ?? { burst: 2000, perMinute: 600 }, 'new jobs'),
    }),
  );
  api.route(
    '/',
    workerRoutes({
      engine: options.engine,
      auth,
      maxBodyBytes,
      stream: { heartbeatMs: options.heartbeatMs ?? STREAM_HEARTBEAT_MS, retryMs: options.retryMs ?? 3000 },
    }),
  );
  api.get(
    '/health',
    healthRoute((c) =>
      c.json({
        status: 'ok',
        version: VERSION,
        storage: options.engine.store.dialect,
        devMode: auth.devMode,
        streams: streams.connections.size,
      }),
    ),
  );
  api.get('/openapi.json', openApiRoute(api, { basePath, version: VERSION }));

  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    // Hono answers HEAD with the GET route's headers and drops its body; a stream must not stay open.
    if (c.req.method === 'HEAD') await c.res.body?.cancel();
  });
  app.route(basePath, api);
  const allowedMethods = createAllowedMethods(app);
  app.notFound((c) => {
    const path = new URL(c.req.url).pathname;
    const allowed = allowedMethods(path);
    if (allowed.length > 0) {
      c.header('Allow', allowed.join(', '));
      return c.json(
        errorBody(
          'method_not_allowed',
          `${oneLine(c.req.method, 20)} is not allowed here; use ${allowed.join(', ')}.`,
        ),
        405,
      );
    }
    return c.json(errorBody('not_found', `No route for ${c.req.method} ${path.slice(0, 200)}.`), 404);
  });
  const answerError = createErrorAnswer({
    logger,
    onError,
    isUnavailable: (error) => options.engine.store.isUnavailable(error),
  });
  app.onError((error, c) => {
    const { status, headers, body } = answerError(error, c.req.method, c.req.path);
    for (const [name, value] of Object.entries(headers)) c.header(name, value);
    return c.json(body, status as ContentfulStatusCode);
  });
  const nodeAnswer = firstAnswer(
    createConditionalPoll({
      basePath,
      auth,
      ownerCursor: (ownerId) => options.engine.ownerCursor(ownerId),
      cors: corsAnswer,
    }),
    createStreamOpen({
      basePath,
      auth,
      streams,
      subscriberCount: (ownerId) => options.engine.hub.subscriberCount(ownerId),
      maxStreamsPerUser,
      cors: corsAnswer,
    }),
    createWorkerWrites({
      basePath,
      auth,
      api: createEngineWorkerApi(options.engine),
      maxBodyBytes,
      cors: corsAnswer,
      answerError,
    }),
  );
  return { app, auth, streams, nodeAnswer };
}
