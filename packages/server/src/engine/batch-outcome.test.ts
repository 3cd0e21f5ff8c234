import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError, conflict } from '../http/errors.js';
import { toWireJob } from '../jobs/job-record.js';
import { jobRecord } from '../testing/job-records.js';
import { outcomeOf } from './batch-outcome.js';

describe('batch outcome', () => {
  it('answers an update with its job, a refusal with its error, and lets anything else fail the batch', async () => {
    const job = toWireJob(jobRecord());
    assert.deepEqual(await outcomeOf(async () => job), { job });
    const refused = await outcomeOf(async () => {
      throw conflict('lease_lost', 'gone');
    });
    assert.ok(
      'error' in refused && refused.error instanceof ApiError && refused.error.code === 'lease_lost',
      'a refusal is the outcome',
    );
    await assert.rejects(
      outcomeOf(async () => {
        throw new Error('connection reset');
      }),
      /connection reset/,
    );
  });
});
