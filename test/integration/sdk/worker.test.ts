import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job, JsonValue } from '@jobtracker/sdk';
import { JobTrackerHttpError, JobTrackerNetworkError } from '@jobtracker/sdk';
import {
  type ClaimedJob,
  createWorker,
  createWorkerApi,
  JobFailure,
  type Worker,
  type WorkerOptions,
} from '@jobtracker/sdk/worker';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';

const WORKER_KEY = 'k';
const SERVER_ARGS = ['--worker-key', WORKER_KEY, '--lease-ms', '2000'];

/** Polls `check` until it answers something truthy, or fails after `ms`. */
async function eventually<T>(check: () => T | Promise<T>, ms: number, what: string): Promise<NonNullable<T>> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      throw new Error(`Timed out after ${ms} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    }
    await delay(25);
  }
}

/** A promise with its resolve function, for "the handler got this far". */
function signalled<T = void>() {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

const servers = new Set<ServerProcess>();
const workers = new Set<Worker>();

after(async () => {
  await Promise.all([...workers].map((worker) => worker.stop()));
  await Promise.all([...servers].map((server) => server.kill()));
});

async function startServer(): Promise<ServerProcess> {
  const server = await startServerProcess({ args: SERVER_ARGS });
  servers.add(server);
  return server;
}

async function createJob(
  server: ServerProcess,
  body: { type: string; input?: JsonValue; dedupe?: boolean },
): Promise<Job> {
  const response = await fetch(`${server.url}/api/jobs`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(response.status, 201, `job created (${response.status})`);
  return ((await response.json()) as { job: Job }).job;
}

async function getJob(server: ServerProcess, id: string): Promise<Job> {
  const response = await fetch(`${server.url}/api/jobs/${id}`);
  assert.equal(response.status, 200);
  return ((await response.json()) as { job: Job }).job;
}

const settledJob = (server: ServerProcess, id: string, ms = 10_000) =>
  eventually(
    async () => {
      const job = await getJob(server, id);
      return ['completed', 'failed', 'cancelled'].includes(job.status) ? job : null;
    },
    ms,
    `job ${id} to finish`,
  );

/** Reads the owner's SSE stream, collecting every job event. */
async function openStream(server: ServerProcess) {
  const controller = new AbortController();
  const response = await fetch(`${server.url}/api/jobs/stream`, {
    headers: { Accept: 'text/event-stream' },
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const body = response.body;
  assert.ok(body, 'the stream has a body');
  const jobs: Job[] = [];
  let snapshot = false;
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  const pump = (async () => {
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
          const frame = buffer.slice(0, end).split('\n');
          buffer = buffer.slice(end + 2);
          const event = frame.find((line) => line.startsWith('event: '))?.slice(7);
          const data = frame.find((line) => line.startsWith('data: '))?.slice(6);
          if (event === 'snapshot') snapshot = true;
          if (event === 'job' && data) jobs.push(JSON.parse(data) as Job);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  await eventually(() => snapshot, 5000, 'the stream snapshot');
  return {
    jobs,
    async close() {
      controller.abort();
      await pump;
    },
  };
}

/** Creates a worker against `server` and stops it when the tests end. */
function startWorker(
  server: ServerProcess,
  options: Omit<WorkerOptions, 'baseUrl' | 'workerKey'> & { workerKey?: string },
): Worker {
  const worker = createWorker({
    baseUrl: `${server.url}/api`,
    workerKey: WORKER_KEY,
    onError: () => {},
    ...options,
  });
  workers.add(worker);
  worker.start();
  return worker;
}

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
    const errors: unknown[] = [];
    const worker = startWorker(server, {
      types: ['t.fail'],
      onError: (error) => errors.push(error),
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
    const errors: unknown[] = [];
    const worker = startWorker(server, {
      types: ['t.toobig'],
      onError: (error) => errors.push(error),
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

  it('reports many jobs’ progress in one request with progressMany, each result standing alone', async () => {
    const api = createWorkerApi({ baseUrl: `${server.url}/api`, workerKey: WORKER_KEY });
    const first = await createJob(server, { type: 'sdk.batch', dedupe: false });
    const second = await createJob(server, { type: 'sdk.batch', dedupe: false });
    const claims = [await api.claim({ types: ['sdk.batch'] }), await api.claim({ types: ['sdk.batch'] })];
    const [a, b] = claims.map((claim) => {
      assert.ok(claim, 'a job was claimed');
      return claim;
    }) as [ClaimedJob, ClaimedJob];
    assert.deepEqual(new Set([a.job.id, b.job.id]), new Set([first.id, second.id]));
    const results = await api.progressMany([
      { id: a.job.id, leaseToken: a.leaseToken, progress: 30, message: 'thirty' },
      { id: b.job.id, leaseToken: 'stale', progress: 30 },
      { id: b.job.id, leaseToken: b.leaseToken, progress: 60, message: 'sixty' },
    ]);
    assert.deepEqual(
      results.map((result) => ('error' in result ? result.error.code : 'ok')),
      ['ok', 'lease_lost', 'ok'],
    );
    assert.deepEqual(
      [(await getJob(server, a.job.id)).message, (await getJob(server, b.job.id)).progress],
      ['thirty', 60],
    );
    await api.complete(a.job.id, a.leaseToken);
    await api.complete(b.job.id, b.leaseToken);
  });

  it('runs no more handlers at once than its concurrency', async () => {
    let active = 0;
    let most = 0;
    const worker = startWorker(server, {
      types: ['t.concurrency'],
      concurrency: 2,
      async handler() {
        active++;
        most = Math.max(most, active, worker.running);
        await delay(200);
        active--;
        return null;
      },
    });
    try {
      const jobs = await Promise.all(
        [1, 2, 3, 4, 5].map((n) => createJob(server, { type: 't.concurrency', input: n, dedupe: false })),
      );
      for (const job of jobs) assert.equal((await settledJob(server, job.id)).status, 'completed');
      assert.equal(most, 2);
    } finally {
      await worker.stop();
    }
  });

  it('reports a wrong worker key to onError as a 401 JobTrackerHttpError and keeps trying', async () => {
    const errors: unknown[] = [];
    const worker = startWorker(server, {
      types: ['t.badkey'],
      workerKey: 'wrong',
      onError: (error) => errors.push(error),
      handler: async () => null,
    });
    try {
      await eventually(() => errors.length >= 2, 5000, 'two claim failures');
      for (const error of errors) {
        assert.ok(error instanceof JobTrackerHttpError, String(error));
        assert.deepEqual([error.status, error.code], [401, 'unauthorized']);
      }
    } finally {
      await worker.stop();
    }
  });

  it('stops claiming, aborts the running handler, resolves once it has settled and gives the job back', async () => {
    const started = signalled();
    let settled = false;
    let reason: unknown = null;
    const worker = startWorker(server, {
      types: ['t.stop'],
      leaseMs: 1500,
      async handler(_job, ctx) {
        started.resolve();
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve, { once: true }));
        reason = ctx.signal.reason;
        await delay(150); // cleanup after the abort
        settled = true;
        return null;
      },
    });
    const created = await createJob(server, { type: 't.stop' });
    await started.promise;
    assert.equal(worker.running, 1);
    await worker.stop();
    assert.equal(settled, true);
    assert.equal(worker.running, 0);
    assert.match(String((reason as Error).message), /stopping/);
    const job = await getJob(server, created.id);
    assert.deepEqual(
      [job.status, job.result, job.attempt],
      ['pending', null, 0],
      'a stopped job is given back at once, its attempt not spent',
    );
  });

  it('stops at once while idle in a long poll and leaves no timer behind', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((name) => name === 'Timeout').length;
    const before = timers();
    const worker = startWorker(server, { types: ['t.idle'], waitMs: 20_000, handler: async () => null });
    await delay(300);
    const stopping = performance.now();
    await worker.stop();
    assert.ok(performance.now() - stopping < 1000, 'the pending claim request was aborted');
    assert.equal(worker.running, 0);
    // fetch's own timer may lag by up to a second after a request ends; the worker's would last far longer.
    await eventually(() => timers() <= before, 3000, `the timer count to fall back to ${before}`);
  });
});

describe('createWorker across a server crash', () => {
  it('reconnects by itself after the server is SIGKILLed and restarted on the same port, and runs a job created after the restart', async () => {
    const first = await startServer();
    const errors: unknown[] = [];
    const done: string[] = [];
    const worker = startWorker(first, {
      types: ['t.restart'],
      onError: (error) => errors.push(error),
      async handler(job) {
        done.push(job.id);
        return { ok: true };
      },
    });
    try {
      await delay(300); // idle in a long poll
      await first.kill();
      servers.delete(first);
      await eventually(
        () => errors.some((error) => error instanceof JobTrackerNetworkError),
        5000,
        'a network error while the server is down',
      );
      const second = await first.restart();
      servers.add(second);
      assert.equal(second.port, first.port);
      const created = await createJob(second, { type: 't.restart' });
      const job = await settledJob(second, created.id, 20_000);
      assert.deepEqual([job.status, job.result], ['completed', { ok: true }]);
      assert.deepEqual(done, [created.id]);
    } finally {
      await worker.stop();
    }
  });
});
