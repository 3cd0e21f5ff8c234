import assert from 'node:assert/strict';
import type { CreateJobResponse, JobError, JobStatus, JsonValue } from '@jobtracker/sdk';
import type { ClaimedJob, CreateJobInput } from '@jobtracker/test-support/server-internals';

// The reference model of the job state machine: what one call must answer and publish, given the jobs
// as the calls before it left them.

export const DEFAULT_LEASE_MS = 3_000;
export const DEFAULT_MAX_ATTEMPTS = 2;
export const TERMINAL: readonly JobStatus[] = ['completed', 'failed', 'cancelled'];
export const isActive = (status: JobStatus) => status === 'pending' || status === 'running';

/** The model's stand-in for the message the engine writes when it re-queues a lost worker's job. */
export const REQUEUE_MESSAGE = '\u0000(the engine’s re-queue message)';

/** One call to the engine, a template resolved against the model's state. */
export type Call =
  | { op: 'create'; owner: string; input: CreateJobInput; key: string | undefined }
  | { op: 'claim'; types: string[]; leaseMs: number | undefined }
  | {
      op: 'progress';
      id: string;
      token: string;
      update: { progress?: number | null; message?: string | null; leaseMs?: number };
    }
  | { op: 'heartbeat'; id: string; token: string; leaseMs: number | undefined }
  | { op: 'complete'; id: string; token: string; result: JsonValue }
  | { op: 'fail'; id: string; token: string; error: JobError }
  | { op: 'release'; id: string; token: string }
  | { op: 'cancel' | 'retry' | 'get'; owner: string; id: string }
  | { op: 'dismiss'; owner: string; id: string; dismissed: boolean }
  | { op: 'tick'; ms: number }
  | { op: 'recover' | 'flush' }
  | { op: 'replay'; owner: string; since: number };

/** What the engine answered: a value, or a refusal (any other error is a defect and fails the run). */
export type Outcome = { ok: true; value: unknown } | { ok: false; status: number; code: string };

export interface ModelJob {
  id: string;
  owner: string;
  type: string;
  scope: string | null;
  input: JsonValue | null;
  activeKey: string | null;
  status: JobStatus;
  progress: number | null;
  message: string | null;
  attempt: number;
  maxAttempts: number;
  version: number;
  leaseToken: string | null;
  leaseExpiresAt: number | null;
  /** Every lease token this job was ever claimed with. */
  tokens: string[];
  createdAt: number;
  /** The owner hid it from the tracker (`dismissedAt` set). */
  dismissed: boolean;
}

export interface Model {
  now: number;
  /** In creation order. */
  jobs: ModelJob[];
  idempotency: Map<string, { hash: string; jobId: string }>;
}

/** What the model says one call does. Ids of jobs it creates are placeholders until the call answers. */
export interface Expect {
  refuse?: { status: number; code: string };
  result:
    | { kind: 'job'; id: string; version: number; status: JobStatus }
    | { kind: 'create'; created: boolean; reason?: string; id: string; version: number }
    | { kind: 'claim'; id: string | null; version: number }
    | { kind: 'lease'; leaseExpiresAt: number }
    | { kind: 'count'; count: number }
    | { kind: 'none' };
  events: ExpectedEvent[];
}

export interface ExpectedEvent {
  jobId: string;
  owner: string;
  version: number;
  status: JobStatus;
  progress: number | null;
  attempt: number;
  message: string | null;
  dismissed: boolean;
  /** A progress report: published as a delta on top of the version before it (`progressFrom`). */
  progressReport: boolean;
}

export const placeholderId = (slot: number) => `(new job of call ${slot})`;
export const placeholderToken = (slot: number) => `(lease of call ${slot})`;
const refused = (status: number, code: string): Expect => ({
  refuse: { status, code },
  result: { kind: 'none' },
  events: [],
});
const eventOf = (job: ModelJob, progressReport = false): ExpectedEvent => ({
  jobId: job.id,
  owner: job.owner,
  version: job.version,
  status: job.status,
  progress: job.progress,
  attempt: job.attempt,
  message: job.message,
  dismissed: job.dismissed,
  progressReport,
});
const jobResult = (job: ModelJob): Expect['result'] => ({
  kind: 'job',
  id: job.id,
  version: job.version,
  status: job.status,
});
/** A visible change: the next version and its event (a progress report's, or any other change's). */
const bump = (job: ModelJob, change: Partial<ModelJob>, progressReport = false): Expect => {
  Object.assign(job, change);
  job.version++;
  return { result: jobResult(job), events: [eventOf(job, progressReport)] };
};
const leaseless = { leaseToken: null, leaseExpiresAt: null } as const;
const find = (model: Model, id: string) => model.jobs.find((job) => job.id === id);

function predictCreate(
  model: Model,
  owner: string,
  input: CreateJobInput,
  key: string | undefined,
  slot: number,
): Expect {
  const { type, scope = null, dedupe, maxAttempts } = input;
  const hash = JSON.stringify([
    type,
    scope,
    input.input === undefined ? '(none)' : input.input,
    dedupe ?? '(none)',
    maxAttempts ?? '(none)',
  ]);
  const keyOf = `${owner}\u0000${key}`;
  if (key !== undefined) {
    const seen = model.idempotency.get(keyOf);
    if (seen) {
      if (seen.hash !== hash) return refused(422, 'idempotency_key_reused');
      const job = find(model, seen.jobId);
      assert.ok(job, 'model: an idempotency key names a job it knows');
      return {
        result: {
          kind: 'create',
          created: false,
          reason: 'idempotency_key',
          id: job.id,
          version: job.version,
        },
        events: [],
      };
    }
  }
  const activeKey = dedupe === false ? null : `${type}\u0000${scope ?? ''}`;
  const existing =
    activeKey === null
      ? undefined
      : model.jobs.find((job) => job.owner === owner && job.activeKey === activeKey);
  if (existing) {
    if (key !== undefined) model.idempotency.set(keyOf, { hash, jobId: existing.id });
    return {
      result: {
        kind: 'create',
        created: false,
        reason: 'active_duplicate',
        id: existing.id,
        version: existing.version,
      },
      events: [],
    };
  }
  const job: ModelJob = {
    id: placeholderId(slot),
    owner,
    type,
    scope,
    input: input.input ?? null,
    activeKey,
    status: 'pending',
    progress: null,
    message: null,
    attempt: 0,
    maxAttempts: maxAttempts ?? DEFAULT_MAX_ATTEMPTS,
    version: 1,
    ...leaseless,
    tokens: [],
    createdAt: model.now,
    dismissed: false,
  };
  model.jobs.push(job);
  if (key !== undefined) model.idempotency.set(keyOf, { hash, jobId: job.id });
  return { result: { kind: 'create', created: true, id: job.id, version: 1 }, events: [eventOf(job)] };
}

/** The fence every worker call passes first: the job exists, is not cancelled, and the lease is current. */
function leaseHolder(model: Model, id: string, token: string): ModelJob | Expect {
  const job = find(model, id);
  if (!job) return refused(404, 'not_found');
  if (job.status === 'cancelled') return refused(409, 'job_cancelled');
  if (job.leaseToken === null || job.leaseToken !== token) return refused(409, 'lease_lost');
  assert.equal(job.status, 'running', 'model: only a running job holds a lease');
  return job;
}
const isExpect = (value: ModelJob | Expect): value is Expect => 'events' in value;

/**
 * The pending job of these types `claim` hands out: the first created (in both modes: job ids rise in
 * creation order, also within one millisecond), passing over `skipped`.
 */
function nextPending(model: Model, types: readonly string[], skipped: string | null) {
  return model.jobs.find((job) => job.status === 'pending' && types.includes(job.type) && job.id !== skipped);
}

/**
 * Applies one call to the model (in place) and says what the engine must answer and publish; a claim
 * passes over the job `skipped` (one whose row another call held locked).
 */
export function predict(model: Model, call: Call, slot: number, skipped: string | null = null): Expect {
  switch (call.op) {
    case 'create':
      return predictCreate(model, call.owner, call.input, call.key, slot);
    case 'claim': {
      const job = nextPending(model, call.types, skipped);
      if (!job) return { result: { kind: 'claim', id: null, version: 0 }, events: [] };
      const expect = bump(job, {
        status: 'running',
        attempt: job.attempt + 1,
        progress: null,
        message: null,
        leaseToken: placeholderToken(slot),
        leaseExpiresAt: model.now + (call.leaseMs ?? DEFAULT_LEASE_MS),
      });
      return { ...expect, result: { kind: 'claim', id: job.id, version: job.version } };
    }
    case 'progress': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      const { progress: p, message } = call.update;
      let nextProgress = job.progress;
      if (p !== undefined) {
        if (p !== null && !(Number.isFinite(p) && p >= 0 && p <= 100)) {
          return refused(409, 'progress_out_of_range');
        }
        if (job.progress !== null && (p === null || p < job.progress))
          return refused(409, 'progress_decreased');
        nextProgress = p;
      }
      const nextMessage = message === undefined ? job.message : message;
      job.leaseExpiresAt = model.now + (call.update.leaseMs ?? DEFAULT_LEASE_MS);
      if (nextProgress === job.progress && nextMessage === job.message) {
        return { result: jobResult(job), events: [] };
      }
      return bump(job, { progress: nextProgress, message: nextMessage }, true);
    }
    case 'heartbeat': {
      const leaseExpiresAt = model.now + (call.leaseMs ?? DEFAULT_LEASE_MS);
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      job.leaseExpiresAt = leaseExpiresAt;
      return { result: { kind: 'lease', leaseExpiresAt }, events: [] };
    }
    case 'complete': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, { ...leaseless, status: 'completed', progress: 100, activeKey: null });
    }
    case 'fail': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, { ...leaseless, status: 'failed', activeKey: null });
    }
    case 'release': {
      const job = leaseHolder(model, call.id, call.token);
      if (isExpect(job)) return job;
      return bump(job, {
        ...leaseless,
        status: 'pending',
        progress: null,
        attempt: Math.max(0, job.attempt - 1),
      });
    }
    case 'cancel': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      if (job.status === 'cancelled') return { result: jobResult(job), events: [] };
      if (!isActive(job.status)) return refused(409, 'invalid_transition');
      return bump(job, { ...leaseless, status: 'cancelled', activeKey: null });
    }
    case 'retry': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      if (job.status !== 'failed' && job.status !== 'cancelled') return refused(409, 'invalid_transition');
      const input: CreateJobInput = {
        type: job.type,
        scope: job.scope,
        input: job.input,
        maxAttempts: job.maxAttempts,
      };
      return predictCreate(model, call.owner, input, undefined, slot);
    }
    case 'dismiss': {
      // Any status, which it keeps; what already is answers the job unchanged.
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      if (job.dismissed === call.dismissed) return { result: jobResult(job), events: [] };
      return bump(job, { dismissed: call.dismissed });
    }
    case 'get': {
      const job = find(model, call.id);
      if (!job || job.owner !== call.owner) return refused(404, 'not_found');
      return { result: jobResult(job), events: [] };
    }
    case 'recover': {
      const events: ExpectedEvent[] = [];
      for (const job of model.jobs) {
        if (job.status !== 'running' || job.leaseExpiresAt === null || job.leaseExpiresAt > model.now)
          continue;
        const change: Partial<ModelJob> =
          job.attempt < job.maxAttempts
            ? { ...leaseless, status: 'pending', progress: null, message: REQUEUE_MESSAGE }
            : { ...leaseless, status: 'failed', activeKey: null };
        events.push(...bump(job, change).events);
      }
      return { result: { kind: 'count', count: events.length }, events };
    }
    case 'tick':
      model.now += call.ms;
      return { result: { kind: 'none' }, events: [] };
    case 'flush':
    case 'replay':
      return { result: { kind: 'none' }, events: [] };
  }
}

/** Gives the jobs and leases a call made their real ids and tokens, once it has answered. */
export function bind(model: Model, slot: number, outcome: Outcome): void {
  if (!outcome.ok) return;
  const placeholder = placeholderId(slot);
  const created = model.jobs.find((job) => job.id === placeholder);
  if (created) {
    const id = (outcome.value as CreateJobResponse).job.id;
    created.id = id;
    for (const seen of model.idempotency.values()) if (seen.jobId === placeholder) seen.jobId = id;
  }
  const claimed = model.jobs.find((job) => job.leaseToken === placeholderToken(slot));
  if (claimed) {
    const token = (outcome.value as ClaimedJob).leaseToken;
    claimed.leaseToken = token;
    claimed.tokens.push(token);
  }
}
