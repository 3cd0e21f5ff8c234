import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { runningJob } from '../testing/job-records.js';
import { decideChange, logEntryOf } from './job-change.js';

describe('job change', () => {
  const logEntry = (next: Parameters<typeof logEntryOf>[0], progressFrom: number | null) =>
    logEntryOf(next, 42, 9000, progressFrom);

  it('gives a visible change its log entry: the wire JSON of the new version', () => {
    const { next, event } = decideChange(runningJob(), { kind: 'progress', progress: 10 }, 3000, logEntry);
    assert.deepEqual([next.progress, next.version], [10, 3]);
    assert.deepEqual(
      [event?.cursor, event?.ownerId, event?.jobId, event?.version, event?.createdAt],
      [42, 'alice', 'job-1', 3, 9000],
    );
    assert.deepEqual(
      [JSON.parse(event?.data ?? '{}').progress, JSON.parse(event?.data ?? '{}').leaseToken],
      [10, undefined],
    );
  });

  it('marks a progress report’s entry with the version it applies on top of, and no other change’s', () => {
    const progress = decideChange(runningJob(), { kind: 'progress', message: 'Reading' }, 3000, logEntry);
    assert.deepEqual([progress.event?.progressFrom, progress.event?.coalescedFrom], [2, null]);
    for (const command of [
      { kind: 'complete', result: null },
      { kind: 'cancel' },
      { kind: 'release' },
    ] as const) {
      const { event } = decideChange(runningJob(), command, 3000, logEntry);
      assert.equal(event?.progressFrom, null, command.kind);
    }
  });

  it('logs nothing for a change no client sees, and refuses an illegal one with 409', () => {
    const { next, event } = decideChange(
      runningJob(),
      { kind: 'heartbeat', leaseExpiresAt: 8000 },
      3000,
      logEntry,
    );
    assert.deepEqual([next.leaseExpiresAt, next.version, event], [8000, 2, null]);
    assert.throws(
      () => decideChange(runningJob(), { kind: 'progress', progress: 101 }, 3000, logEntry),
      (error) => error instanceof ApiError && error.status === 409 && error.code === 'progress_out_of_range',
    );
  });
});
