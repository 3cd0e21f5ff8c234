// createReporter against the real server (its CLI in a child process, a SQLite file): a host reports on
// jobs it runs itself, and the user sees them, cancels them, and loses nothing to outages.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { Job } from '@jobtracker/sdk/wire';
import {
  createReporter,
  JobCancelledError,
  JobTrackerError,
  JobTrackerHttpError,
  JobTrackerNetworkError,
  type Reporter,
  type ReporterOptions,
} from '@jobtracker/sdk/worker';
import { SECRET, tokenFor, WORKER_KEY } from '@jobtracker/test-support/server';
import { type ServerProcess, startServerProcess } from '@jobtracker/test-support/server-process';
import { eventually } from './worker-fixture.js';

const ENV = { JOBTRACKER_SECRET: SECRET, JOBTRACKER_WORKER_KEY: WORKER_KEY };
const servers = new Set<ServerProcess>();
const reporters = new Set<Reporter>();

after(async () => {
  await Promise.all([...reporters].map((reporter) => reporter.close({ timeoutMs: 1000 }).catch(() => {})));
  await Promise.all([...servers].map((server) => server.kill()));
});

async function startServer(): Promise<ServerProcess> {
  const server = await startServerProcess({ env: ENV });
  servers.add(server);
  return server;
}

/** Every request the reporter made, as `METHOD /path`, and the errors it told of. */
function recording(server: () => ServerProcess, options: Partial<ReporterOptions> = {}) {
  const requests: string[] = [];
  const errors: unknown[] = [];
  const inner = options.fetch ?? ((input, init) => fetch(input, init));
  const reporter = createReporter({
    baseUrl: `${server().url}/api`,
    workerKey: WORKER_KEY,
    flushIntervalMs: 50,
    maxBackoffMs: 500,
    onError: (error) => errors.push(error),
    ...options,
    fetch: (input, init) => {
      requests.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
      return inner(input, init);
    },
  });
  reporters.add(reporter);
  const writes = () => requests.filter((request) => request.startsWith('POST'));
  return { reporter, requests, writes, errors };
}

async function asUser(server: ServerProcess, owner: string, path: string, method = 'GET'): Promise<Job> {
  const response = await fetch(`${server.url}/api/jobs/${path}`, {
    method,
    headers: { Authorization: `Bearer ${tokenFor(owner)}` },
  });
  assert.equal(response.status, 200, `${method} ${path} as ${owner}`);
  return ((await response.json()) as { job: Job }).job;
}
const seenBy = (server: ServerProcess, owner: string, id: string) => asUser(server, owner, id);

describe('createReporter against the real server', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });

  it('coalesces each job’s progress and sends every job’s latest in one batch request', async () => {
    const { reporter, writes } = recording(() => server);
    const a = await reporter.track({ owner: 'alice', type: 'r.batch', dedupe: false, status: 'running' });
    const b = await reporter.track({ owner: 'bob', type: 'r.batch', dedupe: false, status: 'running' });
    const before = writes().length;
    const sent = [
      a.progress(10, 'ten'),
      a.progress(20),
      a.progress(30),
      b.progress(5, 'five'),
      b.progress(15, 'fifteen'),
    ];
    await Promise.all(sent);
    assert.deepEqual(writes().slice(before), ['POST /api/worker/progress'], 'one batch request');
    const [seenA, seenB] = [await seenBy(server, 'alice', a.id), await seenBy(server, 'bob', b.id)];
    assert.deepEqual([seenA.progress, seenA.message], [30, 'ten'], 'the latest value of each field');
    assert.deepEqual([seenB.progress, seenB.message], [15, 'fifteen']);
    assert.equal(a.job.progress, 30);
    // Later reports go in a later batch.
    await a.progress(50, 'fifty');
    assert.deepEqual(writes().slice(before), ['POST /api/worker/progress', 'POST /api/worker/progress']);
    assert.equal((await seenBy(server, 'alice', a.id)).progress, 50);
    await Promise.all([a.complete(), b.complete()]);
  });

  it('completes after progress: the pending progress lands first, then the result', async () => {
    const { reporter, writes, errors } = recording(() => server);
    const tracked = await reporter.track({ owner: 'alice', type: 'r.complete', title: 'Export' });
    assert.equal(tracked.job.status, 'pending');
    void tracked.progress(40, 'Almost');
    const job = await tracked.complete({ url: '/exports/1' });
    assert.deepEqual(
      [job.status, job.progress, job.message, job.result],
      ['completed', 100, 'Almost', { url: '/exports/1' }],
    );
    const seen = await seenBy(server, 'alice', tracked.id);
    assert.deepEqual([seen.status, seen.result, seen.title], ['completed', { url: '/exports/1' }, 'Export']);
    assert.ok(writes().at(-1)?.endsWith(`/worker/jobs/${tracked.id}/complete`), 'the complete went last');
    assert.equal(tracked.signal.aborted, false);
    assert.deepEqual(errors, [], 'nothing refused');
    // Nothing more goes out for a finished job.
    const count = writes().length;
    await tracked.progress(100);
    await delay(120);
    assert.equal(writes().length, count);
  });

  it('fails a job with a message for its owner', async () => {
    const { reporter } = recording(() => server);
    const tracked = await reporter.track({ owner: 'alice', type: 'r.fail', status: 'running' });
    void tracked.progress(60);
    await tracked.fail({ message: 'The source file is corrupt.', code: 'bad_input' });
    const seen = await seenBy(server, 'alice', tracked.id);
    assert.deepEqual(
      [seen.status, seen.progress, seen.error],
      ['failed', 60, { message: 'The source file is corrupt.', code: 'bad_input' }],
    );
  });

  it('tracks idempotently with an externalId: the same job, also once it finished', async () => {
    const { reporter } = recording(() => server);
    const first = await reporter.track({
      owner: 'carol',
      type: 'r.idem',
      externalId: 'bull-1',
      title: 'One',
    });
    const again = await reporter.track({
      owner: 'carol',
      type: 'r.idem',
      externalId: 'bull-1',
      title: 'One',
    });
    assert.equal(again.id, first.id);
    assert.deepEqual([first.created, again.created], [true, false]);
    await first.complete({ n: 1 });
    const late = await reporter.track({ owner: 'carol', type: 'r.idem', externalId: 'bull-1' });
    assert.equal(late.id, first.id);
    assert.equal(late.job.status, 'completed');
    const list = await fetch(`${server.url}/api/jobs?type=r.idem`, {
      headers: { Authorization: `Bearer ${tokenFor('carol')}` },
    }).then((response) => response.json() as Promise<{ jobs: Job[] }>);
    assert.equal(list.jobs.filter((job) => job.type === 'r.idem').length, 1, 'one job for the owner');
  });

  it('ends a handle whose job is no longer its own with a typed 409, never silently', async () => {
    const { reporter } = recording(() => server);
    const first = await reporter.track({
      owner: 'dave',
      type: 'r.lost',
      externalId: 'x-1',
      status: 'running',
    });
    const second = await reporter.track({ owner: 'dave', type: 'r.lost', externalId: 'x-1' });
    await first.complete();
    void second.progress(50);
    await eventually(() => second.signal.aborted, 5000, 'the second handle to end');
    assert.ok(second.signal.reason instanceof JobTrackerHttpError, `a typed reason: ${second.signal.reason}`);
    assert.deepEqual([second.signal.reason.status, second.signal.reason.code], [409, 'lease_lost']);
    await assert.rejects(second.complete(), (error) => error === second.signal.reason);
  });

  it('aborts the signal when the user cancels, learned from the event stream without a write', async () => {
    const { reporter, writes } = recording(() => server);
    const tracked = await reporter.track({ owner: 'erin', type: 'r.cancel', status: 'running' });
    await tracked.progress(10);
    const count = writes().length;
    const aborted = new Promise((resolve) => tracked.signal.addEventListener('abort', resolve));
    const cancelled = await asUser(server, 'erin', `${tracked.id}/cancel`, 'POST');
    assert.equal(cancelled.status, 'cancelled');
    await Promise.race([
      aborted,
      delay(5000).then(() => assert.fail('the signal was not aborted within 5 s')),
    ]);
    assert.equal(writes().length, count, 'no write was needed to learn of the cancel');
    assert.ok(tracked.signal.reason instanceof JobCancelledError, `a typed reason: ${tracked.signal.reason}`);
    assert.equal(tracked.signal.reason.jobId, tracked.id);
    assert.equal(tracked.signal.reason.code, 'job_cancelled');
    await assert.rejects(tracked.complete(), JobCancelledError);
    // Another user's job is not touched by it.
    const other = await reporter.track({ owner: 'frank', type: 'r.cancel', status: 'running' });
    await delay(100);
    assert.equal(other.signal.aborted, false);
    await other.complete();
  });

  it('opens one event stream for all its jobs, and closes it when none is open', async () => {
    const { reporter, requests } = recording(() => server);
    const streams = () => requests.filter((request) => request === 'GET /api/worker/events').length;
    const jobs = await Promise.all(
      [1, 2, 3].map((n) => reporter.track({ owner: 'gina', type: `r.stream${n}`, status: 'running' })),
    );
    assert.equal(streams(), 1);
    await Promise.all(jobs.map((job) => job.complete()));
    const late = await reporter.track({ owner: 'gina', type: 'r.stream4', status: 'running' });
    assert.equal(streams(), 2, 'opened again for the next job');
    await late.complete();
    await reporter.close();
  });

  it('gives up on an event stream that delivers nothing (a buffering proxy) and connects again', async () => {
    let silent = 1;
    const { reporter, requests, errors } = recording(() => server, {
      streamFirstEventMs: 300,
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname === '/api/worker/events' && silent-- > 0) {
          // Answers 200 and then never a byte, as a proxy that buffers the stream would.
          const body = new ReadableStream<Uint8Array>({
            start(controller) {
              init?.signal?.addEventListener('abort', () => controller.error(init.signal?.reason));
            },
          });
          return new Response(body, { headers: { 'Content-Type': 'text/event-stream' } });
        }
        return fetch(input, init);
      },
    });
    const tracked = await Promise.race([
      reporter.track({ owner: 'lou', type: 'r.silent', status: 'running' }),
      delay(5000).then(() => assert.fail('track() waited for a stream that never answers')),
    ]);
    await eventually(
      () => requests.filter((request) => request === 'GET /api/worker/events').length >= 2,
      5000,
      'a second connection',
    );
    await delay(300); // the second connection is ready
    await asUser(server, 'lou', `${tracked.id}/cancel`, 'POST');
    await eventually(() => tracked.signal.aborted, 5000, 'the cancel through the second connection');
    assert.ok(
      errors.some((error) => error instanceof JobTrackerNetworkError),
      'the silent stream was told as a network error',
    );
  });

  it('tries a network failure and a 5xx again, losing neither progress nor the final state', async () => {
    let failProgress = 2;
    let failComplete = 1;
    let unavailable = 1;
    const { reporter, requests, errors } = recording(() => server, {
      fetch: async (input, init) => {
        const path = new URL(String(input)).pathname;
        if (path === '/api/worker/progress' && failProgress-- > 0) throw new TypeError('fetch failed');
        if (path.endsWith('/complete') && failComplete-- > 0) throw new TypeError('fetch failed');
        if (path.endsWith('/complete') && unavailable-- > 0) {
          return Response.json({ error: { code: 'unavailable', message: 'Try later.' } }, { status: 503 });
        }
        return fetch(input, init);
      },
    });
    const tracked = await reporter.track({ owner: 'hank', type: 'r.retry', status: 'running' });
    await tracked.progress(30, 'thirty');
    assert.equal(
      requests.filter((r) => r === 'POST /api/worker/progress').length,
      3,
      'tried until it landed',
    );
    assert.equal((await seenBy(server, 'hank', tracked.id)).progress, 30);
    const job = await tracked.complete({ ok: true });
    assert.equal(job.status, 'completed');
    assert.equal(requests.filter((r) => r.endsWith('/complete')).length, 3);
    assert.equal((await seenBy(server, 'hank', tracked.id)).status, 'completed');
    assert.ok(
      errors.some((error) => error instanceof JobTrackerNetworkError),
      'the network failure was told',
    );
    assert.ok(
      errors.some((error) => error instanceof JobTrackerHttpError && error.status === 503),
      'the 503 was told',
    );
  });

  it('keeps a report whose batch failed while the job was being completed, and sends it before the result', async () => {
    let failing = 1;
    const { reporter } = recording(() => server, {
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname === '/api/worker/progress' && failing-- > 0) {
          await delay(300);
          throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      },
    });
    const tracked = await reporter.track({ owner: 'olga', type: 'r.crossing', status: 'running' });
    void tracked.progress(30, 'Thirty');
    await delay(150); // the batch is on its way, and will fail
    const job = await tracked.complete({ ok: true });
    assert.deepEqual([job.status, job.message], ['completed', 'Thirty'], 'the report was not lost');
  });

  it('retrying(): the same job waits for its next attempt, which the next progress starts from nothing', async () => {
    let loseAnswer = 1;
    const { reporter, requests, writes, errors } = recording(() => server, {
      fetch: async (input, init) => {
        const answer = await fetch(input, init);
        // The first requeue lands, but its answer is lost: it is sent again.
        if (new URL(String(input)).pathname.endsWith('/requeue') && loseAnswer-- > 0) {
          throw new TypeError('fetch failed');
        }
        return answer;
      },
    });
    const tracked = await reporter.track({
      owner: 'ines',
      type: 'r.attempts',
      status: 'running',
      maxAttempts: 3,
    });
    const firstStart = tracked.job.startedAt;
    await tracked.progress(60, 'Step 3');
    const last = tracked.progress(80, 'Step 4'); // not sent yet when the attempt ends: sent before it ends
    const waiting = await tracked.retrying('Retrying (attempt 2 of 3)');
    assert.deepEqual(
      [waiting.status, waiting.attempt, waiting.progress, waiting.message],
      ['pending', 1, null, 'Retrying (attempt 2 of 3)'],
    );
    assert.equal(
      requests.filter((r) => r.endsWith('/requeue')).length,
      2,
      'sent again after the lost answer',
    );
    const seen = await seenBy(server, 'ines', tracked.id);
    assert.deepEqual(
      [seen.status, seen.attempt, seen.progress, seen.message],
      ['pending', 1, null, 'Retrying (attempt 2 of 3)'],
    );
    await last;
    const sent = writes();
    const requeues = sent.filter((r) => r.endsWith('/requeue'));
    assert.ok(
      sent.lastIndexOf(`POST /api/worker/jobs/${tracked.id}/progress`) < sent.indexOf(requeues[0] ?? ''),
      `the ended attempt's last report went first: ${sent.join(', ')}`,
    );
    await delay(120);
    assert.equal((await seenBy(server, 'ines', tracked.id)).progress, null, 'nothing of it went after');
    await tracked.progress(10, 'Step 1');
    const again = await seenBy(server, 'ines', tracked.id);
    assert.deepEqual(
      [again.status, again.attempt, again.progress, again.message],
      ['running', 2, 10, 'Step 1'],
    );
    assert.ok(
      Date.parse(again.startedAt ?? '') > Date.parse(firstStart ?? ''),
      'the new attempt started now',
    );
    assert.deepEqual([tracked.job.status, tracked.job.attempt], ['running', 2]);
    const done = await tracked.complete();
    assert.deepEqual([done.status, done.attempt, done.id], ['completed', 2, tracked.id]);
    assert.equal(tracked.signal.aborted, false);
    assert.ok(
      errors.every((error) => error instanceof JobTrackerNetworkError),
      'nothing refused',
    );
  });

  it('retrying(): a report of the ended attempt whose batch failed goes before the requeue, never into the next attempt', async () => {
    let failing = 1;
    const { reporter } = recording(() => server, {
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname === '/api/worker/progress' && failing-- > 0) {
          await delay(300);
          throw new TypeError('fetch failed');
        }
        return fetch(input, init);
      },
    });
    const tracked = await reporter.track({ owner: 'jonas', type: 'r.attempts-crossing', status: 'running' });
    void tracked.progress(30, 'Thirty');
    await delay(150); // the batch is on its way, and will fail
    const ended = tracked.retrying('Again');
    void tracked.progress(5); // the next attempt's, without a message: sent once the requeue landed
    const waiting = await ended;
    assert.deepEqual([waiting.status, waiting.progress, waiting.message], ['pending', null, 'Again']);
    await eventually(
      async () => (await seenBy(server, 'jonas', tracked.id)).status === 'running' || null,
      5000,
      'the next attempt started',
    );
    await delay(700); // past the failed batch's retry
    const seen = await seenBy(server, 'jonas', tracked.id);
    // Not the ended attempt's "Thirty": the next attempt starts with no message.
    assert.deepEqual([seen.attempt, seen.progress, seen.message], [2, 5, null]);
    const job = await tracked.fail('No luck');
    assert.deepEqual([job.status, job.attempt], ['failed', 2]);
  });

  it('refuses a bad create with a typed 4xx, and does not retry it', async () => {
    const { reporter, writes } = recording(() => server);
    await assert.rejects(
      reporter.track({ owner: '', type: 'r.bad', externalId: 'b-1' }),
      (error) =>
        error instanceof JobTrackerHttpError && error.status === 422 && error.code === 'invalid_request',
    );
    assert.equal(writes().length, 1);
  });

  it('close() sends what is pending and resolves once it landed', async () => {
    const { reporter } = recording(() => server, { flushIntervalMs: 10_000 });
    const tracked = await reporter.track({ owner: 'ivy', type: 'r.close', status: 'running' });
    void tracked.progress(70, 'seventy');
    const completing = tracked.complete({ done: true });
    await reporter.close({ timeoutMs: 5000 });
    assert.equal((await completing).status, 'completed');
    const seen = await seenBy(server, 'ivy', tracked.id);
    assert.deepEqual([seen.status, seen.message], ['completed', 'seventy']);
    await assert.rejects(reporter.track({ owner: 'ivy', type: 'r.close' }), /closed/);
  });

  it('close() gives up after its timeout, and the write it abandons rejects with a typed error', async () => {
    const { reporter } = recording(() => server, {
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname.endsWith('/complete')) throw new TypeError('fetch failed');
        return fetch(input, init);
      },
    });
    const tracked = await reporter.track({ owner: 'max', type: 'r.timeout', status: 'running' });
    const completing = tracked.complete({ never: true });
    completing.catch(() => {});
    const started = Date.now();
    await assert.rejects(reporter.close({ timeoutMs: 400 }), /still outstanding after 400 ms/);
    assert.ok(Date.now() - started < 3000, 'close() kept to its timeout');
    await assert.rejects(
      completing,
      (error) => error instanceof JobTrackerError && /closed/.test(error.message),
    );
    assert.equal(tracked.signal.aborted, true, 'the job’s signal tells the work to stop');
    assert.equal((await seenBy(server, 'max', tracked.id)).status, 'running', 'nothing was made up');
  });

  it('refuses a progress outside 0..100 at once', async () => {
    const { reporter } = recording(() => server);
    const tracked = await reporter.track({ owner: 'ned', type: 'r.range', status: 'running' });
    assert.throws(() => tracked.progress(101), RangeError);
    assert.throws(() => tracked.progress(Number.NaN), RangeError);
    await tracked.complete();
  });
});

describe('createReporter through a server restart', () => {
  let server: ServerProcess;
  before(async () => {
    server = await startServer();
  });

  it('checks its open jobs when the stream answers reset, and so learns of a cancel it missed', async () => {
    // The stream's reconnects wait at this gate, and then send a cursor that is not this server's.
    let gate: Promise<void> | null = null;
    let openGate = () => {};
    let foreignCursor = false;
    const { reporter, requests } = recording(() => server, {
      maxBackoffMs: 200,
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname !== '/api/worker/events') return fetch(input, init);
        await gate;
        const headers = { ...(init?.headers as Record<string, string>) };
        if (foreignCursor && headers['Last-Event-ID']) headers['Last-Event-ID'] = '9999999999999999';
        return fetch(input, { ...init, headers });
      },
    });
    const kept = await reporter.track({ owner: 'kim', type: 'r.reset1', status: 'running' });
    const missed = await reporter.track({ owner: 'kim', type: 'r.reset2', status: 'running' });
    const pendingJob = await reporter.track({ owner: 'kim', type: 'r.reset3' });
    const streams = () => requests.filter((request) => request === 'GET /api/worker/events').length;
    const before = streams();
    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    foreignCursor = true;
    // The restart drops the stream; it comes back with a cursor the server does not know: reset.
    await server.stop();
    server = await server.restart();
    servers.add(server);
    await asUser(server, 'kim', `${missed.id}/cancel`, 'POST');
    openGate();
    await eventually(() => streams() > before, 10_000, 'the stream to reconnect');
    await eventually(() => missed.signal.aborted, 10_000, 'the missed cancel to be found');
    assert.ok(missed.signal.reason instanceof JobCancelledError, `a typed reason: ${missed.signal.reason}`);
    assert.equal(kept.signal.aborted, false, 'a job not cancelled goes on');
    assert.equal(pendingJob.signal.aborted, false, 'a pending job goes on');
    await kept.complete();
    await pendingJob.complete();
  });

  it('keeps reporting while the server restarts: progress resumes, the final complete lands, a cancel made before the stream is back is replayed', async () => {
    // The event stream's reconnects wait at this gate until the test opens it.
    let gate: Promise<void> | null = null;
    let openGate = () => {};
    const { reporter, errors } = recording(() => server, {
      maxBackoffMs: 300,
      fetch: async (input, init) => {
        if (new URL(String(input)).pathname === '/api/worker/events') await gate;
        return fetch(input, init);
      },
    });
    const done = await reporter.track({
      owner: 'jo',
      type: 'r.restart',
      externalId: 'a',
      dedupe: false,
      status: 'running',
    });
    const goes = await reporter.track({
      owner: 'jo',
      type: 'r.restart',
      externalId: 'b',
      dedupe: false,
      status: 'running',
    });
    const stops = await reporter.track({
      owner: 'jo',
      type: 'r.restart',
      externalId: 'c',
      dedupe: false,
      status: 'running',
    });
    await Promise.all([done.progress(10, 'ten'), goes.progress(10, 'ten')]);

    gate = new Promise((resolve) => {
      openGate = resolve;
    });
    await server.stop();
    // Reported while the server is down: the progress waits, the complete is tried again.
    void done.progress(50, 'fifty');
    const completing = done.complete({ url: '/r/a' });
    const progressing = goes.progress(40, 'forty');
    await delay(800);
    server = await server.restart();
    servers.add(server);

    assert.equal((await completing).status, 'completed');
    await progressing;
    const seenDone = await seenBy(server, 'jo', done.id);
    assert.deepEqual(
      [seenDone.status, seenDone.message, seenDone.result],
      ['completed', 'fifty', { url: '/r/a' }],
      'the progress sent before the complete, then the complete',
    );
    assert.deepEqual([(await seenBy(server, 'jo', goes.id)).progress], [40], 'progress resumes');
    await goes.progress(80, 'eighty');
    assert.equal((await seenBy(server, 'jo', goes.id)).progress, 80);

    // A cancel made while the stream is still away is replayed when it reconnects with its cursor.
    await asUser(server, 'jo', `${stops.id}/cancel`, 'POST');
    await delay(200);
    assert.equal(stops.signal.aborted, false, 'not known before the stream is back');
    openGate();
    await eventually(() => stops.signal.aborted, 10_000, 'the cancel after the restart');
    assert.ok(stops.signal.reason instanceof JobCancelledError, `a typed reason: ${stops.signal.reason}`);
    assert.ok(
      errors.some((error) => error instanceof JobTrackerNetworkError),
      'the outage was told',
    );
    await goes.complete();
    await reporter.close({ timeoutMs: 5000 });
  });
});
