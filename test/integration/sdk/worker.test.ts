import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job } from '@jobtracker/sdk';
import { JobTrackerHttpError } from '@jobtracker/sdk';
import { JobFailure } from '@jobtracker/sdk/worker';
import type { ServerProcess } from '@jobtracker/test-support/server-process';
import {
  createJob,
  eventually,
  getJob,
  openStream,
  settledJob,
  signalled,
  startReportingWorker,
  startServer,
  startWorker,
} from './worker-fixture.js';

describe('createWorker against the real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });

  it('claims a job, reports its progress steps in order and completes it with the handler result', async () => {
    const stream = await openStream(server);
    const seen: { input: unknown; attempt: number }[] = [];
    const worker = startWorker(server, {
      types: ['t.basic'],
      async handler(_job, ctx) {
        seen.push({ input: ctx.input, attempt: ctx.attempt });
        await ctx.progress(10, 'Reading');
        await ctx.progress(50, 'Converting');
        await ctx.progress(90, 'Saving');
        return { url: '/files/1', pages: 3 };
      },
    });
    try {
      const created = await createJob(server, { type: 't.basic', input: { file: 'a.pdf' } });
      const done = await settledJob(server, created.id);
      assert.equal(done.status, 'completed');
      assert.deepEqual(done.result, { url: '/files/1', pages: 3 });
      assert.deepEqual(seen, [{ input: { file: 'a.pdf' }, attempt: 1 }]);
      await eventually(
        () => stream.jobs.some((job) => job.id === created.id && job.status === 'completed'),
        5000,
        'the completion on the stream',
      );
      const steps = stream.jobs
        .filter((job) => job.id === created.id)
        .map((job) => [job.status, job.progress, job.message]);
      assert.deepEqual(steps, [
        ['pending', null, null],
        ['running', null, null],
        ['running', 10, 'Reading'],
        ['running', 50, 'Converting'],
        ['running', 90, 'Saving'],
        ['completed', 100, 'Saving'],
      ]);
    } finally {
      await stream.close();
      await worker.stop();
    }
  });

  it("shows a JobFailure's message to the user but hides any other error behind a generic one", async () => {
    const { worker, errors } = startReportingWorker(server, {
      types: ['t.fail'],
      async handler(_job, ctx) {
        if ((ctx.input as { expected: boolean }).expected) {
          throw new JobFailure('The file is too large to convert.', { code: 'too_large', retryable: false });
        }
        throw new Error('connection to db://admin:hunter2@10.0.0.5 refused');
      },
    });
    try {
      const expected = await createJob(server, { type: 't.fail', input: { expected: true }, dedupe: false });
      const unexpected = await createJob(server, {
        type: 't.fail',
        input: { expected: false },
        dedupe: false,
      });
      const shown = await settledJob(server, expected.id);
      assert.equal(shown.status, 'failed');
      assert.deepEqual(shown.error, {
        message: 'The file is too large to convert.',
        code: 'too_large',
        retryable: false,
      });
      const hidden = await settledJob(server, unexpected.id);
      assert.equal(hidden.status, 'failed');
      assert.deepEqual(hidden.error, {
        message: 'The job failed unexpectedly.',
        code: 'internal_error',
        retryable: true,
      });
      assert.ok(!JSON.stringify(hidden).includes('hunter2'), 'the internal message never reaches the job');
      assert.equal(errors.length, 1, 'only the unexpected error is reported');
      assert.match(String((errors[0] as Error).message), /hunter2/);
    } finally {
      await worker.stop();
    }
  });

  it('fails the job generically when the server refuses the handler result, and reports why', async () => {
    const { worker, errors } = startReportingWorker(server, {
      types: ['t.toobig'],
      handler: async () => ({ text: 'x'.repeat(20_000) }),
    });
    try {
      const created = await createJob(server, { type: 't.toobig' });
      const job = await settledJob(server, created.id);
      assert.deepEqual([job.status, job.error?.code, job.result], ['failed', 'internal_error', null]);
      assert.equal(errors.length, 1);
      assert.ok(errors[0] instanceof JobTrackerHttpError, 'onError got a typed HTTP error');
      assert.equal(errors[0].status, 422);
    } finally {
      await worker.stop();
    }
  });

  it("aborts the handler's signal when its running job is cancelled, and writes nothing for it afterwards", async () => {
    const writes: { url: string; at: number }[] = [];
    const recordingFetch: typeof fetch = (input, init) => {
      writes.push({ url: String(input), at: performance.now() });
      return fetch(input, init);
    };
    const started = signalled();
    const aborted = signalled<{ reason: unknown; at: number }>();
    let lateProgress: unknown = null;
    const worker = startWorker(server, {
      types: ['t.cancel'],
      leaseMs: 1500,
      fetch: recordingFetch,
      async handler(_job, ctx) {
        const abortedAt = new Promise<number>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(performance.now()), { once: true }),
        );
        await ctx.progress(20, 'Working');
        started.resolve();
        const at = await abortedAt;
        await ctx.progress(30, 'Too late').catch((error: unknown) => {
          lateProgress = error;
        });
        aborted.resolve({ reason: ctx.signal.reason, at });
        return { written: 'never' };
      },
    });
    try {
      const created = await createJob(server, { type: 't.cancel' });
      await started.promise;
      const cancelResponse = await fetch(`${server.url}/api/jobs/${created.id}/cancel`, { method: 'POST' });
      const cancelled = ((await cancelResponse.json()) as { job: Job }).job;
      assert.equal(cancelled.status, 'cancelled');
      const { reason, at } = await Promise.race([
        aborted.promise,
        delay(5000).then(() => assert.fail('the handler was not aborted within 5 s')),
      ]);
      assert.ok(reason instanceof JobTrackerHttpError, "the signal's reason is a typed HTTP error");
      assert.deepEqual([reason.status, reason.code], [409, 'job_cancelled']);
      assert.equal(lateProgress, reason, 'ctx.progress rejects with the abort reason once aborted');
      await eventually(() => worker.running === 0, 5000, 'the handler to settle');
      await delay(800); // more than a heartbeat period
      const late = writes.filter((write) => write.url.includes(created.id) && write.at >= at);
      assert.deepEqual(late, [], 'no request for the job after its signal was aborted');
      const after = await getJob(server, created.id);
      assert.deepEqual(
        [after.status, after.result, after.version, after.progress],
        ['cancelled', null, cancelled.version, 20],
      );
    } finally {
      await worker.stop();
    }
  });

  it('keeps the lease of a handler that runs longer than leaseMs through heartbeats: no re-queue, no 409', async () => {
    const answers: { path: string; status: number }[] = [];
    const recordingFetch: typeof fetch = async (input, init) => {
      const response = await fetch(input, init);
      answers.push({ path: new URL(String(input)).pathname, status: response.status });
      return response;
    };
    const errors: unknown[] = [];
    const attempts: number[] = [];
    const worker = startWorker(server, {
      types: ['t.long'],
      leaseMs: 1000,
      fetch: recordingFetch,
      onError: (error) => errors.push(error),
      async handler(_job, ctx) {
        attempts.push(ctx.attempt);
        // Three leases long; a lost lease aborts the signal and so fails this handler.
        await delay(3000, undefined, { signal: ctx.signal });
        return { long: true };
      },
    });
    try {
      const created = await createJob(server, { type: 't.long' });
      const job = await settledJob(server, created.id);
      assert.deepEqual([job.status, job.attempt, job.result], ['completed', 1, { long: true }]);
      assert.deepEqual(attempts, [1], 'the handler ran once');
      const heartbeats = answers.filter((answer) => answer.path.endsWith(`/${created.id}/heartbeat`));
      assert.ok(heartbeats.length >= 6, `${heartbeats.length} heartbeats in 3 s`);
      assert.ok(
        heartbeats.every((answer) => answer.status === 200),
        'every heartbeat answered 200',
      );
      assert.deepEqual(
        answers.filter((answer) => answer.status === 409),
        [],
      );
      assert.deepEqual(errors, []);
    } finally {
      await worker.stop();
    }
  });
});
