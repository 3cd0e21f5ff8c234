import {
  ACTIVE_STATUSES,
  type BatchProgressRequest,
  type BatchProgressResponse,
  type ClaimedJob,
  type ClaimRequest,
  type CompleteRequest,
  type CreateJobRequest,
  type CreateJobResponse,
  type DismissJobRequest,
  type ErrorBody,
  type FailRequest,
  type HeartbeatRequest,
  type HeartbeatResponse,
  JOB_STATUSES,
  type Job,
  type JobListResponse,
  type JobProgressDelta,
  type JobResponse,
  type JobStatus,
  type JsonValue,
  MAX_CLAIM_WAIT_MS,
  MAX_EXTERNAL_ID_LENGTH,
  MAX_LEASE_MS,
  MAX_POLL_WAIT_MS,
  MAX_STALE_AFTER_MS,
  MIN_LEASE_MS,
  MIN_STALE_AFTER_MS,
  type ProgressRequest,
  type ReleaseRequest,
  type ReportJobRequest,
  type ReportJobResponse,
  type RequeueRequest,
  TERMINAL_STATUSES,
} from '@jobtracker/sdk/wire';
import { z } from 'zod';
import type { Check, CheckAll, SameShape } from '../util/type-equality.js';

/** Limits on what a client or worker may store in a job. */
export const LIMITS = {
  bodyBytes: 256 * 1024,
  progressBatch: 1000,
  typeLength: 100,
  scopeLength: 200,
  titleLength: 200,
  messageLength: 1000,
  errorMessageLength: 2000,
  inputBytes: 64 * 1024,
  resultBytes: 16 * 1024,
  idempotencyKeyLength: 200,
  /** An owner named by the worker key: a token's `sub` is as long at most (auth/jwt.ts). */
  ownerLength: 200,
} as const;

const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value) ?? '');

/**
 * Any JSON value. Named, so that the OpenAPI document holds its recursion once, as
 * `#/components/schemas/JsonValue` (zod's own `z.json()` recurses through an unnamed inner schema).
 */
export const jsonValueSchema: z.ZodType<JsonValue, JsonValue> = z
  .lazy(() =>
    z.union([
      z.string(),
      z.number(),
      z.boolean(),
      z.null(),
      z.array(jsonValueSchema),
      z.record(z.string(), jsonValueSchema),
    ]),
  )
  .meta({ id: 'JsonValue', description: 'Any JSON value.' });

const jsonValue = (maxBytes: number, what: string) =>
  jsonValueSchema.refine((value) => jsonBytes(value) <= maxBytes, {
    message: `${what} must be at most ${maxBytes} bytes of JSON.`,
  });

export const jobStatusSchema = z.enum(JOB_STATUSES);

export const jobTypeSchema = z
  .string()
  .min(1)
  .max(LIMITS.typeLength)
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]*$/, 'Use letters, digits and . _ : - only.')
  .describe('Job kind, e.g. `demo.generate`.');

const staleAfterMs = z
  .int()
  .min(MIN_STALE_AFTER_MS)
  .max(MAX_STALE_AFTER_MS)
  .optional()
  .describe('A running job with no update for this long counts as stalled (1 s – 24 h).');

export const createJobBody = z
  .strictObject({
    type: jobTypeSchema,
    scope: z.string().min(1).max(LIMITS.scopeLength).nullable().optional(),
    title: z.string().max(LIMITS.titleLength).nullable().optional(),
    input: jsonValue(LIMITS.inputBytes, 'input').nullable().optional(),
    maxAttempts: z.int().min(1).max(20).optional(),
    dedupe: z
      .boolean()
      .optional()
      .describe('False lets a second job of the same type and scope run. Default true.'),
    staleAfterMs,
  })
  .describe('A job to start.');

const statusName = `\\s*(?:active|finished|${JOB_STATUSES.join('|')})\\s*`;

const statusList = z
  .string()
  .regex(
    new RegExp(`^${statusName}(?:,${statusName})*$`),
    `Use statuses separated by commas: active, finished, ${JOB_STATUSES.join(', ')}.`,
  )
  .transform((value) => {
    const statuses = new Set<JobStatus>();
    for (const part of value.split(',')) {
      const name = part.trim();
      const named = name === 'active' ? ACTIVE_STATUSES : name === 'finished' ? TERMINAL_STATUSES : null;
      for (const status of named ?? [jobStatusSchema.parse(name)]) statuses.add(status);
    }
    return [...statuses];
  })
  .describe(
    `Comma-separated statuses; \`active\` = ${ACTIVE_STATUSES.join(',')} and \`finished\` = ${TERMINAL_STATUSES.join(',')}.`,
  );

const CURSOR_MESSAGE = 'A cursor is the decimal number the API returned.';

export const cursorSchema = z
  .string()
  .regex(/^\d{1,16}$/, CURSOR_MESSAGE)
  .transform(Number);

/**
 * A whole number in a query string, e.g. `?limit=50`: documented as an integer in `min`–`max`, read
 * strictly (decimal digits only: no sign, exponent or blanks).
 */
const queryInteger = (min: number, max: number) =>
  z.preprocess(
    (value) => (typeof value === 'string' && /^\d{1,16}$/.test(value) ? Number(value) : value),
    z.int().min(min).max(max),
  );

export const listJobsQuery = z.strictObject({
  status: statusList.optional(),
  type: jobTypeSchema.optional(),
  scope: z.string().min(1).max(LIMITS.scopeLength).optional(),
  limit: queryInteger(1, 200)
    .optional()
    .describe('At most this many jobs, newest first (1–200, default 50).'),
  before: z
    .string()
    .optional()
    .describe(
      'The next page: the `next` of the page before (an opaque token); jobs older than its last job, in the same order. Not with `since`.',
    ),
  since: cursorSchema
    .optional()
    .describe(
      'Only jobs changed after this cursor (polling); a job whose only changes were progress reports comes in `progress`, as a delta.',
    ),
  wait: queryInteger(0, MAX_POLL_WAIT_MS)
    .optional()
    .describe(
      `With \`since\`: when nothing changed after it, hold the request until something does, at most this many ms (0–${MAX_POLL_WAIT_MS}).`,
    ),
});

export const streamQuery = z.strictObject({
  since: cursorSchema.optional().describe('Resume after this cursor; the `Last-Event-ID` header wins.'),
});

export const workerEventsQuery = z.strictObject({
  since: cursorSchema
    .optional()
    .describe('Replay the cancels after this cursor; the `Last-Event-ID` header wins.'),
});

/** The cursor an `EventSource` sends back on reconnecting; empty means none. */
export const lastEventIdHeader = z
  .string()
  .regex(/^(?:\d{1,16})?$/, CURSOR_MESSAGE)
  .transform((value) => (value === '' ? undefined : Number(value)))
  .optional()
  .describe('The `id:` of the last event received; the stream resumes after it.');

/** A job id in a path: anything else names no job (404). */
export const jobIdParam = z
  .string()
  .regex(/^[0-9a-z]{26}$/)
  .describe('The job id.');

export const idempotencyKeyHeader = z
  .string()
  .min(1)
  .max(LIMITS.idempotencyKeyLength)
  .optional()
  .describe('Retries of a create with the same key answer the job the first one created.');

const leaseToken = z.string().min(1).max(100).describe('The token `claim` returned.');
const leaseMs = z.int().min(MIN_LEASE_MS).max(MAX_LEASE_MS);

export const claimBody = z.strictObject({
  types: z.array(jobTypeSchema).min(1).max(50),
  workerId: z.string().min(1).max(200).optional(),
  leaseMs: leaseMs.optional(),
  waitMs: z
    .int()
    .min(0)
    .max(MAX_CLAIM_WAIT_MS)
    .optional()
    .describe('Wait this long for a job when none is pending.'),
});

export const heartbeatBody = z.strictObject({ leaseToken, leaseMs: leaseMs.optional() });

export const releaseBody = z.strictObject({ leaseToken });

export const requeueBody = z.strictObject({
  leaseToken,
  message: z
    .string()
    .max(LIMITS.messageLength)
    .nullable()
    .optional()
    .describe('Shown while the job waits for its next attempt, e.g. "Retrying (attempt 2 of 3)".'),
});

export const progressBody = z.strictObject({
  leaseToken,
  progress: z.number().min(0).max(100).nullable().optional(),
  message: z.string().max(LIMITS.messageLength).nullable().optional(),
  leaseMs: leaseMs.optional(),
});

export const progressBatchBody = z.strictObject({
  updates: z
    .array(
      z.strictObject({
        id: z.string().max(100).describe('The job id.'),
        leaseToken,
        progress: z.number().min(0).max(100).nullable().optional(),
        message: z.string().max(LIMITS.messageLength).nullable().optional(),
        leaseMs: leaseMs.optional(),
      }),
    )
    .min(1)
    .max(LIMITS.progressBatch),
});

export const progressBatchResponse = z.object({
  results: z.array(
    z.union([
      z.object({ id: z.string(), version: z.int() }),
      z.object({
        id: z.string(),
        error: z.object({ status: z.int(), code: z.string(), message: z.string() }),
      }),
    ]),
  ),
});

export const completeBody = z.strictObject({
  leaseToken,
  result: jsonValue(LIMITS.resultBytes, 'result').nullable().optional(),
});

export const jobErrorSchema = z.strictObject({
  message: z.string().min(1).max(LIMITS.errorMessageLength),
  code: z.string().min(1).max(100).optional(),
  retryable: z.boolean().optional(),
});

export const failBody = z.strictObject({ leaseToken, error: jobErrorSchema });

/** `POST /api/jobs/:id/dismiss`: optional; no body dismisses. */
export const dismissBody = z.strictObject({
  dismissed: z
    .boolean()
    .optional()
    .describe('Default true: hide the job from the tracker; false brings it back.'),
});

/** The job as responses carry it (the server builds it from its records; checked against `Job` below). */
export const jobSchema = z
  .object({
    id: z.string(),
    type: z.string(),
    scope: z.string().nullable(),
    title: z.string().nullable(),
    status: jobStatusSchema,
    progress: z.number().min(0).max(100).nullable(),
    message: z.string().nullable(),
    result: jsonValueSchema.nullable(),
    error: jobErrorSchema.nullable(),
    attempt: z.int(),
    maxAttempts: z.int(),
    retryOf: z.string().nullable(),
    staleAfterMs: z
      .int()
      .optional()
      .describe(
        'When present: a running job whose `updatedAt` is older than this many ms counts as stalled.',
      ),
    version: z.int(),
    createdAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    updatedAt: z.iso.datetime(),
    completedAt: z.iso.datetime().nullable(),
    dismissedAt: z.iso
      .datetime()
      .nullable()
      .describe('When the owner hid the job from the tracker; null while it is shown.'),
  })
  .meta({ id: 'Job' });

export const jobResponse = z.object({ job: jobSchema });

export const jobProgressDeltaSchema = z
  .object({
    id: z.string(),
    from: z.int().optional().describe('The version this delta applies on top of.'),
    version: z.int(),
    progress: z.number().min(0).max(100).nullable(),
    message: z.string().nullable(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'JobProgressDelta' });

export const jobListResponse = z.object({
  jobs: z.array(jobSchema),
  progress: z
    .array(jobProgressDeltaSchema)
    .optional()
    .describe('With `since`: jobs whose only changes after the cursor were progress reports.'),
  cursor: z.string(),
  reset: z.boolean().optional(),
  next: z
    .string()
    .nullable()
    .optional()
    .describe('Without `since`: pass as `before` for the next (older) page; null when no older job matches.'),
});

export const createJobResponse = z.object({
  job: jobSchema,
  created: z.boolean(),
  reason: z.enum(['active_duplicate', 'idempotency_key']).optional(),
});

export const claimResponse = z.object({
  job: jobSchema,
  ownerId: z.string(),
  input: jsonValueSchema.nullable(),
  leaseToken: z.string(),
  leaseExpiresAt: z.iso.datetime(),
});

export const heartbeatResponse = z.object({ leaseExpiresAt: z.iso.datetime() });

export const healthResponse = z.looseObject({ status: z.literal('ok'), version: z.string() });

/** Every error the API answers. */
export const errorResponse = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: jsonValueSchema.optional() }),
  })
  .meta({ id: 'Error' });

export const reportJobBody = z
  .strictObject({
    owner: z
      .string()
      .min(1)
      .max(LIMITS.ownerLength)
      .describe("The user the job belongs to: their tokens' `sub`."),
    type: jobTypeSchema,
    scope: z.string().min(1).max(LIMITS.scopeLength).nullable().optional(),
    title: z.string().max(LIMITS.titleLength).nullable().optional(),
    input: jsonValue(LIMITS.inputBytes, 'input').nullable().optional(),
    externalId: z
      .string()
      .min(1)
      .max(MAX_EXTERNAL_ID_LENGTH)
      .optional()
      .describe('The host’s own id of the work: the same one answers the same job, for this owner.'),
    status: z
      .enum(['pending', 'running'])
      .optional()
      .describe('`running` starts the job now; `pending` (default) at its first report.'),
    maxAttempts: z.int().min(1).max(20).optional(),
    dedupe: z
      .boolean()
      .optional()
      .describe('False lets a second job of the same type and scope run. Default true.'),
    staleAfterMs,
  })
  .describe('A job a host runs itself, created for its user.');

export const reportJobResponse = z.object({
  job: jobSchema,
  created: z.boolean(),
  reason: z.enum(['active_duplicate', 'external_id']).optional(),
  reportToken: z
    .string()
    .nullable()
    .describe(
      'The `leaseToken` of every write to this job; never expires. Null for a job this host does not report.',
    ),
});

/** A request body matches its wire type both as a client sends it and as the route reads it parsed. */
type BodyMatches<Schema extends z.ZodType, Wire> = [
  SameShape<z.input<Schema>, Wire>,
  SameShape<z.output<Schema>, Wire>,
];

/** Fails `tsc -b`, at the line of the mismatch, when a schema and its `@jobtracker/sdk/wire` type drift apart. */
export type SchemasMatchTheWire = [
  Check<SameShape<z.output<typeof jobSchema>, Job>>,
  Check<SameShape<z.output<typeof jobResponse>, JobResponse>>,
  Check<SameShape<z.output<typeof jobListResponse>, JobListResponse>>,
  Check<SameShape<z.output<typeof jobProgressDeltaSchema>, JobProgressDelta>>,
  Check<SameShape<z.output<typeof createJobResponse>, CreateJobResponse>>,
  Check<SameShape<z.output<typeof claimResponse>, ClaimedJob>>,
  Check<SameShape<z.output<typeof heartbeatResponse>, HeartbeatResponse>>,
  Check<SameShape<z.output<typeof progressBatchResponse>, BatchProgressResponse>>,
  Check<SameShape<z.output<typeof errorResponse>, ErrorBody>>,
  CheckAll<BodyMatches<typeof createJobBody, CreateJobRequest>>,
  CheckAll<BodyMatches<typeof claimBody, ClaimRequest>>,
  CheckAll<BodyMatches<typeof heartbeatBody, HeartbeatRequest>>,
  CheckAll<BodyMatches<typeof releaseBody, ReleaseRequest>>,
  CheckAll<BodyMatches<typeof requeueBody, RequeueRequest>>,
  CheckAll<BodyMatches<typeof progressBody, ProgressRequest>>,
  CheckAll<BodyMatches<typeof progressBatchBody, BatchProgressRequest>>,
  CheckAll<BodyMatches<typeof completeBody, CompleteRequest>>,
  CheckAll<BodyMatches<typeof failBody, FailRequest>>,
  CheckAll<BodyMatches<typeof dismissBody, DismissJobRequest>>,
  CheckAll<BodyMatches<typeof reportJobBody, ReportJobRequest>>,
  Check<SameShape<z.output<typeof reportJobResponse>, ReportJobResponse>>,
];
