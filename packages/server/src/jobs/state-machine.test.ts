import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jobRecord } from '../testing/job-records.js';
import type { JobRecord } from './job-record.js';
import { type JobCommand, transition } from './state-machine.js';

const base = jobRecord({
  id: '01m8k0x60974smd8gnmwwmw588',
  type: 'demo.generate',
  scope: 's',
  activeKey: 'demo.generate\u0000s',
});

const start: JobCommand = { kind: 'start', leaseToken: 't', leaseExpiresAt: 9000, workerId: 'w' };
const commands: JobCommand[] = [
  start,
  { kind: 'progress', progress: 10 },
  { kind: 'complete', result: { url: '/x' } },
  { kind: 'fail', error: { message: 'no' } },
  { kind: 'cancel' },
  { kind: 'requeue' },
  { kind: 'release' },
  { kind: 'heartbeat', leaseExpiresAt: 5000 },
  { kind: 'nextAttempt', message: null },
];

function apply(job: JobRecord, command: JobCommand, now = 2000) {
  const outcome = transition(job, command, now);
  if (!outcome.ok) throw new Error(`${outcome.code}: ${outcome.message}`);
  return outcome.job;
}

describe('job state machine', () => {
  it('moves pending → running → completed, raising the version once per visible change', () => {
    const running = apply(base, start);
    assert.equal(running.status, 'running');
    assert.equal(running.attempt, 1);
    assert.equal(running.version, 2);
    assert.equal(running.startedAt, 2000);
    const progressed = apply(running, { kind: 'progress', progress: 40, message: 'Halfway' });
    assert.equal(progressed.version, 3);
    const done = apply(progressed, { kind: 'complete', result: { url: '/programs/1' } }, 3000);
    assert.deepEqual(
      [done.status, done.progress, done.version, done.completedAt, done.activeKey, done.leaseToken],
      ['completed', 100, 4, 3000, null, null],
    );
  });

  it('refuses every command on a terminal job', () => {
    const running = apply(base, start);
    const terminals = [
      apply(running, { kind: 'complete', result: null }),
      apply(running, { kind: 'fail', error: { message: 'boom' } }),
      apply(running, { kind: 'cancel' }),
      apply(base, { kind: 'cancel' }),
    ];
    for (const job of terminals) {
      for (const command of commands) {
        const outcome = transition(job, command, 5000);
        assert.equal(outcome.ok, false, `${job.status} accepted ${command.kind}`);
        if (!outcome.ok) assert.equal(outcome.code, 'invalid_transition');
      }
    }
  });

  it('refuses worker commands on a pending job and a second start', () => {
    for (const kind of ['progress', 'complete', 'fail', 'requeue', 'release', 'heartbeat'] as const) {
      const command = commands.find((c) => c.kind === kind) as JobCommand;
      assert.equal(transition(base, command, 2000).ok, false, kind);
    }
    assert.equal(transition(apply(base, start), start, 2000).ok, false);
  });

  it('never lets progress go down or out of range within an attempt', () => {
    const at50 = apply(apply(base, start), { kind: 'progress', progress: 50 });
    const lower = transition(at50, { kind: 'progress', progress: 49 }, 2000);
    assert.deepEqual(lower.ok ? null : lower.code, 'progress_decreased');
    const toNull = transition(at50, { kind: 'progress', progress: null }, 2000);
    assert.deepEqual(toNull.ok ? null : toNull.code, 'progress_decreased');
    for (const bad of [-1, 101, Number.NaN, Number.POSITIVE_INFINITY]) {
      const outcome = transition(at50, { kind: 'progress', progress: bad }, 2000);
      assert.equal(outcome.ok, false, String(bad));
    }
    assert.equal(apply(at50, { kind: 'progress', progress: 50, message: 'same %' }).progress, 50);
  });

  it('treats an unchanged progress report and a heartbeat as invisible: no new version', () => {
    const running = apply(apply(base, start), { kind: 'progress', progress: 5, message: 'a' });
    const same = transition(
      running,
      { kind: 'progress', progress: 5, message: 'a', leaseExpiresAt: 7777 },
      2000,
    );
    assert.ok(same.ok && !same.visible, 'the same progress is accepted but not visible');
    assert.equal(same.ok && same.job.version, running.version);
    assert.equal(same.ok && same.job.leaseExpiresAt, 7777);
    const beat = transition(running, { kind: 'heartbeat', leaseExpiresAt: 8888 }, 2000);
    assert.ok(
      beat.ok && !beat.visible && beat.job.version === running.version,
      'a heartbeat is accepted, invisible, and keeps the version',
    );
  });

  it('re-queues a running job for a new attempt, clearing its lease and progress', () => {
    const running = apply(apply(base, start), { kind: 'progress', progress: 70 });
    const requeued = apply(running, { kind: 'requeue' });
    assert.deepEqual(
      [requeued.status, requeued.progress, requeued.leaseToken, requeued.activeKey, requeued.attempt],
      ['pending', null, null, running.activeKey, 1],
    );
    const again = apply(requeued, { ...start, leaseToken: 'u' }, 7000);
    assert.equal(again.attempt, 2);
    assert.equal(again.startedAt, 7000, 'startedAt is when the current attempt started');
    const released = apply(apply(again, { kind: 'release' }, 8000), start, 9000);
    assert.equal(released.startedAt, 9000, 'also after a worker gave the job back');
    assert.equal(
      apply(again, { kind: 'progress', progress: 10 }).progress,
      10,
      'a new attempt starts from 0 again',
    );
    const said = apply(running, { kind: 'requeue', message: 'The worker stopped responding' });
    assert.deepEqual([said.message, requeued.message], ['The worker stopped responding', running.message]);
  });

  it("a reported job's next attempt: pending with the host's message, token kept, the next write starts attempt + 1", () => {
    const reported = { ...base, reportToken: 'r', leaseToken: 'r', maxAttempts: 2 };
    const running = apply(reported, { kind: 'progress', progress: 70, message: 'Step 3' }, 1000);
    const waiting = apply(running, { kind: 'nextAttempt', message: 'Retrying (attempt 2 of 2)' }, 4000);
    assert.deepEqual(
      [
        waiting.status,
        waiting.progress,
        waiting.message,
        waiting.attempt,
        waiting.leaseToken,
        waiting.startedAt,
      ],
      ['pending', null, 'Retrying (attempt 2 of 2)', 1, 'r', 1000],
    );
    const again = transition(waiting, { kind: 'nextAttempt', message: 'Retrying (attempt 2 of 2)' }, 4100);
    assert.ok(
      again.ok && !again.visible && again.job.version === waiting.version,
      'sent again: nothing changes',
    );
    const second = apply(waiting, { kind: 'progress', progress: 5 }, 5000);
    assert.deepEqual(
      [second.status, second.attempt, second.startedAt, second.progress, second.message],
      ['running', 2, 5000, 5, null],
    );
    const third = apply(apply(second, { kind: 'nextAttempt', message: null }), { kind: 'progress' }, 6000);
    assert.deepEqual([third.attempt, third.maxAttempts], [3, 3], 'the host ran more attempts than it said');
    const claimed = apply(base, start);
    const refused = transition(claimed, { kind: 'nextAttempt', message: null }, 3000);
    assert.ok(!refused.ok && refused.code === 'invalid_transition', 'a claimed job is not the host’s');
  });

  it('keeps updatedAt from going backwards when the clock does', () => {
    const running = apply(base, start, 5000);
    assert.equal(apply(running, { kind: 'progress', progress: 1 }, 4000).updatedAt, 5000);
  });

  it('dismisses and brings back a job in any status, its status untouched, once per change', () => {
    const running = apply(base, start);
    const failed = apply(running, { kind: 'fail', error: { message: 'no' } });
    for (const job of [base, running, failed]) {
      const hidden = apply(job, { kind: 'dismiss', dismissed: true }, 7000);
      assert.deepEqual(
        [hidden.status, hidden.dismissedAt, hidden.version, hidden.leaseToken],
        [job.status, 7000, job.version + 1, job.leaseToken],
        job.status,
      );
      const again = transition(hidden, { kind: 'dismiss', dismissed: true }, 8000);
      assert.deepEqual(again, { ok: true, visible: false, job: hidden }, 'already dismissed: nothing to see');
      const shown = apply(hidden, { kind: 'dismiss', dismissed: false }, 9000);
      assert.deepEqual([shown.status, shown.dismissedAt, shown.version], [job.status, null, job.version + 2]);
    }
    const progressed = apply(apply(running, { kind: 'dismiss', dismissed: true }), {
      kind: 'progress',
      progress: 5,
    });
    assert.equal(progressed.dismissedAt, 2000, 'progress keeps a dismissal');
  });
});
