import { z } from 'zod';
import * as s from '../http/schemas.js';

interface Operation {
  method: 'get' | 'post';
  path: string;
  summary: string;
  tag: 'jobs' | 'worker' | 'meta';
  query?: z.ZodObject;
  body?: z.ZodType;
  ok: { status: number; schema?: z.ZodType; description: string; contentType?: string }[];
  auth?: 'user' | 'worker' | 'none';
}

const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^[0-9a-z]{26}$' },
};
const jobEnvelope = z.object({ job: s.jobSchema });

const operations: Operation[] = [
  {
    method: 'get',
    path: '/jobs',
    summary:
      'List jobs, newest first; with `since`, only jobs changed after that cursor. 304 to `If-None-Match` when nothing changed.',
    tag: 'jobs',
    query: s.listJobsQuery,
    ok: [
      { status: 200, schema: s.jobListResponse, description: 'Jobs and the cursor to resume from.' },
      { status: 304, description: 'Nothing changed since the ETag sent in If-None-Match.' },
    ],
  },
  {
    method: 'post',
    path: '/jobs',
    summary:
      'Start a job. An active job of the same type and scope is returned instead (200). Honours `Idempotency-Key`.',
    tag: 'jobs',
    body: s.createJobBody,
    ok: [
      { status: 201, schema: s.createJobResponse, description: 'Created.' },
      { status: 200, schema: s.createJobResponse, description: 'An existing job (see `reason`).' },
    ],
  },
  {
    method: 'get',
    path: '/jobs/stream',
    summary:
      "Server-sent events of the caller's jobs: `snapshot` first (or a replay after `Last-Event-ID`/`since`, or `reset` + snapshot when that cursor is too old), then `job` events; `id:` is the cursor.",
    tag: 'jobs',
    query: s.streamQuery,
    ok: [{ status: 200, description: 'An event stream.', contentType: 'text/event-stream' }],
  },
  {
    method: 'get',
    path: '/jobs/{id}',
    summary: 'One job.',
    tag: 'jobs',
    ok: [{ status: 200, schema: jobEnvelope, description: 'The job.' }],
  },
  {
    method: 'post',
    path: '/jobs/{id}/cancel',
    summary: 'Cancel a pending or running job.',
    tag: 'jobs',
    ok: [{ status: 200, schema: jobEnvelope, description: 'The cancelled job.' }],
  },
  {
    method: 'post',
    path: '/jobs/{id}/retry',
    summary: 'Start a failed or cancelled job again, as a new job whose `retryOf` names the old one.',
    tag: 'jobs',
    ok: [
      { status: 201, schema: s.createJobResponse, description: 'The new attempt.' },
      { status: 200, schema: s.createJobResponse, description: 'An active job of the same type and scope.' },
    ],
  },
  {
    method: 'post',
    path: '/worker/claim',
    summary: 'Claim the oldest pending job of the given types, with a lease; waits up to `waitMs` for one.',
    tag: 'worker',
    auth: 'worker',
    body: s.claimBody,
    ok: [
      { status: 200, schema: s.claimResponse, description: 'A job and its lease.' },
      { status: 204, description: 'No job is pending.' },
    ],
  },
  {
    method: 'post',
    path: '/worker/progress',
    summary:
      'Report the progress of many jobs at once (up to 1,000); each update stands alone and extends its lease.',
    tag: 'worker',
    auth: 'worker',
    body: s.progressBatchBody,
    ok: [
      {
        status: 200,
        schema: s.progressBatchResponse,
        description: 'One result per update, in order: the new version, or why it was refused.',
      },
    ],
  },
  ...(['heartbeat', 'progress', 'complete', 'fail', 'release'] as const).map(
    (action): Operation => ({
      method: 'post',
      path: `/worker/jobs/{id}/${action}`,
      summary: {
        heartbeat: 'Extend the lease.',
        progress: 'Report progress (0–100 or null) and a message; extends the lease.',
        complete: 'Finish the job with a result.',
        fail: 'Finish the job with an error.',
        release: 'Give the job back (e.g. on shutdown): pending again, the attempt not spent.',
      }[action],
      tag: 'worker',
      auth: 'worker',
      body: {
        heartbeat: s.heartbeatBody,
        progress: s.progressBody,
        complete: s.completeBody,
        fail: s.failBody,
        release: s.releaseBody,
      }[action],
      ok: [
        action === 'heartbeat'
          ? {
              status: 200,
              schema: z.object({ leaseExpiresAt: z.iso.datetime() }),
              description: 'The new expiry.',
            }
          : { status: 200, schema: jobEnvelope, description: 'The job.' },
      ],
    }),
  ),
  {
    method: 'get',
    path: '/health',
    summary: 'Liveness and a few counters.',
    tag: 'meta',
    auth: 'none',
    ok: [{ status: 200, description: 'The server is up.' }],
  },
  {
    method: 'get',
    path: '/openapi.json',
    summary: 'This document.',
    tag: 'meta',
    auth: 'none',
    ok: [{ status: 200, description: 'OpenAPI 3.1.' }],
  },
];

const schemaOf = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<string, unknown>;

function errorResponses(op: Operation) {
  const error = { content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } };
  const codes: Record<string, string> = {
    '400': 'Malformed request (bad JSON, bad query).',
    '404': 'No such job for this caller.',
    '409': "The change is not allowed in the job's state, or the lease is stale.",
    '413': 'The body is too large.',
    '415': 'The body is not JSON.',
    '422': 'The request does not fit the schema.',
    '503': 'The job database cannot be reached right now (`storage_unavailable`); see Retry-After.',
  };
  if (['/jobs', '/jobs/{id}/retry', '/jobs/stream'].includes(op.path) && op.tag === 'jobs') {
    codes['429'] = 'Too many new jobs or open streams for this user; see Retry-After.';
  }
  if (op.auth !== 'none') codes['401'] = 'Missing or invalid credentials.';
  return Object.fromEntries(
    Object.entries(codes).map(([code, description]) => [code, { description, ...error }]),
  );
}

/** The OpenAPI 3.1 document, generated from the same zod schemas that validate requests. */
export function buildOpenApi(basePath: string, version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations) {
    const parameters: unknown[] = [];
    if (op.path.includes('{id}')) parameters.push(idParam);
    if (op.query) {
      const json = schemaOf(op.query, 'input') as { properties?: Record<string, Record<string, unknown>> };
      for (const [name, schema] of Object.entries(json.properties ?? {})) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: 'query', required: false, description, schema: rest });
      }
    }
    if (op.path === '/jobs' && op.method === 'post') {
      parameters.push({
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        schema: { type: 'string', maxLength: 200 },
      });
    }
    if (op.path === '/jobs/stream') {
      parameters.push({ name: 'Last-Event-ID', in: 'header', required: false, schema: { type: 'string' } });
    }
    const responses: Record<string, unknown> = {};
    for (const ok of op.ok) {
      responses[String(ok.status)] = {
        description: ok.description,
        ...(ok.schema
          ? { content: { [ok.contentType ?? 'application/json']: { schema: schemaOf(ok.schema, 'output') } } }
          : ok.contentType
            ? { content: { [ok.contentType]: { schema: { type: 'string' } } } }
            : {}),
      };
    }
    Object.assign(responses, errorResponses(op));
    paths[`${basePath}${op.path}`] ??= {};
    (paths[`${basePath}${op.path}`] as Record<string, unknown>)[op.method] = {
      summary: op.summary,
      tags: [op.tag],
      security: op.auth === 'none' ? [] : op.auth === 'worker' ? [{ workerKey: [] }] : [{ userToken: [] }],
      parameters,
      ...(op.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: schemaOf(op.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'jobtracker job API', version },
    paths,
    components: {
      securitySchemes: {
        userToken: {
          type: 'http',
          scheme: 'bearer',
          bearerFormat: 'JWT',
          description: 'HS256, `sub` = owner, `exp` required.',
        },
        workerKey: { type: 'http', scheme: 'bearer', description: 'JOBTRACKER_WORKER_KEY.' },
      },
      schemas: { Error: schemaOf(s.errorResponse, 'output'), Job: schemaOf(s.jobSchema, 'output') },
    },
  };
}
