import { Hono } from 'hono';
import { cors } from 'hono/cors';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { type Authenticate, type Authenticator, createAuthenticator } from '../auth/auth.js';
import type { JobEngine } from '../engine/engine.js';
import { ApiError } from '../http/errors.js';
import { LIMITS } from '../http/schemas.js';
import { checkDeclaredLength } from '../http/validate.js';
import { createRateLimiter, type RateLimit } from '../limits/rate-limit.js';
import { jobRoutes } from '../routes/jobs.js';
import { buildOpenApi } from '../routes/openapi.js';
import { workerRoutes } from '../routes/worker.js';
import { StreamRegistry } from '../stream/sse.js';

export const VERSION = '0.1.0';

export interface AppOptions {
  engine: JobEngine;
  /** HS256 secret for browser tokens. Without it (and without `authenticate`) the API runs in dev mode. */
  secret?: string;
  /** Key for the worker API. */
  workerKey?: string;
  /** The host's own authentication: return the owner id, or null for 401. */
  authenticate?: Authenticate;
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
  /** Jobs one user may create or retry: `burst` at once, refilled at `perMinute`. Default 2,000 and 600. */
  createRate?: RateLimit;
  heartbeatMs?: number;
  retryMs?: number;
  onError?: (error: unknown) => void;
}

export interface JobApp {
  app: Hono;
  auth: Authenticator;
  streams: StreamRegistry;
}

/** Seconds a client is asked to wait when the database is out of reach (a restart, a failover). */
const STORAGE_RETRY_AFTER_S = 2;

function errorBody(code: string, message: string, details?: unknown) {
  return { error: details === undefined ? { code, message } : { code, message, details } };
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
  const basePath = options.basePath ?? '/api';
  const onError = options.onError ?? ((error: unknown) => console.error('[jobtracker]', error));
  const auth = createAuthenticator(options);
  const streams = new StreamRegistry(options.engine, {
    heartbeatMs: options.heartbeatMs ?? 15_000,
    retryMs: options.retryMs ?? 3000,
    maxQueuedBytes: 1024 * 1024,
    onError,
  });
  const api = new Hono();
  const allowed = new Set(options.corsOrigins ?? []);
  if (allowed.size > 0) {
    api.use(
      '*',
      cors({
        origin: (origin) => (allowed.has('*') ? '*' : allowed.has(origin) ? origin : null),
        allowMethods: ['GET', 'POST', 'OPTIONS'],
        allowHeaders: ['Authorization', 'Content-Type', 'Idempotency-Key', 'Last-Event-ID', 'If-None-Match'],
        exposeHeaders: ['ETag', 'Retry-After'],
        credentials: false,
        maxAge: 600,
      }),
    );
  }
  const maxBodyBytes = options.maxBodyBytes ?? LIMITS.bodyBytes;
  api.on('POST', '*', async (c, next) => {
    checkDeclaredLength(c, maxBodyBytes);
    await next();
  });
  api.route(
    '/',
    jobRoutes({
      engine: options.engine,
      auth,
      streams,
      maxBodyBytes,
      maxStreamsPerUser: options.maxStreamsPerUser ?? 100,
      creates: createRateLimiter(options.createRate ?? { burst: 2000, perMinute: 600 }, 'new jobs'),
    }),
  );
  api.route('/', workerRoutes({ engine: options.engine, auth, maxBodyBytes }));
  api.get('/health', (c) =>
    c.json({
      status: 'ok',
      version: VERSION,
      storage: options.engine.store.dialect,
      devMode: auth.devMode,
      streams: streams.connections.size,
    }),
  );
  const openapi = buildOpenApi(basePath, VERSION);
  api.get('/openapi.json', (c) => c.json(openapi));

  const app = new Hono();
  app.route(basePath, api);
  app.notFound((c) =>
    c.json(
      errorBody('not_found', `No route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 200)}.`),
      404,
    ),
  );
  app.onError((error, c) => {
    if (error instanceof ApiError) {
      for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
      return c.json(errorBody(error.code, error.message, error.details), error.status);
    }
    if (error instanceof HTTPException) {
      const status = error.status as ContentfulStatusCode;
      return c.json(
        errorBody(status >= 500 ? 'internal_error' : 'bad_request', error.message || 'Bad request.'),
        status,
      );
    }
    onError(error);
    if (options.engine.store.isUnavailable(error)) {
      c.header('Retry-After', String(STORAGE_RETRY_AFTER_S));
      return c.json(
        errorBody('storage_unavailable', 'The job database cannot be reached right now; try again shortly.'),
        503,
      );
    }
    return c.json(errorBody('internal_error', 'Something went wrong on the server.'), 500);
  });
  return { app, auth, streams };
}
