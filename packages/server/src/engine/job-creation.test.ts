import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { createIdSequence } from '../ids/ids.js';
import type { JobRecord } from '../jobs/job-record.js';
import type { IdempotencyRecord, StoredEvent, StoreTransaction } from '../storage/store.js';
import { jobRecord } from '../testing/job-records.js';
import { logEntryOf } from './job-change.js';
import { type CreationContext, createJob, newJobRecord } from './job-creation.js';

/**
 * A database of jobs and keys, and a writer over it that tells what it was asked. `race` makes the next
 * insert lose to another writer: the job's active key, or the idempotency key, is taken meanwhile.
 */
function world(options: { race?: 'active key' | 'idempotency key'; winner?: JobRecord | null } = {}) {
  const jobs: JobRecord[] = [];
  const keys: IdempotencyRecord[] = [];
  const events: StoredEvent[] = [];
  const told: string[] = [];
  let race = options.race;
  const tx = {
    insertJob: async (job: JobRecord) => {
      if (race === 'active key') {
        race = undefined;
        if (options.winner) jobs.push(options.winner);
        return false;
      }
      jobs.push(job);
      return true;
    },
    insertIdempotencyKey: async (row: IdempotencyRecord) => {
      if (race === 'idempotency key') {
        race = undefined;
        return false;
      }
      keys.push(row);
      return true;
    },
    appendEvents: async (logged: readonly StoredEvent[]) => {
      events.push(...logged);
    },
  } as unknown as StoreTransaction;
  const context: CreationContext = {
    store: {
      transaction: async (work) => {
        const before = [jobs.length, keys.length, events.length];
        try {
          return await work(tx);
        } catch (error) {
          jobs.length = before[0] ?? 0;
          keys.length = before[1] ?? 0;
          events.length = before[2] ?? 0;
          throw error;
        }
      },
      getIdempotencyKey: async (ownerId, key) =>
        keys.find((row) => row.ownerId === ownerId && row.key === key) ?? null,
      findByExternalId: async (ownerId, externalId) =>
        jobs.find((job) => job.ownerId === ownerId && job.externalId === externalId) ?? null,
    },
    writer: {
      exclusive: (work) => work(),
      load: async (id) => jobs.find((job) => job.id === id) ?? null,
      findActive: async (ownerId, activeKey) =>
        jobs.find((job) => job.ownerId === ownerId && job.activeKey === activeKey) ?? null,
      newest: (row) => row,
      logEntry: (record) => logEntryOf(record, 0, 5000),
      learn: (record) => told.push(`learn ${record.id}`),
      created: async (record) => {
        told.push(`created ${record.id}`);
      },
    },
    now: () => 5000,
    nextId: createIdSequence(),
    defaultMaxAttempts: 3,
  };
  return { context, jobs, keys, events, told };
}

const code = (error: unknown) =>
  error instanceof ApiError ? `${error.status} ${error.code} ${error.message}` : String(error);

describe('job creation', () => {
  it('creates a job with its event and key in one transaction, and tells the writer', async () => {
    const { context, jobs, keys, events, told } = world();
    const answer = await createJob(context, {
      ownerId: 'alice',
      input: { type: 'gen' },
      idempotencyKey: 'k',
    });
    assert.equal(answer.created, true);
    assert.deepEqual(
      [jobs.length, keys[0]?.jobId, events[0]?.jobId, told],
      [1, answer.job.id, answer.job.id, [`created ${answer.job.id}`]],
    );
  });

  it('answers with the job another writer created for the same scope meanwhile, and keeps the key for it', async () => {
    const winner = jobRecord({ id: 'theirs', activeKey: 'gen|' });
    const { context, keys, told } = world({ race: 'active key', winner });
    const answer = await createJob(context, {
      ownerId: 'alice',
      input: { type: 'gen' },
      idempotencyKey: 'k',
    });
    assert.deepEqual([answer.created, answer.reason, answer.job.id], [false, 'active_duplicate', 'theirs']);
    assert.deepEqual(told, ['learn theirs'], 'the writer learns of their job');
    assert.equal(keys[0]?.jobId, 'theirs');
  });

  it('answers busy (503) when a race was lost to a job that is gone again', async () => {
    const lostScope = world({ race: 'active key', winner: null });
    await assert.rejects(
      createJob(lostScope.context, { ownerId: 'alice', input: { type: 'gen' } }),
      (error) => code(error) === '503 busy The job could not be created; try again.',
    );
    const lostKey = world({ race: 'idempotency key' });
    await assert.rejects(
      createJob(lostKey.context, { ownerId: 'alice', input: { type: 'gen' }, idempotencyKey: 'k' }),
      (error) => code(error) === '503 busy The job could not be created; try again.',
    );
    assert.deepEqual([lostKey.jobs.length, lostKey.events.length], [0, 0], 'nothing was written');
  });

  it('fills a new job’s record from the request and the defaults', () => {
    const context = { now: () => 7000, nextId: createIdSequence(), defaultMaxAttempts: 4 };
    const plain = newJobRecord(context, { ownerId: 'alice', input: { type: 'gen', scope: 'doc' } });
    assert.deepEqual(
      [plain.status, plain.version, plain.maxAttempts, plain.activeKey, plain.retryOf, plain.createdAt],
      ['pending', 1, 4, 'gen|doc', null, 7000],
    );
    const retry = newJobRecord(context, {
      ownerId: 'alice',
      input: { type: 'gen', dedupe: false, maxAttempts: 1, title: 'T', input: { a: 1 } },
      retryOf: 'old',
    });
    assert.deepEqual(
      [retry.activeKey, retry.maxAttempts, retry.retryOf, retry.title, retry.input, retry.scope],
      [null, 1, 'old', 'T', { a: 1 }, null],
    );
  });
});
