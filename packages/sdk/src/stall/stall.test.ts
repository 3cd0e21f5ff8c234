import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Job } from '../wire.js';
import { isStalled, stalledFor } from './stall.js';

const UPDATED = Date.parse('2026-01-01T12:00:00.000Z');

const job = (fields: Partial<Job> = {}): Job =>
  ({
    id: 'job_1',
    type: 'report',
    status: 'running',
    progress: 40,
    message: null,
    version: 3,
    createdAt: '2026-01-01T11:59:00.000Z',
    startedAt: '2026-01-01T11:59:00.000Z',
    updatedAt: new Date(UPDATED).toISOString(),
    staleAfterMs: 60_000,
    ...fields,
  }) as Job;

describe('isStalled / stalledFor', () => {
  it('a running job is stalled once its last update is older than staleAfterMs, not before', () => {
    assert.equal(isStalled(job(), UPDATED + 60_000), false, 'exactly staleAfterMs: not yet');
    assert.equal(isStalled(job(), UPDATED + 60_001), true);
    assert.equal(stalledFor(job(), UPDATED + 180_000), 180_000);
    assert.equal(stalledFor(job(), UPDATED + 59_000), null);
  });

  it('a job without staleAfterMs is never stalled', () => {
    const { staleAfterMs: _, ...without } = job();
    assert.equal(isStalled(without as Job, UPDATED + 86_400_000), false);
    assert.equal(stalledFor(without as Job, UPDATED + 86_400_000), null);
  });

  it('only a running job can be stalled', () => {
    for (const status of ['pending', 'completed', 'failed', 'cancelled'] as const)
      assert.equal(isStalled(job({ status }), UPDATED + 3_600_000), false, status);
  });

  it('the next update clears it', () => {
    const later = UPDATED + 120_000;
    assert.equal(isStalled(job(), later), true);
    assert.equal(isStalled(job({ updatedAt: new Date(later - 1000).toISOString() }), later), false);
  });

  it('reads the current time when no time is given', () => {
    assert.equal(isStalled(job({ updatedAt: new Date(Date.now() - 61_000).toISOString() })), true);
    assert.equal(isStalled(job({ updatedAt: new Date().toISOString() })), false);
  });
});
