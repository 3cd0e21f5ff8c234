import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ApiError } from '../http/errors.js';
import { jobRecord, runningJob } from '../testing/job-records.js';
import { checkLease, progressCommand, recoveryCommand, startCommand, toClaimedJob } from './leases.js';

const refusal = (work: () => void) => {
  try {
    work();
    return 'accepted';
  } catch (error) {
    return error instanceof ApiError ? `${error.status} ${error.code}` : String(error);
  }
};

describe('leases', () => {
  it('accepts a write under the current lease only, and none for a cancelled job', () => {
    assert.equal(
      refusal(() => checkLease(runningJob(), 'lease')),
      'accepted',
    );
    assert.equal(
      refusal(() => checkLease(runningJob(), 'stale')),
      '409 lease_lost',
    );
    assert.equal(
      refusal(() => checkLease(jobRecord(), 'lease')),
      '409 lease_lost',
      'a pending job has no lease',
    );
    assert.equal(
      refusal(() => checkLease(runningJob({ status: 'cancelled' }), 'lease')),
      '409 job_cancelled',
    );
  });

  it('recovers a job from its lease’s last millisecond on, and only a running one', () => {
    const job = runningJob({ leaseExpiresAt: 5000 });
    assert.deepEqual(
      [4999, 5000, 5001].map((now) => recoveryCommand(job, now)?.kind ?? null),
      [null, 'requeue', 'requeue'],
    );
    assert.equal(recoveryCommand(runningJob({ leaseExpiresAt: null }), 9000), null);
    assert.equal(recoveryCommand(jobRecord({ leaseExpiresAt: 1 }), 9000), null, 'a pending job');
  });

  it('re-queues a lost worker’s job while attempts remain, saying which attempt comes, then fails it', () => {
    assert.deepEqual(recoveryCommand(runningJob({ attempt: 1, maxAttempts: 2 }), 9000), {
      kind: 'requeue',
      message: 'The worker stopped responding; the job will start again (attempt 2 of 2).',
    });
    assert.deepEqual(recoveryCommand(runningJob({ attempt: 2, maxAttempts: 2 }), 9000), {
      kind: 'fail',
      error: {
        code: 'worker_lost',
        message: 'The worker stopped responding and all 2 attempts are used.',
        retryable: true,
      },
    });
  });

  it('turns a progress report into a command with only the fields it carries, and the lease’s new end', () => {
    assert.deepEqual(progressCommand({}, 9000), { kind: 'progress', leaseExpiresAt: 9000 });
    assert.deepEqual(progressCommand({ progress: null, message: 'Halfway', leaseMs: 5 }, 9000), {
      kind: 'progress',
      progress: null,
      message: 'Halfway',
      leaseExpiresAt: 9000,
    });
  });

  it('gives each claim a fresh lease token and hands the job out with it', () => {
    const start = startCommand('w1', 7000);
    assert.deepEqual([start.kind, start.workerId, start.leaseExpiresAt], ['start', 'w1', 7000]);
    assert.notEqual(startCommand('w1', 7000).leaseToken, start.leaseToken);
    assert.ok(start.leaseToken.length >= 24, 'the token is long enough not to be guessed');
    const claimed = toClaimedJob(runningJob({ input: { a: 1 }, leaseToken: start.leaseToken }), start);
    assert.deepEqual(
      [claimed.ownerId, claimed.input, claimed.leaseToken, claimed.leaseExpiresAt, claimed.job.status],
      ['alice', { a: 1 }, start.leaseToken, 7000, 'running'],
    );
    assert.equal('leaseToken' in claimed.job, false, 'the wire job has no lease');
  });
});
