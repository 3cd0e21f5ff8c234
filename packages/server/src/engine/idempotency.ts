import { createHash } from 'node:crypto';
import type { CreateJobResponse } from '@jobtracker/sdk/wire';
import { ApiError } from '../http/errors.js';
import { type JobRecord, toWireJob } from '../jobs/job-record.js';
import type { JobStore, StoreTransaction } from '../storage/store.js';
import type { CreateJobInput } from './types.js';

/** A create that carried an `Idempotency-Key`: a repeat of it is answered with the job the first one got. */
export class IdempotentRequest {
  readonly #ownerId: string;
  readonly #key: string;
  readonly #requestHash: string;

  constructor(ownerId: string, key: string, input: CreateJobInput) {
    this.#ownerId = ownerId;
    this.#key = key;
    this.#requestHash = hashRequest(input);
  }

  /**
   * The answer an earlier request with this key got, or null when there was none (or its job is gone).
   * The same key with another body is refused with 422.
   */
  async earlierAnswer(
    store: Pick<JobStore, 'getIdempotencyKey'>,
    load: (id: string) => Promise<JobRecord | null>,
  ): Promise<CreateJobResponse | null> {
    const seen = await store.getIdempotencyKey(this.#ownerId, this.#key);
    if (!seen) return null;
    if (seen.requestHash !== this.#requestHash) {
      throw new ApiError(
        422,
        'idempotency_key_reused',
        'This Idempotency-Key was used before with a different request body.',
      );
    }
    const job = await load(seen.jobId);
    return job ? { job: toWireJob(job), created: false, reason: 'idempotency_key' } : null;
  }

  /** Keeps the key as answered by `jobId`; false when a concurrent request kept it first. */
  keep(
    tx: Pick<StoreTransaction, 'insertIdempotencyKey'>,
    jobId: string,
    createdAt: number,
  ): Promise<boolean> {
    return tx.insertIdempotencyKey({
      ownerId: this.#ownerId,
      key: this.#key,
      requestHash: this.#requestHash,
      jobId,
      createdAt,
    });
  }
}

/** An idempotency key taken by a concurrent create between our read and our insert. */
export class IdempotencyKeyTaken extends Error {}

/** Two bodies that differ only in the order of their keys hash the same. */
export function hashRequest(input: CreateJobInput): string {
  return createHash('sha256').update(canonicalJson(input)).digest('base64url');
}

export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
