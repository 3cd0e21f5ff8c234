import type { CreateJobResponse, ReportJobRequest, ReportJobResponse } from '@jobtracker/sdk/wire';
import { busy } from '../http/errors.js';
import { createSecretToken } from '../ids/ids.js';
import { activeKeyOf, type JobRecord, toWireJob } from '../jobs/job-record.js';
import type { JobStore } from '../storage/store.js';
import { IdempotencyKeyTaken, IdempotentRequest } from './idempotency.js';
import type { CreateJobInput } from './types.js';
import type { JobWriter } from './writer.js';

export interface CreationContext {
  store: Pick<JobStore, 'transaction' | 'getIdempotencyKey' | 'findByExternalId'>;
  writer: Pick<JobWriter, 'exclusive' | 'load' | 'findActive' | 'newest' | 'logEntry' | 'learn' | 'created'>;
  now: () => number;
  /** Job ids in creation order (`createIdSequence`), so that claims take jobs first in, first out. */
  nextId: (now: number) => string;
  defaultMaxAttempts: number;
}

export interface CreateRequest {
  ownerId: string;
  input: CreateJobInput;
  idempotencyKey?: string | undefined;
  /** The failed or cancelled job this one retries. */
  retryOf?: string | null;
}

const NOT_CREATED = 'The job could not be created; try again.';

/**
 * Creates a job unless the request's `Idempotency-Key` was answered before (that answer again), or the
 * owner has an active job of the same type and scope (that job). When another writer wins a race for
 * the key or the scope, its job is the answer.
 */
export function createJob(context: CreationContext, request: CreateRequest): Promise<CreateJobResponse> {
  const { store, writer, now } = context;
  const { ownerId, input, idempotencyKey } = request;
  const keyed = idempotencyKey === undefined ? null : new IdempotentRequest(ownerId, idempotencyKey, input);
  const earlierAnswer = async () => (keyed ? keyed.earlierAnswer(store, (id) => writer.load(id)) : null);
  const duplicate = async (job: JobRecord): Promise<CreateJobResponse> => {
    if (keyed && !(await store.transaction((tx) => keyed.keep(tx, job.id, now())))) {
      // A concurrent request with the same key (another instance's) kept it first: its answer is ours.
      const theirs = await earlierAnswer();
      if (theirs) return theirs;
    }
    return { job: toWireJob(job), created: false, reason: 'active_duplicate' };
  };

  return writer.exclusive(async () => {
    const answered = await earlierAnswer();
    if (answered) return answered;
    const activeKey = activeKeyFor(input);
    const existing = activeKey === null ? null : await writer.findActive(ownerId, activeKey);
    if (existing) return duplicate(writer.newest(existing));

    const record = newJobRecord(context, request);
    const event = writer.logEntry(record);
    let inserted: boolean;
    try {
      inserted = await store.transaction(async (tx) => {
        if (!(await tx.insertJob(record))) return false;
        if (keyed && !(await keyed.keep(tx, record.id, record.createdAt))) throw new IdempotencyKeyTaken();
        await tx.appendEvents([event]);
        return true;
      });
    } catch (error) {
      if (!(error instanceof IdempotencyKeyTaken)) throw error;
      // A concurrent create with the same key (another instance) committed first: its job is the answer.
      const theirs = await earlierAnswer();
      if (!theirs) throw busy(NOT_CREATED);
      return theirs;
    }
    if (!inserted) {
      // Another writer holds the unique (owner, active key) index: that job is the answer.
      const winner = activeKey === null ? null : await writer.findActive(ownerId, activeKey);
      if (!winner) throw busy(NOT_CREATED);
      writer.learn(winner);
      return duplicate(winner);
    }
    await writer.created(record, event);
    return { job: toWireJob(record), created: true };
  });
}

export function newJobRecord(
  { now, nextId, defaultMaxAttempts }: Pick<CreationContext, 'now' | 'nextId' | 'defaultMaxAttempts'>,
  { ownerId, input, retryOf = null }: CreateRequest,
): JobRecord {
  const createdAt = now();
  const scope = input.scope ?? null;
  return {
    id: nextId(createdAt),
    ownerId,
    type: input.type,
    scope,
    title: input.title ?? null,
    status: 'pending',
    progress: null,
    message: null,
    input: input.input ?? null,
    result: null,
    error: null,
    attempt: 0,
    maxAttempts: input.maxAttempts ?? defaultMaxAttempts,
    retryOf,
    activeKey: activeKeyFor(input),
    leaseToken: null,
    leaseExpiresAt: null,
    workerId: null,
    externalId: null,
    reportToken: null,
    staleAfterMs: input.staleAfterMs ?? null,
    version: 1,
    createdAt,
    startedAt: null,
    updatedAt: createdAt,
    completedAt: null,
  };
}

/** The key that keeps a second active job of this type and scope from being created, unless opted out. */
const activeKeyFor = (input: CreateJobInput) =>
  input.dedupe === false ? null : activeKeyOf(input.type, input.scope ?? null);

/**
 * Creates a job a host runs and reports on (`POST /api/worker/jobs`), with its report token: the
 * owner's job with the same `externalId` is the answer when there is one (whatever its status), else the
 * owner's active job of the same type and scope (`POST /api/jobs`'s dedupe). A race for either is
 * decided by the database's unique indexes, and the winner's job is the answer.
 */
export function createReportedJob(
  context: CreationContext,
  { owner, status = 'pending', externalId, ...input }: ReportJobRequest,
): Promise<ReportJobResponse> {
  const { store, writer } = context;
  const byExternalId = async () => {
    if (externalId === undefined) return null;
    const found = await store.findByExternalId(owner, externalId);
    return found && writer.newest(found);
  };
  const answer = (job: JobRecord, reason: 'active_duplicate' | 'external_id'): ReportJobResponse => ({
    job: toWireJob(job),
    created: false,
    reason,
    reportToken: job.reportToken,
  });

  return writer.exclusive(async () => {
    const known = await byExternalId();
    if (known) return answer(known, 'external_id');
    const activeKey = activeKeyFor(input);
    const existing = activeKey === null ? null : await writer.findActive(owner, activeKey);
    if (existing) return answer(writer.newest(existing), 'active_duplicate');

    const record = reportedJobRecord(newJobRecord(context, { ownerId: owner, input }), status, externalId);
    const event = writer.logEntry(record);
    const inserted = await store.transaction(async (tx) => {
      if (!(await tx.insertJob(record))) return false;
      await tx.appendEvents([event]);
      return true;
    });
    if (!inserted) {
      // Another writer (instance) created the owner's job with this external id or active key first.
      const winner =
        (await byExternalId()) ?? (activeKey === null ? null : await writer.findActive(owner, activeKey));
      if (!winner) throw busy(NOT_CREATED);
      writer.learn(winner);
      return answer(winner, winner.externalId === (externalId ?? null) ? 'external_id' : 'active_duplicate');
    }
    await writer.created(record, event);
    return { job: toWireJob(record), created: true, reportToken: record.reportToken };
  });
}

/** A new job as a host reports it: its report token is its lease, which never expires. */
function reportedJobRecord(
  record: JobRecord,
  status: 'pending' | 'running',
  externalId: string | undefined,
): JobRecord {
  const reportToken = createSecretToken();
  const reported = { ...record, externalId: externalId ?? null, reportToken, leaseToken: reportToken };
  if (status === 'pending') return reported;
  return { ...reported, status: 'running', attempt: 1, startedAt: record.createdAt };
}
